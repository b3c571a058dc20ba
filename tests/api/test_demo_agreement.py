"""For each demo account, the API and the catalogue pages agree: the same products at the same
prices, read page by page from both."""

import re
from decimal import Decimal

import pytest

from accounts.keys import ApiScope
from accounts.models import Membership, User
from catalog.models import Category
from tests.api.conftest import issue_key, key_client, session_client

SKU = re.compile(r'data-sku="([^"]+)"')
PRICE = re.compile(r'data-price="([^"]+)"')

# Every demo login that buys (DEMO.md); consumers use the API through their browser session.
B2B = ["nhs.buyer", "trust2.buyer", "clinic.buyer", "distributor.north", "distributor.south"]
CONSUMERS = ["patient", "carer"]


@pytest.fixture
def demo(demo_world):
    return demo_world


def api_products(client) -> dict[str, Decimal | None]:
    found, url = {}, "/api/v1/products/?page_size=200"
    while url:
        body = client.get(url).json()
        for row in body["results"]:
            found[row["sku"]] = Decimal(row["price"]["shown"]) if row["price"] else None
        url = body["next"]
    return found


def _rows(html: str) -> dict[str, Decimal | None]:
    rows = {}
    parts = SKU.split(html)
    for sku, chunk in zip(parts[1::2], parts[2::2], strict=True):
        price = PRICE.search(chunk)
        rows.setdefault(sku, Decimal(price[1]) if price else None)
    return rows


def page_products(client) -> dict[str, Decimal | None]:
    """Every listing page of every top-level category, until a page brings nothing new."""
    found = {}
    for slug in Category.objects.filter(parent__isnull=True).values_list("slug", flat=True):
        page = 1
        while True:
            response = client.get(f"/catalogue/c/{slug}/?page={page}")
            if response.status_code == 404:
                break
            rows = _rows(response.content.decode())
            if not rows or set(rows) <= set(found):
                break
            found.update(rows)
            page += 1
    return found


def _user(login: str) -> User:
    return User.objects.get(email=f"{login}@demo.test")


@pytest.mark.django_db
@pytest.mark.parametrize("login", B2B)
def test_each_business_login_sees_the_same_products_and_prices_in_the_api(demo, login):
    user = _user(login)
    organisation = Membership.objects.filter(user=user, is_active=True).first().organisation
    token = issue_key(organisation, user, scopes=[ApiScope.CATALOGUE_READ],
                      name=f"agreement {login}")

    through_api = api_products(key_client(token))
    on_pages = page_products(session_client(user))

    assert through_api
    assert through_api == on_pages


@pytest.mark.django_db
@pytest.mark.parametrize("login", CONSUMERS)
def test_each_consumer_sees_the_same_products_and_prices_in_the_api(demo, login):
    client = session_client(_user(login))

    through_api = api_products(client)

    assert through_api
    assert through_api == page_products(client)


@pytest.mark.django_db
def test_demo_accounts_see_different_catalogues_and_prices(demo):
    seen = {}
    for login in ("nhs.buyer", "clinic.buyer", "patient"):
        user = _user(login)
        seen[login] = api_products(session_client(user))

    assert seen["nhs.buyer"] != seen["clinic.buyer"] != seen["patient"]
    shared = set(seen["nhs.buyer"]) & set(seen["clinic.buyer"])
    assert any(seen["nhs.buyer"][sku] != seen["clinic.buyer"][sku] for sku in shared)
