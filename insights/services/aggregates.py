# ruff: noqa: S608, S611 -- SQL names only from model metadata and temporary tables; values are parameters
"""The reporting aggregates: `SalesDay`, `BuyerDay` and `SegmentSize`, filled from the counted
order lines so the reports never read raw lines.

What counts is what the segment analysis counts: orders in a `COUNTED_STATES` state, in GBP. The
day is the day of `placed_at` in the site's time zone; the buyer is the order's organisation, or
the consumer who placed it when it names none. A line's postcode area is where the goods went:
its delivery site's, else the order's delivery address's, else the order's site's. The segment
set is the buyer's at the end of the day (`insights.services.segment_sets`).

`rebuild()` empties the tables and fills them again in a fixed number of set-based statements.
`refresh()` rewrites only the buyer-days touched since the last refresh: those of the orders
placed or changed since then (less an overlap for transactions still open then), and every
buyer-day since the day of the last refresh, so a segment recompute in between shows in the
sets of the days it moved. Both write today's `SegmentSize` rows; a rebuild also writes the
computed segments' past sizes from their movement history (static and rule segments keep no
history: their past sizes are those the refreshes of each day wrote).
"""

import datetime
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone

from insights.models import AggregatesState, BuyerDay, SalesDay, SegmentSize
from ordering.models import Order, OrderLine
from segments.analysis import COUNTED_STATES
from segments.models import ComputedMembership, Segment, SegmentKind, SegmentMembership
from storefront.celery import app

from .segment_sets import (
    BUYER_DAYS,
    SPANS,
    analyse,
    buyer_key,
    fill_spans,
    insert_from,
    local_day,
    local_zone,
    name_segment_sets,
    rule_segment_members_of,
    temporary,
)

REFRESH_TASK = "insights.tasks.refresh_aggregates"
CURRENCY = "GBP"
# Orders written by transactions still open when the last refresh read them carry an earlier
# `updated_at`: a refresh looks this far behind the last one to catch them.
OVERLAP = datetime.timedelta(minutes=5)
WORK_MEM = "128MB"

ORDERS = "insights_orders"
TOUCHED = "insights_touched"
SALES = "insights_sales"
DAYS = "insights_days"

FIGURES = ("lines", "units", "revenue", "costed_revenue", "cost", "listed_revenue", "list_value")


@dataclass(frozen=True)
class AggregatesRun:
    """What a rebuild or refresh wrote."""

    full: bool
    buyer_days: int
    sales_rows: int
    segment_sizes: int
    seconds: float
    timings: dict = field(default_factory=dict)

    def __str__(self) -> str:
        kind = "rebuild" if self.full else "refresh"
        return (f"{kind}: {self.sales_rows:,} sales rows, {self.buyer_days:,} buyer-days, "
                f"{self.segment_sizes:,} segment sizes in {self.seconds:.2f} s")


def _quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _delivery_area():
    """The postcode area of the order's delivery address (stored normalised, "SE1 7EH": the
    leading letters), else of the order's site."""
    return Case(
        When(delivery_postcode="", then=Coalesce(F("site__postcode_area"), Value(""))),
        When(Q(second__gte="A") & Q(second__lte="Z"), then=Substr("delivery_postcode", 1, 2)),
        default=Substr("delivery_postcode", 1, 1),
    )


def _counted_orders():
    return Order.objects.filter(state__in=COUNTED_STATES, currency=CURRENCY).alias(
        second=Substr("delivery_postcode", 2, 1),
    ).annotate(
        buyer=buyer_key("organisation_id", "placed_by_id"),
        consumer=Case(When(organisation_id__isnull=True, then=F("placed_by_id"))),
        day=TruncDate("placed_at", tzinfo=local_zone()),
        area=_delivery_area(),
    ).order_by()


def _touched_audiences():
    """The counted orders of the touched buyers, one queryset per audience (each read through
    its own index: the organisation's orders, the consumer's)."""
    orders = _counted_orders()
    return [
        orders.filter(organisation_id__in=RawSQL(
            f"SELECT buyer FROM {TOUCHED} WHERE buyer > 0", [])),
        orders.filter(organisation_id__isnull=True, placed_by_id__in=RawSQL(
            f"SELECT -buyer FROM {TOUCHED} WHERE buyer < 0", [])),
    ]


