"""Benchmark the staff reports over the segments benchmark's world (100,000 buyers and 2,000,000
order lines by default; `--small` for a quick run): compute the segments if none are computed
yet, time the full rebuild of the reporting aggregates, add orders and time an incremental
refresh, then request every report page as a superuser and as a rep (a staff user who may view
some organisations) and report each page's median time and query count.

The pages are those `insights.urls` declares in `BENCH_PAGES` — a list of `(url name, kwargs,
query)` variants, where the url name is within the `insights` namespace unless it names its own,
`kwargs` is a dict or a callable returning one (called once the data exists) and `query` a dict
of GET parameters — or, when it declares none, every pattern of `insights.urls` without
arguments.

Everything runs in one transaction that is rolled back (`--keep` commits it). As with
`bench_segments`, `bench_segments --only-generate --keep` once and then `--reuse` here times the
reports again and again over the same data without generating it each time."""

import datetime
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count, Max
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import URLPattern, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import Organisation, User
from catalog.models import Product
from insights.models import PricingMonitor
from insights.services.aggregates import rebuild, refresh
from insights.services.monitors import monitor_create
from insights.tasks import warm_monitors
from ordering.models import Order
from segments.management.commands import bench_segments as world
from segments.models import Audience, Segment, SegmentKind, SegmentMovement

PAGE_TARGET_MS = 300
STAFF_DOMAIN = "@bench-staff.invalid"
REP_ORGANISATIONS = 200
NEW_ORDERS = 1_000


def bench_pages() -> list[tuple[str, object, dict]]:
    """The page variants to time: `insights.urls.BENCH_PAGES`, else every pattern without
    arguments."""
    from insights import urls

    declared = getattr(urls, "BENCH_PAGES", None)
    if declared is not None:
        return [(name, kwargs, dict(query or {})) for name, kwargs, query in declared]
    return [(p.name, {}, {}) for p in urls.urlpatterns
            if isinstance(p, URLPattern) and p.name and not p.pattern.regex.groups]


