"""Approval chains: limits, escalation, budgets committed under a lock, the budget holder for an
overspend, rejection with a reason, and routed orders answered by their distributor only."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Budget
from ordering.errors import OrderError
from ordering.models import ApprovalStep, Order, Stock
from ordering.services.approvals import order_approve, order_escalate, order_reject
from ordering.services.routing import routed_order_accept, routed_order_decline

from .builders import make_order


def test_final_approval_commits_the_budget_and_releases_the_order(
    world, django_capture_on_commit_callbacks
):
    order = make_order(world, "pending_approval", total="1200.00")

    with django_capture_on_commit_callbacks(execute=True):
        order_approve(order=order, actor_buyer=world.buyer("approver"), comment="Fine")

    order.refresh_from_db()
    assert order.state == "allocated" and order.budget_id == world.budget.pk
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("1200.00")
    assert list(order.events.values_list("action", flat=True)) == ["approve", "submit", "allocate"]
    [sent] = mail.outbox
    assert sent.subject == f"Order {order.number} was approved"
    assert sent.to == [world.user("requisitioner").email]


def test_an_approver_below_the_total_must_escalate_to_a_higher_limit(world):
    order = make_order(world, "pending_approval", total="8000.00")

    with pytest.raises(OrderError) as refused:
        order_approve(order=order, actor_buyer=world.buyer("approver"))
    step = order_escalate(order=order, actor_buyer=world.buyer("approver"))
    order_approve(order=order, actor_buyer=world.buyer("senior"))

    assert refused.value.code == "above_limit"
    assert step.escalated_to_id == world.user("senior").pk
    assert Order.objects.get(pk=order.pk).state == "allocated"


def test_an_overspend_goes_on_to_the_budget_holder(world):
    Budget.objects.filter(pk=world.budget.pk).update(committed=Decimal("19500.00"))
    order = make_order(world, "pending_approval", total="900.00")

    order_approve(order=order, actor_buyer=world.buyer("approver"))
    waiting = Order.objects.get(pk=order.pk).state
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("19500.00")
    with pytest.raises(OrderError):
        order_approve(order=order, actor_buyer=world.buyer("senior"))
    order_approve(order=order, actor_buyer=world.buyer("budget_holder"), comment="Virement")

    assert waiting == "pending_approval"
    assert ApprovalStep.objects.filter(order=order, approver_role="budget_holder").exists()
    assert Order.objects.get(pk=order.pk).state == "allocated"
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("20400.00")


def test_a_rejection_needs_a_reason_and_gives_back_the_stock(world):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    order = make_order(world, "pending_approval")

    with pytest.raises(OrderError):
        order_reject(order=order, actor_buyer=world.buyer("approver"), comment=" ")
    order_reject(order=order, actor_buyer=world.buyer("approver"), comment="Wrong ward")

    assert Order.objects.get(pk=order.pk).state == "rejected"
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert ApprovalStep.objects.get(order=order).comment == "Wrong ward"


def test_only_the_fulfilling_distributor_answers_a_routed_order(world):
    from tests.territories.conftest import distributor

    other = distributor("Solent Test Distribution", postcode="SO15 1AA")
    from tests.factories import MembershipFactory

    stranger = MembershipFactory(organisation=other)
    order = make_order(world, "routed", fulfiller=world.distributor, allocated=0)
    from segments.resolver import resolve

    with pytest.raises(OrderError):
        routed_order_accept(order=order, actor_buyer=resolve(stranger.user),
                            expected_delivery_date=datetime.date.today())
    with pytest.raises(OrderError):
        routed_order_decline(order=order, actor_buyer=world.buyer("distributor"), reason="")
    routed_order_accept(order=order, actor_buyer=world.buyer("distributor"),
                        expected_delivery_date=datetime.date.today() + datetime.timedelta(days=3))

    order.refresh_from_db()
    assert order.state == "accepted_by_distributor" and order.expected_delivery_date
