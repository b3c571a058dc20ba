"""Order notifications: queued as Celery tasks once the transaction that caused them commits.
Tasks are named, not imported, so services stay below the task layer."""

from django.db import transaction

from storefront.celery import app

NOTIFY_TASK = "ordering.tasks.order_notify"


def notify(order_id: int, event: str, **details) -> None:
    """Send the `event` email about an order after the current transaction commits."""
    signature = app.signature(NOTIFY_TASK, args=(order_id, event), kwargs=details)
    # Robust: with the broker unreachable the order stays placed and the buyer is answered; the
    # failure to queue is logged.
    transaction.on_commit(signature.apply_async, robust=True)
