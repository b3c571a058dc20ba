"""Pricing a page costs the same few queries whatever its size, and never answers stale."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing.engine import prices_for
from pricing.models import PriceListKind
from tests.factories import OrganisationFactory, SegmentFactory

from .conftest import accepted_quote, b2b, b2c, make_contract, make_list, make_product, price

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ics = OrganisationFactory(kind="ics")
    trust = OrganisationFactory(parent=ics)
    segment = SegmentFactory(code="nhs-trusts")
    products = [make_product() for _ in range(100)]
    base, retail = make_list("list"), make_list("retail", PriceListKind.RETAIL)
    assigned = make_list("nhs", PriceListKind.SEGMENT, segments=[segment])
    own, parent = make_list("own", PriceListKind.CONTRACT), make_list("ics", PriceListKind.CONTRACT)
    make_contract(trust, "OWN-1", own)
    make_contract(ics, "ICS-1", parent)
    for i, product in enumerate(products):
        price(base, product, "10.00")
        price(base, product, "9.00", min_quantity=10)
        price(retail, product, "12.00")
        if i % 2:
            price(assigned, product, "9.50")
        if i % 3:
            price(own, product, "8.00")
        price(parent, product, "8.50")
    accepted_quote(trust, [(p, 50, "7.00") for p in products[:20]])
    return trust, products


@pytest.mark.parametrize("kind", ["b2b", "b2c"])
def test_query_count_does_not_grow_with_the_page(world, kind):
    trust, products = world
    buyer = b2b(trust, segments={"nhs-trusts"}) if kind == "b2b" else b2c()

    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            result = prices_for(buyer, products[:size], 5)
        assert len(result) == size
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 4, counts


def test_page_of_products_is_priced_by_their_own_precedence(world):
    trust, products = world

    result = prices_for(b2b(trust, segments={"nhs-trusts"}), products, 5)

    assert {p.source for p in result.values()} == {"quote", "contract"}
    assert result[products[0].pk].source == "quote"
    assert result[products[21].pk].unit_price == Decimal("8.50")  # own contract lacks it: ICS's
    assert result[products[22].pk].unit_price == Decimal("8.00")


def test_contract_price_change_is_visible_on_the_next_call():
    product = make_product()
    trust = OrganisationFactory()
    contract_list = make_list("c", PriceListKind.CONTRACT)
    item = price(contract_list, product, "6.00")
    contract = make_contract(trust, "NHS-1", contract_list)
    buyer = b2b(trust)
    assert prices_for(buyer, [product])[product.pk].unit_price == Decimal("6.00")

    item.unit_price = Decimal("5.75")
    item.save()
    after_price_change = prices_for(buyer, [product])[product.pk]
    contract.status = "suspended"
    contract.save()
    after_suspension = prices_for(buyer, [product])

    assert after_price_change.unit_price == Decimal("5.75")
    assert product.pk not in after_suspension


def test_price_writes_bump_the_rules_version_that_cached_fragments_are_keyed_by():
    from segments.versioning import rules_version

    product = make_product()
    before = rules_version()
    price(make_list("list"), product, "10.00")

    assert rules_version() != before


def test_a_sliced_page_of_a_queryset_is_priced_in_the_same_queries(world):
    from catalog.models import Product

    trust, products = world
    buyer = b2b(trust, segments={"nhs-trusts"})

    with CaptureQueriesContext(connection) as queries:
        result = prices_for(buyer, Product.objects.order_by("sku")[10:30], 5)

    assert len(result) == 20 and len(queries) <= 4
