"""Races on PostgreSQL: checkouts for the last units never oversell; approvals against one cost
centre never commit more than its budget."""

import functools
from decimal import Decimal

import pytest

from accounts.models import Budget
from ordering.models import Order, OrderLine, Stock
from ordering.services.approvals import order_approve
from ordering.services.carts import cart_add
from ordering.services.checkout import DeliveryAddress, checkout_retail, checkout_review
from segments.resolver import resolve
from tests.concurrency import race
from tests.factories import SegmentMembershipFactory, UserFactory

from .builders import make_order
from .conftest import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 50


def _race(work, arguments):
    return race([functools.partial(work, argument) for argument in arguments])


def test_fifty_checkouts_for_the_last_ten_units_sell_exactly_ten(requires_postgres):
    world = build_world(stock=10)
    from segments.models import Segment

    consumers = Segment.objects.get(code="ordering-consumers")
    buyers = []
    for n in range(RACERS):
        user = UserFactory(email=f"racer{n}@ordering.test", postcode="SE5 9RS")
        SegmentMembershipFactory(segment=consumers, user=user)
        buyer = resolve(user)
        cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=1)
        buyers.append((buyer, checkout_review(buyer=buyer).price_token))
    address = DeliveryAddress("Racer", "1 Test Street, London", "SE5 9RS")

    outcomes, errors = _race(
        lambda pair: checkout_retail(buyer=pair[0], address=address,
                                     card_number="4242424242424242", expected_token=pair[1]),
        buyers,
    )

    assert errors == []
    assert outcomes.count("out_of_stock") == RACERS - 10
    assert Order.objects.count() == 10
    assert sum(OrderLine.objects.values_list("allocated_quantity", flat=True)) == 10
    stock = Stock.objects.get(product=world.dressing)
    assert (stock.on_hand, stock.reserved) == (10, 10)


def test_fifty_approvals_against_one_cost_centre_never_exceed_its_budget(requires_postgres):
    world = build_world(budget_amount="10000.00")
    orders = [make_order(world, "pending_approval", total="700.00", allocated=0)
              for _ in range(RACERS)]
    approver = world.buyer("senior")

    outcomes, errors = _race(lambda order: order_approve(order=order, actor_buyer=approver),
                             orders)

    assert errors == []
    budget = Budget.objects.get(pk=world.budget.pk)
    approved = Order.objects.exclude(state="pending_approval").count()
    assert budget.committed <= budget.amount
    assert budget.committed == Decimal("700.00") * approved
    assert approved == 14