def _url(name: str, kwargs, query: dict) -> str:
    kwargs = kwargs() if callable(kwargs) else (kwargs or {})
    full = name if ":" in name else f"insights:{name}"
    url = reverse(full, kwargs=kwargs)
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def _foreign_keys(when: str) -> None:
    """A rebuild's commit checks its rows' foreign keys; inside this run's transaction they are
    checked as the rows are written instead (IMMEDIATE), so the timings hold that work."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS ALL {when}")


def _add_orders(generator, count: int) -> None:
    """Orders placed over the last day, stamped as written now (the generator dates a row's
    `updated_at` at its `placed_at`, as for history): what a refresh finds after real orders."""
    first = (Order.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
    generator.orders(order_count_cap=count, recent=True)
    Order.objects.filter(pk__gte=first).update(updated_at=timezone.now())


def _staff(email: str, *, superuser: bool) -> User:
    user = User(email=email, full_name=email.split("@")[0].replace("-", " ").title(),
                is_staff=True, is_superuser=superuser)
    user.set_unusable_password()
    user.save()
    return user


def _rep() -> User:
    """A staff user who may view the reports and a few hundred organisations (guardian)."""
    rep = _staff(f"rep{STAFF_DOMAIN}", superuser=False)
    rep.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=("insights", "accounts", "segments"),
        codename__startswith="view_",
    ))
    organisations = Organisation.objects.filter(name__startswith=world.NAME_PREFIX).order_by("pk")
    assign_perm("accounts.view_organisation", rep, organisations[:REP_ORGANISATIONS])
    return rep


def _time_page(client: Client, url: str, repeat: int) -> tuple[float, int, int]:
    """Median milliseconds over `repeat` requests after a first one, the query count of the
    last, and its status."""
    client.get(url)
    timings, queries, status = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        queries, status = len(captured), response.status_code
    return statistics.median(timings), queries, status


class Command(BaseCommand):
    help = ("Time the rebuild and refresh of the reporting aggregates and every report page over "
            "generated buyers and order lines (rolled back unless --keep).")

    def add_arguments(self, parser):
        parser.add_argument("--buyers", type=int, default=100_000)
        parser.add_argument("--lines", type=int, default=2_000_000)
        parser.add_argument("--small", action="store_true",
                            help=f"{world.SMALL['buyers']} buyers, {world.SMALL['lines']:,} lines")
        parser.add_argument("--seed", type=int, default=12)
        parser.add_argument("--orders", type=int, default=NEW_ORDERS,
                            help="orders added before the incremental refresh")
        parser.add_argument("--repeat", type=int, default=5, help="requests timed per page")
        parser.add_argument("--force", action="store_true",
                            help="run even though the database holds other data")
        parser.add_argument("--keep", action="store_true", help="commit what the run wrote")
        parser.add_argument("--reuse", action="store_true",
                            help="use the data a `bench_segments --only-generate --keep` run "
                            "left instead of generating it")
        parser.add_argument("--output", help="write the results as the Reports section of this "
                            "markdown file (e.g. docs/performance.md)")

    def handle(self, *args, **options):
        buyers, lines = options["buyers"], options["lines"]
        if options["small"]:
            buyers, lines = world.SMALL["buyers"], world.SMALL["lines"]
        if not options["force"] and world._has_real_data():
            raise CommandError("The database holds organisations, products or orders of its own: "
                               "run the benchmark on an empty database, or pass --force.")
        kept = Product.objects.filter(sku__startswith=world.SKU_PREFIX).exists()
        if kept != options["reuse"]:
            raise CommandError("Benchmark data kept by an earlier run is in the database: "
                               "pass --reuse." if kept else "No kept benchmark data to reuse: "
                               "run bench_segments --only-generate --keep first.")
        self.phases, self.pages = [], []
        with transaction.atomic():
            generator, counts = self._world(options, buyers, lines)
            self._aggregates(generator, options["orders"])
            self._monitor()
            self._time_pages(options["repeat"])
            if not options["keep"]:
                transaction.set_rollback(True)
        report = self._report(counts)
        self.stdout.write(report)
        if options["output"]:
            _write_section(Path(options["output"]), report)

    def _phase(self, name: str, work):
        started = time.perf_counter()
        result = work()
        self.phases.append((name, time.perf_counter() - started))
        for step, seconds in (getattr(result, "timings", None) or {}).items():
            self.phases.append((f"· {step}", float(seconds)))
        return result

    def _world(self, options, buyers: int, lines: int):
        now = timezone.now()
        if options["reuse"]:
            generator = world.Generator.load(seed=options["seed"], now=now)
            counts = world._kept_counts(generator)
        else:
            generator = world.Generator(buyers=buyers, lines=lines, seed=options["seed"], now=now)
            counts = self._phase("generate", lambda: self._generate(generator))
        if not SegmentMovement.objects.exists():
            from segments.services import recompute_segments

            self._phase("segment recompute (full)", lambda: recompute_segments(full=True))
        return generator, counts

    def _generate(self, generator) -> dict:
        generator.catalogue()
        generator.buyers_rows()
        counts = generator.orders()
        counts["segments"] = world._computed_segments()
        world._analyse_generated()
        counts["buyers"] = generator.buyers
        counts["products"] = len(generator.products)
        return counts

    def _aggregates(self, generator, orders: int) -> None:
        _foreign_keys("IMMEDIATE")
        self.rebuilt = self._phase("full rebuild", rebuild)
        _foreign_keys("DEFERRED")  # the generator writes lines before their orders
        self._phase(f"add {orders:,} orders", lambda: _add_orders(generator, orders))
        _foreign_keys("IMMEDIATE")
        self.refreshed = self._phase("incremental refresh", refresh)

    def _monitor(self) -> None:
        """A pricing monitor over the largest computed segment of organisations, started eight
        weeks ago: its groups frozen, then its figures worked out as each refresh does."""
        segment = (Segment.objects.filter(kind=SegmentKind.COMPUTED,
                                          audience=Audience.ORGANISATIONS, is_active=True)
                   .annotate(size=Count("computed_members")).order_by("-size", "pk")
                   .first())
        if segment is None:
            return
        monitor = PricingMonitor(
            name=f"Price change for {segment.name}", segment=segment, change="Benchmark change",
            starts_on=timezone.localdate() - datetime.timedelta(weeks=8), weeks_before=12,
        )
        self._phase("pricing monitor: freeze groups", lambda: monitor_create(monitor=monitor))
        self._phase("pricing monitor: figures (after each refresh)",
                    lambda: warm_monitors([monitor]))

    def _time_pages(self, repeat: int) -> None:
        # The test client names its host "testserver": allowed for these in-process requests.
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            self._time_each_page(repeat)

    def _time_each_page(self, repeat: int) -> None:
        users = {"superuser": _staff(f"admin{STAFF_DOMAIN}", superuser=True), "rep": _rep()}
        for name, kwargs, query in bench_pages():
            url = _url(name, kwargs, query)
            for label, user in users.items():
                client = Client()
                client.force_login(user)
                ms, queries, status = _time_page(client, url, repeat)
                self.pages.append((url, label, ms, queries, status))

    def _report(self, counts: dict) -> str:
        head = (f"{counts['buyers']:,} buyers, {counts['products']:,} products, "
                f"{counts['orders']:,} orders, {counts['lines']:,} order lines; "
                f"{connection.vendor}, {timezone.now():%d %b %Y}.\n\n")
        out = ["| phase | seconds | rows |", "|---|---|---|"]
        for name, seconds in self.phases:
            rows = ""
            if name == "full rebuild":
                rows = _rows(self.rebuilt)
            elif name == "incremental refresh":
                rows = _rows(self.refreshed)
            out.append(f"| {name} | {seconds:.2f} | {rows} |")
        pages = ["| page | as | median ms | queries | status | target |",
                 "|---|---|---|---|---|---|"]
        for url, label, ms, queries, status in self.pages:
            verdict = f"≤ {PAGE_TARGET_MS} ms {'✓' if ms <= PAGE_TARGET_MS else '✗'}"
            pages.append(f"| `{url}` | {label} | {ms:.0f} | {queries} | {status} | {verdict} |")
        if not self.pages:
            pages.append("| (no report page declared in insights.urls) | | | | | |")
        return head + "\n".join(out) + "\n\n" + "\n".join(pages) + "\n"


def _rows(run) -> str:
    return (f"{run.sales_rows:,} sales rows, {run.buyer_days:,} buyer-days, "
            f"{run.segment_sizes:,} segment sizes")


def _write_section(path: Path, table: str) -> None:
    """Replace the "## Reports" section of `path` (or append one) with the results."""
    section = (
        "## Reports\n\n"
        "`python manage.py bench_insights` (`insights/management/commands/bench_insights.py`) "
        "uses the segments benchmark's generator (`bench_segments`), computes the segments "
        "when none are, times the full rebuild of the reporting aggregates (`SalesDay`, "
        "`BuyerDay`, `SegmentSize`), adds orders and times an incremental refresh, then "
        "requests every report page of `insights.urls` as a superuser and as a rep (staff, "
        "allowed to view a few hundred organisations): the median of the timed requests after "
        "a first one, in-process through the test client (server time), and the query count. "
        "Rows under a phase are its steps; foreign keys are checked as rows are written (as "
        "a rebuild's commit checks them), so the times hold that work. "
        "Everything is rolled back at the end. The suite runs it with `--small` "
        "(`tests/insights/test_bench.py`).\n\n" + table + "\n"
    )
    text = path.read_text() if path.exists() else ""
    start = text.find("## Reports\n")
    if start == -1:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    path.write_text(text)

