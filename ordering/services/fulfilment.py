"""What happens to an order once nothing stands in its way: routed to its distributor, or
submitted and then allocated (all units reserved) or partly backordered. The system acts."""

from ..models import Order, OrderState
from ..rules import Action
from .recalls import held_lines_refusal
from .transitions import apply_transition


def order_release_to_fulfilment(*, order: Order, lines=None) -> Order:
    """Move an approved or freshly submitted order on, as the system. Call inside a transaction.
    An order with a line held by a recall is refused."""
    lines = list(order.lines.all()) if lines is None else lines
    refusal = held_lines_refusal(lines)
    if refusal is not None:
        raise refusal
    if order.state == OrderState.APPROVED:
        action = Action.ROUTE if order.fulfiller_id else Action.SUBMIT
        order = apply_transition(order=order, action=action, actor_buyer=None)
    if order.state != OrderState.SUBMITTED:
        return order
    short = any(line.backordered_quantity for line in lines)
    action = Action.BACKORDER if short else Action.ALLOCATE
    return apply_transition(order=order, action=action, actor_buyer=None)
