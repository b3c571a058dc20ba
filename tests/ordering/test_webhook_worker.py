"""Webhook delivery through real Celery workers on Redis and committed PostgreSQL transactions.

1. An order change is delivered by a worker to a real receiver, signed.
2. A worker killed mid-delivery (SIGKILL of a `celery worker` process after its claim committed,
   while the receiver holds the request) loses nothing: once the lease ends the sweep queues the
   delivery again, another worker delivers it with the same `Webhook-Id`, and exactly one delivery
   row ends delivered."""

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection, connections
from django.utils import timezone

from ordering.models import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from ordering.services.transitions import order_transition
from ordering.services.webhooks import webhooks_sweep
from ordering.signing import webhook_signature_verify
from storefront.celery import app
from tests.ordering.builders import make_order
from tests.ordering.conftest import build_world
from tests.ordering.webhook_receiver import running_receiver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 4


@pytest.fixture
def webhook_queue(requires_postgres, requires_redis, settings):
    """A queue of this test's own on the Redis broker, with tasks really sent to it."""
    queue = f"webhooks-test-{uuid.uuid4().hex[:12]}"
    settings.WEBHOOK_QUEUE = queue
    settings.WEBHOOK_LEASE_SECONDS = LEASE_SECONDS
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield queue
    finally:
        app.conf.task_always_eager = eager
        with contextlib.suppress(Exception), app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
            redis = conn.default_channel.client
            for key in redis.scan_iter(f"*{queue}*"):  # kombu's bindings of the queue
                redis.delete(key)
            for tag, message in redis.hscan_iter("unacked"):  # the killed worker's message
                if queue.encode() in message:
                    redis.hdel("unacked", tag)
                    redis.zrem("unacked_index", tag)


def _close_worker_connections(**kwargs):
    # The embedded worker runs tasks in its own thread: close its connections after each task,
    # so the test database can be flushed and dropped.
    connections.close_all()


@contextlib.contextmanager
def embedded_worker(queue):
    task_postrun.connect(_close_worker_connections, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False,
                          queues=[queue], shutdown_timeout=30):
            yield
    finally:
        task_postrun.disconnect(_close_worker_connections)


def _worker_process(queue: str, log_path: Path) -> subprocess.Popen:
    """`celery worker` in a process of its own, on this test's database and queue."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings.base",
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WEBHOOK_QUEUE": queue,
        "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    log = log_path.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "storefront", "worker", "-P", "solo", "-c", "1",
         "-Q", queue, "-n", f"{queue}@%h", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def _wait_until(predicate, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _delivered(event) -> bool:
    return WebhookDelivery.objects.filter(event=event, state=DeliveryState.DELIVERED).exists()


def test_a_worker_delivers_an_order_event_to_the_receiver(webhook_queue):
    world = build_world()
    with running_receiver() as receiver, embedded_worker(webhook_queue):
        endpoint = WebhookEndpoint.objects.create(organisation=world.trust, url=receiver.url)
        order = make_order(world, "allocated")

        order_transition(order=order, action="ship", actor_buyer=None)  # commits, queues

        event = OutboxEvent.objects.get(order=order)
        assert receiver.wait_for(1), "the worker never delivered the event"
        assert _wait_until(lambda: _delivered(event))

    [request] = receiver.requests
    assert request.headers["Webhook-Id"] == str(event.id)
    assert webhook_signature_verify(
        secret=endpoint.secret, timestamp=request.headers["Webhook-Timestamp"],
        body=request.body, signature=request.headers["Webhook-Signature"],
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.attempts, delivery.last_status_code) == (endpoint, 1, 200)


def test_a_worker_killed_mid_delivery_loses_nothing(webhook_queue, tmp_path):
    world = build_world()
    log_path = tmp_path / "killed-worker.log"
    with running_receiver() as receiver:
        receiver.hold_first = True
        endpoint = WebhookEndpoint.objects.create(organisation=world.trust, url=receiver.url)
        order = make_order(world, "allocated")
        order_transition(order=order, action="ship", actor_buyer=None)
        event = OutboxEvent.objects.get(order=order)

        # A worker process takes the dispatch and the delivery; the receiver holds its request.
        process = _worker_process(webhook_queue, log_path)
        try:
            arrived = receiver.first_arrived.wait(90)
            claimed = WebhookDelivery.objects.get()
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        assert arrived, "the worker process never sent the event:\n" + log_path.read_text()
        receiver.release.set()  # its answer goes to a dead socket

        # The claim was committed before the request: the row is pending, leased, one attempt.
        assert process.returncode == -signal.SIGKILL
        assert (claimed.state, claimed.attempts) == (DeliveryState.PENDING, 1)
        assert claimed.next_attempt_at > claimed.last_attempt_at
        lease_end = claimed.next_attempt_at

        with embedded_worker(webhook_queue):
            # Within the lease nothing is attempted again…
            assert webhooks_sweep(
                now=lease_end - datetime.timedelta(seconds=1)
            ).deliveries_queued == 0
            # …after it, the periodic sweep (run by the worker) queues it and it is delivered.
            time.sleep(max((lease_end - timezone.now()).total_seconds(), 0) + 0.2)
            app.send_task("ordering.tasks.webhooks_sweep", queue=webhook_queue)
            assert receiver.wait_for(2), "the sweep did not deliver the event again"
            assert _wait_until(lambda: _delivered(event))

    ids = [r.headers["Webhook-Id"] for r in receiver.requests]
    assert ids == [str(event.id), str(event.id)]  # the consumer deduplicates by Webhook-Id
    assert all(
        webhook_signature_verify(secret=endpoint.secret, timestamp=r.headers["Webhook-Timestamp"],
                                 body=r.body, signature=r.headers["Webhook-Signature"])
        for r in receiver.requests
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)
    assert OutboxEvent.objects.count() == 1
