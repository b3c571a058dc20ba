"""The outbox of order events: every state change of an order writes one `OutboxEvent` per
organisation it concerns, in the transaction that changed the order — so an event exists exactly
when the change was committed. After commit a task dispatches the events to the organisations'
webhook endpoints (`ordering.services.webhooks`); the sweep dispatches any whose task was lost."""

import uuid
from decimal import Decimal

from django.utils import timezone

from ..models import Order, OutboxEvent
from ..rules import PLACE, UNPUBLISHED_STATES
from ..selectors import routed_order_total
from .webhooks import DISPATCH_TASK, webhook_task_after_commit

CENT = Decimal("0.01")


def _money(amount) -> str:
    return str(Decimal(amount).quantize(CENT))


def order_event_data(*, order: Order, action: str, from_state: str, to_state: str,
                     comment: str = "") -> dict:
    """The `data` of an order event: the order as it is after the change, and what happened."""
    fulfiller = order.fulfiller.name if order.fulfiller_id else None
    expected = order.expected_delivery_date
    return {
        "order": {
            "number": order.number,
            "state": to_state,
            "previous_state": from_state or None,
            "workflow": order.workflow,
            "po_number": order.po_number,
            "erp_reference": order.erp_reference,
            "currency": order.currency,
            "total_net": _money(order.total_net),
            "total_vat": _money(order.total_vat),
            "total_gross": _money(order.total_gross),
            "fulfiller": fulfiller,
            "expected_delivery_date": expected.isoformat() if expected else None,
            "href": f"/api/v1/orders/{order.number}/",
        },
        "action": action,
        "comment": comment,
    }


def routed_event_data(order: Order, data: dict) -> dict:
    """The event as the distributor of a routed order reads it: its routed-order address, and the
    total at the prices it sees (`ordering.selectors.routed_lines`) instead of the buyer's."""
    seen = {key: value for key, value in data["order"].items()
            if key not in ("total_net", "total_vat", "total_gross")}
    seen.update(href=f"/api/v1/routed-orders/{order.number}/",
                total_net=_money(routed_order_total(order)))
    return {**data, "order": seen}


def event_organisation_ids(order: Order) -> list[int]:
    """The organisations an order event goes to: the buyer's, and the distributor fulfilling a
    routed order (a consumer's routed order too). A consumer has no webhooks."""
    ids = (order.organisation_id, order.fulfiller_id)
    return list(dict.fromkeys(i for i in ids if i is not None))


def outbox_record(*, order: Order, action: str, from_state: str, to_state: str,
                  comment: str = "") -> list[OutboxEvent]:
    """Write the events of one order change in the caller's transaction (one INSERT), and
    dispatch them once it commits. Returns the events written (none for a consumer's direct
    order). A card order is published only once paid: nothing while it awaits payment or after
    its payment failed, and its payment's confirmation as its placement."""
    organisation_ids = event_organisation_ids(order)
    if not organisation_ids or to_state in UNPUBLISHED_STATES:
        return []
    if from_state in UNPUBLISHED_STATES:
        action, from_state = PLACE, ""
    data = order_event_data(order=order, action=action, from_state=from_state,
                            to_state=to_state, comment=comment)
    event_type = f"order.{action}"
    created_at = timezone.now().isoformat()
    events = []
    for organisation_id in organisation_ids:
        event_id = uuid.uuid4()
        seen = routed_event_data(order, data) if organisation_id == order.fulfiller_id else data
        events.append(OutboxEvent(
            id=event_id, organisation_id=organisation_id, order_id=order.pk, type=event_type,
            payload={
                "id": str(event_id), "type": event_type, "created_at": created_at,
                "organisation": organisation_id, "data": seen,
            },
        ))
    OutboxEvent.objects.bulk_create(events)
    # By task name, after commit: a lost task is made good by the sweep.
    webhook_task_after_commit(DISPATCH_TASK, [str(event.pk) for event in events])
    return events
