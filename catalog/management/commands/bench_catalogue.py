"""Benchmark the category listing page: the real view through Django's test Client, signed in as an
NHS trust buyer, a private clinic, a distributor and a retail consumer, on a generated world of
20,000 products and a million price rows (catalog.management.catalogue_bench.py).

Per buyer and state — warm (every fragment cached), priced (the page's prices and availability
asked of the rules on each request) and cold (tree, facet, listing and offer fragments rebuilt) —
it reports the queries of a page (warm: page 1, a later page and 96 rows instead of 24; priced: 24
and 96 rows; each set must be equal and within the budget) and the median and 95th percentile of
the whole request in milliseconds. `--profile` adds cProfile listings, `--explain` EXPLAIN ANALYZE
of every query of a warm, a priced and a cold page (PostgreSQL).
"""

import contextlib
import cProfile
import io
import math
import os
import pstats
import re
import statistics
import time
from dataclasses import dataclass, field
from unittest import mock

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Organisation, Site
from catalog import views
from catalog.management.catalogue_bench import (
    BUYERS,
    Spec,
    build_world,
    clear_world,
    find_world,
    world_sizes,
)
from catalog.models import Catalog, Category, Product
from catalog.selectors import FacetFilters
from ordering.models import Stock
from pricing.models import Contract, PriceList, PriceListItem
from segments.models import SegmentMembership
from segments.resolver import resolve
from segments.versioning import bump_rules_version
from territories.models import TerritoryRestriction, TerritoryRight

QUERY_BUDGET = 8
TIME_BUDGET_MS = 25
LARGE_PAGE = 96
TIMED_PAGES = 5
ANALYZED_MODELS = (Product, Category, Catalog, Stock, PriceList, PriceListItem, Contract,
                   Organisation, Site, SegmentMembership, TerritoryRight, TerritoryRestriction)


@dataclass
class BuyerResult:
    """Queries and milliseconds of one buyer's category page in three states: warm (every fragment
    cached), priced (prices and availability asked of the rules for the page: the set-based rules'
    own cost) and cold (the tree, facet, listing and offer fragments all rebuilt)."""

    key: str
    label: str
    in_category: int
    warm_queries: dict[str, int] = field(default_factory=dict)
    priced_queries: dict[str, int] = field(default_factory=dict)
    cold_queries: int = 0
    warm_ms: list[float] = field(default_factory=list)
    priced_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)

    @property
    def within_budget(self) -> bool:
        """Warm pages and priced pages each cost the same queries at every page and page size,
        and no more than the budget."""
        return all(
            len(set(counts.values())) == 1 and max(counts.values()) <= QUERY_BUDGET
            for counts in (self.warm_queries, self.priced_queries)
        )


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


@contextlib.contextmanager
def _as_default(alias: str):
    """Let the pages (which read the default database) read `alias` for the benchmark."""
    if alias == DEFAULT_DB_ALIAS:
        yield
        return
    previous = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections[alias]
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = previous


@contextlib.contextmanager
def _offers_asked_each_time():
    """Pages whose prices and availability are asked of the rules on every request (the offers
    fragment neither read nor kept): what the rules themselves cost."""
    with (
        mock.patch.object(views, "cached_offers", lambda buyer, ids: None),
        mock.patch.object(views, "offers", views.offers_now),
    ):
        yield


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


