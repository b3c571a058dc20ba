"""A recall raised while approvers approve, buyers cancel and arriving stock is allocated: on
PostgreSQL, with real threads, no held line ends with stock, no approval slips past the hold, and
nobody deadlocks."""

import datetime

import pytest

from ordering.models import Order, OrderLine, Stock
from ordering.services.allocation import allocation_run
from ordering.services.approvals import order_approve, order_cancel
from ordering.services.recalls import recall_raise
from tests.concurrency import race
from tests.factories import UserFactory

from .builders import make_order
from .conftest import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("recall_at", "stagger"), [(0, 0.1), (0, 0.02), (4, 0.05), (8, 0.02)])
def test_a_recall_racing_approvals_cancellations_and_allocation_leaves_no_stock_on_held_lines(
    requires_postgres, recall_at, stagger
):
    """The recall starts before or among the others (each job starts `stagger` seconds after
    the one before it), so approvals land both before the hold and after it."""
    world = build_world(stock=40)
    staff = UserFactory(email=f"vigilance{recall_at}@maker.test", is_staff=True, is_superuser=True)
    waiting = [make_order(world, "pending_approval", allocated=2, quantity=2) for _ in range(8)]
    cancelling = [make_order(world, "submitted", placed_by="buyer", allocated=2, quantity=2)
                  for _ in range(4)]
    short = [make_order(world, "partly_backordered", allocated=0, backordered=2, quantity=2)
             for _ in range(4)]
    Stock.objects.filter(product=world.dressing).update(reserved=24)
    approver, buyer = world.buyer("senior"), world.buyer("buyer")

    def recall():
        return recall_raise(product=world.dressing, kind="recall", reason="Seal defect",
                            reference="FSN-RACE", effective_date=datetime.date(2026, 12, 4),
                            raised_by=staff)

    jobs = [lambda o=o: order_approve(order=o, actor_buyer=approver) for o in waiting]
    jobs += [lambda o=o: order_cancel(order=o, actor_buyer=buyer) for o in cancelling]
    jobs += [lambda: allocation_run(product_id=world.dressing.pk) for _ in range(2)]
    jobs.insert(recall_at, recall)
    outcomes, errors = race(jobs, stagger=stagger)

    assert errors == []
    open_lines = OrderLine.objects.filter(order__in=waiting + short)
    assert all(line.held_at is not None for line in open_lines)
    assert all(line.allocated_quantity == 0 for line in open_lines)
    cancelled = set(Order.objects.filter(pk__in=[o.pk for o in cancelling], state="cancelled")
                    .values_list("pk", flat=True))
    still_open = OrderLine.objects.filter(order__in=cancelling).exclude(order__in=cancelled)
    assert all(line.held_at is not None for line in still_open)
    reserved = sum(OrderLine.objects.values_list("allocated_quantity", flat=True))
    assert Stock.objects.get(product=world.dressing).reserved == reserved == 0
    approved = Order.objects.filter(pk__in=[o.pk for o in waiting], state="allocated").count()
    assert approved + outcomes.count("line_held") == len(waiting)
