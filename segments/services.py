"""Writes of the segments app: the recompute that refreshes the behavioural facts and the analyses
built on them, and rewrites the computed segments' members.

A recompute is a `SegmentRun`: its phase, progress, timings and counts are committed as it goes, so
another request can watch it; only one runs at a time.
"""

import dataclasses
import inspect
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .analysis.clusters import fit_clusters
from .analysis.facts import refresh_facts
from .analysis.memberships import Touched, sync_computed_memberships
from .analysis.propensity import train_and_score
from .analysis.scores import score_buyers
from .coverage import account_coverage_sync
from .models import RunStatus, SegmentRun
from .rules import time_relative_rule_segments_exist
from .versioning import bump_buyers, bump_rules_version

logger = logging.getLogger(__name__)

# The phases of a recompute, in order. Each runs in a transaction of its own and is called with
# those of the keyword arguments `full`, `now` and `run` that it accepts; what it returns is
# summarised into the run's counts. The facts phase's result names the buyers whose facts it
# rewrote (`organisation_ids`, `user_ids`): their contexts are computed again at the end, so rule
# segments on purchase history follow the new facts.
PHASES: list[tuple[str, Callable]] = [
    ("facts", refresh_facts),
    ("scores", score_buyers),
    ("clusters", fit_clusters),
    ("propensity", train_and_score),
    ("memberships", sync_computed_memberships),
]
# Fitting clusters and training the propensity model are the weekly full run's work; a nightly
# incremental run refreshes the facts, the scores and the memberships they decide.
FULL_ONLY = {"clusters", "propensity"}
FACTS_PHASE = "facts"
SCORES_PHASE = "scores"
MEMBERSHIPS_PHASE = "memberships"

# Any number unique to this lock among the project's PostgreSQL advisory locks.
_ADVISORY_LOCK = 0x5E6_0001


class RecomputeRefused(Exception):
    """A recompute was asked for while another one is running."""

    def __init__(self, running: SegmentRun):
        self.running = running
        who = f" by {running.requested_by}" if running.requested_by_id else ""
        super().__init__(
            f"A recompute is already running (started {running.started_at:%Y-%m-%d %H:%M}{who}, "
            f"{running.phase or 'starting'} {running.progress}%): wait until it has finished."
        )


