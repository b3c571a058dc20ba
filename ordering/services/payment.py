"""Card payment taken outside the database transaction. A retail checkout places its order(s)
awaiting payment (stock reserved, cart kept) and commits; the card is then charged with no
transaction open and no row locked; a second transaction confirms the orders (submitted or
routed as an order on account is, cart emptied, notifications) or releases them (stock given
back, order `payment_failed`, cart kept). Whatever goes wrong after money may have been taken
refunds it through the gateway. A payment whose answer never came is settled by
`card_payments_settle`, run by beat: confirmed if the gateway captured it, released otherwise."""

import datetime
import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..errors import OrderError
from ..models import CartLine, Order, OrderState
from ..notifications import notify
from ..payments import ChargeOutcome, PaymentState, payment_gateway
from ..rules import Action
from .fulfilment import order_release_to_fulfilment
from .stock import order_stock_release
from .transitions import apply_transition

logger = logging.getLogger(__name__)

NOT_CHARGED = (
    "The payment could not be completed and you have not been charged. Your cart is as you left "
    "it: try again, or use another card."
)
REFUND_PENDING = (
    "The payment could not be completed. If your card was charged, the amount will be refunded: "
    "you need do nothing. Your cart is as you left it."
)


def new_payment_key() -> str:
    """The idempotency key of one card payment, set on its orders before the card is charged."""
    return f"pay_{secrets.token_hex(16)}"


def _awaiting(payment_key: str) -> list[Order]:
    """The payment's orders still awaiting it, locked in primary-key order."""
    return list(
        Order.objects.select_for_update()
        .filter(payment_key=payment_key, state=OrderState.AWAITING_PAYMENT).order_by("pk")
    )


def _cart_empty(orders: list[Order]) -> None:
    """Take the ordered products out of the buyer's cart (kept until the payment was confirmed)."""
    order = orders[0]
    products = {line.product_id for o in orders for line in o.lines.all()}
    CartLine.objects.filter(
        cart__user_id=order.placed_by_id, cart__organisation_id=order.organisation_id,
        product_id__in=products,
    ).delete()


@transaction.atomic
def card_payment_confirm(*, payment_key: str, reference: str) -> list[Order]:
    """Confirm the orders of a captured payment: payment reference, then submitted (and
    allocated) or routed, notified and published, and the cart emptied. Exactly once: orders no
    longer awaiting payment are left alone (returns []). Raises OrderError("payment_released")
    when they were released meanwhile, so the caller refunds the payment."""
    orders = _awaiting(payment_key)
    if not orders:
        if Order.objects.filter(payment_key=payment_key,
                                state=OrderState.PAYMENT_FAILED).exists():
            raise OrderError("payment_released", "This payment's order was already released.")
        return []
    confirmed = []
    for order in orders:
        order.payment_reference = reference
        order.save(update_fields=["payment_reference", "updated_at"])
        action = Action.ROUTE if order.fulfiller_id else Action.SUBMIT
        order = apply_transition(order=order, action=action, actor_buyer=None,
                                 comment=f"Card payment {reference}")
        if order.fulfiller_id:
            notify(order.pk, "routed")
        else:
            order = order_release_to_fulfilment(order=order)
        notify(order.pk, "confirmed")
        confirmed.append(order)
    _cart_empty(confirmed)
    return confirmed


@transaction.atomic
def card_payment_release(*, payment_key: str, reason: str) -> list[Order]:
    """End the orders of a payment that was declined, failed or never confirmed: their stock
    is given back and they become `payment_failed`; the cart keeps its lines."""
    orders = _awaiting(payment_key)
    for order in orders:
        apply_transition(order=order, action=Action.PAYMENT_FAIL, actor_buyer=None,
                         comment=reason[:250])
        order_stock_release(order=order)
    return orders


def _refund_and_release(gateway, payment_key: str, reason: str) -> OrderError:
    """Give back whatever the gateway may have taken, then release the orders; the error to
    show the buyer."""
    refunded = True
    try:
        gateway.refund(idempotency_key=payment_key)
    except Exception:
        refunded = False
        logger.exception("Refund of card payment %s failed: refund it by hand", payment_key)
    card_payment_release(payment_key=payment_key, reason=reason)
    return OrderError("payment_failed", NOT_CHARGED if refunded else REFUND_PENDING)


def card_payment_take(*, orders: list[Order], card_number: str) -> list[Order]:
    """Charge the card for orders placed awaiting payment, then confirm or release them. Call
    with no transaction open: nothing here may hold a row lock while the gateway answers.
    Returns the orders as they are now (still awaiting payment when the gateway said
    "pending"); raises OrderError("payment_declined" or "payment_failed") after releasing them."""
    key = orders[0].payment_key
    gateway = payment_gateway()
    amount = sum((order.total_gross for order in orders), Decimal("0.00"))
    try:
        result = gateway.charge(
            amount=amount, currency=orders[0].currency, card_number=card_number,
            description=", ".join(order.number for order in orders), idempotency_key=key,
        )
    except Exception:
        logger.exception("Card payment %s failed at the gateway", key)
        raise _refund_and_release(gateway, key, "The card payment failed.") from None
    if result.outcome == ChargeOutcome.DECLINED:
        card_payment_release(payment_key=key, reason=result.message)
        raise OrderError("payment_declined", result.message)
    if result.outcome == ChargeOutcome.APPROVED:
        try:
            card_payment_confirm(payment_key=key, reference=result.reference)
        except Exception:
            logger.exception("Card payment %s was taken but its order not confirmed", key)
            raise _refund_and_release(gateway, key, "The order could not be confirmed.") from None
    return list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk"))


def card_payments_settle(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Settle payments awaiting an answer for longer than `ORDERING_PAYMENT_TIMEOUT_MINUTES`:
    ask the gateway by the payment's key; confirm those it captured (their callback was lost),
    release the others. Returns how many payments were confirmed and released."""
    minutes = getattr(settings, "ORDERING_PAYMENT_TIMEOUT_MINUTES", 15)
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=minutes)
    keys = (
        Order.objects.filter(state=OrderState.AWAITING_PAYMENT, placed_at__lt=cutoff)
        .exclude(payment_key="").order_by().values_list("payment_key", flat=True).distinct()
    )
    gateway = payment_gateway()
    settled = {"confirmed": 0, "released": 0}
    for key in list(keys):
        try:
            status = gateway.status(idempotency_key=key)
        except Exception:
            logger.exception("Could not ask the gateway about card payment %s", key)
            continue
        if status.state != PaymentState.CAPTURED:
            reason = f"No card payment was confirmed within {minutes} minutes."
            settled["released"] += bool(card_payment_release(payment_key=key, reason=reason))
            continue
        try:
            settled["confirmed"] += bool(
                card_payment_confirm(payment_key=key, reference=status.reference)
            )
        except Exception:
            logger.exception("Card payment %s was captured but its order not confirmed", key)
            _refund_and_release(gateway, key, "The order could not be confirmed.")
            settled["released"] += 1
    return settled
