"""The database connection dropping in the middle of a checkout — after the order row, its lines
and the stock reservation were written, before the commit — leaves nothing half-written: no
order, no lines, no events, stock as it was, the cart as it was. The next request opens a new
connection and works, and the same cart can then be ordered.

The drop is real: a second connection ends the checkout's own PostgreSQL backend with
`pg_terminate_backend` when placement logs the new order."""

import datetime

import psycopg
import pytest
from django.db import OperationalError, connection
from django.test import Client

from ordering.models import ApprovalStep, CartLine, Order, OrderEvent, OrderLine, OutboxEvent, Stock
from ordering.services import checkout
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    DeliveryAddress,
    InstitutionalDetails,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from tests.ordering.conftest import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

GOOD_CARD = "4242 4242 4242 4242"


def _terminate(pid: int) -> None:
    """End backend `pid` from a connection of its own, as an administrator or a failover would."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname=db["NAME"],
                         autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def drop_connection_when_order_logged(monkeypatch):
    """Placement writes the order and its lines, then logs it: the connection drops right there."""
    real = checkout.order_log

    def order_log_then_drop(**kwargs):
        real(**kwargs)
        _terminate(_backend_pid())

    monkeypatch.setattr(checkout, "order_log", order_log_then_drop)
    return lambda: monkeypatch.setattr(checkout, "order_log", real)


def _state() -> dict:
    return {
        "orders": Order.objects.count(), "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(), "outbox": OutboxEvent.objects.count(),
        "steps": ApprovalStep.objects.count(),
        "reserved": dict(Stock.objects.values_list("product_id", "reserved")),
        "cart": sorted(CartLine.objects.values_list("product_id", "quantity")),
    }


def _institutional(world):
    details = InstitutionalDetails(
        po_number="PO-DROP-1", cost_centre_id=world.cost_centre.pk,
        requested_delivery_date=datetime.date.today() + datetime.timedelta(days=5),
    )
    token = checkout_review(buyer=world.buyer("requisitioner")).price_token
    return checkout_institutional(buyer=world.buyer("requisitioner"), details=details,
                                  expected_token=token)


def _retail(world):
    token = checkout_review(buyer=world.buyer("patient")).price_token
    return checkout_retail(buyer=world.buyer("patient"), card_number=GOOD_CARD,
                           address=DeliveryAddress("Pat Patient", "12 Denmark Hill", "SE5 9RS"),
                           expected_token=token)


@pytest.mark.parametrize("who, place", [("requisitioner", _institutional), ("patient", _retail)])
def test_a_connection_dropped_mid_checkout_leaves_nothing_half_written(
    requires_postgres, drop_connection_when_order_logged, who, place,
):
    world = build_world()
    cart_add(buyer=world.buyer(who), product_id=world.dressing.pk, quantity=3)
    cart_add(buyer=world.buyer(who), product_id=world.gloves.pk, quantity=10)
    before = _state()
    pid = _backend_pid()

    with pytest.raises(OperationalError):
        place(world)

    assert _state() == before
    assert _backend_pid() != pid  # a new connection
    assert before["orders"] == 0 and before["cart"] and sum(before["reserved"].values()) == 0

    drop_connection_when_order_logged()  # the database is back
    client = Client()
    client.force_login(world.user(who))
    page = client.get("/cart/")
    assert page.status_code == 200 and world.dressing.name in page.content.decode()
    place(world)
    assert Order.objects.get().lines.count() == 2
    assert Stock.objects.get(product=world.dressing).reserved == 3
    assert not CartLine.objects.exists()
