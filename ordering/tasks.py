"""Celery tasks of ordering: allocate arriving stock, email the people an order concerns,
deliver order events to webhooks, and settle card payments that never confirmed. They call
services and selectors; the rules live there."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q

from accounts.models import Membership, User

from .models import Order, OrderLine, OrderState
from .selectors import routed_order_total
from .services import payment, webhooks
from .services.allocation import allocation_run, stock_receive

SUBJECTS = {
    "approval_requested": "Order {number} is waiting for your approval",
    "approved": "Order {number} was approved",
    "rejected": "Order {number} was rejected",
    "confirmed": "Order {number} is confirmed",
    "routed": "Order {number} was routed to you",
    "routed_accepted": "Order {number} was accepted by {fulfiller}",
    "routed_declined": "Order {number} was declined by {fulfiller}",
    "backorder_allocated": "Stock was allocated to order {number}",
    "recall_hold": "Order {number}: a recalled product is on hold",
}


def _approvers(order: Order) -> list[str]:
    members = Membership.objects.filter(
        Q(is_approver=True) | Q(is_budget_holder=True),
        organisation_id=order.organisation_id, is_active=True,
    ).exclude(user_id=order.placed_by_id)
    return sorted(members.values_list("user__email", flat=True))


def _emails(order: Order, event: str, to_user_id=None) -> list[str]:
    if to_user_id:
        return list(User.objects.filter(pk=to_user_id).values_list("email", flat=True))
    if event == "approval_requested":
        return _approvers(order)
    if event == "recall_hold":
        pending = order.state == OrderState.PENDING_APPROVAL and order.organisation_id
        return list(dict.fromkeys([order.placed_by.email, *(_approvers(order) if pending else [])]))
    if event == "routed":
        return sorted(
            Membership.objects.filter(organisation_id=order.fulfiller_id, is_active=True,
                                      is_buyer=True).values_list("user__email", flat=True)
        )
    return [order.placed_by.email]


def _held_lines_text(order: Order) -> list[str]:
    held = OrderLine.objects.filter(order=order, held_at__isnull=False).select_related("product")
    return [
        *(f"On hold: {line.quantity} × {line.product.name} ({line.product.sku}) — "
          f"{line.held_reason}" for line in held.order_by("id")),
        "Held lines get no stock and are not approved or shipped: remove them from the order or "
        "cancel it.",
    ]


@shared_task
def order_notify(order_id: int, event: str, **details) -> int:
    """Email everyone the event concerns; returns the number of recipients."""
    order = Order.objects.select_related("placed_by", "fulfiller").filter(pk=order_id).first()
    if order is None:
        return 0
    recipients = _emails(order, event, details.get("to_user_id"))
    if not recipients:
        return 0
    fulfiller = order.fulfiller.name if order.fulfiller else ""
    subject = SUBJECTS[event].format(number=order.number, fulfiller=fulfiller)
    if event == "routed":
        # To the distributor: the order at the prices it sees, never the buyer's totals.
        total = routed_order_total(order)
        money = f"Total at your prices: {order.currency} {total} ex VAT."
    else:
        money = f"Total: {order.currency} {order.total_net} ex VAT ({order.total_gross} inc VAT)."
    lines = [subject + ".", money]
    if details.get("comment"):
        lines.append(f"Comment: {details['comment']}")
    if order.decline_reason and event == "routed_declined":
        lines.append(f"Reason: {order.decline_reason}")
    if event == "recall_hold":
        lines += _held_lines_text(order)
    if order.expected_delivery_date and event == "routed_accepted":
        lines.append(f"Expected delivery: {order.expected_delivery_date:%d %b %Y}")
    send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)


@shared_task
def stock_arrived(product_id: int, quantity: int, policy: str | None = None) -> int:
    """Book an arrival and allocate it to backorders; returns the units allocated."""
    stock_receive(product_id=product_id, quantity=quantity)
    return sum(a.quantity for a in allocation_run(product_id=product_id, policy=policy))


@shared_task
def outbox_dispatch(event_ids: list[str]) -> int:
    """Create and queue the webhook deliveries of these outbox events; returns how many."""
    return len(webhooks.outbox_dispatch(event_ids=event_ids))


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> str | None:
    """One attempt at a webhook delivery, if it is due. Acknowledged late: a message whose worker
    died is delivered again, and the claim in the row makes a second run harmless."""
    return webhooks.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task
def webhooks_sweep() -> dict:
    """Every `WEBHOOK_SWEEP_SECONDS` (beat): re-queue due deliveries and dispatch events whose
    task was lost."""
    sweep = webhooks.webhooks_sweep()
    return {"events_dispatched": sweep.events_dispatched,
            "deliveries_queued": sweep.deliveries_queued}


@shared_task
def card_payments_settle() -> dict:
    """Every minute (beat): confirm card payments the gateway captured whose answer was lost,
    and release those that never confirmed within `ORDERING_PAYMENT_TIMEOUT_MINUTES`."""
    return payment.card_payments_settle()
