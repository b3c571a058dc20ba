"""The front page's reads: for whoever asks, the personal panels their roles call for and the
content blocks their segments call for, in a fixed number of queries however many orders, blocks
or budgets there are.

Panels by role (accounts.permissions): every signed-in buyer sees their recent orders (with
reorder where they may order); approvers and budget holders the orders waiting for them;
institutional buyers who raise requisitions, budget holders and org admins what is left of the
cost centres' current budgets; organisation members their answered quotes, backorders and account
manager; a distributor the orders routed to it waiting for its answer."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Func, IntegerField, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Budget, Organisation
from accounts.permissions import Perm
from catalog.selectors import CategoryNode, category_tree
from merchandising.selectors import ShownBlock, blocks_for
from ordering.models import OrderState
from ordering.selectors import (
    approval_queue,
    backorders_for,
    may_order,
    orders_for,
    routed_orders_for,
)
from pricing.models import QuoteStatus
from pricing.selectors import current_quotes_of
from segments.resolver import BuyerContext, Workflow

RECENT_ORDERS = 5
BACKORDERS_SHOWN = 5
LANDING_CATEGORIES = 8


@dataclass
class HomePage:
    """Everything the front page shows one buyer (its recommendations come from the
    `accounts_like_yours` template tag, cached per buyer)."""

    blocks: list[ShownBlock] = field(default_factory=list)
    recent_orders: list = field(default_factory=list)
    may_reorder: bool = False
    approvals_waiting: int | None = None
    quotes_answered: int | None = None
    routed_waiting: int | None = None
    backorders: list = field(default_factory=list)
    budgets: list = field(default_factory=list)
    account_manager: object = None
    categories: list[CategoryNode] = field(default_factory=list)

    @property
    def offers(self) -> list[ShownBlock]:
        return [b for b in self.blocks if b.is_offer]

    @property
    def content(self) -> list[ShownBlock]:
        return [b for b in self.blocks if not b.is_offer]


def _counted(queryset) -> Coalesce:
    """COUNT(*) of `queryset` as a scalar subquery (no GROUP BY: the count is not an aggregate of
    the outer query)."""
    rows = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def sees_approvals(buyer: BuyerContext) -> bool:
    return buyer.can(Perm.APPROVE_ORDER) or buyer.can(Perm.APPROVE_OVER_BUDGET)


def sees_budgets(buyer: BuyerContext) -> bool:
    return buyer.workflow == Workflow.INSTITUTIONAL and any(
        buyer.can(p) for p in (Perm.RAISE_REQUISITION, Perm.APPROVE_OVER_BUDGET,
                               Perm.MANAGE_ORGANISATION)
    )


def sees_routed(buyer: BuyerContext) -> bool:
    return buyer.workflow == Workflow.DISTRIBUTOR and buyer.can(Perm.PLACE_ORDER)


def _organisation_facts(buyer: BuyerContext):
    """The buyer's organisation with its account manager and the counts of the panels that
    show one, in one query."""
    counts = {"quotes_answered": _counted(
        current_quotes_of(buyer=buyer).filter(status=QuoteStatus.ANSWERED))}
    if sees_approvals(buyer):
        counts["approvals_waiting"] = _counted(approval_queue(buyer))
    if sees_routed(buyer):
        counts["routed_waiting"] = _counted(
            routed_orders_for(buyer).filter(state=OrderState.ROUTED))
    return (
        Organisation.objects.filter(pk=buyer.organisation_id)
        .select_related("account_manager").annotate(**counts).first()
    )


def recent_orders(buyer: BuyerContext) -> list:
    return list(
        orders_for(buyer).annotate(line_count=Count("lines"))
        .order_by("-placed_at", "-id")[:RECENT_ORDERS]
    )


def backorders_arriving(buyer: BuyerContext) -> list:
    """The buyer's backordered lines, soonest expected first (undated last)."""
    return list(
        backorders_for(buyer).order_by(
            F("order__expected_delivery_date").asc(nulls_last=True), "order__placed_at", "id"
        )[:BACKORDERS_SHOWN]
    )


def current_budgets(buyer: BuyerContext, today: datetime.date) -> list[Budget]:
    """This period's budget of each active cost centre of the buyer's organisation."""
    return list(
        Budget.objects.filter(
            cost_centre__organisation_id=buyer.organisation_id, cost_centre__is_active=True,
            period_start__lte=today, period_end__gte=today,
        ).select_related("cost_centre").order_by("cost_centre__code")
    )


def _organisation_panels(buyer: BuyerContext, page: HomePage, today) -> None:
    organisation = _organisation_facts(buyer)
    if organisation is None:
        return
    page.account_manager = organisation.account_manager
    page.quotes_answered = organisation.quotes_answered
    page.approvals_waiting = getattr(organisation, "approvals_waiting", None)
    page.routed_waiting = getattr(organisation, "routed_waiting", None)
    if sees_budgets(buyer):
        page.budgets = current_budgets(buyer, today)


def landing_categories(buyer: BuyerContext) -> list[CategoryNode]:
    """The top of the buyer's catalogue, for a front page whose blocks feature no category."""
    return category_tree(buyer)[:LANDING_CATEGORIES]


def home_page(buyer: BuyerContext, now: datetime.datetime | None = None) -> HomePage:
    """The front page of `buyer` at `now`."""
    now = now or timezone.now()
    page = HomePage(blocks=blocks_for(buyer, now))
    if buyer.is_guest:
        if not any(b.categories for b in page.blocks):
            page.categories = landing_categories(buyer)
        return page
    page.recent_orders = recent_orders(buyer)
    page.may_reorder = may_order(buyer)
    page.backorders = backorders_arriving(buyer)
    if buyer.organisation_id is not None:
        _organisation_panels(buyer, page, timezone.localdate(now))
    return page
