"""Benchmark the segment recompute: generate organisations, consumers, products and 24 months of
counted orders (PostgreSQL COPY; plain inserts on SQLite), time a full recompute, add 1,000 new
orders and time an incremental one, with each phase's wall time and the process's peak memory.

Buyers behave as real ones do, so the analysis has structure to find: each has a cadence (weekly
to yearly), a favourite category, a basket size by kind; some lapse, some never order. Every
generated row carries the bench prefix, and everything runs in one transaction that is rolled back
at the end (`--keep` commits it), so nothing of the benchmark stays in the database.

To time the recompute again and again without generating each time: `--only-generate --keep` once,
then `--reuse` as often as needed (each run's recompute and new orders are rolled back); delete the
kept data by hand (or drop the database) when done."""

import datetime
import json
import random
import resource
import time
import tracemalloc
from array import array
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, User
from catalog.models import Category, Manufacturer, Product
from catalog.services import category_save, manufacturer_save
from ordering.models import Order, OrderLine

NAME_PREFIX = "Bench "
EMAIL_DOMAIN = "@bench.invalid"
SKU_PREFIX = "BENCH-"
NUMBER_PREFIX = "BN"
DAYS = 730  # 24 months
SMALL = {"buyers": 300, "lines": 5_000}
TARGETS = {"full recompute": 20.0, "incremental recompute": 2.0}
# A recompute's own phases without the follow-ups other apps add (SEGMENTS_FOLLOW_UP_PHASES):
# the aims are for these.
SEGMENT_PHASES = ", segment phases"
MEMORY_TARGET_MB = 1536
AREAS = ("SE", "N", "E", "LS", "M", "B", "BS", "G", "CF", "NE", "L", "EH", "PL", "EX", "NG", "LE",
         "S", "OX", "CB", "BN", "SO", "NR", "YO", "HU", "CV", "DE", "BD", "SA", "AB", "BT")
ORGANISATION_KINDS = (("nhs_trust", 1), ("private_clinic", 4), ("gp_practice", 4),
                      ("care_home", 4), ("pharmacy", 2), ("distributor", 1))
CADENCES = (7, 14, 30, 61, 91, 182, 365)
ORGANISATION_CADENCE_WEIGHTS = (10, 15, 30, 15, 15, 10, 5)
CONSUMER_CADENCE_WEIGHTS = (2, 5, 20, 20, 23, 15, 15)
CATEGORIES = ("Wound care", "Continence", "Mobility aids", "Infection control", "Diagnostics",
              "Respiratory", "Orthopaedics", "Theatre consumables", "Cardiology", "Daily living",
              "Pain relief", "Examination gloves")
PRODUCTS_PER_BUYER = 50  # 2,000 products for 100,000 buyers; at least 60


def _row_template(model, overrides: dict) -> tuple[list[str], list]:
    """Every concrete column of `model` (but the id) with its default, then `overrides`: raw
    inserts must name every NOT NULL column, since Django keeps defaults out of the schema."""
    now = timezone.now()
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.attname not in overrides:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if isinstance(field, models.JSONField):
            value = json.dumps(value)
        columns.append(field.column)
        values.append(overrides.get(field.attname, value))
    return columns, values


