"""Conditional reads by date: lists and details whose objects carry `updated_at` send
`Last-Modified` (the newest of them, a product's price rows included) and answer a repeat with
`If-Modified-Since` by `304` — until something on the answer changes. `If-None-Match` takes
precedence, and a malformed date is ignored."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date, parse_http_date

from catalog.models import Product
from ordering.models import Order, OrderState
from ordering.services.transitions import order_transition
from pricing.models import Contract, PriceListItem
from pricing.services import contract_save, price_list_item_save
from tests.api.conftest import issue_key, key_client
from tests.api.test_orders import client_for, fulfilment_client
from tests.factories import UserFactory
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world


def _long_ago(hours: int = 48) -> datetime.datetime:
    return (timezone.now() - datetime.timedelta(hours=hours)).replace(microsecond=0)


def _age_catalogue() -> datetime.datetime:
    """Date every product, price row and contract two days back, one second apart, so each
    answer's newest change is known."""
    long_ago = _long_ago()
    Product.objects.update(updated_at=long_ago)
    PriceListItem.objects.update(updated_at=long_ago)
    Contract.objects.update(updated_at=long_ago)
    return long_ago


def _conditional_cycle(client, path, change) -> tuple:
    """GET; repeat with the date got (304); make a change; repeat with the same date."""
    first = client.get(path)
    again = client.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    change()
    changed = client.get(path, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    return first, again, changed


def _assert_cycle(first, again, changed, newest: datetime.datetime) -> None:
    assert first.status_code == 200
    assert parse_http_date(first["Last-Modified"]) == int(newest.timestamp())
    assert again.status_code == 304 and again.content == b""
    assert again["Last-Modified"] == first["Last-Modified"]
    assert again["ETag"] == first["ETag"]
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


# Products and contracts --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/products/", "/api/v1/products/WC-SHARED/"])
def test_a_product_answer_is_304_until_one_of_its_price_rows_changes(world, path):
    long_ago = _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    item = PriceListItem.objects.get(price_list=world.contract_list, product=world.shared,
                                     min_quantity=1)

    def change():
        item.unit_price = Decimal("8.10")
        price_list_item_save(item=item)

    first, again, changed = _conditional_cycle(client, path, change)

    _assert_cycle(first, again, changed, long_ago)
    body = changed.json()
    shared = body if "sku" in body else next(r for r in body["results"] if r["sku"] == "WC-SHARED")
    assert shared["price"]["unit_price"] == "8.1000"
    assert datetime.datetime.fromisoformat(shared["updated_at"]) > long_ago


def test_a_product_list_dates_itself_by_its_newest_product(world):
    long_ago = _age_catalogue()
    newer = long_ago + datetime.timedelta(hours=3)
    Product.objects.filter(pk=world.trust_only.pk).update(updated_at=newer)
    PriceListItem.objects.filter(product=world.shared).update(
        updated_at=newer + datetime.timedelta(minutes=5))
    client = key_client(issue_key(world.trust, world.trust_buyer))

    listed = client.get("/api/v1/products/")
    detail = client.get(f"/api/v1/products/{world.trust_only.sku}/")

    assert parse_http_date(listed["Last-Modified"]) == int(
        (newer + datetime.timedelta(minutes=5)).timestamp())
    assert parse_http_date(detail["Last-Modified"]) == int(newer.timestamp())


@pytest.mark.parametrize("detail", [False, True])
def test_a_contract_answer_is_304_until_the_contract_changes(world, detail):
    long_ago = _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    path = f"/api/v1/contracts/{world.contract.pk}/" if detail else "/api/v1/contracts/"

    def change():
        contract = Contract.objects.get(pk=world.contract.pk)
        contract.note = "Lot 3 extended to March"
        contract_save(contract=contract)

    first, again, changed = _conditional_cycle(client, path, change)

    _assert_cycle(first, again, changed, long_ago)


# Orders: the buyer's, a distributor's routed ones, the manufacturer's fulfilment queue -----------


@pytest.fixture
def orders_world(db):
    world = build_world()
    world.staff = UserFactory(email="erp-owner@maker.test", is_staff=True, is_superuser=True)
    return world


def _aged(order: Order) -> datetime.datetime:
    long_ago = _long_ago()
    Order.objects.filter(pk=order.pk).update(updated_at=long_ago)
    return long_ago


def _cancel(world, order):
    return lambda: order_transition(order=Order.objects.get(pk=order.pk), action="cancel",
                                    actor_buyer=world.buyer("buyer"))


@pytest.mark.parametrize("detail", [False, True])
def test_an_order_answer_is_304_until_the_order_changes(orders_world, detail):
    order = make_order(orders_world, OrderState.SUBMITTED, placed_by="buyer")
    long_ago = _aged(order)
    path = f"/api/v1/orders/{order.number}/" if detail else "/api/v1/orders/"

    first, again, changed = _conditional_cycle(
        client_for(orders_world, "buyer"), path, _cancel(orders_world, order))

    _assert_cycle(first, again, changed, long_ago)


@pytest.mark.parametrize("detail", [False, True])
def test_a_routed_order_answer_is_304_until_the_order_changes(orders_world, detail):
    order = make_order(orders_world, OrderState.ROUTED, placed_by="buyer",
                       fulfiller=orders_world.distributor)
    long_ago = _aged(order)
    path = f"/api/v1/routed-orders/{order.number}/" if detail else "/api/v1/routed-orders/"
    client = client_for(orders_world, "distributor")

    def decline():
        client.post(f"/api/v1/routed-orders/{order.number}/decline/",
                    {"reason": "No cold-chain van this week"}, format="json")

    first, again, changed = _conditional_cycle(client, path, decline)

    _assert_cycle(first, again, changed, long_ago)


@pytest.mark.parametrize("detail", [False, True])
def test_a_fulfilment_answer_is_304_until_the_order_changes(orders_world, detail):
    order = make_order(orders_world, OrderState.ALLOCATED, placed_by="buyer")
    long_ago = _aged(order)
    base = "/api/v1/fulfilment/orders/"
    path = f"{base}{order.number}/" if detail else base
    client = fulfilment_client(orders_world)

    def acknowledge():
        client.post(f"{base}{order.number}/acknowledge/", {"erp_reference": "SAP-4410"},
                    format="json")

    first, again, changed = _conditional_cycle(client, path, acknowledge)

    _assert_cycle(first, again, changed, long_ago)


# The rules of the headers -------------------------------------------------------------------------


def test_if_none_match_takes_precedence_over_if_modified_since(world):
    _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    first = client.get("/api/v1/products/")

    stale_tag = client.get("/api/v1/products/", HTTP_IF_NONE_MATCH='"not-this-one"',
                           HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    current_tag = client.get("/api/v1/products/", HTTP_IF_NONE_MATCH=first["ETag"],
                             HTTP_IF_MODIFIED_SINCE=http_date(0))

    assert stale_tag.status_code == 200
    assert current_tag.status_code == 304


@pytest.mark.parametrize("value", [
    "yesterday", "Sun, 99 Foo 2026 25:61:00 GMT", "0", "", "\u00e9t\u00e9",
    "Mon, 01 Jan 2200 00:00:00 GMT, Tue, 02 Jan 2200 00:00:00 GMT",
])
def test_a_malformed_if_modified_since_is_ignored(world, value):
    _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))

    response = client.get("/api/v1/products/", HTTP_IF_MODIFIED_SINCE=value)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_an_earlier_date_gets_the_answer_and_a_later_one_a_304(world):
    long_ago = _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    before = http_date(long_ago.timestamp() - 1)
    after = http_date(long_ago.timestamp() + 3600)

    assert client.get("/api/v1/products/", HTTP_IF_MODIFIED_SINCE=before).status_code == 200
    assert client.get("/api/v1/products/", HTTP_IF_MODIFIED_SINCE=after).status_code == 304


