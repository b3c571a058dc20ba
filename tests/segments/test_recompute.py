"""The recompute: its phases in order with timings, counts and progress, failure kept with its
error, one run at a time, the management command and the Celery task and beat entries."""
import datetime
import threading
from dataclasses import dataclass, field

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from segments import services
from segments.analysis.memberships import sync_computed_memberships
from segments.management.commands.recompute_segments import Command, progress_line
from segments.models import BuyerFacts, ComputedBasis, ComputedMembership, RunStatus, SegmentRun
from segments.resolver import resolve
from segments.services import RecomputeRefused, recompute_segments
from segments.tasks import recompute_segments_task
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.factories.segment_runs import buyer_facts, computed_segment

pytestmark = pytest.mark.django_db


@dataclass
class FactsRefreshed:
    """What the facts phase returns (segments.analysis.facts.FactsRefresh)."""

    organisation_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)
    buyers: int = 0


@pytest.fixture
def phases(monkeypatch, settings):
    """Replace the phase list (and no follow-up phases) for one test; returns the calls made,
    in order."""
    settings.SEGMENTS_FOLLOW_UP_PHASES = []
    calls = []

    def use(*named):
        monkeypatch.setattr(services, "PHASES", list(named))
        return calls

    use.calls = calls
    return use


def test_the_phases_run_in_order_with_timings_counts_and_progress(phases):
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    trust = OrganisationFactory()
    calls = phases.calls

    def facts(*, full, now):
        calls.append(("facts", full))
        buyer_facts(organisation=trust, lapsed=True, now=now)
        return FactsRefreshed(organisation_ids={trust.pk}, buyers=1)

    def scores(*, now):
        calls.append(("scores", BuyerFacts.objects.count()))
        return None

    phases(("facts", facts), ("scores", scores), ("memberships", sync_computed_memberships))
    seen = []
    user = UserFactory(is_staff=True)

    run = recompute_segments(full=True, requested_by=user,
                             progress=lambda percent, phase: seen.append((percent, phase)))

    run.refresh_from_db()
    assert calls == [("facts", True), ("scores", 1)]
    assert seen == [(0, "facts"), (33, "scores"), (66, "memberships"), (100, "done")]
    assert (run.status, run.phase, run.progress, run.full) == (RunStatus.DONE, "done", 100, True)
    assert run.requested_by == user and run.finished_at is not None and run.error == ""
    assert list(run.timings) == ["facts", "scores", "memberships"]
    assert all(seconds >= 0 for seconds in run.timings.values())
    assert run.counts["facts"] == {"organisations": 1, "users": 0, "buyers": 1}
    assert run.counts["scores"] == {}
    assert run.counts["memberships"]["entered"] == 1
    assert ComputedMembership.objects.get(segment=lapsed).organisation_id == trust.pk
    assert ComputedMembership.objects.get(segment=lapsed).segment.movements.get().run == run


def test_buyers_whose_facts_changed_are_resolved_again_and_no_one_else(
    phases, django_assert_num_queries
):
    changed, unchanged = OrganisationFactory(), OrganisationFactory()
    changed_buyer = MembershipFactory(organisation=changed).user
    other_buyer = MembershipFactory(organisation=unchanged).user
    resolve(changed_buyer), resolve(other_buyer)
    phases(("facts", lambda: FactsRefreshed(organisation_ids={changed.pk})),
           ("memberships", sync_computed_memberships))

    run = recompute_segments(full=False)

    assert run.counts["contexts_renewed"] == 1
    with django_assert_num_queries(0):
        resolve(other_buyer)
    with CaptureQueriesContext(connection) as queries:
        resolve(changed_buyer)
    assert len(queries) > 0


def test_a_failing_phase_fails_the_run_with_its_error_and_writes_nothing(phases):
    lapsed = computed_segment("lapsed", ComputedBasis.LAPSED)
    trust = OrganisationFactory()
    ran = []

    def facts(*, now):
        buyer_facts(organisation=trust, lapsed=True, now=now)
        raise ValueError("orders table is unreadable")

    phases(("facts", facts), ("memberships", lambda: ran.append("memberships")))

    run = recompute_segments(full=False)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "facts: ValueError: orders table is unreadable"
    assert run.phase == "facts" and run.finished_at is not None
    assert list(run.timings) == ["facts"]
    assert ran == []
    assert not BuyerFacts.objects.exists()
    assert not lapsed.computed_members.exists()


