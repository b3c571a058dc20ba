"""Propensity features: what a buyer's history says about each (buyer, item) pair as of a date T,
computed in SQL from the counted orders placed before T, and the label (whether the buyer
ordered the item in [T, T + HORIZON_DAYS)).

The audience's order history is read once into temporary tables (`history_tables`) that every
snapshot of a training reads.
"""

# ruff: noqa: S608 -- the SQL here is assembled from table names and this module's constants;
# every value (dates, sample) is a bound parameter.

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction

from accounts.models import Membership, Organisation, User
from catalog.models import Product
from ordering.models import Order, OrderLine

from ..models import Audience
from . import COUNTED_STATES

HORIZON_DAYS = 30
TOP_PRODUCTS = 3
NO_GAP_DAYS = 365.0  # the usual gap of a buyer with a single order
WORK_MEM = "256MB"  # PostgreSQL, for the feature queries only

FEATURES = [
    ("days_since_item", "Days since the buyer last ordered this category (or product)."),
    ("item_orders_90d", "Orders of it in the last 90 days."),
    ("item_orders_365d", "Orders of it in the last 365 days."),
    ("item_gap_days", "The buyer's median days between orders of it; the buyer's overall "
                      "cadence when it was ordered once; 365 when the buyer ordered once."),
    ("days_since_any", "Days since the buyer's last order of anything."),
    ("orders_365d", "The buyer's orders in the last 365 days."),
    ("log_revenue_365d", "log(1 + the buyer's net revenue in the last 365 days, GBP)."),
    ("item_share", "Its share of the buyer's net revenue in the last 365 days."),
    ("due_ratio", "Days since the buyer last ordered it divided by its usual gap (1 = due)."),
]


@dataclass
class Snapshot:
    """Features of every candidate (buyer, item) pair as of one date, and, for a past date, the
    label: whether the buyer ordered the item in the horizon after it."""

    as_of: datetime
    buyers: np.ndarray
    items: np.ndarray
    X: np.ndarray
    y: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# The feature query

def _day(column: str) -> str:
    """A timestamp as a number of days, the same unit on both databases."""
    if connection.vendor == "postgresql":
        return f"(date_part('epoch', {column}) / 86400.0)"
    return f"julianday({column})"


def _day_number(moment: datetime) -> float:
    days = moment.timestamp() / 86400.0
    return days if connection.vendor == "postgresql" else days + 2440587.5


def _buyer_sql(audience: str) -> tuple[str, str]:
    """The buyer column of an order, and the condition that the order belongs to a buyer of the
    audience (an active organisation; a consumer: an active user in no active organisation)."""
    if audience == Audience.ORGANISATIONS:
        return "o.organisation_id", (
            f"o.organisation_id IS NOT NULL AND EXISTS (SELECT 1 FROM "
            f"{Organisation._meta.db_table} bo WHERE bo.id = o.organisation_id AND bo.is_active)"
        )
    return "o.placed_by_id", (
        f"o.organisation_id IS NULL AND EXISTS (SELECT 1 FROM {User._meta.db_table} bu "
        f"WHERE bu.id = o.placed_by_id AND bu.is_active) AND NOT EXISTS (SELECT 1 FROM "
        f"{Membership._meta.db_table} bm JOIN {Organisation._meta.db_table} mo "
        f"ON mo.id = bm.organisation_id WHERE bm.user_id = o.placed_by_id AND bm.is_active "
        f"AND mo.is_active)"
    )


def _median(source: str, keys: str) -> str:
    """Median of `gap` per `keys` from `source`: PostgreSQL's ordered-set aggregate, and the
    same median from row numbers where that does not exist."""
    if connection.vendor == "postgresql":
        return (f"SELECT {keys}, percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS gap "
                f"FROM {source} WHERE gap IS NOT NULL GROUP BY {keys}")
    return (
        f"SELECT {keys}, AVG(gap) AS gap FROM (SELECT {keys}, gap, ROW_NUMBER() OVER "
        f"(PARTITION BY {keys} ORDER BY gap) AS rn, COUNT(*) OVER (PARTITION BY {keys}) AS n "
        f"FROM {source} WHERE gap IS NOT NULL) ranked "
        f"WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY {keys}"
    )


def _counted(audience: str) -> tuple[str, str]:
    buyer, belongs = _buyer_sql(audience)
    states = ", ".join(f"'{state}'" for state in COUNTED_STATES)
    return buyer, f"o.state IN ({states}) AND o.currency = 'GBP' AND {belongs}"


def _table(audience: str, what: str) -> str:
    return f"propensity_{audience}_{what}"


_local = threading.local()  # temporary tables belong to the thread's own connection


def _open() -> dict[str, dict]:
    """The history tables open on this thread: audience -> {"until", "levels" built}."""
    if not hasattr(_local, "tables"):
        _local.tables = {}
    return _local.tables


