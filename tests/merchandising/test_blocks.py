"""Which blocks reach which buyer, and what their featured products show."""

import datetime
from decimal import Decimal

from django.utils import timezone

from merchandising.models import BlockAudience, BlockKind
from merchandising.selectors import blocks_for
from pricing.engine import prices_for
from pricing.models import PriceListKind
from segments.models import Audience, ComputedMembership, SegmentKind
from tests.factories import SegmentFactory
from tests.factories.merchandising import make_block
from tests.pricing.conftest import make_contract, make_list, price


def _titles(blocks) -> set[str]:
    return {block.title for block in blocks}


def test_two_buyers_of_different_segments_see_their_own_blocks_and_nothing_aimed_elsewhere(
    world, buyer_of
):
    segments = {s.code: s for s in world.catalogs["professional"].segments.all()}
    make_block(title="Framework update", segments=[segments["nhs-trusts"]])
    make_block(title="Clinic news", segments=[segments["private-clinics"]])
    make_block(title="For all", audience=BlockAudience.EVERYONE)

    assert _titles(blocks_for(buyer_of("nhs"))) == {"Framework update", "For all"}
    assert _titles(blocks_for(buyer_of("clinic"))) == {"Clinic news", "For all"}
    assert _titles(blocks_for(buyer_of("patient"))) == {"For all"}


def test_a_guest_block_reaches_visitors_not_signed_in_only(world, buyer_of):
    make_block(title="Welcome, visitor", audience=BlockAudience.GUESTS)

    assert _titles(blocks_for(buyer_of("guest"))) == {"Welcome, visitor"}
    assert blocks_for(buyer_of("patient")) == []


def test_expired_and_future_blocks_are_absent_and_a_block_shows_while_valid(world, buyer_of):
    now = timezone.now()
    make_block(title="Past", valid_until=now - datetime.timedelta(minutes=1))
    make_block(title="Future", valid_from=now + datetime.timedelta(hours=2))
    make_block(title="Now", valid_from=now - datetime.timedelta(hours=1),
               valid_until=now + datetime.timedelta(hours=1))
    buyer = buyer_of("clinic")

    assert _titles(blocks_for(buyer, now)) == {"Now"}
    assert _titles(blocks_for(buyer, now + datetime.timedelta(hours=3))) == {"Future"}


def test_blocks_come_highest_priority_first(world, buyer_of):
    make_block(title="Low", priority=1)
    make_block(title="High", priority=9)

    assert [b.title for b in blocks_for(buyer_of("clinic"))] == ["High", "Low"]


def test_a_featured_product_the_buyer_may_not_see_never_appears(world, buyer_of):
    products = world.products
    make_block(title="Featured", kind=BlockKind.FEATURED_PRODUCTS,
               products=[products["foam"], products["blade"], products["riverside_pack"]])

    def shown(persona):
        (block,) = blocks_for(buyer_of(persona))
        return {item.product.sku for item in block.products}

    assert shown("nhs") == {"WC-1001", "SI-1001", "SI-1002"}
    assert shown("clinic") == {"WC-1001", "SI-1001"}
    assert shown("patient") == {"WC-1001"}
    assert shown("guest") == {"WC-1001"}


def test_a_featured_price_is_the_buyers_own_contract_or_list_price(world, buyer_of):
    riverside = world.users["nhs"].memberships.get().organisation
    contract_list = make_list("riverside-contract", PriceListKind.CONTRACT)
    price(contract_list, world.products["foam"], "6.20")
    make_contract(riverside, "NHS-2026-001", contract_list)
    make_block(title="Featured", kind=BlockKind.FEATURED_PRODUCTS,
               products=[world.products["foam"]])

    def price_of(persona):
        (block,) = blocks_for(buyer_of(persona))
        return block.products[0].price

    for persona in ("nhs", "clinic", "patient", "trust2"):
        foam = world.products["foam"]
        assert price_of(persona) == prices_for(buyer_of(persona), [foam])[foam.pk]
    assert price_of("nhs").unit_price == Decimal("6.2000")
    assert price_of("nhs").source == "contract"
    assert price_of("clinic").unit_price == Decimal("10.0000")
    assert (price_of("patient").unit_price, price_of("patient").source) == (
        Decimal("14.9900"), "retail")


def test_featured_categories_show_only_categories_the_buyer_can_browse(world, buyer_of):
    categories = world.categories
    make_block(title="Shop by need", kind=BlockKind.FEATURED_CATEGORIES,
               categories=[categories["walking-aids"], categories["blades"]])

    def shown(persona):
        (block,) = blocks_for(buyer_of(persona))
        return {c.slug for c in block.categories}

    assert shown("patient") == {"walking-aids"}
    assert shown("clinic") == {"walking-aids", "blades"}


def test_an_offer_for_a_computed_segment_reaches_its_members_and_says_why(world, buyer_of):
    at_risk = SegmentFactory(code="rfm-at-risk", name="At risk", kind=SegmentKind.COMPUTED,
                             audience=Audience.ORGANISATIONS, basis="rfm_group",
                             basis_value="at_risk")
    clinic = world.users["clinic"].memberships.get().organisation
    ComputedMembership.objects.create(segment=at_risk, organisation=clinic, inputs={},
                                      computed_at=timezone.now())
    promotion = make_list("win-back", PriceListKind.PROMOTION, segments=[at_risk])
    price(promotion, world.products["foam"], "7.50")
    make_block(title="We miss you", kind=BlockKind.OFFER, segments=[at_risk],
               promotion=promotion, products=[world.products["foam"]])

    (offer,) = blocks_for(buyer_of("clinic"))
    assert offer.reason_text == "Because you are in At risk"
    assert offer.products[0].price.unit_price == Decimal("7.5000")
    assert offer.products[0].price.source == "promotion"
    assert blocks_for(buyer_of("trust2")) == []


def test_an_edited_block_shows_on_the_next_request(world, buyer_of):
    block = make_block(title="Before")
    assert _titles(blocks_for(buyer_of("clinic"))) == {"Before"}

    block.title = "After"
    block.save()

    assert _titles(blocks_for(buyer_of("clinic"))) == {"After"}


def test_an_inactive_block_is_absent(world, buyer_of):
    make_block(title="Switched off", is_active=False)

    assert blocks_for(buyer_of("clinic")) == []
