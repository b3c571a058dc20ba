"""Card payment outside the transaction: the order waits for payment with its stock reserved, the
card is charged with no transaction open, then the order is confirmed — or released, its stock
given back and the cart kept. A payment whose answer never came is settled by the timeout task:
confirmed if the gateway captured it, released otherwise."""

import datetime
import functools

import pytest
from django.core import mail
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ordering.errors import OrderError
from ordering.models import CartLine, Order, OrderEvent, OutboxEvent, Stock
from ordering.payments import TestCardGateway
from ordering.selectors import routed_orders_for
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    DeliveryAddress,
    checkout_retail,
    checkout_review,
    retail_order_place,
)
from ordering.tasks import card_payments_settle
from segments.models import Segment
from segments.resolver import resolve
from territories.lookup import region_for_area
from tests.concurrency import race
from tests.factories import MembershipFactory, SegmentMembershipFactory, UserFactory
from tests.territories.conftest import distributor, grant

from .conftest import build_world
from .gateways import ProbeGateway

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
SLOW_CARD = "4000 0000 0000 0077"
FAILS_AFTER_CHARGE_CARD = "4000 0000 0000 0119"
LOST_CALLBACK_CARD = "4000 0000 0000 0341"
HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "SE5 9RS")


@pytest.fixture
def probe(settings):
    settings.ORDERING_PAYMENT_GATEWAY = "tests.ordering.gateways.ProbeGateway"
    ProbeGateway.reset()
    return ProbeGateway


def _pay(world, card, *, quantity=2, product=None):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=(product or world.dressing).pk, quantity=quantity)
    return checkout_retail(buyer=patient, address=HOME, card_number=card,
                           expected_token=checkout_review(buyer=patient).price_token)


def _overdue(minutes=16):
    Order.objects.filter(state="awaiting_payment").update(
        placed_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )


def _gateway_state(order):
    return TestCardGateway().status(idempotency_key=order.payment_key).state


@pytest.mark.django_db(transaction=True)
def test_the_card_is_charged_with_no_transaction_open(probe):
    world = build_world()

    order = _pay(world, GOOD_CARD)

    assert probe.in_atomic_block == [False]
    order.refresh_from_db()
    assert order.state == "allocated" and order.payment_reference.startswith("TEST-")
    assert order.payment_key
    assert Stock.objects.get(product=world.dressing).reserved == 2
    assert not CartLine.objects.exists()
    assert list(order.events.values_list("action", "to_state")) == [
        ("place", "awaiting_payment"), ("submit", "submitted"), ("allocate", "allocated"),
    ]


def test_a_declined_card_keeps_no_confirmed_order_and_gives_the_stock_back(world):
    with pytest.raises(OrderError) as refused:
        _pay(world, DECLINED_CARD)

    assert refused.value.code == "payment_declined"
    assert "declined" in refused.value.message
    [order] = Order.objects.all()
    assert order.state == "payment_failed" and order.payment_reference == ""
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert order.lines.get().allocated_quantity == 0
    assert CartLine.objects.get().quantity == 2


def test_a_failure_after_the_charge_refunds_it_and_releases_the_stock(world):
    with pytest.raises(OrderError) as refused:
        _pay(world, FAILS_AFTER_CHARGE_CARD)

    assert refused.value.code == "payment_failed"
    assert "not been charged" in refused.value.message
    [order] = Order.objects.all()
    assert order.state == "payment_failed"
    assert _gateway_state(order) == "refunded"
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert CartLine.objects.get().quantity == 2


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_that_fails_refunds_the_charge(monkeypatch):
    world = build_world()

    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr("ordering.services.payment.order_release_to_fulfilment", broken)

    with pytest.raises(OrderError) as refused:
        _pay(world, GOOD_CARD)

    assert refused.value.code == "payment_failed"
    [order] = Order.objects.all()
    assert order.state == "payment_failed" and order.payment_reference == ""
    assert _gateway_state(order) == "refunded"
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert CartLine.objects.get().quantity == 2