class _Inserter:
    """Rows into one table: COPY on PostgreSQL, an executemany INSERT elsewhere. Rows are tuples
    in the order of `columns`."""

    def __init__(self, model, columns: list[str]):
        self.model, self.columns, self.buffer = model, columns, []

    def __enter__(self):
        if connection.vendor == "postgresql":
            from psycopg import sql

            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(self.model._meta.db_table),
                sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
            )
            connection.ensure_connection()
            self._cursor = connection.connection.cursor()
            self._copy_manager = self._cursor.copy(statement)
            self._copy = self._copy_manager.__enter__()
        return self

    def write(self, row) -> None:
        if connection.vendor == "postgresql":
            self._copy.write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= 5_000:
            self._flush()

    def _flush(self) -> None:
        table, names = self.model._meta.db_table, ", ".join(self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        adapt = connection.ops.adapt_datetimefield_value
        rows = [tuple(adapt(v) if isinstance(v, datetime.datetime) else v for v in row)
                for row in self.buffer]
        with connection.cursor() as cursor:
            # Table and column names come from the model's own metadata.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        self.buffer = []

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            self._copy_manager.__exit__(*exc)
            self._cursor.close()
        elif exc[0] is None:
            self._flush()


def _insert(model, overrides: dict, rows) -> None:
    """Rows for `model`: each row is a dict of the columns that vary (the same keys for all)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns, template = _row_template(model, {**overrides, **first})
    names = [f.column for f in model._meta.concrete_fields if f.attname in first]
    positions = [columns.index(name) for name in names]
    keys = [f.attname for f in model._meta.concrete_fields if f.attname in first]
    with _Inserter(model, columns) as inserter:
        for row in _chain(first, rows):
            values = list(template)
            for position, key in zip(positions, keys, strict=True):
                values[position] = row[key]
            inserter.write(values)


def _chain(first, rest):
    yield first
    yield from rest


def _next_ids(model, count: int) -> int:
    """The first of `count` ids to give new rows of `model` explicitly; on PostgreSQL its
    sequence is moved past them."""
    table = model._meta.db_table
    start = (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                           [table, start + count])
    return start


def _money(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _cost_pence(product_id: int, pence: int) -> int:
    """A product's cost price: 40 to 65% of its price, fixed by its id (no draw from the seed's
    stream, so the generated world stays the same)."""
    return pence * (40 + product_id % 26) // 100


class Generator:
    """The benchmark's world, drawn from one seed."""

    def __init__(self, *, buyers: int, lines: int, seed: int, now: datetime.datetime):
        self.rng, self.now = random.Random(seed), now
        self.buyers, self.lines = buyers, lines
        self.organisations = max(1, round(buyers * 0.3))
        self.consumers = buyers - self.organisations
        self.products: list[tuple[int, int, int, int]] = []  # (id, category index, pence, vat %)
        self.by_category: list[list[int]] = []
        self.placers: list[int] = []  # placing user per buyer (organisation's member or consumer)
        self.organisation_ids: list[int | None] = []
        self.kinds: list[str] = []
        self.homes: dict[int, int] = {}  # each buyer's favourite category

    # -- reference rows -----------------------------------------------------------------------
    def catalogue(self) -> None:
        maker = manufacturer_save(manufacturer=Manufacturer(
            name=f"{NAME_PREFIX}Medical Ltd", slug="bench-medical"))
        root = category_save(category=Category(name=f"{NAME_PREFIX}catalogue", slug="bench-root"))
        categories = [category_save(category=Category(
            name=f"{NAME_PREFIX}{name}", slug=f"bench-{i}", parent=root, position=i))
            for i, name in enumerate(CATEGORIES)]
        count = max(60, self.buyers * PRODUCTS_PER_BUYER // 2500)
        first = _next_ids(Product, count)
        rows = []
        for n in range(count):
            index = self.rng.randrange(len(categories))
            pence = round(self.rng.lognormvariate(7.0, 1.0)) + 50
            vat = 0 if self.rng.random() < 0.15 else 20
            self.products.append((first + n, index, pence, vat))
            rows.append({"id": first + n, "sku": f"{SKU_PREFIX}{n:06d}",
                         "name": f"{NAME_PREFIX}{CATEGORIES[index].lower()} item {n}",
                         "slug": f"bench-item-{n}", "category_id": categories[index].pk,
                         "manufacturer_id": maker.pk, "gtin": f"29{n:012d}",
                         "device_class": "I", "vat_category": "zero" if vat == 0 else "standard",
                         "cost_price": _money(_cost_pence(first + n, pence)) + "00"})
        _insert(Product, {}, rows)
        self.by_category = [[] for _ in categories]
        for position, (_pk, index, _p, _v) in enumerate(self.products):
            self.by_category[index].append(position)

    def buyers_rows(self) -> None:
        rng, now = self.rng, self.now
        first_org = _next_ids(Organisation, self.organisations)
        kinds = [k for k, _ in ORGANISATION_KINDS]
        weights = [w for _, w in ORGANISATION_KINDS]
        organisations = []
        for n in range(self.organisations):
            area = rng.choice(AREAS)
            organisations.append({
                "id": first_org + n, "name": f"{NAME_PREFIX}organisation {n}",
                "kind": rng.choices(kinds, weights)[0],
                "size_band": rng.choice(("micro", "small", "medium", "large", "enterprise")),
                "customer_tier": rng.choice("ABCCC"), "postcode": f"{area}1 1AA",
                "postcode_area": area, "credit_limit": "10000.00", "created_at": now,
            })
        _insert(Organisation, {}, organisations)
        users = self.organisations + self.consumers
        first_user = _next_ids(User, users)
        people = []
        for n in range(users):
            area = rng.choice(AREAS)
            people.append({"id": first_user + n, "email": f"buyer{n}{EMAIL_DOMAIN}",
                           "full_name": f"{NAME_PREFIX}buyer {n}", "password": "!",
                           "postcode": f"{area}2 2BB", "postcode_area": area})
        _insert(User, {"is_active": True}, people)
        _insert(Membership, {"is_active": True}, (
            {"user_id": first_user + n, "organisation_id": first_org + n, "is_buyer": True}
            for n in range(self.organisations)))
        self.placers = list(range(first_user, first_user + users))
        self.organisation_ids = [first_org + n for n in range(self.organisations)]
        self.organisation_ids += [None] * self.consumers
        self.kinds = [o["kind"] for o in organisations] + ["consumer"] * self.consumers

    @classmethod
    def load(cls, *, seed: int, now: datetime.datetime) -> "Generator":
        """The world a `--keep` run left in the database, enough to add orders to it: products
        (prices drawn again from the seed), buyers and who places their orders."""
        products = list(Product.objects.filter(sku__startswith=SKU_PREFIX).order_by("pk")
                        .values_list("pk", "category__slug", "vat_category"))
        organisations = list(Organisation.objects.filter(name__startswith=NAME_PREFIX)
                             .order_by("pk").values_list("pk", "kind"))
        placers = list(User.objects.filter(email__endswith=EMAIL_DOMAIN).order_by("pk")
                       .values_list("pk", flat=True))
        lines = OrderLine.objects.filter(order__number__startswith=NUMBER_PREFIX).count()
        generator = cls(buyers=len(placers), lines=lines, seed=seed, now=now)
        generator.organisations = len(organisations)
        generator.consumers = len(placers) - len(organisations)
        generator.by_category = [[] for _ in CATEGORIES]
        for position, (pk, slug, vat) in enumerate(products):
            index = int(slug.removeprefix("bench-"))
            pence = round(generator.rng.lognormvariate(7.0, 1.0)) + 50
            generator.products.append((pk, index, pence, 0 if vat == "zero" else 20))
            generator.by_category[index].append(position)
        generator.placers = placers
        generator.organisation_ids = [pk for pk, _ in organisations]
        generator.organisation_ids += [None] * generator.consumers
        generator.kinds = [kind for _, kind in organisations] + ["consumer"] * generator.consumers
        return generator

    # -- orders --------------------------------------------------------------------------------
    def order_days(self, buyer: int) -> list[float]:
        """Days before now of one buyer's orders: a cadence from a start day, perhaps stopping
        (lapsed); one buyer in ten never orders."""
        rng = self.rng
        if rng.random() < 0.1:
            return []
        consumer = self.organisation_ids[buyer] is None
        weights = CONSUMER_CADENCE_WEIGHTS if consumer else ORGANISATION_CADENCE_WEIGHTS
        cadence = rng.choices(CADENCES, weights)[0]
        start = DAYS * rng.random() ** 0.5
        stop = rng.uniform(60, max(start, 61)) if rng.random() < 0.15 else 0.0
        days, day = [], start
        while day > stop:
            days.append(day)
            day -= cadence * rng.uniform(0.75, 1.25)
        return days

    def orders(self, *, order_count_cap: int | None = None, recent: bool = False) -> dict:
        """Draw the orders (24 months, or `recent`: the last day) and their lines, write the lines
        then the orders (the order foreign key is checked at commit)."""
        rng, buyers = self.rng, self.buyers
        owner, when = array("i"), array("d")
        if recent:
            for _ in range(order_count_cap):
                owner.append(rng.randrange(buyers))
                when.append(rng.uniform(0.0, 1.0))
            lines = order_count_cap * 3
        else:
            for buyer in range(buyers):
                for day in self.order_days(buyer):
                    owner.append(buyer)
                    when.append(day)
            lines = self.lines
            if len(owner) * 2 > lines:  # at least two lines an order on average: thin the orders
                keep = [i for i in range(len(owner)) if rng.random() < lines / (2.0 * len(owner))]
                owner = array("i", (owner[i] for i in keep))
                when = array("d", (when[i] for i in keep))
        count = len(owner)
        if count == 0:
            return {"orders": 0, "lines": 0}
        lines = max(lines, count)
        per_order = array("H", [1]) * count
        weights = [1 if self.organisation_ids[b] is None else 4 for b in owner]
        cumulative, total = array("d"), 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)
        for index in rng.choices(range(count), cum_weights=cumulative, k=lines - count):
            per_order[index] += 1
        first_order = _next_ids(Order, count)
        net, vat = array("q", [0]) * count, array("q", [0]) * count
        self._write_lines(first_order, owner, per_order, net, vat)
        self._write_orders(first_order, owner, when, net, vat)
        return {"orders": count, "lines": lines}

    def _write_lines(self, first_order, owner, per_order, net, vat) -> None:
        rng, products, homes = self.rng, self.products, self.homes
        def rows():
            for index, buyer in enumerate(owner):
                if buyer not in homes:
                    homes[buyer] = rng.randrange(len(self.by_category))
                consumer = self.organisation_ids[buyer] is None
                for _ in range(per_order[index]):
                    category = homes[buyer] if rng.random() < 0.7 else rng.randrange(
                        len(self.by_category))
                    pool = self.by_category[category] or range(len(products))
                    product_id, _c, pence, rate = products[rng.choice(pool)]
                    quantity = rng.randint(1, 3) if consumer else rng.randint(1, 24)
                    line_net = pence * quantity
                    line_vat = (line_net * rate + 50) // 100
                    net[index] += line_net
                    vat[index] += line_vat
                    yield {"order_id": first_order + index, "product_id": product_id,
                           "quantity": quantity, "unit_price": _money(pence) + "00",
                           "list_unit_price": _money(pence) + "00",
                           "unit_cost": _money(_cost_pence(product_id, pence)) + "00",
                           "vat_rate": f"0.{rate:02d}0", "line_net": _money(line_net),
                           "line_vat": _money(line_vat), "line_gross": _money(line_net + line_vat),
                           "price_source": "retail" if consumer else "list",
                           "allocated_quantity": quantity, "shipped_quantity": quantity}

        _insert(OrderLine, {}, rows())

    def _write_orders(self, first_order, owner, when, net, vat) -> None:
        rng, now = self.rng, self.now

        def rows():
            for index, buyer in enumerate(owner):
                consumer = self.organisation_ids[buyer] is None
                placed = now - datetime.timedelta(days=when[index])
                state = "cancelled" if rng.random() < 0.05 else (
                    "delivered" if when[index] > 7 else rng.choice(
                        ("submitted", "allocated", "shipped")))
                workflow = "retail" if consumer else (
                    "distributor" if self.kinds[buyer] == "distributor" else "institutional")
                order_id = first_order + index
                yield {"id": order_id, "number": f"{NUMBER_PREFIX}{order_id:012d}",
                       "workflow": workflow, "state": state,
                       "placed_by_id": self.placers[buyer],
                       "organisation_id": self.organisation_ids[buyer],
                       "payment_method": "card" if consumer else "account",
                       "total_net": _money(net[index]), "total_vat": _money(vat[index]),
                       "total_gross": _money(net[index] + vat[index]),
                       "erp_reference": "BENCH", "placed_at": placed, "updated_at": placed,
                       "delivery_postcode": f"{AREAS[order_id % len(AREAS)]}1 1AA"}

        _insert(Order, {}, rows())


