"""Periodic work for territories: a new day may start or end rights and restrictions."""

from celery import shared_task

from .services import territory_day_start


@shared_task
def territory_rules_day_start() -> bool:
    """Run every few minutes by Celery beat; acts once per day (see `territory_day_start`)."""
    return territory_day_start()
