"""The front page in a real browser for a visitor, a clinic, an NHS trust, a distributor and a
patient: each sees the content of their own segments and the panels of their role, with no
console error."""

from merchandising.models import BlockAudience, BlockKind
from pricing.models import PriceListKind
from segments.models import Segment
from tests.catalog.world import build_world
from tests.e2e.conftest import ARTIFACTS, JOURNEY_MARKS, sign_in, sign_out
from tests.factories.merchandising import make_block
from tests.pricing.conftest import make_list, price

pytestmark = JOURNEY_MARKS


def _content(world):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    retail = world.catalogs["retail"].segments.get()
    promotion = make_list("clinic-foam", PriceListKind.PROMOTION,
                          segments=[segments["private-clinics"]])
    price(promotion, world.products["foam"], "8.00")
    make_block(title="Foam dressings for clinics", kind=BlockKind.OFFER, promotion=promotion,
               segments=[segments["private-clinics"]])
    make_block(title="Framework prices for trusts", segments=[segments["nhs-trusts"]])
    make_block(title="Routed orders need your answer",
               segments=[Segment.objects.get(code="distributors")])
    make_block(title="Shop for home", kind=BlockKind.FEATURED_CATEGORIES, segments=[retail],
               categories=[world.categories["walking-aids"]])
    make_block(title="Living well at home", kind=BlockKind.BANNER,
               audience=BlockAudience.GUESTS,
               image_path="/static/catalog/illustrations/mobility.svg",
               image_alt="A walking frame")


def test_each_persona_sees_their_own_front_page(page, live_server):
    world = build_world()
    _content(world)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server.url + "/")
    main = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "home-1-visitor.png"), full_page=True)
    assert "Living well at home" in main and "Sign in" in main
    assert "Foam dressings for clinics" not in main
    assert page.locator(".home-block-image").evaluate("img => img.naturalWidth") > 0

    sign_in(page, live_server.url, "clinic.buyer@demo.test")
    main = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "home-2-clinic.png"), full_page=True)
    assert "Foam dressings for clinics" in main
    assert "Because you are in private-clinics" in main
    assert "£8.00" in main
    assert "Framework prices for trusts" not in main and "Living well at home" not in main
    assert page.locator("[data-panel=orders]").is_visible()
    sign_out(page)

    sign_in(page, live_server.url, "nhs.buyer@demo.test")
    main = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "home-3-nhs.png"), full_page=True)
    assert "Framework prices for trusts" in main and "Foam dressings for clinics" not in main
    assert "Routed orders need your answer" not in main
    sign_out(page)

    sign_in(page, live_server.url, "distributor.north@demo.test")
    main = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "home-3b-distributor.png"), full_page=True)
    assert "Routed orders need your answer" in main
    assert "Framework prices for trusts" not in main and "Foam dressings for clinics" not in main
    sign_out(page)

    sign_in(page, live_server.url, "patient@demo.test")
    main = page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "home-4-patient.png"), full_page=True)
    assert "Shop for home" in main and "Walking aids" in main
    assert "Framework prices for trusts" not in main and "Foam dressings for clinics" not in main
    page.get_by_role("link", name="Walking aids").click()
    page.wait_for_load_state()
    assert "Adjustable walking stick" in page.inner_text("main")

    assert errors == []
