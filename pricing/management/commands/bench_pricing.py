"""Benchmark the price engine and the importer on a generated world (run it on its own database)."""

import csv
import datetime
import random
import statistics
import tempfile
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from stdnum import ean

from accounts.models import Organisation
from catalog.models import Catalog, Category, Manufacturer, Product
from pricing.engine import prices_for
from pricing.models import Contract, PriceImport, PriceList, PriceListItem, Quote, QuoteLine
from pricing.services import price_import
from segments.models import Segment
from segments.resolver import BuyerContext, Channel, Workflow

PREFIX = "bench"
ITEM_COLUMNS = (
    "price_list_id",
    "product_id",
    "min_quantity",
    "unit_price",
    "min_order_qty",
    "max_order_qty",
    "order_multiple",
)


def _insert_items(rows) -> int:
    """Bulk-insert price rows: COPY on PostgreSQL, batched inserts elsewhere."""
    count = 0
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY pricing_pricelistitem ({', '.join(ITEM_COLUMNS)}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch = []
    for row in rows:
        batch.append(PriceListItem(**dict(zip(ITEM_COLUMNS, row, strict=True))))
        if len(batch) == 5000:
            PriceListItem.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    PriceListItem.objects.bulk_create(batch)
    return count + len(batch)


class Command(BaseCommand):
    help = "Price pages of 100 products per buyer kind, set-based vs per product, and time imports."

    def add_arguments(self, parser):
        big = connection.vendor == "postgresql"
        parser.add_argument("--products", type=int, default=10_000 if big else 2_000)
        parser.add_argument("--organisations", type=int, default=2_000 if big else 200)
        parser.add_argument("--price-rows", type=int, default=1_000_000 if big else 100_000)
        parser.add_argument("--import-rows", type=int, default=1_000_000 if big else 50_000)
        parser.add_argument("--page", type=int, default=100)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        self.rng = random.Random(options["seed"])
        self.out(
            f"database: {connection.vendor}; products {options['products']:,}, "
            f"organisations {options['organisations']:,}, "
            f"price rows {options['price_rows']:,}"
        )
        started = time.perf_counter()
        with transaction.atomic():
            self._clear()
            buyers = self._build(options)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.out(f"world built in {time.perf_counter() - started:.1f}s")
        self._bench_pages(buyers, options)
        self._bench_import(options)

    def out(self, text: str) -> None:
        self.stdout.write(text)

    # ---- the world -----------------------------------------------------------------------------

    def _clear(self) -> None:
        """Remove an earlier bench world; price rows go with raw deletes (no per-row collector)."""
        lists = PriceList.objects.filter(code__startswith=PREFIX)
        quotes = Quote.objects.filter(number__startswith="BENCH-")
        for queryset in (
            PriceListItem.objects.filter(price_list__in=lists),
            PriceImport.objects.filter(price_list__in=lists),
            QuoteLine.objects.filter(quote__in=quotes),
            quotes,
            Contract.objects.filter(price_list__in=lists),
            PriceList.segments.through.objects.filter(pricelist__in=lists),
            PriceList.organisations.through.objects.filter(pricelist__in=lists),
            PriceList.territories.through.objects.filter(pricelist__in=lists),
            lists,
        ):
            queryset._raw_delete(queryset.db)
        Catalog.objects.filter(code=PREFIX).delete()
        Product.objects.filter(sku__startswith="BENCH-").delete()
        orgs = Organisation.objects.filter(name__startswith="Bench ")
        orgs.filter(parent__isnull=False).delete()
        orgs.delete()
        Segment.objects.filter(code__startswith=PREFIX).delete()

    def _products(self, n: int) -> list[int]:
        category = Category.objects.get_or_create(slug=PREFIX, defaults={"name": "Bench"})[0]
        if not category.path:
            category.compute_path()
            category.save()
        maker = Manufacturer.objects.get_or_create(slug=PREFIX, defaults={"name": "Bench"})[0]
        vat = ["standard"] * 8 + ["reduced", "zero"]
        rows = []
        for i in range(n):
            base = f"9{i:011d}"
            rows.append(
                Product(
                    sku=f"BENCH-{i:06d}",
                    name=f"Bench device {i}",
                    slug=f"bench-device-{i}",
                    category=category,
                    manufacturer=maker,
                    gtin=base + ean.calc_check_digit(base),
                    device_class="I",
                    vat_category=vat[i % 10],
                )
            )
        Product.objects.bulk_create(rows, batch_size=2000)
        catalog = Catalog.objects.create(code=PREFIX, name="Bench")
        catalog.categories.add(category)
        segment = Segment.objects.create(code=f"{PREFIX}-all", name="Bench all", kind="static")
        catalog.segments.add(segment)
        return list(Product.objects.filter(sku__startswith="BENCH-").values_list("pk", flat=True))

    def _organisations(self, n: int) -> tuple[list[int], list[int]]:
        systems = max(n // 50, 1)
        Organisation.objects.bulk_create(
            Organisation(name=f"Bench ICS {i}", kind="ics") for i in range(systems)
        )
        parents = list(
            Organisation.objects.filter(name__startswith="Bench ICS ").values_list("pk", flat=True)
        )
        Organisation.objects.bulk_create(
            (
                Organisation(
                    name=f"Bench trust {i}", kind="nhs_trust", parent_id=parents[i % systems]
                )
                for i in range(n - systems)
            ),
            batch_size=2000,
        )
        trusts = list(
            Organisation.objects.filter(name__startswith="Bench trust ").values_list(
                "pk", flat=True
            )
        )
        return parents, trusts

    def _list(self, code, kind, **extra) -> PriceList:
        return PriceList.objects.create(code=f"{PREFIX}-{code}", name=code, kind=kind, **extra)

    def _build(self, options) -> dict[str, BuyerContext]:
        rng = self.rng
        products = self._products(options["products"])
        systems, trusts = self._organisations(options["organisations"])
        today = datetime.date.today()

        def prices(price_list, product_ids, tiers=(1,)):
            for pid in product_ids:
                base = rng.randint(100, 100_000) / 100
                for n, min_q in enumerate(tiers):
                    yield (price_list.pk, pid, min_q, round(base * (1 - 0.03 * n), 2), 1, None, 1)

        written = _insert_items(prices(self._list("list", "list"), products, (1, 10, 50)))
        written += _insert_items(prices(self._list("retail", "retail"), products))
        segments = {}
        for i in range(20):
            segments[i] = Segment.objects.create(
                code=f"{PREFIX}-seg-{i}", name=f"Seg {i}", kind="static"
            )
            price_list = self._list(f"segment-{i}", "segment" if i % 4 else "promotion")
            price_list.segments.add(segments[i])
            written += _insert_items(
                prices(price_list, rng.sample(products, len(products) // 4), (1, 10))
            )
        remaining = max(options["price_rows"] - written, 0)
        contract_owners = systems + trusts[: max(len(trusts) // 2, 1)]
        per_list = min(max(remaining // len(contract_owners), 1), len(products))
        for n, org_id in enumerate(contract_owners):
            price_list = self._list(f"contract-{n}", "contract")
            Contract.objects.create(
                organisation_id=org_id,
                reference=f"BENCH-{n}",
                lot=str(n % 5 + 1),
                status="active",
                valid_from=today - datetime.timedelta(days=30),
                price_list=price_list,
            )
            written += _insert_items(prices(price_list, rng.sample(products, per_list)))
        lists = PriceList.objects.filter(code__startswith=PREFIX).count()
        self.out(f"price rows written: {written:,} in {lists:,} lists")
        trust = Organisation.objects.get(pk=contract_owners[len(systems)])
        quote = Quote.objects.create(
            organisation=trust,
            number="BENCH-Q1",
            status="accepted",
            expires_on=today + datetime.timedelta(days=30),
        )
        QuoteLine.objects.bulk_create(
            QuoteLine(quote=quote, product_id=pid, quantity=100, unit_price=1)
            for pid in rng.sample(products, 50)
        )
        everyone = f"{PREFIX}-all"
        self.page_products = products

        def business(org, codes, kind="nhs_trust"):
            path = (org.pk, *(a.pk for a in org.ancestors()))
            return BuyerContext(
                organisation_id=org.pk,
                organisation_path=path,
                channel=Channel.B2B,
                workflow=Workflow.INSTITUTIONAL,
                organisation_kind=kind,
                segments=frozenset({everyone, *codes}),
                professional=True,
            )

        clinic = Organisation.objects.get(pk=trusts[-1])
        return {
            "retail consumer": BuyerContext(channel=Channel.B2C, segments=frozenset({everyone})),
            "private clinic": business(clinic, {segments[1].code}),
            "distributor": business(clinic, {segments[2].code, segments[3].code}),
            "NHS trust (own + ICS contract, quote)": business(trust, {segments[5].code}),
        }

    # ---- measurements --------------------------------------------------------------------------

    def _timed(self, call, repeat: int) -> tuple[float, int]:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            call()
        count = len(queries)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000, count

    def _bench_pages(self, buyers, options) -> None:
        page = self.rng.sample(self.page_products, options["page"])
        self.out(f"\nPricing a page of {len(page)} products (median of {options['repeat']} runs)")
        self.out(
            f"{'buyer':40} {'priced':>6} {'queries':>7} {'ms':>8} | {'naive q':>7} "
            f"{'naive ms':>9} | {'ratio':>6}"
        )
        for name, buyer in buyers.items():
            priced = len(prices_for(buyer, page, 10))
            fast_ms, fast_q = self._timed(
                lambda b=buyer: prices_for(b, page, 10), options["repeat"]
            )
            naive_ms, naive_q = self._timed(
                lambda b=buyer: [prices_for(b, [pid], 10) for pid in page],
                max(options["repeat"] // 5, 2),
            )
            self.out(
                f"{name:40} {priced:>6} {fast_q:>7} {fast_ms:>8.1f} | {naive_q:>7} "
                f"{naive_ms:>9.1f} | {naive_ms / fast_ms:>5.1f}x"
            )

    def _bench_import(self, options) -> None:
        rows = options["import_rows"]
        products = list(
            Product.objects.filter(sku__startswith="BENCH-").values_list("sku", flat=True)
        )
        tiers = -(-rows // len(products))
        price_list = self._list("import", "segment")
        with tempfile.NamedTemporaryFile("w+", suffix=".csv", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["sku", "min_quantity", "unit_price", "currency"])
            written = 0
            for tier in range(1, tiers + 1):
                for sku in products:
                    if written == rows:
                        break
                    writer.writerow(
                        [sku, tier, f"{self.rng.randint(100, 99_999) / 100:.2f}", "GBP"]
                    )
                    written += 1
            handle.flush()
            for attempt in ("first import (insert)", "second import (update)"):
                with open(handle.name, "rb") as data:
                    started = time.perf_counter()
                    report = price_import(
                        file=data, price_list=price_list, actor=None, name="bench.csv"
                    )
                    elapsed = time.perf_counter() - started
                assert report.ok, report.errors[:5]
                self.out(
                    f"\nImport, {attempt}: {report.rows:,} rows in {elapsed:.1f}s = "
                    f"{report.rows / elapsed:,.0f} rows/s (checked, then written)"
                )