def test_a_change_within_the_current_second_sends_no_date(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))
    _age_catalogue()
    Product.objects.filter(pk=world.shared.pk).update(updated_at=timezone.now() + datetime.
                                                      timedelta(seconds=5))

    response = client.get("/api/v1/products/", HTTP_IF_MODIFIED_SINCE=http_date(
        timezone.now().timestamp() + 3600))

    assert response.status_code == 200
    assert not response.has_header("Last-Modified")
    assert response.has_header("ETag")


def test_answers_without_dated_objects_carry_no_last_modified(world):
    client = key_client(issue_key(world.trust, world.trust_buyer))

    me = client.get("/api/v1/me/", HTTP_IF_MODIFIED_SINCE=http_date(
        timezone.now().timestamp() + 3600))
    empty = client.get("/api/v1/products/?search=nothing-matches-this")

    assert me.status_code == 200 and not me.has_header("Last-Modified")
    assert empty.status_code == 200 and not empty.has_header("Last-Modified")


def test_the_date_costs_no_query(world):
    _age_catalogue()
    client = key_client(issue_key(world.trust, world.trust_buyer))
    client.get("/api/v1/products/")  # warm the resolver's cache
    with CaptureQueriesContext(connection) as plain:
        client.get("/api/v1/products/")
    with CaptureQueriesContext(connection) as conditional:
        answer = client.get("/api/v1/products/", HTTP_IF_MODIFIED_SINCE=http_date(
            timezone.now().timestamp()))

    assert answer.status_code == 304
    assert len(conditional) == len(plain)