def _computed_segments() -> int:
    """Computed segments for every RFM group, value tier and lapsing in both audiences, so the
    memberships phase writes what a real shop's would."""
    from segments.models import (
        Audience,
        ComputedBasis,
        RfmGroup,
        Segment,
        SegmentKind,
        ValueTier,
    )

    bases = [(ComputedBasis.RFM_GROUP, g) for g in RfmGroup.values]
    bases += [(ComputedBasis.VALUE_TIER, t) for t in ValueTier.values]
    bases += [(ComputedBasis.LAPSED, "")]
    segments = [
        Segment(code=f"bench-{audience[:4]}-{basis}-{value}".rstrip("-").replace("_", "-"),
                name=f"{NAME_PREFIX}{audience} {basis} {value}".strip(), kind=SegmentKind.COMPUTED,
                audience=audience, basis=basis, basis_value=value)
        for audience in Audience.values for basis, value in bases
    ]
    Segment.objects.bulk_create(segments)
    return len(segments)


def _analyse_generated() -> None:
    """Statistics of the generated tables, as autovacuum keeps them in a real database: without
    them the planner, inside this one transaction, would plan for the tables as they were."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Organisation, User, Membership, Product, Order, OrderLine):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _kept_counts(generator: Generator) -> dict:
    from segments.models import Segment

    return {"buyers": generator.buyers, "products": len(generator.products),
            "orders": Order.objects.filter(number__startswith=NUMBER_PREFIX).count(),
            "lines": generator.lines,
            "segments": Segment.objects.filter(code__startswith="bench-").count()}


def _has_real_data() -> bool:
    return (
        Organisation.objects.exclude(name__startswith=NAME_PREFIX).exists()
        or Product.objects.exclude(sku__startswith=SKU_PREFIX).exists()
        or Order.objects.exclude(number__startswith=NUMBER_PREFIX).exists()
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = ("Time the full and incremental segment recompute over generated buyers and order "
            "lines (built in a transaction that is rolled back unless --keep).")

    def add_arguments(self, parser):
        parser.add_argument("--buyers", type=int, default=100_000)
        parser.add_argument("--lines", type=int, default=2_000_000)
        parser.add_argument("--small", action="store_true",
                            help=f"{SMALL['buyers']} buyers and {SMALL['lines']:,} lines")
        parser.add_argument("--seed", type=int, default=12)
        parser.add_argument("--force", action="store_true",
                            help="run even though the database holds other data")
        parser.add_argument("--keep", action="store_true", help="commit the generated data")
        parser.add_argument("--reuse", action="store_true",
                            help="time the recompute over the data an earlier --only-generate "
                            "--keep run left (the recompute is still rolled back)")
        parser.add_argument("--only-generate", action="store_true",
                            help="generate and time that alone (no recompute)")
        parser.add_argument("--tracemalloc", action="store_true",
                            help="also trace Python allocations per phase (slower)")
        parser.add_argument("--output", help="write the results as the Segments section of "
                            "this markdown file (e.g. docs/performance.md)")

    def handle(self, *args, **options):
        buyers, lines = options["buyers"], options["lines"]
        if options["small"]:
            buyers, lines = SMALL["buyers"], SMALL["lines"]
        if not options["force"] and _has_real_data():
            raise CommandError("The database holds organisations, products or orders of its own: "
                               "run the benchmark on an empty database, or pass --force.")
        kept = Product.objects.filter(sku__startswith=SKU_PREFIX).exists()
        if kept != options["reuse"]:
            raise CommandError("Benchmark data kept by an earlier run is in the database: "
                               "pass --reuse." if kept else "No kept benchmark data to reuse: "
                               "run with --only-generate --keep first.")
        self.tracing, self.rows = options["tracemalloc"], []
        with transaction.atomic():
            if options["reuse"]:
                generator = Generator.load(seed=options["seed"], now=timezone.now())
                counts = _kept_counts(generator)
            else:
                generator = Generator(buyers=buyers, lines=lines, seed=options["seed"],
                                      now=timezone.now())
                counts = self._phase("generate", lambda: self._generate(generator))
            if not options["only_generate"]:
                from segments.services import recompute_segments

                self._phase("full recompute", lambda: recompute_segments(full=True))
                self._phase("add 1,000 orders", lambda: generator.orders(
                    order_count_cap=1_000, recent=True))
                self._phase("incremental recompute", lambda: recompute_segments(full=False))
            if not options["keep"]:
                transaction.set_rollback(True)
        table = self._table(counts)
        self.stdout.write(table)
        if options["output"]:
            _write_section(Path(options["output"]), table)
        return None

    def _generate(self, generator: Generator) -> dict:
        generator.catalogue()
        generator.buyers_rows()
        counts = generator.orders()
        counts["segments"] = _computed_segments()
        _analyse_generated()
        counts["buyers"] = generator.buyers
        counts["products"] = len(generator.products)
        return counts

    def _phase(self, name: str, work):
        if self.tracing:
            tracemalloc.start()
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] / 2**20 if self.tracing else None
        if self.tracing:
            tracemalloc.stop()
        self.rows.append((name, seconds, _peak_mb(), traced))
        timings = getattr(result, "timings", None) or {}
        for sub, sub_seconds in timings.items():
            self.rows.append((f"· {sub}", float(sub_seconds), None, None))
        follow_ups = {phase for phase, _ in settings.SEGMENTS_FOLLOW_UP_PHASES} & set(timings)
        if follow_ups:
            own = sum(float(t) for sub, t in timings.items() if sub not in follow_ups)
            self.rows.append((f"{name}{SEGMENT_PHASES}", own, None, None))
        return result

    def _table(self, counts: dict) -> str:
        head = (f"{counts['buyers']:,} buyers, {counts['products']:,} products, "
                f"{counts['orders']:,} orders, {counts['lines']:,} order lines, "
                f"{counts['segments']} computed segments; "
                f"{connection.vendor}, {timezone.now():%d %b %Y}.\n\n")
        out = ["| phase | seconds | target | peak RSS (MB) | traced peak (MB) |",
               "|---|---|---|---|---|"]
        split = {name.removesuffix(SEGMENT_PHASES) for name, *_ in self.rows
                 if name.endswith(SEGMENT_PHASES)}
        for name, seconds, rss, traced in self.rows:
            target = None if name in split else TARGETS.get(name.removesuffix(SEGMENT_PHASES))
            verdict = "" if target is None else (
                f"≤ {target:g} s {'✓' if seconds <= target else '✗'}")
            out.append(f"| {name} | {seconds:.2f} | {verdict} | "
                       f"{'' if rss is None else f'{rss:,.0f}'} | "
                       f"{'' if traced is None else f'{traced:,.0f}'} |")
        peak = max(r[2] for r in self.rows if r[2] is not None)
        verdict = "✓" if peak <= MEMORY_TARGET_MB else "✗"
        return (head + "\n".join(out) + f"\n\nPeak memory {peak:,.0f} MB "
                f"(target ≤ {MEMORY_TARGET_MB:,} MB {verdict}).\n")


def _write_section(path: Path, table: str) -> None:
    """Replace the "## Segments" section of `path` (or append one) with the results."""
    section = (
        "## Segments\n\n"
        "`python manage.py bench_segments` (`segments/management/commands/bench_segments.py`) "
        "generates buyers (three in ten organisations), products in twelve categories and "
        "24 months of orders — each buyer with a cadence from weekly to yearly, a favourite "
        "category, one in seven lapsing and one in ten never ordering — with PostgreSQL COPY, "
        "analyses the tables (as autovacuum would in a real database), then times a full "
        "recompute, adds 1,000 orders and times an incremental one. Rows "
        "under a phase are the recompute's own phases (`SegmentRun.timings`). Everything is "
        "rolled back at the end (`--only-generate --keep` once, then `--reuse`, times the "
        "recompute again over the same data). The suite runs it with `--small` "
        "(`tests/segments/test_bench_segments.py`).\n\n" + table + "\n"
    )
    text = path.read_text() if path.exists() else ""
    start = text.find("## Segments\n")
    if start == -1:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    path.write_text(text)
