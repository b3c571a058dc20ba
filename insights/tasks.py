"""Keeping the reporting aggregates fresh: a refresh queued when orders are placed or change state
(`ORDER_CHANGED_TASKS`) and after each segment recompute, every few minutes from beat, and a full
rebuild nightly."""

from celery import shared_task

from .services.aggregates import rebuild, refresh


@shared_task
def refresh_aggregates() -> str:
    """Rewrite the buyer-days touched since the last refresh, and today's segment sizes."""
    return str(refresh())


@shared_task
def rebuild_aggregates() -> str:
    """Rebuild every aggregate from the order lines."""
    return str(rebuild())
