"""A change of a price, a contract, a territory right or a segment assignment shows on the very
next request of a warm cache: the write bumps the rules version, and the page equals the page
built from an empty cache."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from catalog.models import Product
from catalog.selectors import visible_products
from pricing.models import Contract, ContractStatus, PriceListItem, PriceListKind
from pricing.services import contract_save, price_list_item_save
from segments.models import SegmentMembership
from segments.resolver import resolve
from segments.versioning import rules_version
from territories.models import TerritoryRight
from territories.services import territory_right_save
from tests.factories import SegmentFactory
from tests.guarantees.faults_support import forget_cache, normalised
from tests.pricing.conftest import make_list, price

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _client(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def _warm_change_read(client, url, change) -> tuple[str, str, str, bool]:
    """The page as the warm cache served it before the change, on the next request after it, and
    from an empty cache; and whether the rules version moved."""
    client.get(url)
    warmed = normalised(client.get(url))
    version = rules_version()
    change()
    after = normalised(client.get(url))
    bumped = rules_version() != version
    forget_cache()
    fresh = normalised(client.get(url))
    return warmed, after, fresh, bumped


def _first_contract_line() -> Product:
    """A Riverside contract line that no accepted quote prices instead."""
    return Product.objects.order_by("sku")[5]


def test_a_new_retail_price_shows_on_the_next_request(requires_redis, demo_world, client):
    product = Product.objects.filter(vat_category="relief").order_by("sku").first()
    item = PriceListItem.objects.get(price_list__code="retail-gbp", product=product)

    def change():
        item.unit_price += Decimal("7.00")
        price_list_item_save(item=item)

    warmed, after, fresh, bumped = _warm_change_read(
        _client(client, "patient@demo.test"), f"/catalogue/p/{product.slug}/", change)

    assert bumped
    assert after == fresh != warmed


def test_a_suspended_contract_shows_on_the_next_request(requires_redis, demo_world, client):
    contract = Contract.objects.get(reference="NHS-2025-118")

    def change():
        contract.status = ContractStatus.SUSPENDED
        contract_save(contract=contract)

    warmed, after, fresh, bumped = _warm_change_read(
        _client(client, "nhs.buyer@demo.test"), f"/catalogue/p/{_first_contract_line().slug}/",
        change)

    assert bumped
    assert "NHS-2025-118" in warmed and "NHS-2025-118" not in after
    assert after == fresh


def test_an_ended_territory_right_shows_on_the_next_request(requires_redis, demo_world, client):
    right = TerritoryRight.objects.get(
        distributor__name__startswith="Pennine", territory__code="north-west",
        category__slug="continence",
    )

    def change():
        right.valid_to = max(right.valid_from, timezone.localdate() - datetime.timedelta(days=1))
        territory_right_save(right=right)

    warmed, after, fresh, bumped = _warm_change_read(
        _client(client, "distributor.north@demo.test"), "/catalogue/c/continence/", change)

    assert bumped
    assert after == fresh != warmed


def test_a_segment_assignment_shows_on_the_next_request(requires_redis, demo_world, client):
    harbour = demo_world.organisations["harbour"]
    clinic = _client(client, "clinic.buyer@demo.test")
    product = visible_products(resolve(User.objects.get(email="clinic.buyer@demo.test"))).order_by(
        "sku").first()
    winter = SegmentFactory(code="winter-offer")
    price(make_list("winter-offer", PriceListKind.SEGMENT, segments=[winter]), product, "1.00")

    def change():
        membership = SegmentMembership(segment=winter, organisation=harbour)
        membership.full_clean()
        membership.save()

    warmed, after, fresh, bumped = _warm_change_read(
        clinic, f"/catalogue/p/{product.slug}/", change)

    assert bumped
    assert "Winter Offer" in after and "Winter Offer" not in warmed
    assert after == fresh
