"""Approving, rejecting, escalating and cancelling orders. An order within its cost centre's budget
was charged to it at placement; one that would overspend it goes on to the budget holder, whose
approval charges it (under the budget's row lock). Rejecting or cancelling gives it back."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import ApprovalStep, ApproverRole, Order, OrderState, StepStatus
from ..notifications import notify
from ..rules import Action, Actor, actor_roles
from .budgets import OVER_BUDGET_RULE, budget_commit, budget_locked, budget_release
from .fulfilment import order_release_to_fulfilment
from .recalls import refuse_held_lines
from .stock import order_stock_release
from .transitions import apply_transition, lock_order


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


def _commit_budget(order: Order, step: ApprovalStep) -> bool:
    """Charge the order to its budget, unless its placement already did (it was within budget).
    False when it would overspend and the approver is not the budget holder: a budget-holder
    step is added instead. A cost centre with no budget for the period is not limited."""
    if order.budget_id is not None:
        return True
    budget = budget_locked(order.cost_centre_id)
    if budget is None:
        return True
    over = budget.committed + order.total_net > budget.amount
    if over and step.approver_role != ApproverRole.BUDGET_HOLDER:
        ApprovalStep.objects.create(
            order=order, position=step.position + 1, rule_name=OVER_BUDGET_RULE,
            approver_role=ApproverRole.BUDGET_HOLDER,
        )
        return False
    budget_commit(budget=budget, orders=[order])
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
    if last and _commit_budget(order, step):
        order = apply_transition(order=order, action=Action.APPROVE, actor_buyer=actor_buyer,
                                 comment=comment)
        order = order_release_to_fulfilment(order=order)
        notify(order.pk, "approved")
        return order
    order = apply_transition(order=order, action=Action.APPROVE_STEP, actor_buyer=actor_buyer,
                             comment=comment or step.rule_name)
    notify(order.pk, "approval_requested")
    return order


@transaction.atomic
def order_reject(*, order: Order, actor_buyer: BuyerContext, comment: str) -> Order:
    """Reject the order at its current step, with the reason; its committed budget and reserved
    stock are given back."""
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
    budget_release(order=order)
    order_stock_release(order=order)
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
    budget_release(order=order)
    order_stock_release(order=order)
    return order
