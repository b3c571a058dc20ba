"""Approving, rejecting, escalating and cancelling orders. The final approval charges the cost
centre's budget under a row lock; an order that would overspend it goes on to the budget holder."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Budget, Membership
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import ApprovalStep, ApproverRole, Order, OrderState, StepStatus
from ..notifications import notify
from ..rules import Action, Actor, actor_roles
from .fulfilment import order_release_to_fulfilment
from .recalls import refuse_held_lines
from .stock import stock_release
from .transitions import apply_transition, lock_order

OVER_BUDGET_RULE = "Over the cost centre's budget: needs the budget holder"


def _current_step(order: Order) -> ApprovalStep:
    step = (
        ApprovalStep.objects.select_for_update()
        .filter(order=order, status=StepStatus.PENDING).order_by("position").first()
    )
    if step is None:
        raise OrderError("no_step", "This order is not waiting for an approval.")
    return step


def _may_decide(step: ApprovalStep, order: Order, buyer: BuyerContext) -> None:
    roles = actor_roles(order, buyer)
    if step.approver_role == ApproverRole.BUDGET_HOLDER:
        if Actor.BUDGET_HOLDER not in roles:
            raise OrderError("forbidden", "This step needs the budget holder.")
        return
    if Actor.APPROVER not in roles:
        raise OrderError("forbidden", "You may not approve this order.")
    limit = buyer.approval_limit or Decimal("0.00")
    if order.total_net > limit and step.escalated_to_id != buyer.user_id:
        raise OrderError(
            "above_limit",
            f"The order total (£{order.total_net}) is above your approval limit (£{limit}): "
            "escalate it to an approver whose limit covers it.",
        )


def _budget_for(order: Order) -> Budget | None:
    """The cost centre's budget for today's period, locked."""
    if order.cost_centre_id is None:
        return None
    today = timezone.localdate()
    return (
        Budget.objects.select_for_update()
        .filter(cost_centre_id=order.cost_centre_id, period_start__lte=today, period_end__gte=today)
        .first()
    )


def _commit_budget(order: Order, buyer: BuyerContext, step: ApprovalStep) -> bool:
    """Charge the order to its budget. False when it would overspend and the approver is not the
    budget holder: a budget-holder step is added instead."""
    budget = _budget_for(order)
    if budget is None:
        if order.cost_centre_id is not None:
            raise OrderError("no_budget", "The cost centre has no budget for this period.")
        return True
    over = budget.committed + order.total_net > budget.amount
    if over and step.approver_role != ApproverRole.BUDGET_HOLDER:
        ApprovalStep.objects.create(
            order=order, position=step.position + 1, rule_name=OVER_BUDGET_RULE,
            approver_role=ApproverRole.BUDGET_HOLDER,
        )
        return False
    Budget.objects.filter(pk=budget.pk).update(committed=F("committed") + order.total_net)
    order.budget = budget
    order.save(update_fields=["budget"])
    return True


@transaction.atomic
def order_approve(*, order: Order, actor_buyer: BuyerContext, comment: str = "") -> Order:
    """Approve the order's current step. The last step commits the budget and releases the order
    (approved → submitted/routed → allocated or partly backordered). An order with a line held
    by a recall is refused, naming the product and the recall."""
    order = lock_order(order)
    refuse_held_lines(order)
    if order.state != OrderState.PENDING_APPROVAL:
        return apply_transition(order=order, action=Action.APPROVE, actor_buyer=actor_buyer,
                                comment=comment)
    step = _current_step(order)
    _may_decide(step, order, actor_buyer)
    step.status, step.decided_by_id = StepStatus.APPROVED, actor_buyer.user_id
    step.decided_at, step.comment = timezone.now(), comment
    step.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    last = not ApprovalStep.objects.filter(order=order, status=StepStatus.PENDING).exists()
    if last and _commit_budget(order, actor_buyer, step):
        order = apply_transition(order=order, action=Action.APPROVE, actor_buyer=actor_buyer,
                                 comment=comment)
        order = order_release_to_fulfilment(order=order)
        notify(order.pk, "approved")
        return order
    order = apply_transition(order=order, action=Action.APPROVE_STEP, actor_buyer=actor_buyer,
                             comment=comment or step.rule_name)
    notify(order.pk, "approval_requested")
    return order


def _release_stock(order: Order) -> None:
    lines = list(order.lines.filter(allocated_quantity__gt=0))
    released = {}
    for line in lines:
        released[line.product_id] = released.get(line.product_id, 0) + line.allocated_quantity
    stock_release(released)
    order.lines.update(allocated_quantity=0, backordered_quantity=0)


def _uncommit_budget(order: Order) -> None:
    if order.budget_id:
        budget = Budget.objects.select_for_update().get(pk=order.budget_id)
        Budget.objects.filter(pk=budget.pk).update(committed=F("committed") - order.total_net)


@transaction.atomic
def order_reject(*, order: Order, actor_buyer: BuyerContext, comment: str) -> Order:
    """Reject the order at its current step, with the reason; its reserved stock is released."""
    if not comment.strip():
        raise OrderError("comment_required", "Say why you reject the order.")
    order = lock_order(order)
    if order.state == OrderState.PENDING_APPROVAL:
        step = _current_step(order)
        _may_decide(step, order, actor_buyer)
    order = apply_transition(order=order, action=Action.REJECT, actor_buyer=actor_buyer,
                             comment=comment)
    ApprovalStep.objects.filter(order=order, status=StepStatus.PENDING).update(
        status=StepStatus.REJECTED, decided_by_id=actor_buyer.user_id, decided_at=timezone.now(),
        comment=comment,
    )
    _release_stock(order)
    notify(order.pk, "rejected", comment=comment)
    return order


@transaction.atomic
def order_escalate(*, order: Order, actor_buyer: BuyerContext) -> ApprovalStep:
    """Hand the current step to the approver with the lowest limit that covers the total."""
    order = lock_order(order)
    if order.state != OrderState.PENDING_APPROVAL:
        raise OrderError("not_allowed", "Only an order waiting for approval can be escalated.")
    step = _current_step(order)
    if Actor.APPROVER not in actor_roles(order, actor_buyer):
        raise OrderError("forbidden", "You may not escalate this order.")
    target = (
        Membership.objects.filter(
            organisation_id=order.organisation_id, is_active=True, is_approver=True,
            approval_limit__gte=order.total_net,
        )
        .exclude(user_id__in=[order.placed_by_id, actor_buyer.user_id])
        .select_related("user").order_by("approval_limit", "id").first()
    )
    if target is None:
        raise OrderError("no_approver", "No approver's limit covers this order: ask your admin.")
    step.escalated_to_id = target.user_id
    step.save(update_fields=["escalated_to"])
    notify(order.pk, "approval_requested", to_user_id=target.user_id)
    return step


@transaction.atomic
def order_cancel(*, order: Order, actor_buyer: BuyerContext, comment: str = "") -> Order:
    """Cancel an order not yet picked: stock and committed budget are given back."""
    order = apply_transition(order=lock_order(order), action=Action.CANCEL, actor_buyer=actor_buyer,
                             comment=comment)
    _release_stock(order)
    _uncommit_budget(order)
    return order
