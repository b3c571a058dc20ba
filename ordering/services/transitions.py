"""`order_transition`: the only way an order changes state. It checks the transition table and the
actor's role for this order, then writes the new state and a log row — or refuses, changing
nothing."""

from django.db import transaction

from segments.resolver import BuyerContext

from ..errors import OrderError
from ..models import Order, OrderEvent, OrderState
from ..notifications import order_changed
from ..rules import Actor, actor_roles, transition_for
from .outbox import outbox_record


def _actor_label(buyer: BuyerContext | None, roles) -> str:
    if buyer is None:
        return "System"
    user = buyer.user
    name = (getattr(user, "full_name", "") or getattr(user, "email", "")) if user else ""
    parts = sorted(roles - {Actor.SYSTEM}) or ["no role"]
    who = name or f"user {buyer.user_id}"
    if buyer.integration:
        who = f"API key “{buyer.api_key_name}”, responsible: {who}"
    elif buyer.api_key_id is not None:
        who = f"{who} via API key “{buyer.api_key_name}”"
    return f"{who} ({', '.join(parts)})"[:150]


def order_log(
    *, order: Order, action: str, from_state: str, to_state: str,
    actor_buyer: BuyerContext | None, comment: str = "", roles=frozenset(),
) -> OrderEvent:
    """Log one state change of an order, and write its outbox events in the same transaction."""
    event = OrderEvent.objects.create(
        order=order, action=action, from_state=from_state, to_state=to_state,
        actor_id=actor_buyer.user_id if actor_buyer else None,
        actor_label=_actor_label(actor_buyer, roles), comment=comment,
    )
    outbox_record(order=order, action=action, from_state=from_state, to_state=to_state,
                  comment=comment)
    order_changed()
    return event


def lock_order(order: Order) -> Order:
    """The order re-read under a row lock, so two people acting at once act in turn."""
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_transition(
    *, order: Order, action: str, actor_buyer: BuyerContext | None, comment: str = ""
) -> Order:
    """Apply `action` to `order` as `actor_buyer` (None: the system). Raises OrderError
    ("not_allowed" or "forbidden") and changes nothing when the table or the role says no."""
    return apply_transition(order=lock_order(order), action=action, actor_buyer=actor_buyer,
                            comment=comment)


def apply_transition(
    *, order: Order, action: str, actor_buyer: BuyerContext | None, comment: str = ""
) -> Order:
    """`order_transition` for a service that already holds the order's row lock in its own
    transaction."""
    transition = transition_for(order.state, action)
    if transition is None:
        state = OrderState(order.state).label.lower()
        raise OrderError(
            "not_allowed", f"This order is {state}: “{action.replace('_', ' ')}” is not possible."
        )
    roles = actor_roles(order, actor_buyer)
    if not transition.allowed & roles:
        raise OrderError("forbidden", f"You may not {action.replace('_', ' ')} this order.")
    from_state = order.state
    order.state = transition.next_state
    order.save(update_fields=["state", "updated_at"])
    order_log(
        order=order, action=action, from_state=from_state, to_state=order.state,
        actor_buyer=actor_buyer, comment=comment, roles=roles,
    )
    return order