def _build_lines(cursor, audience: str, until: datetime) -> None:
    """One row per buyer, counted order placed before `until`, category and product: the one
    read of the order lines, from which the category and product tables are derived."""
    buyer, counted = _counted(audience)
    table = _table(audience, "lines")
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"""
CREATE TEMPORARY TABLE {table} AS
SELECT {buyer} AS buyer, o.id AS order_id, {_day("o.placed_at")} AS day,
       p.category_id AS category, l.product_id AS product,
       CAST(SUM(l.line_net) AS DOUBLE PRECISION) AS net, SUM(l.quantity) AS units
FROM {OrderLine._meta.db_table} l
JOIN {Order._meta.db_table} o ON o.id = l.order_id
JOIN {Product._meta.db_table} p ON p.id = l.product_id
WHERE {counted} AND o.placed_at < %s
GROUP BY {buyer}, o.id, o.placed_at, p.category_id, l.product_id""",
                   [connection.ops.adapt_datetimefield_value(until)])


def _build_events(cursor, audience: str, level: str, top_as_of: datetime | None = None) -> None:
    """One row per buyer, item and counted order (from the lines table). For products, only the
    buyer's TOP_PRODUCTS products by units in the 365 days before `top_as_of` (the candidates
    of a product snapshot at that date), so the table and every query on it stay small."""
    table = _table(audience, level)
    events = f"""
SELECT buyer, {level} AS item, day, SUM(net) AS net, SUM(units) AS units
FROM {_table(audience, "lines")} GROUP BY buyer, {level}, order_id, day"""
    params = []
    if level == "product":
        t = _day_number(top_as_of)
        events = f"""
WITH events AS ({events}
), top AS (
    SELECT buyer, item FROM (
        SELECT buyer, item, ROW_NUMBER() OVER
               (PARTITION BY buyer ORDER BY SUM(units) DESC, item) AS rank
        FROM events WHERE day >= %s AND day < %s GROUP BY buyer, item) ranked
    WHERE rank <= {TOP_PRODUCTS}
)
SELECT events.buyer, events.item, events.day, events.net, events.units
FROM events JOIN top ON top.buyer = events.buyer AND top.item = events.item"""
        params += [t - 365, t]
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {events}", params)
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


@contextmanager
def history_tables(*, audience: str, until: datetime):
    """Temporary tables of the audience's counted orders placed before `until` (one row per
    order; one per order, category and product, read from the order lines once; and one per
    order and category), built once and read by every snapshot of a training, so the order
    lines are scanned once rather than once per snapshot."""
    buyer, counted = _counted(audience)
    orders = _table(audience, "orders")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {orders}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {orders} AS SELECT {buyer} AS buyer, "
            f"{_day('o.placed_at')} AS day, CAST(o.total_net AS DOUBLE PRECISION) AS net "
            f"FROM {Order._meta.db_table} o WHERE {counted} AND o.placed_at < %s",
            [connection.ops.adapt_datetimefield_value(until)],
        )
        _build_lines(cursor, audience, until)
        _build_events(cursor, audience, "category")
    _open()[audience] = {"until": until, "levels": {"category": None}}
    try:
        yield
    finally:
        del _open()[audience]
        with connection.cursor() as cursor:
            for what in ("orders", "lines", "category", "product"):
                cursor.execute(f"DROP TABLE IF EXISTS {_table(audience, what)}")


def _feature_sql(*, audience: str, level: str) -> str:
    sample = "buyer %% %(modulus)s = %(residue)s"
    source = f"""
    SELECT buyer, item, day, net, units FROM {_table(audience, level)}
    WHERE {sample} AND day < %(until)s"""
    return f"""
WITH events AS MATERIALIZED ({source}
), past AS (
    SELECT buyer, item, day FROM events WHERE day < %(t)s
), item_gaps AS (
    SELECT buyer, item, day - LAG(day) OVER (PARTITION BY buyer, item ORDER BY day) AS gap
    FROM past
), item_gap AS MATERIALIZED ({_median("item_gaps", "buyer, item")}
), orders AS (
    SELECT buyer, day, net FROM {_table(audience, "orders")} WHERE {sample} AND day < %(t)s
), buyer_gaps AS (
    SELECT buyer, day - LAG(day) OVER (PARTITION BY buyer ORDER BY day) AS gap FROM orders
), cadence AS MATERIALIZED ({_median("buyer_gaps", "buyer")}
), buyers AS MATERIALIZED (
    SELECT buyer, MAX(day) AS last_day,
           SUM(CASE WHEN day >= %(t)s - 365 THEN 1 ELSE 0 END) AS orders_365,
           SUM(CASE WHEN day >= %(t)s - 365 THEN net ELSE 0 END) AS revenue_365
    FROM orders GROUP BY buyer
), pairs AS (
    SELECT buyer, item, MAX(CASE WHEN day < %(t)s THEN day END) AS last_day,
           SUM(CASE WHEN day >= %(t)s - 90 AND day < %(t)s THEN 1 ELSE 0 END) AS orders_90,
           SUM(CASE WHEN day >= %(t)s - 365 AND day < %(t)s THEN 1 ELSE 0 END) AS orders_365,
           SUM(CASE WHEN day >= %(t)s - 365 AND day < %(t)s THEN net ELSE 0 END) AS revenue_365,
           MAX(CASE WHEN day >= %(t)s THEN 1 ELSE 0 END) AS label
    FROM events GROUP BY buyer, item
    HAVING MAX(CASE WHEN day < %(t)s THEN 1 ELSE 0 END) = 1
)
SELECT pairs.buyer, pairs.item, %(t)s - pairs.last_day, pairs.orders_90, pairs.orders_365,
       item_gap.gap, cadence.gap, %(t)s - buyers.last_day, buyers.orders_365,
       buyers.revenue_365, pairs.revenue_365, pairs.label
FROM pairs
JOIN buyers ON buyers.buyer = pairs.buyer
LEFT JOIN item_gap ON item_gap.buyer = pairs.buyer AND item_gap.item = pairs.item
LEFT JOIN cadence ON cadence.buyer = pairs.buyer
ORDER BY pairs.buyer, pairs.item
"""


