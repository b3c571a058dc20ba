"""Three ordering journeys in a real browser, one per workflow: a patient buys a walking frame with
VAT relief, an NHS requisitioner's two-ward order goes through approval, and a distributor's CSV
quick order comes back partly backordered."""

import datetime

from ordering.models import Stock
from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS, sign_in, sign_out
from tests.ordering.conftest import build_world

pytestmark = JOURNEY_MARKS


def _add_from_product_page(page, base_url, product, quantity):
    page.goto(f"{base_url}/catalogue/p/{product.slug}/")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to order").click()
    page.wait_for_load_state()


def _line_row(page, product):
    return page.locator("table", has=page.locator("caption", has_text="Lines")).locator(
        "tbody tr", has_text=product.sku
    )


def test_a_patient_buys_a_walking_frame_with_vat_relief_and_pays_by_test_card(page, live_server):
    world = build_world()
    frame = world.frame

    sign_in(page, live_server.url, "patient@ordering.test")
    _add_from_product_page(page, live_server.url, frame, 1)
    page.goto(f"{live_server.url}/cart/")
    assert frame.name in page.inner_text("table.order-lines")
    assert "VAT relief possible" in page.inner_text("table.order-lines")
    page.screenshot(path=str(ARTIFACTS / "ordering-retail-1-cart.png"), full_page=True)
    page.get_by_role("link", name="Check out").click()
    page.wait_for_load_state()

    page.get_by_label("Full name").fill("Pat Patient")
    page.get_by_label("Address").fill("12 Camberwell Grove, London")
    page.get_by_label("Postcode").fill("SE5 9RS")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name="VAT relief declaration").is_visible()
    page.get_by_label("Yes, I am eligible or buying for someone who is").check()
    page.get_by_label("Name of the disabled person").fill("Pat Patient")
    page.get_by_label("Their address").fill("12 Camberwell Grove, London SE5 9RS")
    page.get_by_label("Their condition or disability").fill("Rheumatoid arthritis")
    page.get_by_label("I declare that the information above is correct").check()
    page.screenshot(path=str(ARTIFACTS / "ordering-retail-2-relief.png"), full_page=True)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_load_state()

    assert "VAT relief declared for Pat Patient" in page.inner_text("main")
    assert page.inner_text("[data-total=vat]") == "£0.00"
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_load_state()
    assert "Your card was declined" in page.inner_text("main")
    assert Stock.objects.get(product=frame).reserved == 0
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.screenshot(path=str(ARTIFACTS / "ordering-retail-3-payment.png"), full_page=True)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_load_state()

    page.screenshot(path=str(ARTIFACTS / "ordering-retail-4-confirmation.png"), full_page=True)
    assert "is confirmed" in page.inner_text("main")
    assert "0% (VAT relief)" in _line_row(page, frame).inner_text()
    assert "Rheumatoid arthritis" in page.inner_text("main")


def test_an_nhs_order_to_two_wards_is_approved_from_the_approval_queue(page, live_server):
    world = build_world()

    sign_in(page, live_server.url, "requisitioner@ordering.test")
    _add_from_product_page(page, live_server.url, world.dressing, 20)
    _add_from_product_page(page, live_server.url, world.frame, 2)
    page.goto(f"{live_server.url}/cart/")
    page.get_by_role("link", name="Check out").click()
    page.wait_for_load_state()

    page.get_by_label(f"Delivery site for {world.dressing.name}").select_option(
        label=world.ward_a.name
    )
    page.get_by_label(f"Delivery site for {world.frame.name}").select_option(
        label=world.ward_b.name
    )
    page.get_by_label("PO number").fill("PO-RIV-4471")
    page.get_by_label("Cost centre").select_option(value=str(world.cost_centre.pk))
    page.get_by_label("Requested delivery date").fill(
        (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    )
    page.get_by_role("button", name="Update prices").click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "ordering-nhs-1-purchase-order.png"), full_page=True)
    page.get_by_role("button", name="Send for approval").click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "ordering-nhs-2-sent.png"), full_page=True)

    number = page.inner_text("#order-heading").removeprefix("Order ").strip()
    assert page.inner_text("[data-fact=state]") == "Pending approval"
    assert world.ward_a.name in _line_row(page, world.dressing).inner_text()
    assert world.ward_b.name in _line_row(page, world.frame).inner_text()
    assert "Approve" not in [b.inner_text() for b in page.get_by_role("button").all()]
    sign_out(page)

    sign_in(page, live_server.url, "approver@ordering.test")
    page.get_by_role("link", name="Approvals").first.click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "ordering-nhs-3-approval-queue.png"), full_page=True)
    page.get_by_role("link", name=number).click()
    page.wait_for_load_state()
    page.get_by_label("Comment").fill("Ward stock agreed")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    sign_out(page)

    sign_in(page, live_server.url, "requisitioner@ordering.test")
    page.get_by_role("link", name="Orders").first.click()
    page.wait_for_load_state()
    page.get_by_role("link", name=number).click()
    page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "ordering-nhs-4-approved.png"), full_page=True)
    chain = page.inner_text("ol.approval-chain")
    assert "Every requisition: Approved by" in chain and "Ward stock agreed" in chain
    assert page.inner_text("[data-fact=state]") not in ("Pending approval", "Rejected")
    assert "Pending approval → Approved" in page.inner_text("ol.order-history")


def test_a_distributor_csv_quick_order_beyond_stock_is_partly_backordered(page, live_server):
    world = build_world(stock=40)

    sign_in(page, live_server.url, "distributor@ordering.test")
    page.goto(f"{live_server.url}/cart/quick-order/")
    page.get_by_label("Or upload a CSV file").set_input_files(
        files=[
            {
                "name": "order.csv",
                "mimeType": "text/csv",
                "buffer": f"sku,quantity\n{world.dressing.sku},60\n".encode(),
            }
        ]
    )
    page.screenshot(path=str(ARTIFACTS / "ordering-distributor-1-quick-order.png"))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state()
    assert "1 line(s) added to your cart" in page.inner_text("main")
    page.get_by_role("link", name="Check out").click()
    page.wait_for_load_state()

    assert "backordered" in page.inner_text("main")
    page.get_by_label("PO number").fill("PTS-88120")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_load_state()

    page.screenshot(path=str(ARTIFACTS / "ordering-distributor-2-order.png"), full_page=True)
    cells = _line_row(page, world.dressing).locator("td").all_inner_texts()
    assert cells[0] == "60"
    assert cells[5:7] == ["40", "20"]
    assert page.inner_text("[data-fact=state]") == "Partly backordered"