def test_a_lost_callback_is_confirmed_once_by_the_timeout_task(
    world, django_capture_on_commit_callbacks
):
    order = _pay(world, LOST_CALLBACK_CARD)
    waiting = (order.state, Stock.objects.get(product=world.dressing).reserved,
               CartLine.objects.count())
    early = card_payments_settle()
    _overdue()

    with django_capture_on_commit_callbacks(execute=True):
        first = card_payments_settle()
        second = card_payments_settle()

    assert waiting == ("awaiting_payment", 2, 1)
    assert early == {"confirmed": 0, "released": 0}
    assert (first, second) == ({"confirmed": 1, "released": 0}, {"confirmed": 0, "released": 0})
    order.refresh_from_db()
    assert order.state == "allocated" and order.payment_reference.startswith("TEST-")
    assert OrderEvent.objects.filter(order=order, action="submit").count() == 1
    assert Stock.objects.get(product=world.dressing).reserved == 2
    assert not CartLine.objects.exists()
    assert [m.subject for m in mail.outbox] == [f"Order {order.number} is confirmed"]


def test_a_payment_that_never_confirms_is_released_after_the_timeout(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=3)
    [order] = retail_order_place(buyer=patient, address=HOME,
                                 expected_token=checkout_review(buyer=patient).price_token)
    reserved = Stock.objects.get(product=world.dressing).reserved
    _overdue()

    settled = card_payments_settle()

    assert reserved == 3
    assert settled == {"confirmed": 0, "released": 1}
    order.refresh_from_db()
    assert order.state == "payment_failed"
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert CartLine.objects.get().quantity == 3


def test_a_routed_order_reaches_its_distributor_only_once_paid(world):
    solent = distributor("Solent Test Distribution", postcode="SO15 1AA")
    grant(solent, region_for_area("SE"), product=world.frame)

    portal = resolve(MembershipFactory(organisation=solent, is_buyer=True).user,
                     organisation=solent)

    order = _pay(world, LOST_CALLBACK_CARD, quantity=1, product=world.frame)
    unpaid = (order.fulfiller_id, OutboxEvent.objects.count(), list(routed_orders_for(portal)))
    _overdue()
    card_payments_settle()

    assert unpaid == (solent.pk, 0, [])
    assert list(routed_orders_for(portal)) == [order]
    [event] = OutboxEvent.objects.all()
    assert (event.type, event.organisation_id) == ("order.place", solent.pk)
    assert event.payload["data"]["order"]["state"] == "routed"
    assert event.payload["data"]["order"]["previous_state"] is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_buyers_racing_for_the_last_unit_with_a_slow_gateway(requires_postgres, probe,
                                                                 settings):
    settings.ORDERING_TEST_GATEWAY_DELAY_SECONDS = 1.0
    world = build_world(stock=1)
    probe.reset(probe_product_id=world.dressing.pk)
    consumers = Segment.objects.get(code="ordering-consumers")
    buyers = []
    for n in range(2):
        user = UserFactory(email=f"racer{n}@ordering.test", postcode="SE5 9RS")
        SegmentMembershipFactory(segment=consumers, user=user)
        buyer = resolve(user)
        cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=1)
        buyers.append((buyer, checkout_review(buyer=buyer).price_token))
    outcomes, errors = race([
        functools.partial(lambda buyer, token: checkout_retail(
            buyer=buyer, address=HOME, card_number=SLOW_CARD, expected_token=token).state, *pair)
        for pair in buyers
    ])

    assert errors == []
    assert sorted(outcomes) == ["allocated", "out_of_stock"]
    assert probe.in_atomic_block == [False]
    assert probe.stock_unlocked == [True]
    assert Order.objects.get().state == "allocated"
    stock = Stock.objects.get(product=world.dressing)
    assert (stock.on_hand, stock.reserved) == (1, 1)


def test_the_order_page_and_the_api_say_awaiting_payment_in_plain_words(world):
    order = _pay(world, LOST_CALLBACK_CARD)
    client = APIClient()
    client.force_login(world.user("patient"))

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()
    api = client.get(f"/api/v1/orders/{order.number}/").json()

    assert "Awaiting payment" in page and "waiting for your card payment" in page
    assert (api["state"], api["state_label"]) == ("awaiting_payment", "Awaiting payment")