def _fill_orders(cursor, *, touched: bool) -> None:
    """The counted orders to aggregate (of the touched buyer-days only, when `touched`), then
    their buyer-days."""
    temporary(cursor, ORDERS, "order_id bigint PRIMARY KEY, buyer bigint, organisation_id bigint, "
                              "user_id bigint, day date, area varchar(2)")
    where = (f" WHERE EXISTS (SELECT 1 FROM {TOUCHED} t WHERE t.buyer = c.buyer "
             f"AND t.day = c.day)") if touched else ""
    for orders in (_touched_audiences() if touched else [_counted_orders()]):
        values = orders.values_list("pk", "buyer", "organisation_id", "consumer", "day", "area")
        sql, params = values.query.sql_with_params()
        cursor.execute(
            f"INSERT INTO {ORDERS} (order_id, buyer, organisation_id, user_id, day, area) "
            f"SELECT * FROM ({sql}) c{where}", params,
        )
    analyse(cursor, ORDERS)
    temporary(cursor, BUYER_DAYS, "buyer bigint, organisation_id bigint, user_id bigint, day date, "
                                  "orders integer, set_key text DEFAULT '', segment_set_id bigint, "
                                  "PRIMARY KEY (buyer, day)")
    cursor.execute(
        f"INSERT INTO {BUYER_DAYS} (buyer, organisation_id, user_id, day, orders) "
        f"SELECT buyer, MAX(organisation_id), MAX(user_id), day, COUNT(*) FROM {ORDERS} "
        f"GROUP BY buyer, day"
    )
    analyse(cursor, BUYER_DAYS)


def _money(expression: str) -> str:
    return f"COALESCE(ROUND(SUM({expression}), 2), 0)"


def _fill_sales(cursor) -> None:
    """The lines of the orders grouped at the grain of `SalesDay`, into a temporary table."""
    temporary(cursor, SALES, "buyer bigint, organisation_id bigint, user_id bigint, day date, "
                             "category_id bigint, price_source varchar(12), "
                             "price_list_code varchar(60), postcode_area varchar(2), "
                             "segment_set_id bigint, orders integer, lines integer, "
                             "units bigint, revenue numeric(16, 2), costed_revenue numeric(16, 2), "
                             "cost numeric(16, 2), listed_revenue numeric(16, 2), "
                             "list_value numeric(16, 2)")
    line, product = _quoted(OrderLine), _quoted(apps.get_model("catalog.Product"))
    site = _quoted(apps.get_model("accounts.Site"))
    cursor.execute(f"""
        INSERT INTO {SALES}
        SELECT o.buyer, o.organisation_id, o.user_id, o.day, p.category_id, l.price_source,
            l.price_list_code, COALESCE(s.postcode_area, o.area), d.segment_set_id,
            COUNT(DISTINCT o.order_id), COUNT(*), SUM(l.quantity), {_money('l.line_net')},
            {_money('CASE WHEN l.unit_cost IS NOT NULL THEN l.line_net END')},
            {_money('l.unit_cost * l.quantity')},
            {_money('CASE WHEN l.list_unit_price IS NOT NULL THEN l.line_net END')},
            {_money('l.list_unit_price * l.quantity')}
        FROM {ORDERS} o
        JOIN {BUYER_DAYS} d ON d.buyer = o.buyer AND d.day = o.day
        JOIN {line} l ON l.order_id = o.order_id
        JOIN {product} p ON p.id = l.product_id
        LEFT JOIN {site} s ON s.id = l.site_id
        GROUP BY o.buyer, o.organisation_id, o.user_id, o.day, p.category_id, l.price_source,
            l.price_list_code, COALESCE(s.postcode_area, o.area), d.segment_set_id
    """)
    analyse(cursor, SALES)


def _write_rows(cursor) -> int:
    """Insert the grouped lines as `SalesDay` rows and their sums per buyer-day as `BuyerDay`."""
    keys = ("organisation_id", "user_id", "day", "category_id", "price_source",
            "price_list_code", "postcode_area", "segment_set_id", "orders", *FIGURES)
    cursor.execute(
        f"INSERT INTO {_quoted(SalesDay)} ({', '.join(keys)}) "
        f"SELECT {', '.join(keys)} FROM {SALES}"
    )
    written = cursor.rowcount
    sums = ", ".join(f"SUM(s.{name})" for name in FIGURES)
    cursor.execute(f"""
        INSERT INTO {_quoted(BuyerDay)} (organisation_id, user_id, day, segment_set_id, orders,
            {', '.join(FIGURES)})
        SELECT d.organisation_id, d.user_id, d.day, d.segment_set_id, d.orders, {sums}
        FROM {BUYER_DAYS} d JOIN {SALES} s ON s.buyer = d.buyer AND s.day = d.day
        GROUP BY d.buyer, d.organisation_id, d.user_id, d.day, d.segment_set_id, d.orders
    """)
    return written


