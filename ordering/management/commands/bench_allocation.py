"""Benchmark `allocation_run`: many backordered lines of one product across many organisations
and orders, stock arriving that covers part of the demand, each allocation policy timed with its
query count. Everything is built in one transaction that is rolled back at the end, and each
policy runs in a savepoint rolled back after it, so every policy meets the same backorders and
nothing of the benchmark is left in the database."""

import contextlib
import datetime
import random
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from stdnum import ean

from accounts.models import Organisation, User
from catalog.models import Category, Manufacturer, Product
from ordering.models import AllocationPolicy, Order, OrderLine, OrderState, PaymentMethod, Stock
from ordering.services.allocation import allocation_run, stock_receive

PREFIX = "bench-allocation"
NUMBER_PREFIX = "BENCH-A-"
KINDS = ("nhs_trust", "private_clinic", "distributor", "care_home", "gp_practice")
TIERS = ("A", "B", "C")
UNIT_PRICE = Decimal("10.00")
VAT_RATE = Decimal("0.200")
BATCH = 2000


class _RolledBack(Exception):
    """Raised to leave a savepoint (or the whole benchmark) without keeping anything."""


@contextlib.contextmanager
def _counting_queries():
    """Count every statement sent to the database (not only the last 9,000 the debug log keeps,
    and without keeping their SQL)."""
    counter = {"queries": 0}

    def count(execute, sql, params, many, context):
        counter["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


class Command(BaseCommand):
    help = (
        "Time ordering.services.allocation.allocation_run per policy over generated backorders "
        "(built in a transaction that is rolled back: nothing is kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=10_000,
                            help="backordered order lines of the one product (default 10,000)")
        parser.add_argument("--lines-per-order", type=int, default=4,
                            help="lines per order, one per delivery site (default 4)")
        parser.add_argument("--organisations", type=int, default=500)
        parser.add_argument("--cover", type=float, default=0.4,
                            help="share of the backordered units that arrives (default 0.4)")
        parser.add_argument("--pack-size", type=int, default=5)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--policy", action="append", choices=AllocationPolicy.values, dest="policies",
            help="a policy to time (repeatable; default: every policy)",
        )

    def handle(self, *args, **options):
        if options["lines"] < 1 or options["lines_per_order"] < 1 or options["organisations"] < 1:
            raise CommandError("--lines, --lines-per-order and --organisations must be positive.")
        if not 0 < options["cover"] < 1:
            raise CommandError("--cover is a share of the demand between 0 and 1 (exclusive).")
        self.rng = random.Random(options["seed"])
        policies = options["policies"] or list(AllocationPolicy.values)
        results = []
        try:
            with transaction.atomic():
                started = time.perf_counter()
                product, units, orders = self._build(options)
                arriving = max(int(units * options["cover"]), 1)
                stock_receive(product_id=product.pk, quantity=arriving)
                self._analyze()
                self.out(
                    f"database: {connection.vendor}; {options['lines']:,} backordered lines in "
                    f"{orders:,} orders of {options['organisations']:,} organisations, "
                    f"{units:,} units short, {arriving:,} arriving "
                    f"({options['cover']:.0%}); built in {time.perf_counter() - started:.1f}s"
                )
                for policy in policies:
                    results.append(self._run(product, policy))
                raise _RolledBack
        except _RolledBack:
            pass
        self._report(results)

    def out(self, text: str) -> None:
        self.stdout.write(text)

    # ---- the backorders ------------------------------------------------------------------------

    def _build(self, options) -> tuple[Product, int, int]:
        rng = self.rng
        category, created = Category.objects.get_or_create(
            slug=PREFIX, defaults={"name": "Bench allocation"}
        )
        if created or not category.path:
            category.compute_path()
            category.save()
        maker = Manufacturer.objects.get_or_create(
            slug=PREFIX, defaults={"name": "Bench allocation"}
        )[0]
        base = "97700000000"
        product = Product(
            sku="BENCH-ALLOC-1", name="Bench allocation device", slug=PREFIX, category=category,
            manufacturer=maker, gtin=base + ean.calc_check_digit(base), device_class="I",
            pack_size=options["pack_size"],
        )
        product.full_clean()
        product.save()
        Stock.objects.create(product=product, on_hand=0)
        user = User.objects.create_user(f"{PREFIX}@bench.test", full_name="Bench allocation")

        n_orgs = options["organisations"]
        organisations = Organisation.objects.bulk_create(
            (
                Organisation(
                    name=f"Bench allocation organisation {i:05d}", kind=KINDS[i % len(KINDS)],
                    customer_tier=TIERS[i % len(TIERS)],
                    # one organisation in seven is over its credit limit (credit standing)
                    credit_limit=Decimal("100.00") if i % 7 == 0 else Decimal("1000000.00"),
                )
                for i in range(n_orgs)
            ),
            batch_size=BATCH,
        )
        per_order = options["lines_per_order"]
        n_orders = -(-options["lines"] // per_order)
        quantities = [rng.randint(1, 12) * 5 for _ in range(options["lines"])]
        today = datetime.date.today()
        orders = []
        for i in range(n_orders):
            organisation = organisations[rng.randrange(n_orgs)]
            net = UNIT_PRICE * sum(quantities[i * per_order:(i + 1) * per_order])
            vat = (net * VAT_RATE).quantize(Decimal("0.01"))
            orders.append(Order(
                number=f"{NUMBER_PREFIX}{i:07d}", workflow="institutional",
                state=OrderState.PARTLY_BACKORDERED, placed_by=user,
                organisation_id=organisation.pk, customer_tier=organisation.customer_tier,
                requested_delivery_date=today + datetime.timedelta(days=rng.randint(1, 90))
                if rng.random() < 0.9 else None,
                currency="GBP", total_net=net, total_vat=vat, total_gross=net + vat,
                payment_method=PaymentMethod.ACCOUNT,
            ))
        orders = Order.objects.bulk_create(orders, batch_size=BATCH)
        lines = []
        for n, quantity in enumerate(quantities):
            net = UNIT_PRICE * quantity
            vat = (net * VAT_RATE).quantize(Decimal("0.01"))
            lines.append(OrderLine(
                order_id=orders[n // per_order].pk, product=product, quantity=quantity,
                unit_price=UNIT_PRICE, vat_rate=VAT_RATE, price_source="list",
                line_net=net, line_vat=vat, line_gross=net + vat,
                allocated_quantity=0, backordered_quantity=quantity,
            ))
        OrderLine.objects.bulk_create(lines, batch_size=BATCH)
        return product, sum(quantities), n_orders

    def _analyze(self) -> None:
        """Fresh planner statistics for the tables just filled (PostgreSQL), as a live database
        would have them; they roll back with everything else."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in ("ordering_order", "ordering_orderline", "accounts_organisation",
                          "ordering_stock"):
                cursor.execute(f"ANALYZE {table}")

    # ---- the runs ------------------------------------------------------------------------------

    def _run(self, product: Product, policy: str) -> dict:
        result = {"policy": policy}
        try:
            with transaction.atomic():
                with _counting_queries() as counter:
                    started = time.perf_counter()
                    allocations = allocation_run(product_id=product.pk, policy=policy)
                    result["seconds"] = time.perf_counter() - started
                result["queries"] = counter["queries"]
                result["lines"] = len(allocations)
                result["units"] = sum(a.quantity for a in allocations)
                result["orders_allocated"] = Order.objects.filter(
                    number__startswith=NUMBER_PREFIX, state=OrderState.ALLOCATED
                ).count()
                raise _RolledBack
        except _RolledBack:
            pass
        self.out(
            f"{policy}: {result['lines']:,} lines, {result['units']:,} units, "
            f"{result['orders_allocated']:,} orders allocated, {result['queries']:,} queries, "
            f"{result['seconds']:.2f}s"
        )
        return result

    def _report(self, results) -> None:
        self.out("")
        self.out("| policy | lines served | units allocated | orders fully allocated | queries "
                 "| seconds |")
        self.out("|---|---|---|---|---|---|")
        for r in results:
            self.out(
                f"| {r['policy']} | {r['lines']:,} | {r['units']:,} | {r['orders_allocated']:,} "
                f"| {r['queries']:,} | {r['seconds']:.2f} |"
            )
        self.out("Nothing was kept: the benchmark's transaction was rolled back.")