def test_a_run_left_running_by_a_process_that_died_is_closed_and_a_new_one_starts(phases):
    phases(("memberships", sync_computed_memberships))
    dead = SegmentRun.objects.create(phase="scores", progress=40)
    SegmentRun.objects.filter(pk=dead.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=7)
    )

    run = recompute_segments(full=False)

    dead.refresh_from_db()
    assert (dead.status, dead.error) == (
        RunStatus.FAILED, "Interrupted: its process stopped before it finished."
    )
    assert run.status == RunStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_only_one_recompute_runs_at_a_time_and_another_request_sees_its_progress(phases):
    seen = {}

    def ask_from_another_connection():
        try:
            row = SegmentRun.objects.get(status=RunStatus.RUNNING)
            seen["progress"] = (row.phase, row.progress)
            recompute_segments(full=True)
        except RecomputeRefused as exc:
            seen["refused"] = str(exc)
        finally:
            connection.close()

    def scores():
        other = threading.Thread(target=ask_from_another_connection)
        other.start()
        other.join(timeout=30)

    phases(("facts", lambda: None), ("scores", scores))
    requester = UserFactory(email="analyst@demo.test", full_name="Ada Analyst", is_staff=True)

    run = recompute_segments(full=False, requested_by=requester)

    assert run.status == RunStatus.DONE
    assert seen["progress"] == ("scores", 50)
    assert seen["refused"].startswith("A recompute is already running (started ")
    assert "Ada Analyst" in seen["refused"] and "scores 50%" in seen["refused"]
    assert SegmentRun.objects.count() == 1

    again = recompute_segments(full=False)  # the lock was released

    assert again.status == RunStatus.DONE


def test_the_command_shows_progress_and_a_summary(phases, capsys):
    phases(("facts", lambda: FactsRefreshed(buyers=3)), ("memberships", sync_computed_memberships))

    call_command("recompute_segments", "--full")

    out = capsys.readouterr().out
    assert "[....................]   0% facts" in out
    assert "[##########..........]  50% memberships" in out
    assert "[####################] 100% done" in out
    assert "(full) done: facts" in out
    assert "  facts: organisations 0, users 0, buyers 3" in out
    assert SegmentRun.objects.get().full


def test_the_progress_bar_is_plain_text():
    assert progress_line(0, "facts") == "[....................]   0% facts"
    assert progress_line(45, "scores") == "[#########...........]  45% scores"
    assert progress_line(100, "done") == "[####################] 100% done"


@pytest.fixture
def keep_connection(monkeypatch):
    """The command closes every connection when it ends; the test's transaction must stay."""
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def _another_run_holds_the_lock(monkeypatch):
    """PostgreSQL: another process holds the advisory lock. Elsewhere the running row says it."""
    if connection.vendor == "postgresql":
        monkeypatch.setattr(services, "_try_lock", lambda: False)


def test_the_command_exits_non_zero_when_the_run_fails(phases, capsys, keep_connection):
    def facts():
        raise RuntimeError("no orders table")

    phases(("facts", facts))

    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "recompute_segments"])

    assert exit_.value.code == 1
    assert "failed: facts: RuntimeError: no orders table" in capsys.readouterr().err
    assert SegmentRun.objects.get().status == RunStatus.FAILED


def test_the_command_exits_non_zero_while_another_run_is_going(
    phases, capsys, monkeypatch, keep_connection
):
    phases(("memberships", sync_computed_memberships))
    running = SegmentRun.objects.create(phase="clusters", progress=60)
    _another_run_holds_the_lock(monkeypatch)

    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "recompute_segments"])

    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "A recompute is already running" in err and "clusters 60%" in err
    assert list(SegmentRun.objects.all()) == [running]


def test_the_task_runs_a_recompute_through_celery(phases):
    phases(("memberships", sync_computed_memberships))
    analyst = UserFactory(is_staff=True)

    outcome = recompute_segments_task.delay(full=True, requested_by_id=analyst.pk).get()

    run = SegmentRun.objects.get()
    assert outcome == {"run": run.pk, "status": "done", "error": ""}
    assert (run.full, run.requested_by, run.status) == (True, analyst, RunStatus.DONE)


def test_the_task_reports_a_refusal_without_starting_a_run(phases, monkeypatch):
    phases(("memberships", sync_computed_memberships))
    SegmentRun.objects.create(phase="facts")
    _another_run_holds_the_lock(monkeypatch)

    outcome = recompute_segments_task.delay().get()

    assert outcome["status"] == "refused" and outcome["run"] is None
    assert SegmentRun.objects.count() == 1


def test_beat_runs_an_incremental_recompute_nightly_and_a_full_one_weekly():
    nightly = settings.CELERY_BEAT_SCHEDULE["segments-recompute-nightly"]
    weekly = settings.CELERY_BEAT_SCHEDULE["segments-recompute-weekly-full"]

    assert nightly["task"] == weekly["task"] == "segments.tasks.recompute_segments_task"
    assert (nightly["kwargs"], weekly["kwargs"]) == ({"full": False}, {"full": True})
    assert isinstance(nightly["schedule"], crontab)
    assert (nightly["schedule"].hour, nightly["schedule"].minute) == ({2}, {30})
    assert (weekly["schedule"].hour, weekly["schedule"].minute) == ({2}, {30})
    assert weekly["schedule"].day_of_week == {0}  # Sunday
    assert nightly["schedule"].day_of_week == {1, 2, 3, 4, 5, 6}