def _today_sizes(today: datetime.date) -> int:
    """Today's `SegmentSize` row of every active segment: its members now (computed: the
    analysis's memberships; static: the assigned ones; rule: the buyers its conditions match)."""
    SegmentSize.objects.filter(day=today).delete()
    counts = dict(
        ComputedMembership.objects.filter(segment__is_active=True,
                                          segment__kind=SegmentKind.COMPUTED)
        .order_by().values("segment_id").annotate(n=Count("id")).values_list("segment_id", "n")
    )
    counts.update(
        SegmentMembership.objects.filter(segment__is_active=True, segment__kind=SegmentKind.STATIC)
        .order_by().values("segment_id").annotate(n=Count("id")).values_list("segment_id", "n")
    )
    segments = list(Segment.objects.filter(is_active=True).prefetch_related("conditions"))
    for segment in segments:
        if segment.kind == SegmentKind.RULE:
            counts[segment.pk] = rule_segment_members_of(
                segment, list(segment.conditions.all())).count()
    rows = [SegmentSize(day=today, segment_id=s.pk, members=counts.get(s.pk, 0))
            for s in segments]
    SegmentSize.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _past_sizes(cursor, today: datetime.date) -> int:
    """The computed segments' sizes at the end of each day before today, from the first day with
    an order or a movement: the members without a start, plus the entries and less the exits of
    the spans up to that day."""
    cursor.execute(f"SELECT MIN(day) FROM {ORDERS}")
    first = cursor.fetchone()[0]
    cursor.execute(f"SELECT MIN(start_day), MIN(end_day) FROM {SPANS}")
    firsts = [d for d in (first, *cursor.fetchone()) if d is not None]
    if not firsts:
        return 0
    first = min(_as_date(d) for d in firsts)
    temporary(cursor, DAYS, "day date PRIMARY KEY")
    days = [first + datetime.timedelta(days=n) for n in range((today - first).days)]
    if not days:
        return 0
    adapt = connection.ops.adapt_datefield_value
    cursor.executemany(f"INSERT INTO {DAYS} (day) VALUES (%s)", [(adapt(d),) for d in days])
    segment = _quoted(Segment)
    cursor.execute(f"""
        INSERT INTO {_quoted(SegmentSize)} (day, segment_id, members)
        SELECT g.day, g.segment_id, COALESCE(b.members, 0) + SUM(COALESCE(c.delta, 0)) OVER (
            PARTITION BY g.segment_id ORDER BY g.day ROWS BETWEEN UNBOUNDED PRECEDING
            AND CURRENT ROW)
        FROM (SELECT s.id AS segment_id, d.day FROM {segment} s CROSS JOIN {DAYS} d
              WHERE s.is_active AND s.kind = %s) g
        LEFT JOIN (
            SELECT segment_id, day, SUM(delta) AS delta FROM (
                SELECT segment_id, start_day AS day, 1 AS delta FROM {SPANS}
                WHERE start_day IS NOT NULL
                UNION ALL
                SELECT segment_id, end_day, -1 FROM {SPANS} WHERE end_day IS NOT NULL
            ) moves GROUP BY segment_id, day
        ) c ON c.segment_id = g.segment_id AND c.day = g.day
        LEFT JOIN (
            SELECT segment_id, COUNT(*) AS members FROM {SPANS} WHERE start_day IS NULL
            GROUP BY segment_id
        ) b ON b.segment_id = g.segment_id
    """, [SegmentKind.COMPUTED])
    written = cursor.rowcount
    cursor.execute(f"DROP TABLE {DAYS}")
    return written


def _delete_rebuilt_sizes(today: datetime.date) -> None:
    """The sizes a rebuild writes again: today's, and every day's of the computed segments.
    The past sizes of static and rule segments, which keep no history of their own, stay as the
    refreshes of those days wrote them."""
    SegmentSize.objects.filter(
        Q(day=today) | Q(segment__kind=SegmentKind.COMPUTED)
    ).delete()


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _count(cursor, table: str) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    return cursor.fetchone()[0]


def _drop(cursor, *tables: str) -> None:
    for table in tables:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


STATE_PK = 1


def _state(*, wait: bool = True) -> AggregatesState | None:
    """The one state row, locked until the transaction ends: one rebuild or refresh at a time.
    Without `wait`, None when another one holds it."""
    AggregatesState.objects.get_or_create(pk=STATE_PK)
    return (AggregatesState.objects.select_for_update(skip_locked=not wait)
            .filter(pk=STATE_PK).first())


