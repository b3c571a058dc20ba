"""Recalls and withdrawals of products (field safety notices), one transaction each.

Raising a recall of every lot of a product takes the product off sale (its regulatory status, so
every page, search, cart, checkout and API order refuses it) and holds every open, unshipped line
of it: the line records the recall and why, its reserved units go back to stock, and it is never
approved, allocated or shipped. The placer and the pending approvers of each order are told.

A recall naming lots holds no open line — an unshipped line has no lot yet — and the product stays
on sale; a shipment from a recalled lot is refused (`ordering.services.shipping`), and the
buyers of the lots are found through the trace (`ordering.selectors.recall_shipped_lots`).

Lifting a recall puts the product back on sale (when no other recall of every lot is still
active); held lines stay held: the buyer removes them (`order_line_remove_held`) or cancels the
order."""

import datetime
import time
from collections import defaultdict

from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from psycopg.errors import LockNotAvailable

from accounts.models import Budget
from catalog.models import Product, Recall, RecallKind, RegulatoryStatus
from catalog.services import active_recall_of_every_lot, product_set_regulatory_status

from ..errors import OrderError
from ..models import Order, OrderLine, OrderState, Stock
from ..notifications import notify
from ..rules import Action, Actor, actor_roles
from ..selectors import RECALL_HOLD_STATES as HOLD_STATES
from .stock import stock_release
from .transitions import apply_transition, lock_order, order_log

OFF_SALE = {RecallKind.RECALL: RegulatoryStatus.RECALLED,
            RecallKind.WITHDRAWAL: RegulatoryStatus.WITHDRAWN}
LOCK_ATTEMPTS = 250
LOCK_PAUSE = 0.02  # seconds between attempts: orders are locked for milliseconds at a time
HOLD_ACTION = "recall_hold"
REMOVE_ACTION = "remove_held_line"


def open_lines_of(product_id: int):
    """Lines of the product on open orders that have not shipped, not yet held."""
    return OrderLine.objects.filter(
        product_id=product_id, order__state__in=HOLD_STATES,
        shipped_quantity__lt=F("quantity"), held_at__isnull=True,
    )


