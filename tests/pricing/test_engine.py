import datetime
from decimal import Decimal

import pytest

from pricing.engine import line_total, prices_for, quantize_price
from pricing.models import ContractStatus, PriceListKind
from tests.factories import OrganisationFactory, PostcodeAreaFactory, TerritoryFactory

from .conftest import accepted_quote, b2b, b2c, make_contract, make_list, make_product, price, today

pytestmark = pytest.mark.django_db


def test_b2b_buyer_without_other_prices_pays_list_price_ex_vat():
    product = make_product()
    price(make_list("list"), product, "10.00")
    price(make_list("retail", PriceListKind.RETAIL), product, "12.50")

    resolved = prices_for(b2b(OrganisationFactory()), [product])[product.pk]

    assert (resolved.source, resolved.unit_price, resolved.currency) == (
        "list",
        Decimal("10.00"),
        "GBP",
    )
    assert resolved.shown == Decimal("10.00") and resolved.shown_label == "ex VAT"
    assert resolved.unit_price_gross == Decimal("12.00")
    assert resolved.explanation == "List price"


def test_retail_consumer_pays_retail_price_inc_vat():
    product = make_product()
    price(make_list("list"), product, "10.00")
    price(make_list("retail", PriceListKind.RETAIL), product, "12.50")

    resolved = prices_for(b2c(), [product])[product.pk]

    assert (resolved.source, resolved.unit_price) == ("retail", Decimal("12.50"))
    assert resolved.shown == Decimal("15.00") and resolved.shown_label == "inc VAT"


def test_product_without_applicable_price_is_absent():
    priced, unpriced = make_product(), make_product()
    price(make_list("list"), priced, "10.00")

    result = prices_for(b2b(OrganisationFactory()), [priced, unpriced])

    assert set(result) == {priced.pk}


def test_volume_tier_is_the_highest_minimum_not_above_quantity():
    product = make_product()
    clinic_list = make_list("list")
    for qty, amount in ((1, "10.00"), (10, "9.00"), (50, "8.00")):
        price(clinic_list, product, amount, min_quantity=qty)
    buyer = b2b(OrganisationFactory())

    by_quantity = {q: prices_for(buyer, [product], q)[product.pk] for q in (1, 9, 10, 49, 50, 500)}

    assert {q: p.unit_price for q, p in by_quantity.items()} == {
        1: Decimal("10.00"),
        9: Decimal("10.00"),
        10: Decimal("9.00"),
        49: Decimal("9.00"),
        50: Decimal("8.00"),
        500: Decimal("8.00"),
    }
    assert by_quantity[50].explanation == "List price, 50+ tier"
    assert by_quantity[1].tiers == (
        (1, Decimal("10.00")),
        (10, Decimal("9.00")),
        (50, Decimal("8.00")),
    )


def test_segment_list_beats_list_price_and_lowest_assigned_price_wins(db):
    product = make_product()
    segment_list = make_list("clinic-prices", PriceListKind.SEGMENT)
    promotion = make_list("spring-offer", PriceListKind.PROMOTION)
    from tests.factories import SegmentFactory

    clinics = SegmentFactory(code="private-clinics")
    segment_list.segments.set([clinics])
    promotion.segments.set([clinics])
    price(make_list("list"), product, "10.00")
    price(segment_list, product, "9.00")
    price(promotion, product, "8.50")

    resolved = prices_for(b2b(OrganisationFactory(), segments={"private-clinics"}), [product])

    assert resolved[product.pk].source == "promotion"
    assert resolved[product.pk].explanation == "Promotion: Spring Offer"


def test_higher_priority_assigned_list_wins_over_a_lower_price():
    from tests.factories import SegmentFactory

    product = make_product()
    clinics = SegmentFactory(code="private-clinics")
    cheap = make_list("cheap", PriceListKind.SEGMENT, segments=[clinics])
    preferred = make_list("preferred", PriceListKind.SEGMENT, segments=[clinics], priority=5)
    price(cheap, product, "7.00")
    price(preferred, product, "9.00")

    resolved = prices_for(b2b(OrganisationFactory(), segments={"private-clinics"}), [product])

    assert resolved[product.pk].price_list_code == "preferred"


def test_territory_list_reaches_buyers_whose_delivery_area_lies_in_it():
    product = make_product()
    south_west = TerritoryFactory(code="south-west", areas=[PostcodeAreaFactory(code="PL")])
    regional = make_list("south-west-prices", PriceListKind.TERRITORY, territories=[south_west])
    price(make_list("list"), product, "10.00")
    price(regional, product, "9.50")
    organisation = OrganisationFactory()

    inside = prices_for(b2b(organisation, area="PL"), [product])[product.pk]
    outside = prices_for(b2b(organisation, area="LS"), [product])[product.pk]

    assert (inside.source, inside.unit_price) == ("territory", Decimal("9.50"))
    assert (outside.source, outside.unit_price) == ("list", Decimal("10.00"))


