"""`python manage.py recompute_segments [--full]`: refresh the behavioural facts and analyses and
rewrite the computed segments now, with a progress bar; exits non-zero when the run fails or
another one is already running."""
from django.core.management.base import BaseCommand, CommandError

from segments.models import RunStatus
from segments.services import RecomputeRefused, recompute_segments

BAR_WIDTH = 20


def progress_line(percent: int, phase: str) -> str:
    """A plain-text progress bar: "[##########..........]  50% scores"."""
    filled = BAR_WIDTH * max(0, min(percent, 100)) // 100
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}% {phase}"


class Command(BaseCommand):
    help = ("Recompute the behavioural facts, scores, clusters, propensities and computed "
            "segment memberships (incremental unless --full).")

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true",
            help="Rebuild every buyer's facts from all orders instead of only what changed.",
        )

    def handle(self, *args, full=False, **options):
        def show(percent: int, phase: str) -> None:
            self.stdout.write(progress_line(percent, phase))
            self.stdout.flush()

        try:
            run = recompute_segments(full=full, progress=show)
        except RecomputeRefused as exc:
            raise CommandError(str(exc)) from exc
        timings = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run.timings.items())
        if run.status != RunStatus.DONE:
            raise CommandError(f"Recompute {run.pk} failed: {run.error}")
        self.stdout.write(self.style.SUCCESS(
            f"Recompute {run.pk} ({'full' if run.full else 'incremental'}) done: {timings}."
        ))
        for phase, counts in run.counts.items():
            if isinstance(counts, dict) and counts:
                shown = ", ".join(f"{key} {value}" for key, value in counts.items())
                self.stdout.write(f"  {phase}: {shown}")
            elif not isinstance(counts, dict):
                self.stdout.write(f"  {phase.replace('_', ' ')}: {counts}")