def _lock_for_hold(product_id: int) -> tuple[list[int], list[OrderLine]]:
    """Lock the open orders holding the product (waiting, in key order — as approval,
    cancellation and allocation lock orders), then their lines of it and its stock row without
    waiting; returns the orders' ids and the lines.

    Allocation locks stock, then lines, then orders; so the hold never waits for a line or for
    the stock while it holds orders. When either is taken (an allocation or a checkout of the
    product under way), the savepoint is rolled back — giving back every lock of this attempt —
    and the hold tries again shortly."""
    nowait = connection.features.has_select_for_update_nowait
    for _attempt in range(LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                order_ids = list(
                    Order.objects.select_for_update()
                    .filter(pk__in=open_lines_of(product_id).values("order_id"))
                    .order_by("pk").values_list("pk", flat=True)
                )
                lines = list(
                    open_lines_of(product_id).filter(order_id__in=order_ids)
                    .select_for_update(nowait=nowait).order_by("pk")
                )
                list(Stock.objects.select_for_update(nowait=nowait).filter(product_id=product_id))
                return order_ids, lines
        except OperationalError as busy:
            if not isinstance(busy.__cause__, LockNotAvailable):
                raise
            time.sleep(LOCK_PAUSE)
    raise OrderError("busy", "Orders of this product are changing right now: raise the recall "
                     "again in a moment.")


def _hold_lines(recall: Recall) -> list[int]:
    """Hold every open line of the recalled product; returns the ids of the orders concerned.
    An approval running now either finishes before the hold or sees it."""
    order_ids, lines = _lock_for_hold(recall.product_id)
    released = defaultdict(int)
    for line in lines:
        released[line.product_id] += line.allocated_quantity
    stock_release(dict(released))
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(
        recall=recall, held_reason=recall.summary[:250], held_at=timezone.now(),
        allocated_quantity=0, backordered_quantity=0,
    )
    Order.objects.filter(pk__in=order_ids).update(updated_at=timezone.now())
    for order in Order.objects.filter(pk__in=order_ids).select_related("fulfiller"):
        order_log(order=order, action=HOLD_ACTION, from_state=order.state, to_state=order.state,
                  actor_buyer=None, comment=f"{recall.product.sku} held: {recall.summary}"[:500])
    return order_ids


@transaction.atomic
def recall_raise(
    *, product: Product, kind: str, reason: str, reference: str,
    effective_date: datetime.date, raised_by, lot_numbers: str = "",
) -> Recall:
    """Record a recall or withdrawal. Of every lot: the product leaves sale and its open lines
    are held, and the people of each order concerned are emailed after commit."""
    recall = Recall(
        product=product, kind=kind, reason=reason, reference=reference,
        effective_date=effective_date, raised_by=raised_by, lot_numbers=lot_numbers,
    )
    recall.full_clean()
    recall.save()
    if not recall.every_lot:
        return recall
    product_set_regulatory_status(product=product, status=OFF_SALE[recall.kind],
                                  reason=recall.summary[:100])
    for order_id in _hold_lines(recall):
        notify(order_id, HOLD_ACTION, recall_id=recall.pk)
    return recall


@transaction.atomic
def recall_lift(*, recall: Recall, lifted_by, reason: str) -> Recall:
    """End a recall. The product returns to the market when no other recall of every lot is
    active; lines it held stay held (their orders go on only once the buyer removes them)."""
    if not (reason or "").strip():
        raise OrderError("reason_required", "Say why the recall is lifted.")
    recall = Recall.objects.select_for_update().select_related("product").get(pk=recall.pk)
    if not recall.is_active:
        raise OrderError("not_active", f"{recall.reference} was already lifted.")
    recall.lifted_at, recall.lifted_by, recall.lift_reason = timezone.now(), lifted_by, reason
    recall.full_clean()
    recall.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    if recall.every_lot and active_recall_of_every_lot(recall.product) is None:
        product_set_regulatory_status(
            product=recall.product, status=RegulatoryStatus.ON_MARKET,
            reason=f"{recall.reference} lifted: {reason}"[:100],
        )
    return recall


def held_lines_refusal(lines) -> OrderError | None:
    """The error for an order whose `lines` include held ones (None when none is held)."""
    held = [line for line in lines if line.held_at is not None]
    if not held:
        return None
    line = held[0]
    return OrderError(
        "line_held",
        f"{line.product.name} ({line.product.sku}) is held: {line.held_reason}. Remove the line "
        "or cancel the order.",
    )


def refuse_held_lines(order: Order) -> None:
    """Raise when the order has a held line, or a line of a product under an active recall of
    every lot that the hold did not reach (an order placed as the recall was raised)."""
    line = (
        order.lines.filter(
            Q(held_at__isnull=False)
            | Q(product__recalls__lifted_at__isnull=True, product__recalls__lot_numbers="")
        )
        .select_related("product").order_by("held_at", "pk").first()
    )
    if line is None:
        return
    if line.held_at is None:
        recall = active_recall_of_every_lot(line.product)
        raise OrderError(
            "line_held", f"{line.product.name} ({line.product.sku}) cannot go on: "
            f"{recall.summary}. Remove the line or cancel the order.",
        )
    raise held_lines_refusal([line])


@transaction.atomic
def order_line_remove_held(*, order: Order, line_id: int, actor_buyer) -> Order:
    """The buyer's way on with an order a recall holds: remove the held line. The order's totals
    (and the budget it committed) drop by the line's, the change is logged and sent to the
    order's webhooks, and an order whose other lines are all filled moves to allocated. The last
    line cannot be removed: cancel the order instead. Placer or organisation admin only."""
    order = lock_order(order)
    if not {Actor.PLACER, Actor.ORG_ADMIN} & actor_roles(order, actor_buyer):
        raise OrderError("forbidden", "You may not change this order.")
    if order.state not in HOLD_STATES:
        raise OrderError("not_allowed", "Lines can only be removed from an open order.")
    line = (
        OrderLine.objects.select_for_update().select_related("product")
        .filter(order=order, pk=line_id).first()
    )
    if line is None or line.held_at is None:
        raise OrderError("not_held", "Only a line held by a recall can be removed.")
    if not order.lines.exclude(pk=line.pk).exists():
        raise OrderError("last_line", "This is the order's only line: cancel the order instead.")
    if order.budget_id:
        Budget.objects.filter(pk=order.budget_id).update(
            committed=F("committed") - line.line_net
        )
    order.total_net -= line.line_net
    order.total_vat -= line.line_vat
    order.total_gross -= line.line_gross
    order.save(update_fields=["total_net", "total_vat", "total_gross", "updated_at"])
    line.delete()
    order_log(order=order, action=REMOVE_ACTION, from_state=order.state, to_state=order.state,
              actor_buyer=actor_buyer, roles=actor_roles(order, actor_buyer),
              comment=f"Removed {line.quantity} × {line.product.sku}: {line.held_reason}"[:500])
    filled = not order.lines.filter(backordered_quantity__gt=0).exists()
    if order.state == OrderState.PARTLY_BACKORDERED and filled:
        order = apply_transition(order=order, action=Action.ALLOCATE, actor_buyer=None,
                                 comment="Every line left is filled")
    return order


def may_remove_held_lines(order: Order, buyer) -> bool:
    """Whether the order page offers this buyer to remove the order's held lines."""
    return order.state in HOLD_STATES and bool(
        {Actor.PLACER, Actor.ORG_ADMIN} & actor_roles(order, buyer)
    )
