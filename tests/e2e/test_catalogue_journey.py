"""An NHS buyer and a retail consumer open the same category page in a real browser and each sees
their own catalogue: a B2B table with ex-VAT prices, or picture cards with VAT-inclusive prices."""

from tests.catalog.world import build_world
from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS, sign_in, sign_out

pytestmark = JOURNEY_MARKS


def test_an_nhs_buyer_and_a_retail_consumer_see_their_own_wound_care_page(page, live_server):
    world = build_world()
    silver, foam = world.products["silver"], world.products["foam"]
    url = f"{live_server.url}/catalogue/c/wound-care/"

    sign_in(page, live_server.url, "nhs.buyer@demo.test")
    page.goto(url)
    page.screenshot(path=str(ARTIFACTS / "catalogue-nhs-buyer-wound-care.png"), full_page=True)
    table = page.locator("table.product-table")
    assert table.is_visible()
    assert table.locator(f"tr[data-sku='{silver.sku}']").is_visible()
    assert silver.gtin in table.locator(f"tr[data-sku='{silver.sku}']").inner_text()
    assert "ex VAT" in table.inner_text() and "£10.00" in table.inner_text()
    assert page.locator(".product-card").count() == 0
    assert page.locator("[data-sku]").count() == 5

    page.get_by_label("Class III").check()
    page.wait_for_url("**class=III**")
    page.screenshot(path=str(ARTIFACTS / "catalogue-nhs-buyer-class-iii.png"), full_page=True)
    assert page.locator("[data-sku]").all_inner_texts() and page.locator("[data-sku]").count() == 1
    sign_out(page)

    sign_in(page, live_server.url, "patient@demo.test")
    page.goto(url)
    page.screenshot(path=str(ARTIFACTS / "catalogue-patient-wound-care.png"), full_page=True)
    cards = page.locator(".product-card")
    assert cards.count() == 2
    assert page.locator(f"[data-sku='{foam.sku}'] img").is_visible()
    assert "£17.99" in cards.first.inner_text() and "inc VAT" in cards.first.inner_text()
    assert page.locator("table.product-table").count() == 0
    main = page.inner_text("main")
    assert silver.name not in main and silver.sku not in main
    assert "Surgical instruments" not in main

    response = page.goto(f"{live_server.url}/catalogue/p/{silver.slug}/")
    assert response.status == 404