def test_contract_beats_segment_list_and_is_explained_with_reference_and_lot():
    from tests.factories import SegmentFactory

    product = make_product()
    trust = OrganisationFactory()
    nhs = SegmentFactory(code="nhs-trusts")
    price(make_list("nhs", PriceListKind.SEGMENT, segments=[nhs]), product, "5.00")
    contract_list = make_list("nhs-2025-118", PriceListKind.CONTRACT)
    price(contract_list, product, "6.00")
    price(contract_list, product, "5.50", min_quantity=50)
    contract = make_contract(trust, "NHS-2025-118", contract_list, lot="3")

    resolved = prices_for(b2b(trust, segments={"nhs-trusts"}), [product], 60)[product.pk]

    assert (resolved.source, resolved.unit_price) == ("contract", Decimal("5.50"))
    assert resolved.explanation == "Contract NHS-2025-118 (lot 3), 50+ tier"
    assert resolved.contract_id == contract.pk


def test_child_inherits_parent_contract_unless_it_has_its_own_for_that_product():
    ics = OrganisationFactory(name="North Thames ICS", kind="ics")
    own_trust = OrganisationFactory(parent=ics)
    plain_trust = OrganisationFactory(parent=ics)
    shared, specific = make_product(), make_product()
    ics_list = make_list("ics-framework", PriceListKind.CONTRACT)
    price(ics_list, shared, "4.00")
    price(ics_list, specific, "4.00")
    make_contract(ics, "NTICS-FW-01", ics_list)
    own_list = make_list("own", PriceListKind.CONTRACT)
    price(own_list, specific, "4.80")
    make_contract(own_trust, "R9V-LOCAL-7", own_list)

    own = prices_for(b2b(own_trust), [shared, specific])
    plain = prices_for(b2b(plain_trust), [shared, specific])

    assert own[specific.pk].unit_price == Decimal("4.80")  # its own contract, though dearer
    assert own[shared.pk].explanation == "Contract NTICS-FW-01, via North Thames ICS"
    assert {p.unit_price for p in plain.values()} == {Decimal("4.00")}


@pytest.mark.parametrize(
    "status, valid_from_days, valid_to_days",
    [
        (ContractStatus.DRAFT, -10, None),
        (ContractStatus.SUSPENDED, -10, None),
        (ContractStatus.ENDED, -10, None),
        (ContractStatus.ACTIVE, 5, None),
        (ContractStatus.ACTIVE, -10, -1),
    ],
)
def test_contract_not_active_today_does_not_apply(status, valid_from_days, valid_to_days):
    product = make_product()
    trust = OrganisationFactory()
    price(make_list("list"), product, "10.00")
    contract_list = make_list("c", PriceListKind.CONTRACT)
    price(contract_list, product, "6.00")
    make_contract(
        trust,
        "NHS-1",
        contract_list,
        status=status,
        valid_from=today() + datetime.timedelta(days=valid_from_days),
        valid_to=None
        if valid_to_days is None
        else today() + datetime.timedelta(days=valid_to_days),
    )

    assert prices_for(b2b(trust), [product])[product.pk].source == "list"


def test_accepted_quote_applies_up_to_the_quoted_quantity_until_expiry():
    product = make_product()
    trust = OrganisationFactory()
    contract_list = make_list("c", PriceListKind.CONTRACT)
    price(contract_list, product, "6.00")
    make_contract(trust, "NHS-1", contract_list)
    quote = accepted_quote(trust, [(product, 100, "5.25")])
    buyer = b2b(trust)

    within = prices_for(buyer, [product], 100)[product.pk]
    beyond = prices_for(buyer, [product], 101)[product.pk]

    assert (within.source, within.unit_price, within.quote_id) == (
        "quote",
        Decimal("5.25"),
        quote.pk,
    )
    assert beyond.source == "contract"
    assert within.max_order_qty == 100


def test_expired_or_other_organisations_quote_does_not_apply():
    product = make_product()
    trust, other = OrganisationFactory(), OrganisationFactory()
    price(make_list("list"), product, "10.00")
    accepted_quote(other, [(product, 100, "1.00")])
    accepted_quote(trust, [(product, 100, "2.00")], expires_on=today() - datetime.timedelta(days=1))

    assert prices_for(b2b(trust), [product])[product.pk].source == "list"


