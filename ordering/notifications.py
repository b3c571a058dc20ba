"""Order notifications: queued as Celery tasks once the transaction that caused them commits.
Tasks are named, not imported, so services stay below the task layer."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from storefront.celery import app

NOTIFY_TASK = "ordering.tasks.order_notify"

logger = logging.getLogger(__name__)


def notify(order_id: int, event: str, **details) -> None:
    """Send the `event` email about an order after the current transaction commits."""
    signature = app.signature(NOTIFY_TASK, args=(order_id, event), kwargs=details)
    # Robust: with the broker unreachable the order stays placed and the buyer is answered; the
    # failure to queue is logged.
    transaction.on_commit(signature.apply_async, robust=True)


def order_changed() -> None:
    """Queue the tasks other apps register for a placed order or a change of state (settings
    `ORDER_CHANGED_TASKS`, by name) once the transaction commits. With a broker each is queued
    at most once per `ORDER_CHANGED_DEBOUNCE_SECONDS` and runs at the end of that window, so it
    sees every change made in it; their own schedules catch anything later. Without one (tasks
    run in-process) each runs at once."""
    for name in getattr(settings, "ORDER_CHANGED_TASKS", ()):
        transaction.on_commit(_queuer(name), robust=True)


def _queuer(name: str):
    def queue_order_changed_task() -> None:
        """Never fails the request that changed the order: a broker or cache that cannot be
        reached, or a task that fails in-process, is logged and left to the task's schedule."""
        try:
            _queue_once_a_while(name)
        except Exception:
            logger.exception("Could not run or queue %s after an order changed.", name)

    return queue_order_changed_task


def _queue_once_a_while(name: str) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        app.signature(name).apply_async()
        return
    seconds = settings.ORDER_CHANGED_DEBOUNCE_SECONDS
    if cache.add(f"order-changed-queued:{name}", True, seconds):
        app.signature(name).apply_async(countdown=seconds)
