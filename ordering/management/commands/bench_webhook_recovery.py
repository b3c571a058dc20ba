"""Measure webhook delivery across a worker's death, with the production set-up of the README:
PostgreSQL, Redis as the broker, and `celery -A storefront worker -B -l info` (a worker running
Celery beat's schedule, the webhook sweep included).

A loopback receiver stands in for the organisations' endpoints. Events are written by the outbox
writer of order changes (`outbox_record`); the receiver holds the first request open, the whole
worker (its process group: pool processes and beat) is killed with SIGKILL while it waits, more
events are written while no worker runs, and the worker is started again exactly as before.
The command then waits until every delivery is acknowledged and reports, per event id and
endpoint, how often the receiver saw it, and the worst delay from the event's creation to its
acknowledged delivery. Everything it wrote is deleted at the end; it runs on the database and
broker of its environment, so point it at ones of its own (a staging copy), not at production.

`--embedded` measures the set-up of `make run` instead: no broker and no worker, the server
(`manage.py run_embedded` on this SQLite file) delivers in the request that wrote the event and
sweeps in its scheduler thread. The events are asked of the server through the API (a
`webhook.test` per request, several requests at a time), and the server is what is killed."""

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.keys import ApiKey, ApiScope
from accounts.models import Membership, Organisation, OrganisationKind, User
from ordering.models import (
    DeliveryState,
    Order,
    OrderState,
    OutboxEvent,
    PaymentMethod,
    WebhookDelivery,
    WebhookEndpoint,
)
from ordering.services.outbox import outbox_record
from storefront.api.services import api_key_issue, authorization_header
from storefront.celery import app

ROOT = Path(settings.BASE_DIR)
NAME = "Bench webhook recovery NHS Foundation Trust"
EMAIL = "bench.webhooks@bench.test"
NUMBER = "BENCH-WH-0001"


# The receiver ------------------------------------------------------------------------------------

@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 and records (Webhook-Id, path) per request.
    It holds the first request until `release` is set, so a worker is surely mid-delivery."""

    seen: Counter = field(default_factory=Counter)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.seen[(self.headers["Webhook-Id"], self.path)] += 1
                    first = not receiver.first_arrived.is_set()
                    receiver.first_arrived.set()
                if first:
                    receiver.release.wait(120)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the worker that asked is gone

            def log_message(self, format, *args):
                pass

        return Handler

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


# The worker --------------------------------------------------------------------------------------

def _database_url() -> str:
    """The URL of the database this command uses, so the worker writes to the same one."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_command(schedule_file: Path) -> list[str]:
    """The README's worker, `celery -A storefront worker -B -l info`; its beat keeps its schedule
    in a file of this run, and a webhook queue of its own (`WEBHOOK_QUEUE`) is consumed too."""
    command = [str(Path(sys.executable).with_name("celery")), "-A", "storefront", "worker", "-B",
               "-l", "info", "-s", str(schedule_file)]
    if settings.WEBHOOK_QUEUE:
        command += ["-Q", f"{app.conf.task_default_queue},{settings.WEBHOOK_QUEUE}"]
    return command


def worker_env() -> dict:
    """The worker's environment: this command's database and broker, tasks really queued."""
    return {"DATABASE_URL": _database_url(), "CELERY_TASK_ALWAYS_EAGER": "false",
            "WEBHOOK_QUEUE": settings.WEBHOOK_QUEUE}


def embedded_command(port: int) -> list[str]:
    """`make run`'s server: `manage.py run_embedded`, Celery beat's schedule in its process."""
    return [sys.executable, "manage.py", "run_embedded", "--noreload", f"127.0.0.1:{port}"]


def embedded_env() -> dict:
    """`make run`'s environment (the Makefile's EMBEDDED) on this command's SQLite file."""
    return {"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
            "DJANGO_SETTINGS_MODULE": "storefront.settings.base",
            "SQLITE_PATH": str(connection.settings_dict["NAME"])}


