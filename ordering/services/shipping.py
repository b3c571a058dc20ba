"""What the fulfilling side reports about an order: that its ERP holds it (with the ERP's own
reference), that it shipped (tracking, and the lot and expiry of every unit, so the buyers of a lot
can be found for a recall), and that it was delivered.

The manufacturer's ERP acts as the system on direct orders; a distributor acts as the fulfiller
of the orders routed to it. `order_transition`'s table and roles decide who may do what."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Recall
from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import Order, OrderLine, Shipment, ShipmentLot
from ..rules import Action
from .recalls import held_lines_refusal
from .transitions import _actor_label, apply_transition, lock_order

LOT_NUMBER_MAX = 40


@dataclass(frozen=True)
class ShippedLot:
    """Units of one order line shipped from one lot."""

    line_id: int
    lot_number: str
    quantity: int
    expiry_date: datetime.date | None = None


@dataclass(frozen=True)
class ShipmentReport:
    tracking_number: str
    lots: tuple[ShippedLot, ...]
    carrier: str = ""
    tracking_url: str = ""
    shipped_at: datetime.datetime | None = None


def _noted(comment: str, reported_by: str) -> str:
    """The event's comment, naming who reported it when the actor is the system (an ERP)."""
    return f"{comment} (reported by {reported_by})" if reported_by else comment


@transaction.atomic
def order_acknowledge(
    *, order: Order, actor_buyer: BuyerContext | None, erp_reference: str, reported_by: str = ""
) -> Order:
    """The fulfilling ERP confirms it received the order, and gives its own number for it."""
    reference = (erp_reference or "").strip()
    if not reference:
        raise OrderError("reference_required", "Give the ERP's reference for the order.")
    if len(reference) > 60:
        raise OrderError("reference_too_long", "The ERP reference has at most 60 characters.")
    order = lock_order(order)
    order.erp_reference = reference
    order.save(update_fields=["erp_reference", "updated_at"])
    return apply_transition(order=order, action=Action.ACKNOWLEDGE, actor_buyer=actor_buyer,
                            comment=_noted(f"ERP reference {reference}", reported_by))


def _clean_lots(report: ShipmentReport, lines: list[OrderLine]) -> dict[int, list[ShippedLot]]:
    """Every line shipped in full, from named, unexpired lots; nothing else."""
    by_line = defaultdict(list)
    known = {line.pk: line for line in lines}
    today = timezone.localdate()
    for lot in report.lots:
        if lot.line_id not in known:
            raise OrderError("unknown_line", f"Line {lot.line_id} is not a line of this order.")
        number = (lot.lot_number or "").strip()
        if not number or len(number) > LOT_NUMBER_MAX:
            raise OrderError(
                "bad_lot", f"Line {lot.line_id}: give a lot number of 1 to 40 characters."
            )
        if not isinstance(lot.quantity, int) or lot.quantity < 1:
            raise OrderError("bad_quantity", f"Line {lot.line_id}: quantities are whole units.")
        if lot.expiry_date is not None and lot.expiry_date < today:
            raise OrderError(
                "lot_expired",
                f"Lot {number} expired on {lot.expiry_date:%d %b %Y}: it cannot be shipped.",
            )
        if any(seen.lot_number == number for seen in by_line[lot.line_id]):
            raise OrderError("duplicate_lot", f"Line {lot.line_id}: lot {number} is listed twice.")
        by_line[lot.line_id].append(ShippedLot(lot.line_id, number, lot.quantity,
                                               lot.expiry_date))
    for line in lines:
        shipped = sum(lot.quantity for lot in by_line.get(line.pk, ()))
        if shipped != line.quantity:
            raise OrderError(
                "lots_incomplete",
                f"Line {line.pk} ({line.product.sku}): lots add up to {shipped} of "
                f"{line.quantity} units.",
            )
    return by_line


def _refuse_recalled(lines: list[OrderLine], by_line: dict[int, list[ShippedLot]]) -> None:
    """A line held by a recall, or a unit from a recalled lot, never ships."""
    refusal = held_lines_refusal(lines)
    if refusal is not None:
        raise refusal
    recalls = Recall.objects.filter(
        product_id__in={line.product_id for line in lines}, lifted_at__isnull=True
    )
    products = {line.pk: line.product for line in lines}
    for recall in recalls:
        for line_id, lots in by_line.items():
            if products[line_id].pk != recall.product_id:
                continue
            for lot in lots:
                if recall.every_lot or lot.lot_number in recall.lots:
                    raise OrderError(
                        "lot_recalled",
                        f"Lot {lot.lot_number} of {products[line_id].sku} is recalled "
                        f"({recall.summary}): it cannot be shipped.",
                    )


@transaction.atomic
def order_ship(
    *, order: Order, actor_buyer: BuyerContext | None, report: ShipmentReport,
    reported_by: str = "",
) -> Shipment:
    """Record the shipment of a whole order with its lots, and move it to shipped."""
    tracking = (report.tracking_number or "").strip()
    if not tracking:
        raise OrderError("tracking_required", "Give the shipment's tracking number.")
    if len(tracking) > 80 or len(report.carrier or "") > 60:
        raise OrderError("too_long", "Tracking numbers have at most 80 characters, carriers 60.")
    if report.tracking_url and not report.tracking_url.startswith(("https://", "http://")):
        raise OrderError("bad_url", "The tracking address must start with https://.")
    order = lock_order(order)
    lines = list(order.lines.select_related("product").order_by("id"))
    order = apply_transition(order=order, action=Action.SHIP, actor_buyer=actor_buyer,
                             comment=_noted(f"Tracking {tracking}", reported_by))
    by_line = _clean_lots(report, lines)
    _refuse_recalled(lines, by_line)
    shipment = Shipment.objects.create(
        order=order, carrier=(report.carrier or "").strip(), tracking_number=tracking,
        tracking_url=report.tracking_url or "", shipped_at=report.shipped_at or timezone.now(),
        recorded_by=(reported_by or _actor_label(actor_buyer, frozenset()))[:150],
    )
    products = {line.pk: line.product_id for line in lines}
    ShipmentLot.objects.bulk_create(
        ShipmentLot(shipment=shipment, order_line_id=line_id, product_id=products[line_id],
                    lot_number=lot.lot_number, expiry_date=lot.expiry_date, quantity=lot.quantity)
        for line_id, lots in by_line.items() for lot in lots
    )
    OrderLine.objects.filter(order=order).update(shipped_quantity=F("quantity"))
    return shipment


@transaction.atomic
def order_deliver(
    *, order: Order, actor_buyer: BuyerContext | None, delivered_on: datetime.date | None = None,
    received_by: str = "", reported_by: str = "",
) -> Order:
    """Record that a shipped order arrived."""
    day = delivered_on or timezone.localdate()
    if day > timezone.localdate():
        raise OrderError("date_future", "The delivery date cannot be in the future.")
    note = f"Delivered {day:%d %b %Y}" + (f", received by {received_by.strip()[:80]}"
                                           if received_by.strip() else "")
    return apply_transition(order=lock_order(order), action=Action.DELIVER,
                            actor_buyer=actor_buyer, comment=_noted(note, reported_by))