class Command(BaseCommand):
    help = "Time the category listing page per buyer kind on a generated 20k-product world."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=20_000)
        parser.add_argument("--price-rows", type=int, default=1_000_000)
        parser.add_argument("--organisations", type=int, default=2_000)
        parser.add_argument("--runs", type=int, default=40,
                            help="timed requests per buyer and state (warm, priced, cold)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true",
                            help="keep the generated world (the next run with the same sizes "
                                 "reuses it)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            choices=list(settings.DATABASES),
                            help="database alias (default: the configured default database)")
        parser.add_argument("--profile", action="store_true",
                            help="print cProfile listings of warm, priced and cold pages")
        parser.add_argument("--explain", action="store_true",
                            help="print EXPLAIN ANALYZE of each query of a warm, a priced and a "
                                 "cold page")

    def handle(self, *args, **options):
        if min(options["products"], options["organisations"], options["runs"]) < 1:
            raise CommandError("--products, --organisations and --runs must be positive.")
        self.options = options
        spec = Spec(options["products"], options["price_rows"], options["organisations"],
                    options["seed"])
        with _as_default(options["database"]):
            self._header()
            world = self._world(spec)
            try:
                self.results = [
                    self._bench_buyer(key, label, world.users[key], world)
                    for key, label in BUYERS
                ]
            finally:
                if not options["keep"]:
                    started = time.perf_counter()
                    with transaction.atomic():
                        clear_world()
                    bump_rules_version()
                    self.out(f"bench world removed in {time.perf_counter() - started:.1f}s "
                             "(--keep keeps it for the next run)")
        self._report()

    def out(self, text: str = "") -> None:
        self.stdout.write(text)

    # ---- the world -----------------------------------------------------------------------------

    def _header(self) -> None:
        name = connection.settings_dict["NAME"]
        version = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = f" {cursor.fetchone()[0]}"
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        self.out(f"database: {connection.vendor}{version} ({name}); cache: {backend}; "
                 f"DEBUG={settings.DEBUG}")
        self.out(f"machine: {_cores()} cores, load average {_load()} at start")

    def _world(self, spec: Spec):
        started = time.perf_counter()
        world = find_world(spec)
        if world is not None:
            self.out("reusing the stored bench world (same sizes and seed)")
        else:
            with transaction.atomic():
                clear_world()
                world = build_world(spec, self.out)
            self._analyze()
            self.out(f"world built in {time.perf_counter() - started:.1f}s")
        bump_rules_version()
        sizes = world_sizes()
        self.out("world: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
        return world

    def _analyze(self) -> None:
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            return
        tables = {m._meta.db_table for m in ANALYZED_MODELS}
        tables |= {f.remote_field.through._meta.db_table
                   for m in (Catalog, PriceList) for f in m._meta.local_many_to_many}
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in sorted(tables):
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")

    # ---- one buyer -----------------------------------------------------------------------------

    def _get(self, client, url, page=1, *, expected_rows=None):
        response = client.get(url, {"page": page})
        if response.status_code != 200:
            raise CommandError(f"{url}?page={page} answered {response.status_code}")
        if expected_rows is not None:
            rows = response.content.decode().count('data-sku="')
            if rows != expected_rows:
                raise CommandError(f"{url}?page={page} shows {rows} products, not {expected_rows}")
        return response

    def _queries(self, client, url, page, expected_rows) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            self._get(client, url, page, expected_rows=expected_rows)
        return len(queries), [q["sql"] for q in queries.captured_queries]

    def _timed(self, client, url, pages: int, before=None) -> list[float]:
        times = []
        for i in range(self.options["runs"]):
            if before:
                before()
            started = time.perf_counter()
            self._get(client, url, 1 + i % pages)
            times.append((time.perf_counter() - started) * 1000)
        return times

    def _bench_buyer(self, key, label, user, world) -> BuyerResult:
        host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and h[0] != "."),
                    "localhost")
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        url = reverse("category_browse", args=[world.category_slug])
        first = self._get(client, url).content.decode()  # warms session, context, fragments
        found = re.search(r"of (\d+) product", first)
        total = int(found[1]) if found else 0
        size = views.PAGE_SIZE
        pages = max(math.ceil(total / size), 1)
        later, timed_pages = min(3, pages), min(pages, TIMED_PAGES)

        def rows(page, page_size=size):
            return max(min(page_size, total - (page - 1) * page_size), 0)

        result = BuyerResult(key, label, total)
        for page in range(1, timed_pages + 1):
            self._get(client, url, page)  # every timed page warm
        result.warm_queries["page 1"], warm_sql = self._queries(client, url, 1, rows(1))
        if later > 1:
            result.warm_queries[f"page {later}"], _ = self._queries(
                client, url, later, rows(later))
        with mock.patch.object(views, "PAGE_SIZE", LARGE_PAGE):
            self._get(client, url)
            result.warm_queries[f"{LARGE_PAGE} rows"], _ = self._queries(
                client, url, 1, rows(1, LARGE_PAGE))
        # Priced: the page's prices and availability asked of the rules on every request.
        with _offers_asked_each_time():
            result.priced_queries[f"{size} rows"], priced_sql = self._queries(
                client, url, 1, rows(1))
            with mock.patch.object(views, "PAGE_SIZE", LARGE_PAGE):
                result.priced_queries[f"{LARGE_PAGE} rows"], _ = self._queries(
                    client, url, 1, rows(1, LARGE_PAGE))
            result.priced_ms = self._timed(client, url, timed_pages)

        buyer = resolve(user)
        fragments = [views.fragment_key(buyer, "tree"),
                     views.fragment_key(buyer, "facets", world.category_id),
                     views.fragment_key(buyer, "listing", world.category_id, FacetFilters().key)]
        if not all(k and cache.get(k) is not None for k in fragments):
            raise CommandError("the page's fragments are not where fragment_key says")

        def cold():
            cache.delete_many(fragments)
            views.forget_local_fragments()

        result.warm_ms = self._timed(client, url, timed_pages)
        with _offers_asked_each_time():
            cold()
            result.cold_queries, cold_sql = self._queries(client, url, 1, rows(1))
            result.cold_ms = self._timed(client, url, 1, before=cold)
            if self.options["profile"]:
                self._profile(label, "priced", lambda: self._get(client, url))
                self._profile(label, "cold", lambda: (cold(), self._get(client, url)))
        if self.options["profile"]:
            self._profile(label, "warm", lambda: self._get(client, url))
        if self.options["explain"] and connection.vendor == "postgresql":
            self._explain(label, "warm", warm_sql)
            self._explain(label, "priced", priced_sql)
            self._explain(label, "cold", cold_sql)
        return result

    def _profile(self, label, state, call) -> None:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(self.options["runs"]):
            call()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
        self.out(f"\n--- cProfile, {label}, {state}, {self.options['runs']} pages ---")
        self.out(text.getvalue())

    def _explain(self, label, state, queries: list[str]) -> None:
        self.out(f"\n--- EXPLAIN ANALYZE, {label}, {state} page: {len(queries)} queries ---")
        with connection.cursor() as cursor:
            for n, sql in enumerate(queries, 1):
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
                self.out(f"\n[{n}] {sql[:300]}{'…' if len(sql) > 300 else ''}")
                self.out("\n".join(plan))

    # ---- the report ----------------------------------------------------------------------------

    def _report(self) -> None:
        runs = self.options["runs"]
        self.out(f"\nCategory page ({views.PAGE_SIZE} products with prices and availability), "
                 f"{runs} requests per buyer and state; ms = whole request through the test "
                 "Client (middleware included). warm: every fragment cached; priced: prices and "
                 "availability asked of the rules for the page; cold: tree, facets, listing and "
                 "offers rebuilt.")
        self.out(f"load average {_load()} at the end\n")
        self.out(f"| buyer | products in category | queries warm (page 1 / later page / "
                 f"{LARGE_PAGE} rows) | queries priced ({views.PAGE_SIZE} / {LARGE_PAGE} rows) "
                 "| queries cold | warm ms median / p95 | priced ms median / p95 | "
                 "cold ms median / p95 |")
        self.out("|---|---|---|---|---|---|---|---|")
        for r in self.results:
            warm = " / ".join(str(n) for n in r.warm_queries.values())
            priced = " / ".join(str(n) for n in r.priced_queries.values())
            self.out(f"| {r.label} | {r.in_category:,} | {warm} | {priced} | {r.cold_queries} | "
                     f"{median(r.warm_ms):.1f} / {p95(r.warm_ms):.1f} | "
                     f"{median(r.priced_ms):.1f} / {p95(r.priced_ms):.1f} | "
                     f"{median(r.cold_ms):.1f} / {p95(r.cold_ms):.1f} |")
        over = [r.label for r in self.results if not r.within_budget]
        slow = [r.label for r in self.results if median(r.warm_ms) > TIME_BUDGET_MS]
        self.out(f"\nqueries: warm and priced pages within {QUERY_BUDGET}, equal at every page "
                 f"and page size: {'yes' if not over else 'NO — ' + ', '.join(over)}")
        self.out(f"time: warm median within {TIME_BUDGET_MS} ms: "
                 f"{'yes' if not slow else 'NO — ' + ', '.join(slow)}")
        if over:
            raise CommandError(f"query budget exceeded for {', '.join(over)}")
