"""Reads of ordering, always scoped to the buyer: their carts, the orders they may see, the
approval queue, routed orders of a distributor, and the territory availability of products."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from accounts.permissions import Perm
from segments.resolver import BuyerContext

from .models import ApprovalStep, Order, OrderEvent, OrderLine, OrderState, StepStatus


@dataclass(frozen=True)
class DirectAvailability:
    """What a product is when no territory rule is installed: purchasable directly."""

    status: str = "direct"
    distributor_id: int | None = None
    distributor_name: str = ""
    distributor_contact: str = ""
    reason: str = ""


def availability_of(buyer: BuyerContext, product_ids) -> dict:
    """Territory availability per product id, from `territories.rules.availability_for`."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    try:
        from territories.rules import availability_for
    except ImportError:
        return {pid: DirectAvailability() for pid in ids}
    found = availability_for(buyer, ids)
    return {pid: found.get(pid, DirectAvailability()) for pid in ids}


def _line_prefetch() -> Prefetch:
    return Prefetch(
        "lines", queryset=OrderLine.objects.select_related("product", "site").order_by("id")
    )


def orders_for(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders this buyer may see: a consumer their own; in an organisation, requisitioners and
    buyers their own, approvers, budget holders and org admins all of the organisation's."""
    if buyer.user_id is None:
        return Order.objects.none()
    if buyer.organisation_id is None:
        return Order.objects.filter(organisation__isnull=True, placed_by_id=buyer.user_id)
    orders = Order.objects.filter(organisation_id=buyer.organisation_id)
    if not buyer.can(Perm.VIEW_ALL_ORDERS):
        orders = orders.filter(placed_by_id=buyer.user_id)
    return orders


def order_list(buyer: BuyerContext) -> QuerySet[Order]:
    return orders_for(buyer).select_related("placed_by", "fulfiller", "cost_centre")


def order_for(buyer: BuyerContext, number: str) -> Order:
    """The order behind a detail page, or 404 when it is not one this buyer may see."""
    order = (
        orders_for(buyer)
        .select_related("placed_by", "fulfiller", "cost_centre", "site", "contract", "budget")
        .prefetch_related(
            _line_prefetch(),
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch("approvals", queryset=ApprovalStep.objects.select_related(
                "decided_by", "escalated_to")),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def approval_queue(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders of the buyer's organisation waiting for an approval this buyer may give: not their
    own, at a step of their role, and (for approvers) within their limit or escalated to them."""
    if buyer.organisation_id is None:
        return Order.objects.none()
    roles = []
    if buyer.can(Perm.APPROVE_ORDER):
        within = Q(order__total_net__lte=buyer.approval_limit or 0) | Q(
            escalated_to_id=buyer.user_id
        )
        roles.append(Q(approver_role="approver") & within)
    if buyer.can(Perm.APPROVE_OVER_BUDGET):
        roles.append(Q(approver_role="budget_holder"))
    if not roles:
        return Order.objects.none()
    role_q = roles[0] if len(roles) == 1 else roles[0] | roles[1]
    first_pending = ApprovalStep.objects.filter(
        order_id=OuterRef("order_id"), status=StepStatus.PENDING
    ).order_by("position").values("position")[:1]
    waiting = ApprovalStep.objects.filter(
        role_q, order_id=OuterRef("pk"), status=StepStatus.PENDING, position=first_pending
    )
    return (
        Order.objects.filter(
            Exists(waiting), organisation_id=buyer.organisation_id,
            state=OrderState.PENDING_APPROVAL,
        )
        .exclude(placed_by_id=buyer.user_id)
        .select_related("placed_by", "cost_centre")
        .order_by("placed_at", "id")
    )


def routed_orders_for(buyer: BuyerContext) -> QuerySet[Order]:
    """Orders routed to the buyer's distributor organisation (its "Routed orders" portal)."""
    if buyer.organisation_id is None or not buyer.can(Perm.PLACE_ORDER):
        return Order.objects.none()
    return (
        Order.objects.filter(fulfiller_id=buyer.organisation_id)
        .exclude(state__in=[OrderState.PENDING_APPROVAL, OrderState.APPROVED, OrderState.REJECTED])
        .select_related("organisation", "placed_by", "site")
    )


def routed_order_for(buyer: BuyerContext, number: str) -> Order:
    order = (
        routed_orders_for(buyer).prefetch_related(_line_prefetch()).filter(number=number).first()
    )
    if order is None:
        raise Http404("No such routed order.")
    return order


def lines_by_order(orders) -> dict[int, list]:
    grouped = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).select_related("product"):
        grouped[line.order_id].append(line)
    return grouped
