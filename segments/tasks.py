"""Background recomputes of the computed segments: nightly from beat (a full one weekly), or on
a staff member's request from the admin."""
import logging

from celery import shared_task

from accounts.models import User

from .services import RecomputeRefused, recompute_segments

logger = logging.getLogger(__name__)


@shared_task
def recompute_segments_task(full: bool = False, requested_by_id: int | None = None) -> dict:
    """Run a recompute; a request while another runs is refused and logged, not retried."""
    requested_by = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    try:
        run = recompute_segments(full=full, requested_by=requested_by)
    except RecomputeRefused as exc:
        logger.warning("Segment recompute refused: %s", exc)
        return {"run": None, "status": "refused", "message": str(exc)}
    return {"run": run.pk, "status": run.status, "error": run.error}