def test_quote_of_parent_organisation_does_not_apply_to_child():
    product = make_product()
    ics = OrganisationFactory(kind="ics")
    trust = OrganisationFactory(parent=ics)
    price(make_list("list"), product, "10.00")
    accepted_quote(ics, [(product, 100, "1.00")])

    assert prices_for(b2b(trust), [product])[product.pk].source == "list"


@pytest.mark.parametrize(
    "vat_category, relief, rate, gross",
    [
        ("standard", False, "0.20", "12.00"),
        ("reduced", False, "0.05", "10.50"),
        ("zero", False, "0", "10.00"),
        ("relief", False, "0.20", "12.00"),
        ("relief", True, "0", "10.00"),
        ("standard", True, "0.20", "12.00"),
    ],
)
def test_vat_rate_by_category_and_relief_declaration(vat_category, relief, rate, gross):
    product = make_product(vat_category=vat_category)
    price(make_list("retail", PriceListKind.RETAIL), product, "10.00")

    resolved = prices_for(b2c(), [product], relief=relief)[product.pk]

    assert resolved.vat_rate == Decimal(rate)
    assert resolved.unit_price_gross == resolved.shown == Decimal(gross)


def test_rounding_happens_once_at_the_line_total():
    product = make_product()
    price(make_list("list"), product, "0.1234")
    resolved = prices_for(b2b(OrganisationFactory()), [product], 1000)[product.pk]

    total = line_total(resolved, 1000)

    assert resolved.unit_price == Decimal("0.1234")
    assert (total.net, total.vat, total.gross) == (
        Decimal("123.40"),
        Decimal("24.68"),
        Decimal("148.08"),
    )


def test_retail_line_total_matches_the_price_the_consumer_saw():
    product = make_product()
    price(make_list("retail", PriceListKind.RETAIL), product, "41.66")
    resolved = prices_for(b2c(), [product])[product.pk]

    total = line_total(resolved, 10)

    assert resolved.shown == Decimal("49.99")
    assert total.gross == Decimal("499.90")
    assert total.net + total.vat == total.gross and total.net == Decimal("416.58")


def test_quantize_price_rounds_half_up_to_pennies():
    assert quantize_price(Decimal("1.005"), "GBP") == Decimal("1.01")
    assert quantize_price(Decimal("1.0049"), "EUR") == Decimal("1.00")


def test_accepts_queryset_instances_and_ids_alike():
    product = make_product()
    price(make_list("list"), product, "10.00")
    buyer = b2b(OrganisationFactory())
    from catalog.models import Product

    answers = [prices_for(buyer, p) for p in ([product], [product.pk], Product.objects.all())]

    assert answers[0] == answers[1] == answers[2] and product.pk in answers[0]


def test_chosen_contract_restricts_the_contract_level():
    product = make_product()
    trust = OrganisationFactory()
    cheap_list = make_list("cheap", PriceListKind.CONTRACT)
    dear_list = make_list("dear", PriceListKind.CONTRACT)
    price(cheap_list, product, "5.00")
    price(dear_list, product, "6.00")
    make_contract(trust, "CHEAP", cheap_list)
    dear = make_contract(trust, "DEAR", dear_list)

    default = prices_for(b2b(trust), [product])[product.pk]
    chosen = prices_for(b2b(trust), [product], contract_id=dear.pk)[product.pk]

    assert default.unit_price == Decimal("5.00")
    assert (chosen.unit_price, chosen.contract_id) == (Decimal("6.00"), dear.pk)


def test_price_list_outside_its_dates_or_inactive_does_not_apply():
    product = make_product()
    price(make_list("list"), product, "10.00")
    from tests.factories import SegmentFactory

    seg = SegmentFactory(code="tier-a")
    future = make_list(
        "future",
        PriceListKind.SEGMENT,
        segments=[seg],
        valid_from=today() + datetime.timedelta(days=1),
    )
    off = make_list("off", PriceListKind.SEGMENT, segments=[seg], is_active=False)
    price(future, product, "1.00")
    price(off, product, "1.00")

    assert (
        prices_for(b2b(OrganisationFactory(), segments={"tier-a"}), [product])[product.pk].source
        == "list"
    )


def test_product_not_visible_to_the_buyer_gets_no_price():
    professional = make_product(professional_only=True)
    everyday = make_product()
    retail = make_list("retail", PriceListKind.RETAIL)
    price(retail, professional, "20.00")
    price(retail, everyday, "5.00")

    result = prices_for(b2c(), [professional, everyday])

    assert set(result) == {everyday.pk}


def test_product_outside_every_catalogue_of_the_buyer_gets_no_price():
    product = make_product()
    price(make_list("list"), product, "10.00")
    from segments.resolver import BuyerContext, Channel

    stranger = BuyerContext(channel=Channel.B2B, organisation_id=None, segments=frozenset())

    assert prices_for(stranger, [product]) == {}
