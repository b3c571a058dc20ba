"""Keeping the reporting aggregates fresh: a refresh queued when orders are placed or change state
(`ORDER_CHANGED_TASKS`) and after each segment recompute, every few minutes from beat, and a full
rebuild nightly. Each refresh or rebuild ends by working out every pricing monitor's figures
again, so a monitor's page reads them ready (its figures are cached per refresh)."""

from celery import shared_task
from django.utils import timezone

from .analysis.monitor import monitor_figures
from .models import PricingMonitor
from .services.aggregates import rebuild, refresh


def warm_monitors(monitors=None) -> int:
    """Work out the figures of `monitors` (every monitor by default) over all their accounts, as
    the aggregates stand now; the number of monitors worked out."""
    today = timezone.localdate()
    count = 0
    for monitor in monitors if monitors is not None else PricingMonitor.objects.order_by("pk"):
        monitor_figures(monitor, None, today)
        count += 1
    return count


@shared_task
def refresh_aggregates() -> str:
    """Rewrite the buyer-days touched since the last refresh, and today's segment sizes; nothing
    when another refresh is running (orders placed at once do not queue behind each other)."""
    refreshed = refresh(wait=False)
    if refreshed is None:
        return "skipped: a refresh is running"
    warm_monitors()
    return str(refreshed)


@shared_task
def rebuild_aggregates() -> str:
    """Rebuild every aggregate from the order lines."""
    rebuilt = rebuild()
    warm_monitors()
    return str(rebuilt)


@shared_task
def warm_monitor(monitor_id: int) -> int:
    """Work out one monitor's figures (after it is created)."""
    return warm_monitors(PricingMonitor.objects.filter(pk=monitor_id))
