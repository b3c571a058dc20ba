"""Orders routed to a distributor: each line priced for the distributor itself when the order is
placed (what it would pay for that product and quantity — the price it sees unless the buyer's
contract names it as an authorised fulfiller), and the distributor's answer: accept with an
expected delivery date, or decline with a reason. Only users of the fulfilling distributor may
answer."""

import datetime
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from pricing.engine import line_total, prices_for
from segments.resolver import BuyerContext, resolve_organisation

from ..errors import OrderError
from ..models import Order, OrderLine
from ..notifications import notify
from ..rules import Action
from .transitions import apply_transition, lock_order


def routed_lines_price_for_fulfiller(*, order: Order, lines: list[OrderLine]) -> None:
    """Give each (unsaved) line of a routed order the distributor's own net price for its product
    and quantity, asked of the price engine as the distributor itself. A product the distributor
    has no price for (or only in another currency than the order's) keeps none."""
    fulfiller = resolve_organisation(order.fulfiller_id)
    by_quantity = defaultdict(list)
    for line in lines:
        by_quantity[line.quantity].append(line)
    for quantity, same in by_quantity.items():
        prices = prices_for(fulfiller, [line.product_id for line in same], quantity)
        for line in same:
            price = prices.get(line.product_id)
            if price is None or price.currency != order.currency:
                continue
            line.fulfiller_unit_price = price.unit_price
            line.fulfiller_line_net = line_total(price, quantity).net
            line.fulfiller_price_explanation = price.explanation[:250]


@transaction.atomic
def routed_order_accept(
    *, order: Order, actor_buyer: BuyerContext, expected_delivery_date: datetime.date | None
) -> Order:
    if expected_delivery_date is None:
        raise OrderError("date_required", "Enter the expected delivery date.")
    if expected_delivery_date < timezone.localdate():
        raise OrderError("date_past", "The expected delivery date cannot be in the past.")
    order = lock_order(order)
    order.expected_delivery_date = expected_delivery_date
    order = apply_transition(order=order, action=Action.ACCEPT, actor_buyer=actor_buyer,
                             comment=f"Expected delivery {expected_delivery_date:%d %b %Y}")
    order.save(update_fields=["expected_delivery_date", "updated_at"])
    notify(order.pk, "routed_accepted")
    return order


@transaction.atomic
def routed_order_decline(*, order: Order, actor_buyer: BuyerContext, reason: str) -> Order:
    if not reason.strip():
        raise OrderError("reason_required", "Give the buyer a reason for declining.")
    order = lock_order(order)
    order.decline_reason = reason.strip()
    order = apply_transition(order=order, action=Action.DECLINE, actor_buyer=actor_buyer,
                             comment=reason.strip())
    order.save(update_fields=["decline_reason", "updated_at"])
    notify(order.pk, "routed_declined")
    return order