def start_process(command: list[str], log_path: Path, env: dict) -> subprocess.Popen:
    """Start the worker or server in a process group of its own, with this run's lease and
    sweep, its output appended to the log."""
    env = {**os.environ, **env, "WEBHOOK_LEASE_SECONDS": str(settings.WEBHOOK_LEASE_SECONDS),
           "WEBHOOK_SWEEP_SECONDS": str(settings.WEBHOOK_SWEEP_SECONDS)}
    with log_path.open("a") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    """Does a server answer at this address (any HTTP status)?"""
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL the worker's whole process group: main process, pool processes and beat."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def stop_worker(process: subprocess.Popen) -> None:
    """A warm shutdown (SIGTERM), and SIGKILL if it does not end in time."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        kill_worker(process)


# The world and the events ------------------------------------------------------------------------

def bench_world_delete() -> None:
    organisations = Organisation.objects.filter(name=NAME)
    ApiKey.objects.filter(organisation__in=organisations).delete()
    Membership.objects.filter(organisation__in=organisations).delete()
    WebhookEndpoint.objects.filter(organisation__in=organisations).delete()
    OutboxEvent.objects.filter(organisation__in=organisations).delete()
    Order.objects.filter(number=NUMBER).delete()
    organisations.delete()
    User.objects.filter(email=EMAIL).delete()


def bench_world(base_url: str, endpoints: int) -> Order:
    """An NHS trust with `endpoints` webhook endpoints on the receiver, and one order whose
    changes the events describe."""
    bench_world_delete()
    trust = Organisation.objects.create(name=NAME, kind=OrganisationKind.NHS_TRUST)
    user = User.objects.create(email=EMAIL, full_name="Bench Buyer")
    for n in range(1, endpoints + 1):
        WebhookEndpoint.objects.create(organisation=trust, url=f"{base_url}/hooks/{n}",
                                       description=f"ERP listener {n}")
    return Order.objects.create(
        number=NUMBER, workflow="institutional", state=OrderState.ALLOCATED, placed_by=user,
        organisation=trust, currency="GBP", payment_method=PaymentMethod.ACCOUNT,
        po_number="PO-BENCH-1",
    )


def bench_key(order: Order) -> str:
    """An `Authorization` header for the trust's admin with `webhooks:manage`, as an ERP has."""
    Membership.objects.create(organisation_id=order.organisation_id, user_id=order.placed_by_id,
                              is_org_admin=True)
    key = ApiKey(organisation_id=order.organisation_id, user_id=order.placed_by_id,
                 name="Bench webhooks", scopes=[ApiScope.WEBHOOKS_MANAGE])
    _, token = api_key_issue(key=key, created_by=order.placed_by)
    return authorization_header(token)


def ping(server: str, endpoint_id: int, authorization: str) -> None:
    """Ask the server for a `webhook.test` event to one endpoint: the server writes the event
    and, under `make run`, delivers it in the same request once committed."""
    with contextlib.suppress(requests.RequestException):
        requests.post(f"{server}/api/v1/webhooks/{endpoint_id}/test/", json={},
                      headers={"Authorization": authorization}, timeout=60)


def emit(order: Order, count: int) -> None:
    """Write `count` order events, one transaction each, as order changes do."""
    for _ in range(count):
        with transaction.atomic():
            outbox_record(order=order, action="ship", from_state=OrderState.ALLOCATED,
                          to_state=OrderState.SHIPPED, comment="Tracking RM-BENCH")


# The measurement ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    deliveries: int
    delivered: int
    received: int
    distinct: int
    duplicates: int
    missing: int
    delays: list[float]
    interrupted: list[float]

    @property
    def worst(self) -> float:
        return max(self.delays, default=0.0)


def outcome(organisation_id: int, receiver: Receiver) -> Outcome:
    rows = list(
        WebhookDelivery.objects.filter(event__organisation_id=organisation_id)
        .values_list("event_id", "endpoint__url", "state", "attempts", "delivered_at",
                     "event__created_at")
    )
    delivered = [r for r in rows if r[2] == DeliveryState.DELIVERED]
    expected = {(str(event_id), urlsplit(url).path) for event_id, url, *_ in rows}
    seen = set(receiver.seen)
    return Outcome(
        deliveries=len(rows), delivered=len(delivered), received=sum(receiver.seen.values()),
        distinct=len(receiver.seen), duplicates=sum(n - 1 for n in receiver.seen.values()),
        missing=len(expected - seen),
        delays=[(at - created).total_seconds() for *_, at, created in delivered],
        interrupted=[(at - created).total_seconds()
                     for *_, attempts, at, created in delivered if attempts > 1],
    )


