"""The embedded scheduler: under `make run` (no broker) Celery beat's schedule runs in-process."""

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from celery import current_app, shared_task
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from storefront.scheduler import EmbeddedScheduler, load_tasks

ROOT = Path(__file__).resolve().parent.parent
CALLS: list[str] = []


@shared_task(name="tests.scheduler.probe")
def probe(label="probe"):
    CALLS.append(label)
    return label


@shared_task(name="tests.scheduler.broken")
def broken():
    raise RuntimeError("this job fails")


def test_every_scheduled_job_names_a_task_a_worker_and_the_embedded_scheduler_know():
    load_tasks()

    missing = [item["task"] for item in settings.CELERY_BEAT_SCHEDULE.values()
               if item["task"] not in current_app.tasks]

    assert settings.CELERY_BEAT_SCHEDULE
    assert missing == []


def test_an_interval_job_first_runs_after_the_start_delay_and_then_on_its_interval():
    CALLS.clear()
    scheduler = EmbeddedScheduler(
        {"probe": {"task": "tests.scheduler.probe", "schedule": 60.0, "args": ("tick",)}},
        first_delay=5,
    )
    start = timezone.now()

    scheduler.tick(start + timedelta(seconds=1))
    assert CALLS == []
    scheduler.tick(start + timedelta(seconds=6))
    assert CALLS == ["tick"]
    scheduler.tick(start + timedelta(seconds=30))
    assert CALLS == ["tick"]
    wait = scheduler.tick(start + timedelta(seconds=67))
    assert CALLS == ["tick", "tick"]
    assert 0.5 <= wait <= 30


def test_a_crontab_job_runs_at_its_time_and_not_before():
    CALLS.clear()
    scheduler = EmbeddedScheduler(
        {"nightly": {"task": "tests.scheduler.probe", "args": ("nightly",),
                     "schedule": crontab(hour=2, minute=30)}},
    )
    entry = scheduler.entries[0]
    entry.last_run_at = timezone.localtime().replace(hour=3, minute=0, second=0, microsecond=0)
    next_night = entry.last_run_at + timedelta(days=1)

    scheduler.tick(next_night.replace(hour=2, minute=29))
    assert CALLS == []
    scheduler.tick(next_night.replace(hour=2, minute=30, second=1))
    assert CALLS == ["nightly"]


def test_a_failing_job_is_counted_and_logged_and_the_others_still_run(caplog):
    CALLS.clear()
    logger = logging.getLogger("storefront.scheduler")
    logger.addHandler(caplog.handler)  # a task run may have reset the root logger's handlers
    scheduler = EmbeddedScheduler({
        "a-broken": {"task": "tests.scheduler.broken", "schedule": 10.0},
        "b-probe": {"task": "tests.scheduler.probe", "schedule": 10.0},
    }, first_delay=0)

    scheduler.tick(timezone.now() + timedelta(seconds=11))

    broken_entry, probe_entry = scheduler.entries
    assert (broken_entry.runs, broken_entry.failures) == (1, 1)
    assert (probe_entry.runs, probe_entry.failures) == (1, 0)
    assert CALLS == ["probe"]
    logger.removeHandler(caplog.handler)
    assert "a-broken (tests.scheduler.broken) failed" in caplog.text


def test_the_embedded_server_runs_every_scheduled_job_in_its_own_process(tmp_path):
    """What `make run` starts: the development server on SQLite with no broker, and beside it the
    schedule, running the real jobs against the real database."""
    env = {
        **os.environ, "DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "storefront.settings.base",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    server = subprocess.Popen(
        [*manage, "run_embedded", "--noreload", "127.0.0.1:0"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    every = settings.CELERY_BEAT_SCHEDULE
    jobs = sorted(name for name, item in every.items() if isinstance(item["schedule"], float | int))
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            output.append(line)
            ran = {job for job in jobs if any(f"scheduler: ran {job} (" in o for o in output)}
            if ran == set(jobs) or "failed" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = "".join(output)

    assert "Scheduled jobs run in this process" in text
    for name in every:  # crontab jobs (the nightly segment recompute) wait for their time
        assert name in text.split("Scheduled jobs run in this process:")[1].splitlines()[0]
    for job in jobs:
        assert f"scheduler: ran {job} (" in text, text
    assert "failed" not in text