def snapshot_features(*, audience: str, as_of: datetime, level: str = "category",
                      labelled: bool = True, modulus: int = 1, residue: int = 0) -> Snapshot:
    """Features of every (buyer, item) pair the buyer ordered before `as_of`, in one query; the
    label when `labelled`. `level` is "category" (all the buyer's categories) or "product" (the
    buyer's TOP_PRODUCTS products by units in the 365 days before). Buyers whose id leaves
    `residue` modulo `modulus` form a deterministic sample. Reads the open `history_tables` of
    the audience, or builds its own."""
    until = as_of + timedelta(days=HORIZON_DAYS) if labelled else as_of
    with transaction.atomic():
        tables = _open().get(audience)
        if tables is None or tables["until"] < until:
            with history_tables(audience=audience, until=until):
                return _query_snapshot(audience, as_of, until, level, labelled, modulus, residue)
        return _query_snapshot(audience, as_of, until, level, labelled, modulus, residue)


def _query_snapshot(audience, as_of, until, level, labelled, modulus, residue) -> Snapshot:
    params = {"t": _day_number(as_of), "until": _day_number(until), "modulus": modulus,
              "residue": residue}
    with connection.cursor() as cursor:
        tables = _open()[audience]
        top_as_of = as_of if level == "product" else None
        if level not in tables["levels"] or tables["levels"][level] != top_as_of:
            _build_events(cursor, audience, level, top_as_of)
            tables["levels"][level] = top_as_of
        if connection.vendor == "postgresql":
            # The planner cannot estimate the aggregated CTEs (nor the buyer sample) and would
            # join them in nested loops, quadratic in the buyers; hash joins are linear. The
            # window sorts of a whole audience fit in memory instead of spilling to disk.
            cursor.execute(f"SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(_feature_sql(audience=audience, level=level), params)
        rows = cursor.fetchall()
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL work_mem TO DEFAULT")
    return _snapshot(as_of, rows, labelled)


def _snapshot(as_of: datetime, rows: list[tuple], labelled: bool) -> Snapshot:
    if not rows:
        return features_from(as_of, np.zeros(0, np.int64), np.zeros(0, np.int64),
                             np.zeros((0, 10)), labelled)
    ids = np.array([row[:2] for row in rows], dtype=np.int64)
    raw = np.array([row[2:] for row in rows], dtype=np.float64)  # None becomes nan
    return features_from(as_of, ids[:, 0], ids[:, 1], raw, labelled)


def features_from(as_of: datetime, buyers: np.ndarray, items: np.ndarray, raw: np.ndarray,
                  labelled: bool) -> Snapshot:
    """The snapshot of pairs whose raw columns are, in order: days since the item, its orders in
    90 and 365 days, its median gap (NaN: none), the buyer's median gap (NaN: none), days since
    any order, the buyer's orders and revenue in 365 days, the item's revenue in 365 days and
    the label."""
    if not len(buyers):
        empty = np.zeros((0, len(FEATURES)), dtype=np.float32)
        return Snapshot(as_of, np.zeros(0, np.int64), np.zeros(0, np.int64), empty,
                        np.zeros(0, np.int8) if labelled else None)
    since_item, orders_90, orders_365, item_gap, cadence = raw[:, :5].T
    since_any, buyer_orders, revenue, item_revenue, label = raw[:, 5:].T
    gap = np.where(np.isnan(item_gap), np.where(np.isnan(cadence), NO_GAP_DAYS, cadence),
                   item_gap)
    gap = np.maximum(gap, 1.0)
    share = np.divide(item_revenue, revenue, out=np.zeros_like(revenue), where=revenue > 0)
    X = np.column_stack([
        since_item, orders_90, orders_365, gap, since_any, buyer_orders,
        np.log1p(np.maximum(revenue, 0.0)), np.clip(share, 0.0, 1.0), since_item / gap,
    ]).astype(np.float32)
    y = label.astype(np.int8) if labelled else None
    return Snapshot(as_of, buyers, items, X, y)
