"""A trust buyer in a region where a distributor holds the exclusive right sees the line offered
through that distributor, orders it, and the distributor accepts the routed order in its portal;
the buyer then sees the expected delivery on the order page."""

import datetime

from ordering.models import ApprovalRule, Order
from territories.lookup import region_for_area
from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS, sign_in, sign_out
from tests.ordering.conftest import build_world
from tests.territories.conftest import grant

pytestmark = JOURNEY_MARKS


def _protected_world():
    """The ordering world, with the distributor holding the exclusive right to the foam dressing
    in the trust's region (London) and the trust's orders needing no approval."""
    world = build_world()
    ApprovalRule.objects.filter(organisation=world.trust).delete()
    grant(world.distributor, region_for_area("SE"), product=world.dressing, exclusive=True)
    return world


def test_a_trust_buyer_orders_a_protected_line_and_the_distributor_accepts_it(page, live_server):
    world = _protected_world()
    dressing, distributor = world.dressing, world.distributor
    through = f"Available through {distributor.name}"
    delivery = datetime.date.today() + datetime.timedelta(days=5)

    sign_in(page, live_server.url, "buyer@ordering.test")
    page.goto(f"{live_server.url}/catalogue/c/ward-consumables/")
    page.screenshot(path=str(ARTIFACTS / "routed-category-trust-buyer.png"), full_page=True)
    row = page.locator(f"tr[data-sku='{dressing.sku}']")
    assert through in row.inner_text()
    assert through not in page.locator(f"tr[data-sku='{world.gloves.sku}']").inner_text()

    page.goto(f"{live_server.url}/catalogue/p/{dressing.slug}/")
    page.screenshot(path=str(ARTIFACTS / "routed-product-trust-buyer.png"), full_page=True)
    assert through in page.inner_text("main")

    page.goto(f"{live_server.url}/cart/quick-order/")
    page.get_by_label("SKU and quantity, one per line").fill(f"{dressing.sku} 4")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")
    assert dressing.name in page.inner_text("main")
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url("**/checkout/institutional/")
    page.get_by_label("PO number").fill("PO-ROUTED-1")
    page.get_by_label("Cost centre").select_option(str(world.cost_centre.pk))
    page.get_by_label("Requested delivery date").fill(delivery.isoformat())
    page.screenshot(path=str(ARTIFACTS / "routed-checkout-trust-buyer.png"), full_page=True)
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/orders/**")
    page.screenshot(path=str(ARTIFACTS / "routed-placed-trust-buyer.png"), full_page=True)

    order = Order.objects.get(organisation=world.trust)
    assert order.fulfiller_id == distributor.pk and order.state == "routed"
    assert list(order.lines.values_list("product__sku", "quantity")) == [(dressing.sku, 4)]
    assert distributor.name in page.locator("[data-fact='fulfiller']").inner_text()
    sign_out(page)

    sign_in(page, live_server.url, "distributor@ordering.test")
    page.get_by_role("link", name="Routed orders", exact=True).click()
    page.wait_for_url("**/routed-orders/")
    page.screenshot(path=str(ARTIFACTS / "routed-portal-distributor.png"), full_page=True)
    page.get_by_role("link", name=order.number).click()
    page.get_by_label("Expected delivery date").fill(delivery.isoformat())
    page.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "routed-accepted-distributor.png"), full_page=True)
    order.refresh_from_db()
    assert order.state != "routed" and order.expected_delivery_date == delivery
    assert page.locator("[data-fact='state']").inner_text() == order.get_state_display()
    sign_out(page)

    sign_in(page, live_server.url, "buyer@ordering.test")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.screenshot(path=str(ARTIFACTS / "routed-outcome-trust-buyer.png"), full_page=True)
    fulfiller = page.locator("[data-fact='fulfiller']").inner_text()
    assert distributor.name in fulfiller
    assert f"expected delivery {delivery:%d %b %Y}" in fulfiller
