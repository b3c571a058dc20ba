"""No organisation ever sees another organisation's contract or quote price: a matrix over demo-like
personas resolved through the real resolver."""

from decimal import Decimal

import pytest

from pricing.engine import prices_for
from pricing.models import Contract, PriceListKind, Quote
from segments.resolver import resolve
from territories.models import TerritoryRight
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PostcodeAreaFactory,
    SegmentFactory,
    TerritoryFactory,
    UserFactory,
)

from .conftest import (
    accepted_quote,
    devices_category,
    make_contract,
    make_list,
    make_product,
    open_catalogue,
    price,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def personas():
    ics = OrganisationFactory(name="North Thames ICS", kind="ics", postcode="N1C 4AG")
    west_yorks = OrganisationFactory(name="West Yorkshire ICS", kind="ics", postcode="LS1 4AP")
    riverside = OrganisationFactory(name="Riverside", parent=ics)
    eastbrook = OrganisationFactory(name="Eastbrook", parent=ics, postcode="E15 4LP")
    northgate = OrganisationFactory(name="Northgate", parent=west_yorks, postcode="LS9 6TA")
    harbour = OrganisationFactory(name="Harbour Clinic", kind="private_clinic", postcode="PL1 2AB")
    pennine = OrganisationFactory(name="Pennine", kind="distributor", postcode="M1 1AE")
    clinics = SegmentFactory(code="private-clinics", kind="rule")
    clinics.conditions.create(field="kind", operator="is", value="private_clinic")
    distributors = SegmentFactory(code="distributors", kind="rule")
    distributors.conditions.create(field="kind", operator="is", value="distributor")
    consumers = SegmentFactory(code="retail-consumers", kind="rule", audience="consumers")
    open_catalogue(segments=[consumers], organisations=[ics, west_yorks, harbour, pennine])
    north_west = TerritoryFactory(code="pricing-north-west", areas=[PostcodeAreaFactory(code="M")])
    TerritoryRight.objects.create(
        distributor=pennine, category=devices_category(), territory=north_west
    )

    gloves, catheter, frame = (
        make_product("GLV-100"),
        make_product("CTH-200"),
        make_product("WF-300"),
    )
    products = [gloves, catheter, frame]
    base, retail = make_list("list"), make_list("retail", PriceListKind.RETAIL)
    for product in products:
        price(base, product, "10.00")
        price(retail, product, "12.00")
    clinic_list = make_list("clinic-tiers", PriceListKind.SEGMENT, segments=[clinics])
    price(clinic_list, gloves, "9.80", min_quantity=10)
    distributor_list = make_list("distributor", PriceListKind.SEGMENT, segments=[distributors])
    for product in products:
        price(distributor_list, product, "7.00")
    riverside_list = make_list("nhs-2025-118", PriceListKind.CONTRACT)
    northgate_list = make_list("nhs-2025-240", PriceListKind.CONTRACT)
    ics_list = make_list("ntics-framework", PriceListKind.CONTRACT)
    for product, r, n, i in zip(
        products,
        ("6.10", "6.20", "6.30"),
        ("6.60", "6.70", "6.80"),
        ("8.10", "8.20", "8.30"),
        strict=True,
    ):
        price(riverside_list, product, r)
        price(northgate_list, product, n)
        price(ics_list, product, i)
    make_contract(riverside, "NHS-2025-118", riverside_list, lot="3")
    make_contract(northgate, "NHS-2025-240", northgate_list)
    make_contract(ics, "NTICS-FW-01", ics_list)
    accepted_quote(riverside, [(catheter, 500, "5.00")])

    def member(org):
        return resolve(MembershipFactory(organisation=org).user)

    buyers = {
        "riverside": member(riverside),
        "eastbrook": member(eastbrook),
        "northgate": member(northgate),
        "harbour": member(harbour),
        "pennine": member(pennine),
        "patient": resolve(UserFactory(postcode="SE22 8EF")),
        "guest": resolve(None),
    }
    return buyers, products


EXPECTED = {
    # persona: {sku: (source, unit price)} at quantity 10
    "riverside": {
        "GLV-100": ("contract", "6.10"),
        "CTH-200": ("quote", "5.00"),
        "WF-300": ("contract", "6.30"),
    },
    "eastbrook": {
        "GLV-100": ("contract", "8.10"),
        "CTH-200": ("contract", "8.20"),
        "WF-300": ("contract", "8.30"),
    },
    "northgate": {
        "GLV-100": ("contract", "6.60"),
        "CTH-200": ("contract", "6.70"),
        "WF-300": ("contract", "6.80"),
    },
    "harbour": {
        "GLV-100": ("segment", "9.80"),
        "CTH-200": ("list", "10.00"),
        "WF-300": ("list", "10.00"),
    },
    "pennine": {
        "GLV-100": ("segment", "7.00"),
        "CTH-200": ("segment", "7.00"),
        "WF-300": ("segment", "7.00"),
    },
    "patient": {
        "GLV-100": ("retail", "12.00"),
        "CTH-200": ("retail", "12.00"),
        "WF-300": ("retail", "12.00"),
    },
    "guest": {
        "GLV-100": ("retail", "12.00"),
        "CTH-200": ("retail", "12.00"),
        "WF-300": ("retail", "12.00"),
    },
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_persona_sees_exactly_the_price_its_organisation_earns(personas, persona):
    buyers, products = personas
    sku_of = {p.pk: p.sku for p in products}

    result = prices_for(buyers[persona], products, 10)

    assert {sku_of[pid]: (p.source, str(p.unit_price)) for pid, p in result.items()} == {
        sku: (source, str(Decimal(amount).quantize(Decimal("0.0001"))))
        for sku, (source, amount) in EXPECTED[persona].items()
    }


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_no_persona_ever_gets_a_contract_or_quote_outside_its_organisation_line(personas, persona):
    buyers, products = personas
    buyer = buyers[persona]

    for quantity in (1, 10, 500, 501):
        for resolved in prices_for(buyer, products, quantity).values():
            if resolved.contract_id:
                contract = Contract.objects.get(pk=resolved.contract_id)
                assert contract.organisation_id in buyer.organisation_path
            if resolved.quote_id:
                assert (
                    Quote.objects.get(pk=resolved.quote_id).organisation_id == buyer.organisation_id
                )
