"""Cost-centre budgets, checked and committed on every institutional order whatever the
organisation's approval rules. The budget row is locked while it is read and changed (and
`committed` moves with `F()`), so concurrent orders never commit more than the budget. Locks are
taken organisation → budget → stock everywhere, so two services never deadlock."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from accounts.models import Budget, CostCentre, Membership
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import ApproverRole, Order
from ..workflows import ChainStep

OVER_BUDGET_RULE = "Over the cost centre's budget: needs the budget holder"
OVER_BUDGET_STEP = ChainStep(OVER_BUDGET_RULE, ApproverRole.BUDGET_HOLDER)


@dataclass(frozen=True)
class BudgetCheck:
    """The outcome of checking an order against its cost centre's budget: the budget (locked;
    None when the cost centre has none for today's period, which leaves it unlimited) and
    whether the order needs the budget holder."""

    budget: Budget | None
    over: bool = False


def budget_locked(cost_centre_id: int | None) -> Budget | None:
    """The cost centre's budget for today's period, locked until the transaction ends."""
    if cost_centre_id is None:
        return None
    today = timezone.localdate()
    return (
        Budget.objects.select_for_update()
        .filter(cost_centre_id=cost_centre_id, period_start__lte=today, period_end__gte=today)
        .first()
    )


def _has_budget_holder(buyer: BuyerContext) -> bool:
    """Someone other than the placer who may approve an overspend."""
    return Membership.objects.filter(
        organisation_id=buyer.organisation_id, is_active=True, is_budget_holder=True,
    ).exclude(user_id=buyer.user_id).exists()


def budget_check(*, buyer: BuyerContext, cost_centre: CostCentre | None,
                 amount: Decimal) -> BudgetCheck:
    """Check an order of `amount` (ex VAT) against the cost centre's budget, under its row lock.
    Over budget, the order goes to a budget holder; with none to ask it is refused
    (`over_budget`), naming the cost centre and what is left."""
    budget = budget_locked(cost_centre.pk if cost_centre else None)
    if budget is None or budget.committed + amount <= budget.amount:
        return BudgetCheck(budget)
    if _has_budget_holder(buyer):
        return BudgetCheck(budget, over=True)
    left = max(budget.remaining, Decimal("0.00"))
    name = f"{cost_centre.code} ({cost_centre.name})" if cost_centre.name else cost_centre.code
    raise OrderError(
        "over_budget",
        f"This order (£{amount} ex VAT) is over the budget of cost centre {name}: £{left} is "
        f"left of £{budget.amount} this period, and no one in your organisation holds the "
        "budget-holder role to approve an overspend. Lower the order or choose another cost "
        "centre.",
    )


def budget_commit(*, budget: Budget, orders: list[Order]) -> None:
    """Charge the orders' totals to the (locked) budget and record it on each order."""
    amount = sum((order.total_net for order in orders), Decimal("0.00"))
    Budget.objects.filter(pk=budget.pk).update(committed=F("committed") + amount)
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(budget=budget)
    for order in orders:
        order.budget = budget


def budget_release(*, order: Order) -> None:
    """Give back what the order committed when it is cancelled or rejected (the state machine
    lets either happen once). `Order.budget` stays as the record of where it was charged."""
    if order.budget_id is None:
        return
    Budget.objects.filter(pk=order.budget_id).update(committed=F("committed") - order.total_net)
