"""The webhook recovery benchmark, short: the README's worker (`celery -A storefront worker -B`)
on Redis and PostgreSQL — and `make run`'s embedded server on SQLite — killed with SIGKILL while
the receiver holds a request open, restarted as before: every event reaches every endpoint, each
distinct event id once processed, repeats only with the same Webhook-Id, within a lease and a
sweep of the restart; and nothing of the run is left behind."""

import contextlib
import io
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Organisation
from ordering.management.commands.bench_webhook_recovery import NAME
from ordering.models import OutboxEvent, WebhookDelivery
from storefront.celery import app

ROOT = Path(__file__).resolve().parents[2]

LEASE_SECONDS = 3
SWEEP_SECONDS = 1
SUMMARY = re.compile(
    r"deliveries: (?P<delivered>\d+) of (?P<expected>\d+) acknowledged; receiver: "
    r"(?P<requests>\d+) requests, (?P<distinct>\d+) distinct \(event id, endpoint\), "
    r"(?P<repeated>\d+) repeated with the same Webhook-Id, (?P<missing>\d+) missing"
)
DELAY = re.compile(r"worst (?P<worst>[\d.]+) s; (?P<interrupted>\d+) interrupted by the kill")
RESTART = re.compile(r"killed .* at \+(?P<killed>[\d.]+) s .* ready at \+(?P<ready>[\d.]+) s")


@pytest.fixture
def bench_queue(requires_postgres, requires_redis, settings):
    """A webhook queue of this run's own on the Redis broker, a short lease and sweep, and tasks
    really sent to the broker."""
    queue = f"webhooks-bench-{uuid.uuid4().hex[:12]}"
    settings.WEBHOOK_QUEUE = queue
    settings.WEBHOOK_LEASE_SECONDS = LEASE_SECONDS
    settings.WEBHOOK_SWEEP_SECONDS = SWEEP_SECONDS
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        with contextlib.suppress(Exception), app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
            redis = conn.default_channel.client
            for key in redis.scan_iter(f"*{queue}*"):
                redis.delete(key)
            for tag, message in redis.hscan_iter("unacked"):  # the killed worker's messages
                if queue.encode() in message:
                    redis.hdel("unacked", tag)
                    redis.zrem("unacked_index", tag)


def _assert_recovered(report: str, expected: int, first_sweep: float = 0) -> None:
    summary, delay, restart = SUMMARY.search(report), DELAY.search(report), RESTART.search(report)
    assert summary and delay and restart, report
    assert int(summary["delivered"]) == int(summary["expected"]) == expected
    assert int(summary["distinct"]) == expected and int(summary["missing"]) == 0
    # The held request came again (same Webhook-Id) once its lease ended; nothing else did.
    assert 1 <= int(summary["repeated"]) <= int(delay["interrupted"])
    assert int(summary["requests"]) == expected + int(summary["repeated"])
    # Worst case: written before the kill, attempted again a lease and a sweep after the restart.
    slack = 15
    assert float(delay["worst"]) <= (float(restart["ready"]) + LEASE_SECONDS + SWEEP_SECONDS
                                     + first_sweep + slack), report


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_every_event_reaches_every_endpoint_after_the_worker_is_killed(bench_queue):
    out = io.StringIO()

    call_command("bench_webhook_recovery", "--events", "6", "--endpoints", "2",
                 "--down-seconds", "1", "--timeout", "120", stdout=out)

    _assert_recovered(out.getvalue(), expected=12)
    assert not Organisation.objects.filter(name=NAME).exists()
    assert OutboxEvent.objects.count() == WebhookDelivery.objects.count() == 0


def test_every_event_is_delivered_after_make_runs_server_is_killed(tmp_path):
    """`make run`: no broker, the server delivers in the request and its scheduler sweeps (its
    first sweep 5 s after start)."""
    env = {
        **os.environ, "DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
        "DJANGO_SETTINGS_MODULE": "storefront.settings.base",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS), "WEBHOOK_SWEEP_SECONDS": str(SWEEP_SECONDS),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True,
                   capture_output=True)

    run = subprocess.run(
        [*manage, "bench_webhook_recovery", "--embedded", "--events", "6", "--endpoints", "2",
         "--down-seconds", "1", "--timeout", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    _assert_recovered(run.stdout, expected=6, first_sweep=5)
    left = subprocess.run(
        [*manage, "shell", "-c", "from ordering.models import OutboxEvent; "
         "print(OutboxEvent.objects.count())"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    assert left.stdout.strip().splitlines()[-1] == "0"
