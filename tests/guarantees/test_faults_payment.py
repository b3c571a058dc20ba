"""A card payment that fails after the gateway captured it — its answer lost to a timeout —
keeps no stock and confirms no order; the cart is as it was.
The charge runs with no transaction open; the failure releases the order and its reservation and
asks the gateway to give the captured money back."""

from decimal import Decimal

import pytest

from ordering.errors import OrderError
from ordering.models import CartLine, Order, Stock
from ordering.services.carts import cart_add
from ordering.services.checkout import DeliveryAddress, checkout_retail, checkout_review
from tests.guarantees.faults_support import ApprovesThenFails
from tests.ordering.conftest import build_world

pytestmark = pytest.mark.django_db

GATEWAY = "tests.guarantees.faults_support.ApprovesThenFails"
HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "SE5 9RS")
# States in which an order does not go ahead: waiting for, or released after, its payment.
NOT_GOING_AHEAD = ("awaiting_payment", "payment_failed", "cancelled")


@pytest.fixture
def failing_gateway(settings):
    settings.ORDERING_PAYMENT_GATEWAY = GATEWAY
    ApprovesThenFails.reset()
    yield ApprovesThenFails
    ApprovesThenFails.reset()


def _pay_and_fail(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=2)
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=1)
    before = (dict(Stock.objects.values_list("product_id", "reserved")),
              sorted(CartLine.objects.values_list("product_id", "quantity")))
    token = checkout_review(buyer=world.buyer("patient")).price_token

    with pytest.raises((ConnectionError, OrderError)):
        checkout_retail(buyer=world.buyer("patient"), address=HOME, card_number="4242424242424242",
                        expected_token=token)
    return before


def test_a_failure_after_the_card_was_charged_keeps_no_stock_and_confirms_no_order(
    failing_gateway,
):
    world = build_world()

    before = _pay_and_fail(world)

    assert [c["amount"] for c in failing_gateway.captured] == [Decimal("96.00")]
    assert dict(Stock.objects.values_list("product_id", "reserved")) == before[0]
    assert not Order.objects.exclude(state__in=NOT_GOING_AHEAD).exists()
    assert sorted(CartLine.objects.values_list("product_id", "quantity")) == before[1]


def test_a_failure_after_the_card_was_charged_gives_the_money_back(failing_gateway):
    world = build_world()

    _pay_and_fail(world)

    assert failing_gateway.captured
    assert failing_gateway.refunded == [c["key"] for c in failing_gateway.captured]