def _prepare(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


class _Steps:
    """Seconds per step of a rebuild or refresh, for the benchmark and the command."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self._last = now


def rebuild(*, now: datetime.datetime | None = None) -> AggregatesRun:
    """Empty the aggregates and fill them again from every counted order line, in one
    transaction; past segment sizes of computed segments from their movement history."""
    now = now or timezone.now()
    started, steps = time.perf_counter(), _Steps()
    with transaction.atomic(), connection.cursor() as cursor:
        _prepare(cursor)
        state = _state()
        for model in (SalesDay, BuyerDay):
            cursor.execute(f"DELETE FROM {_quoted(model)}")
        _delete_rebuilt_sizes(local_day(now))
        steps.done("empty")
        _fill_orders(cursor, touched=False)
        steps.done("orders")
        fill_spans(cursor)
        steps.done("segment spans")
        name_segment_sets(cursor)
        steps.done("segment sets")
        _fill_sales(cursor)
        steps.done("group lines")
        sales_rows = _write_rows(cursor)
        buyer_days = _count(cursor, BUYER_DAYS)
        steps.done("write rows")
        sizes = _past_sizes(cursor, local_day(now)) + _today_sizes(local_day(now))
        steps.done("segment sizes")
        _drop(cursor, ORDERS, BUYER_DAYS, SALES, SPANS)
        seconds = time.perf_counter() - started
        state.refreshed_at = state.rebuilt_at = now
        state.rebuild_seconds = round(seconds, 3)
        state.save()
    return AggregatesRun(True, buyer_days, sales_rows, sizes, time.perf_counter() - started,
                         steps.timings)


def _fill_touched(cursor, since: datetime.datetime) -> None:
    """The buyer-days to rewrite: of every order changed since `since` (whatever its state or
    currency: a cancelled order's day is rewritten without it), and every buyer-day from the
    day of `since` on."""
    zone = local_zone()
    start_of_day = datetime.datetime.combine(local_day(since), datetime.time(), tzinfo=zone)
    changed = Order.objects.filter(
        Q(updated_at__gt=since) | Q(placed_at__gte=start_of_day)
    ).annotate(
        buyer=buyer_key("organisation_id", "placed_by_id"),
        day=TruncDate("placed_at", tzinfo=zone),
    ).order_by().values_list("buyer", "day").distinct()
    temporary(cursor, TOUCHED, "buyer bigint, day date")
    insert_from(cursor, TOUCHED, "buyer, day", changed)
    analyse(cursor, TOUCHED)


def _delete_touched(cursor) -> None:
    """Delete the rows of the touched buyer-days (through the tables' buyer and day indexes)."""
    for model in (SalesDay, BuyerDay):
        table = _quoted(model)
        cursor.execute(f"DELETE FROM {table} WHERE (organisation_id, day) IN "
                       f"(SELECT buyer, day FROM {TOUCHED} WHERE buyer > 0)")
        cursor.execute(f"DELETE FROM {table} WHERE (user_id, day) IN "
                       f"(SELECT -buyer, day FROM {TOUCHED} WHERE buyer < 0)")


def refresh(*, now: datetime.datetime | None = None, wait: bool = True) -> AggregatesRun | None:
    """Rewrite the buyer-days touched since the last refresh from their raw lines, and today's
    segment sizes, in one transaction (a rebuild when the aggregates were never built).

    Without `wait`, a refresh that finds another one running does nothing and answers None: the
    running one, or the next (which looks back past its own start), takes the changes in."""
    now = now or timezone.now()
    started, steps = time.perf_counter(), _Steps()
    with transaction.atomic(), connection.cursor() as cursor:
        state = _state(wait=wait)
        if state is None:
            return None
        _prepare(cursor)
        if state.refreshed_at is None:
            return rebuild(now=now)
        _fill_touched(cursor, state.refreshed_at - OVERLAP)
        steps.done("touched buyer-days")
        _delete_touched(cursor)
        steps.done("delete")
        _fill_orders(cursor, touched=True)
        steps.done("orders")
        fill_spans(cursor, BUYER_DAYS)
        steps.done("segment spans")
        name_segment_sets(cursor)
        steps.done("segment sets")
        _fill_sales(cursor)
        steps.done("group lines")
        sales_rows = _write_rows(cursor)
        buyer_days = _count(cursor, BUYER_DAYS)
        steps.done("write rows")
        sizes = _today_sizes(local_day(now))
        steps.done("segment sizes")
        _drop(cursor, TOUCHED, ORDERS, BUYER_DAYS, SALES, SPANS)
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return AggregatesRun(False, buyer_days, sales_rows, sizes, time.perf_counter() - started,
                         steps.timings)


def refresh_after_recompute() -> dict:
    """A follow-up phase of every segment recompute: queue a refresh once the recompute commits,
    so today's segment sets and sizes follow the memberships it wrote (tasks are named, not
    imported: services stay below the task layer)."""
    transaction.on_commit(app.signature(REFRESH_TASK).apply_async, robust=True)
    return {"queued": True}
