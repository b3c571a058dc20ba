"""Pricing a basket and upserting a price list: the engine and the importer decide, the client
never sets a price, an organisation or a status, and a bad row writes nothing."""

from decimal import Decimal

import pytest

from accounts.keys import ApiScope
from pricing.models import PriceListItem
from tests.api.conftest import issue_key, issue_staff_key, key_client
from tests.factories import UserFactory

UPSERT = "/api/v1/price-lists/{}/items/bulk-upsert/"


@pytest.fixture
def trust(world):
    return key_client(issue_key(world.trust, world.trust_buyer))


@pytest.fixture
def importer(world):
    staff = UserFactory(email="prices@maker.test", is_staff=True, is_superuser=True)
    return key_client(issue_staff_key(staff, scopes=[ApiScope.PRICES_IMPORT]))


@pytest.mark.django_db
def test_a_basket_is_priced_per_line_at_its_quantity(world, trust):
    response = trust.post("/api/v1/prices/quote-basket/", {"lines": [
        {"sku": "WC-SHARED", "quantity": 60}, {"sku": "WC-TRUST", "quantity": 3},
    ]}, format="json")

    body = response.json()
    assert response.status_code == 200
    shared, own = body["lines"]
    assert (Decimal(shared["price"]["unit_price"]), shared["price"]["tier_min_quantity"]) == (
        Decimal("7.90"), 50)
    assert shared["total"] == {"currency": "GBP", "net": "474.00", "vat": "94.80",
                               "gross": "568.80"}
    assert own["total"]["net"] == "60.00"
    assert body["totals"] == [{"currency": "GBP", "net": "534.00", "vat": "106.80",
                               "gross": "640.80"}]
    assert body["complete"] is True


@pytest.mark.django_db
def test_a_basket_line_the_buyer_cannot_see_is_an_error_of_that_line(trust):
    response = trust.post("/api/v1/prices/quote-basket/", {"lines": [
        {"sku": "WC-SHARED", "quantity": 1}, {"sku": "WC-CLINIC", "quantity": 1},
        {"sku": "WC-SHARED", "quantity": 2},
    ]}, format="json")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "basket_invalid"
    assert error["fields"] == {"lines.1.sku": ["No such product."],
                               "lines.2.sku": ["Already on line 0."]}


@pytest.mark.django_db
def test_a_quantity_outside_the_price_rules_is_refused(world, trust):
    PriceListItem.objects.filter(price_list=world.list_prices, product=world.trust_only).update(
        order_multiple=5)

    response = trust.post("/api/v1/prices/quote-basket/",
                          {"lines": [{"sku": "WC-TRUST", "quantity": 3}]}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"lines.0.quantity": ["Order in multiples of 5."]}


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [
    {"unit_price": "0.01"}, {"price": "0.01"}, {"organisation": 99}, {"status": "accepted"},
    {"territory": "wales"}, {"approver": 1},
])
def test_a_basket_line_that_tries_to_set_server_facts_is_refused(trust, extra):
    response = trust.post("/api/v1/prices/quote-basket/",
                          {"lines": [{"sku": "WC-SHARED", "quantity": 1, **extra}]}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [f"lines.0.{next(iter(extra))}"]


@pytest.mark.django_db
@pytest.mark.parametrize("extra", [{"organisation": 2}, {"price_list": "api-b2b-list"},
                                   {"status": "active"}])
def test_an_upsert_that_tries_to_choose_more_than_prices_is_refused(world, importer, extra):
    before = list(PriceListItem.objects.values_list("pk", "unit_price"))

    top = importer.post(UPSERT.format(world.contract_list.code),
                        {"items": [{"sku": "WC-SHARED", "unit_price": "1.00"}], **extra},
                        format="json")
    row = importer.post(UPSERT.format(world.contract_list.code),
                        {"items": [{"sku": "WC-SHARED", "unit_price": "1.00", **extra}]},
                        format="json")

    assert (top.status_code, row.status_code) == (400, 400)
    assert list(PriceListItem.objects.values_list("pk", "unit_price")) == before


@pytest.mark.django_db
def test_an_upsert_inserts_and_updates_in_one_go(world, importer):
    response = importer.post(UPSERT.format(world.contract_list.code), {"items": [
        {"sku": "WC-SHARED", "unit_price": "8.10"},
        {"sku": "WC-SHARED", "unit_price": "6.95", "min_quantity": 200},
    ]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"price_list": "api-nhs-contract", "rows": 2, "written": 2}
    assert sorted(PriceListItem.objects.filter(price_list=world.contract_list)
                  .values_list("min_quantity", "unit_price")) == [
        (1, Decimal("8.1000")), (50, Decimal("7.9000")), (200, Decimal("6.9500"))]


@pytest.mark.django_db
def test_one_bad_row_writes_nothing_and_is_reported_by_index(world, importer):
    before = list(PriceListItem.objects.values_list("pk", "unit_price"))

    response = importer.post(UPSERT.format(world.contract_list.code), {"items": [
        {"sku": "WC-SHARED", "unit_price": "8.10"},
        {"sku": "NO-SUCH-SKU", "unit_price": "1.00"},
        {"sku": "WC-TRUST", "unit_price": "-2", "currency": "EUR"},
    ]}, format="json")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert set(error["fields"]) == {"items.1.sku", "items.2.unit_price", "items.2.currency"}
    assert list(PriceListItem.objects.values_list("pk", "unit_price")) == before