def _try_lock() -> bool:
    """On PostgreSQL, a session-level advisory lock held for the whole run: a second process
    cannot take it, and it goes away with a process that dies. Elsewhere, the status check alone."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK])
        return bool(cursor.fetchone()[0])


def _unlock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK])


def _stale_after() -> timedelta:
    return timedelta(hours=getattr(settings, "SEGMENTS_RUN_STALE_HOURS", 6))


def running_recompute() -> SegmentRun | None:
    """The recompute that is running now, if any (a run left marked running longer than the
    stale limit is taken to have died)."""
    return (
        SegmentRun.objects.filter(status=RunStatus.RUNNING,
                                  started_at__gte=timezone.now() - _stale_after())
        .select_related("requested_by").first()
    )


def _start_run(*, full: bool, requested_by) -> SegmentRun:
    """The new run, or RecomputeRefused while another is running. A run still marked running
    whose process is gone (PostgreSQL: nobody holds the lock; elsewhere: older than the stale
    limit) is closed as interrupted first."""
    now = timezone.now()
    running = SegmentRun.objects.filter(status=RunStatus.RUNNING).select_related("requested_by")
    if not _try_lock():
        raise RecomputeRefused(running.first() or SegmentRun(started_at=now))
    try:
        with transaction.atomic():
            if connection.vendor != "postgresql":
                alive = running.filter(started_at__gte=now - _stale_after()).first()
                if alive is not None:
                    raise RecomputeRefused(alive)
            running.update(status=RunStatus.FAILED, finished_at=now,
                           error="Interrupted: its process stopped before it finished.")
            return SegmentRun.objects.create(
                full=full, requested_by=requested_by, phase="starting"
            )
    except BaseException:
        _unlock()
        raise


def _call(phase: Callable, **available):
    """Call a phase with the keyword arguments it accepts."""
    accepted = inspect.signature(phase).parameters
    return phase(**{name: value for name, value in available.items() if name in accepted})


def _summary(result) -> dict:
    """What a phase returned, as counts for the run record."""
    if result is None:
        return {}
    if isinstance(result, int | float):
        return {"count": result}
    if isinstance(result, list | tuple | set):
        return {"rows": len(result)}
    if dataclasses.is_dataclass(result):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if not isinstance(result, dict):
        return {}
    summary = {}
    for key, value in result.items():
        if isinstance(value, bool | int | float | str) or value is None:
            summary[key] = value
        elif isinstance(value, list | tuple | set | dict):
            summary[key.removesuffix("_ids") + "s" if key.endswith("_ids") else key] = len(value)
    return summary


def _changed_buyers(result) -> tuple[set[int], set[int]]:
    return (set(getattr(result, "organisation_ids", ()) or ()),
            set(getattr(result, "user_ids", ()) or ()))


def _record(run: SegmentRun, report, **fields) -> None:
    """Save the run's progress at once (committed unless the caller holds a transaction) and
    tell `report(percent, phase)`, when given."""
    for name, value in fields.items():
        setattr(run, name, value)
    SegmentRun.objects.filter(pk=run.pk).update(**fields)
    if report is not None:
        report(run.progress, run.phase)


def _follow_up_phases() -> list[tuple[str, Callable]]:
    """Phases of other apps that learn from the same history, run after these in every run
    (settings `SEGMENTS_FOLLOW_UP_PHASES`: (name, dotted path)); segments imports none of them."""
    return [(name, import_string(path))
            for name, path in getattr(settings, "SEGMENTS_FOLLOW_UP_PHASES", ())]


def _run_phases(run: SegmentRun, progress) -> None:
    now = timezone.now()
    facts_changed = bumped = changed = (set(), set())
    phases = [(name, phase) for name, phase in [*PHASES, *_follow_up_phases()]
              if run.full or name not in FULL_ONLY]
    for index, (name, phase) in enumerate(phases):
        _record(run, progress, phase=name, progress=index * 100 // len(phases))
        started = time.monotonic()
        try:
            with transaction.atomic():
                result = _call(phase, full=run.full, now=now, run=run,
                               touched=None if run.full else Touched.of(*changed))
        except Exception as exc:
            logger.exception("Segment recompute %s failed in %s", run.pk, name)
            run.timings[name] = round(time.monotonic() - started, 3)
            _record(run, progress, status=RunStatus.FAILED, finished_at=timezone.now(),
                    error=f"{name}: {type(exc).__name__}: {exc}", timings=run.timings,
                    counts=run.counts)
            return
        run.timings[name] = round(time.monotonic() - started, 3)
        run.counts[name] = _summary(result)
        _record(run, None, timings=run.timings, counts=run.counts)
        if name == FACTS_PHASE:
            facts_changed = _changed_buyers(result)
        if name in (FACTS_PHASE, SCORES_PHASE):
            changed = tuple(a | b for a, b in zip(changed, _changed_buyers(result), strict=True))
        elif name == MEMBERSHIPS_PHASE:
            bumped = _changed_buyers(result)
    # A new value tier changes the service level the context carries, so the buyers whose
    # scores moved are renewed as well as those whose facts did.
    renewed = tuple(a | b for a, b in zip(facts_changed, changed, strict=True))
    run.counts["contexts_renewed"] = bump_buyers(
        organisation_ids=sorted(renewed[0] - bumped[0]),
        user_ids=sorted(renewed[1] - bumped[1]),
    )
    run.counts["coverage_changed"] = account_coverage_sync()
    if time_relative_rule_segments_exist():
        # "No order for N days" changes with the calendar, not only with the facts: every
        # context is computed again once per run.
        bump_rules_version()
        run.counts["rules_version_renewed"] = True
    _record(run, progress, status=RunStatus.DONE, phase="done", progress=100,
            finished_at=timezone.now(), counts=run.counts)


def recompute_segments(*, full: bool, requested_by=None, progress=None) -> SegmentRun:
    """Run every phase of a recompute in order (full: every buyer's facts from scratch; otherwise
    only what changed since the last run) and return the run, done or failed with the error.

    `progress(percent, phase)` is called as each phase starts and at the end. Raises
    RecomputeRefused, creating nothing, while another recompute is running.
    """
    run = _start_run(full=full, requested_by=requested_by)
    try:
        _run_phases(run, progress)
    finally:
        _unlock()
    return run
