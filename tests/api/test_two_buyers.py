"""The API and the pages agree: an NHS trust and a private clinic see different products at
different prices, and each sees through the API exactly what the catalogue pages show it."""

import re
from decimal import Decimal

import pytest

from catalog.selectors import visible_products
from pricing.engine import prices_for
from segments.resolver import resolve
from tests.api.conftest import issue_key, key_client, session_client

ROW = re.compile(r'<tr data-sku="(?P<sku>[^"]+)">.*?(?:data-price="(?P<price>[^"]+)"|</tr>)', re.S)


def api_products(client) -> dict[str, Decimal | None]:
    body = client.get("/api/v1/products/").json()
    return {
        row["sku"]: Decimal(row["price"]["shown"]) if row["price"] else None
        for row in body["results"]
    }


def page_products(client, category) -> dict[str, Decimal | None]:
    html = client.get(f"/catalogue/c/{category.slug}/").content.decode()
    return {m["sku"]: Decimal(m["price"]) if m["price"] else None for m in ROW.finditer(html)}


@pytest.mark.django_db
def test_trust_and_clinic_see_different_products_and_prices(world):
    trust = key_client(issue_key(world.trust, world.trust_buyer))
    clinic = key_client(issue_key(world.clinic, world.clinic_buyer))

    trust_sees, clinic_sees = api_products(trust), api_products(clinic)

    assert trust_sees == {"WC-SHARED": Decimal("8.40"), "WC-TRUST": Decimal("20.00")}
    assert clinic_sees == {"WC-SHARED": Decimal("12.00"), "WC-CLINIC": Decimal("31.50")}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["trust", "clinic"])
def test_api_equals_the_selectors_engine_and_pages(world, who):
    organisation, user = {
        "trust": (world.trust, world.trust_buyer),
        "clinic": (world.clinic, world.clinic_buyer),
    }[who]
    buyer = resolve(user, organisation=organisation)
    visible = list(visible_products(buyer))
    expected = {p.sku: prices_for(buyer, visible)[p.pk].shown for p in visible}

    through_api = api_products(key_client(issue_key(organisation, user)))
    on_pages = page_products(session_client(user), world.category)

    assert through_api == expected
    assert on_pages == expected


@pytest.mark.django_db
def test_product_detail_is_404_exactly_where_the_page_is(world):
    trust_api = key_client(issue_key(world.trust, world.trust_buyer))
    trust_page = session_client(world.trust_buyer)

    for product in (world.shared, world.trust_only, world.clinic_only, world.hidden):
        api = trust_api.get(f"/api/v1/products/{product.sku}/")
        page = trust_page.get(f"/catalogue/p/{product.slug}/")
        assert api.status_code == page.status_code
        assert api.status_code in (200, 404)

    assert trust_api.get("/api/v1/products/WC-CLINIC/").json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_detail_prices_at_the_requested_quantity(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))

    price = client.get("/api/v1/products/WC-SHARED/?quantity=50").json()["price"]

    assert Decimal(price["unit_price"]) == Decimal("7.90")
    assert price["tier_min_quantity"] == 50
    assert price["explanation"] == "Contract NHS-2025-118 (lot 3), 50+ tier"
    assert [(t["min_quantity"], Decimal(t["unit_price"])) for t in price["tiers"]] == [
        (1, Decimal("8.40")), (50, Decimal("7.90")),
    ]


@pytest.mark.django_db
def test_me_gives_the_resolver_facts_of_the_key(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))
    buyer = resolve(world.trust_buyer, organisation=world.trust)

    me = client.get("/api/v1/me/").json()

    assert me["organisation"]["id"] == world.trust.pk
    assert me["segments"] == sorted(buyer.segments)
    assert me["workflow"] == buyer.workflow == "institutional"
    assert me["territory"] == buyer.territory
    assert me["roles"] == ["buyer"]
    assert me["key"]["scopes"] == ["catalogue:read", "orders:write"]