def wait_for_all(organisation_id: int, expected: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = WebhookDelivery.objects.filter(
            event__organisation_id=organisation_id, state=DeliveryState.DELIVERED).count()
        if done >= expected:
            return True
        time.sleep(0.5)
    return False


class Command(BaseCommand):
    help = (
        "Kill the README's Celery worker (SIGKILL) mid-delivery and measure that every webhook "
        "event reaches every endpoint, and the worst delay (needs PostgreSQL and Redis); with "
        "--embedded, kill `make run`'s server instead (SQLite, no broker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=40,
                            help="events written (default 40; with a worker, half before the "
                            "kill and half while no worker runs)")
        parser.add_argument("--endpoints", type=int, default=3, help="endpoints (default 3)")
        parser.add_argument("--down-seconds", type=float, default=5.0,
                            help="how long nothing runs after the kill (default 5)")
        parser.add_argument("--timeout", type=float, default=600.0,
                            help="give up waiting for the deliveries after this (default 600 s)")
        parser.add_argument("--embedded", action="store_true",
                            help="the embedded set-up of `make run`: `manage.py run_embedded` on "
                            "this SQLite file, events asked of it through the API")

    def handle(self, *args, **options):
        self._check(options)
        # Stopped from outside, still stop the worker or server and delete the bench's rows.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        receiver = Receiver()
        try:
            with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as folder:
                order = bench_world(receiver.base_url, options["endpoints"])
                self.stdout.write(
                    f"lease {settings.WEBHOOK_LEASE_SECONDS} s, sweep every "
                    f"{settings.WEBHOOK_SWEEP_SECONDS:g} s, HTTP timeout "
                    f"{settings.WEBHOOK_TIMEOUT_SECONDS:g} s")
                run = self._run_embedded if options["embedded"] else self._run_worker
                run(order, receiver, Path(folder), options)
        finally:
            receiver.stop()
            bench_world_delete()

    def _check(self, options) -> None:
        if options["events"] < 2 or options["endpoints"] < 1:
            raise CommandError("--events must be at least 2 and --endpoints at least 1.")
        if options["embedded"]:
            if connection.vendor != "sqlite" or not settings.CELERY_TASK_ALWAYS_EAGER or \
                    str(connection.settings_dict["NAME"]).startswith(":memory:"):
                raise CommandError("--embedded needs the set-up of `make run`: an SQLite file "
                                   "and no broker (unset DATABASE_URL and REDIS_URL).")
        elif connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith(
                "redis"):
            raise CommandError("Needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")

    def _run_worker(self, order: Order, receiver: Receiver, folder: Path, options) -> None:
        command = worker_command(folder / "celerybeat-schedule")
        log_path = folder / "worker.log"
        log_path.touch()
        self.stdout.write(f"worker: {' '.join(command[1:])}")
        before, during = options["events"] // 2, options["events"] - options["events"] // 2

        def ready(process) -> None:
            starts = log_path.read_text().count(" ready.")
            self._wait_ready(process, log_path, lambda: log_path.read_text().count(" ready.")
                             > starts)

        worker = start_process(command, log_path, worker_env())
        try:
            ready(worker)
            started = timezone.now()
            emit(order, before)
            if not receiver.first_arrived.wait(120):
                raise CommandError("No delivery arrived:\n" + log_path.read_text()[-3000:])
            kill_worker(worker)
            killed = timezone.now()
            receiver.release.set()
            emit(order, during)
            time.sleep(options["down_seconds"])
            worker = start_process(command, log_path, worker_env())
            ready(worker)
            restarted = timezone.now()
            expected = (before + during) * options["endpoints"]
            complete = wait_for_all(order.organisation_id, expected, options["timeout"])
        finally:
            stop_worker(worker)
        self._report(outcome(order.organisation_id, receiver), started, killed, restarted,
                     expected, complete)

    def _run_embedded(self, order: Order, receiver: Receiver, folder: Path, options) -> None:
        """Under `make run` the server delivers in the request that wrote the event, and its
        scheduler thread sweeps: kill the server while the receiver holds one such request."""
        port = free_port()
        server = f"http://127.0.0.1:{port}"
        command = embedded_command(port)
        log_path = folder / "server.log"
        log_path.touch()
        self.stdout.write(f"server: {' '.join(command[1:])}")
        authorization = bench_key(order)
        endpoints = list(WebhookEndpoint.objects.filter(organisation_id=order.organisation_id)
                         .order_by("pk").values_list("pk", flat=True))
        expected = options["events"]

        process = start_process(command, log_path, embedded_env())
        try:
            self._wait_ready(process, log_path, lambda: answers(server))
            started = timezone.now()
            with ThreadPoolExecutor(max_workers=4) as pool:
                asked = [pool.submit(ping, server, endpoints[n % len(endpoints)], authorization)
                         for n in range(expected)]
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not (
                        receiver.first_arrived.is_set()
                        and sum(f.done() for f in asked) >= expected - 1):
                    time.sleep(0.05)
                kill_worker(process)
                killed = timezone.now()
                receiver.release.set()
            time.sleep(options["down_seconds"])
            process = start_process(command, log_path, embedded_env())
            self._wait_ready(process, log_path, lambda: answers(server))
            restarted = timezone.now()
            complete = wait_for_all(order.organisation_id, expected, options["timeout"])
        finally:
            stop_worker(process)
        self._report(outcome(order.organisation_id, receiver), started, killed, restarted,
                     expected, complete)

    @staticmethod
    def _wait_ready(process: subprocess.Popen, log_path: Path, ready, timeout=120) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None:
                raise CommandError(f"It exited:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise CommandError(f"Not ready within {timeout} s:\n"
                                   f"{log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def _report(self, found: Outcome, started, killed, restarted, expected: int,
                complete: bool) -> None:
        def at(moment) -> str:
            return f"+{(moment - started) / timedelta(seconds=1):.1f} s"

        self.stdout.write(
            f"killed (SIGKILL, process group) at {at(killed)} with a request held open; "
            f"restarted, ready at {at(restarted)}")
        self.stdout.write(
            f"deliveries: {found.delivered} of {expected} acknowledged; receiver: "
            f"{found.received} requests, {found.distinct} distinct (event id, endpoint), "
            f"{found.duplicates} repeated with the same Webhook-Id, {found.missing} missing")
        if found.delays:
            self.stdout.write(
                f"delay from event to acknowledged delivery: median "
                f"{statistics.median(found.delays):.1f} s, worst {found.worst:.1f} s; "
                f"{len(found.interrupted)} interrupted by the kill (attempted again), worst "
                f"{max(found.interrupted, default=0.0):.1f} s")
        if not complete or found.missing or found.delivered != expected:
            raise CommandError("Not every event reached every endpoint.")
