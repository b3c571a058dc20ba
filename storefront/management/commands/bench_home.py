"""`python manage.py bench_home`: time the front page of demo personas against the current
database and cache (load the demo first): per persona, the median and 95th percentile of
`--requests` warm page views, and the queries of one warm and one cold view (after a rules
change, when nothing is cached)."""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from segments.versioning import bump_rules_version

PERSONAS = ("nhs.approver@demo.test", "nhs.budget@demo.test", "clinic.buyer@demo.test",
            "distributor.north@demo.test", "patient@demo.test", None)
HOST = "localhost"


def _client(email: str | None) -> Client:
    client = Client(HTTP_HOST=HOST)
    if email:
        client.force_login(User.objects.get(email=email))
    return client


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    return len(queries)


def _times_ms(client: Client, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get("/")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return sorted(times)


class Command(BaseCommand):
    help = "Time the front page of the demo personas (p50, p95, queries warm and cold)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50)

    def handle(self, *args, **options):
        rows = [("persona", "p50 ms", "p95 ms", "queries warm", "queries cold")]
        for email in PERSONAS:
            client = _client(email)
            for _ in range(3):
                client.get("/")
            warm = _queries(client)
            times = _times_ms(client, options["requests"])
            bump_rules_version()
            cold = _queries(client)
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            rows.append((email or "visitor", f"{statistics.median(times):.1f}", f"{p95:.1f}",
                         str(warm), str(cold)))
        for row in rows:
            self.stdout.write(f"{row[0]:<30}" + "".join(f"{cell:>14}" for cell in row[1:]))
