"""A distributor's answer to an order routed to it: accept with an expected delivery date, or
decline with a reason. Only users of the fulfilling distributor may answer."""

import datetime

from django.db import transaction
from django.utils import timezone

from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import Order
from ..notifications import notify
from ..rules import Action
from .transitions import apply_transition, lock_order


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
    order.save(update_fields=["expected_delivery_date"])
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
    order.save(update_fields=["decline_reason"])
    notify(order.pk, "routed_declined")
    return order
