"""Buying propensity: the probability that a buyer orders a category (and each of its most-bought
products) within the next 30 days, learned from the buyers' own history.

Features are computed in SQL as of a date T from counted orders placed before T; the label is
whether the buyer ordered the item in [T, T + 30 days). The model is trained on snapshots 60, 90,
… days ago and checked on the snapshot 30 days ago (whose 30 days are over by now), against a
naive cadence baseline. Only a model that beats the baseline on that holdout writes scores.
"""

# ruff: noqa: S608 -- the SQL here is assembled from table names and this module's constants;
# every value (dates, sample) is a bound parameter.

import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from accounts.models import Membership, Organisation, User
from catalog.models import Product
from ordering.models import Order, OrderLine

from ..models import Audience, PropensityModel, PropensityScore, SegmentRun
from . import COUNTED_STATES

HORIZON_DAYS = 30
SNAPSHOT_STEP_DAYS = 30
MAX_TRAINING_SNAPSHOTS = 6
MIN_HISTORY_DAYS = 90  # a training snapshot needs this much history before it
MARGIN = 0.01  # how far the model's AUC must pass the baseline's to be used
CHANCE_FLOOR = 0.55  # and a model this close to a coin toss is never used
KEEP_PREVIOUS_DAYS = 60  # a previous used model's scores outlive a failed training this long
TOP_PRODUCTS = 3
TOP_CATEGORIES = 5  # categories stored per buyer, the likeliest first ...
KEEP_FLOOR = 0.5  # ... and any other this likely
TRAINING_BUYERS_PER_SNAPSHOT = 3_000
HOLDOUT_BUYERS = 10_000
NO_GAP_DAYS = 365.0  # the usual gap of a buyer with a single order
BATCH_SIZE = 5_000
WORK_MEM = "256MB"  # PostgreSQL, for the feature queries only
SEED = 7

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


@dataclass
class Plan:
    """The dates of one training: snapshots to learn from, the holdout, and the scoring date."""

    now: datetime
    training: list[datetime] = field(default_factory=list)
    holdout: datetime | None = None


def plan_snapshots(*, now: datetime, first_order_at: datetime | None) -> Plan:
    """Training snapshots at now − 60 d, now − 90 d, … (each with MIN_HISTORY_DAYS of history
    before it, at most MAX_TRAINING_SNAPSHOTS), the holdout at now − 30 d. Every training label
    window ends on or before the holdout date, so no training label is observed in the holdout."""
    plan = Plan(now=now)
    if first_order_at is None:
        return plan
    plan.holdout = now - timedelta(days=HORIZON_DAYS)
    for k in range(1, MAX_TRAINING_SNAPSHOTS + 1):
        as_of = plan.holdout - timedelta(days=k * SNAPSHOT_STEP_DAYS)
        if as_of - timedelta(days=MIN_HISTORY_DAYS) < first_order_at:
            break
        plan.training.append(as_of)
    return plan


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
        empty = np.zeros((0, len(FEATURES)), dtype=np.float32)
        return Snapshot(as_of, np.zeros(0, np.int64), np.zeros(0, np.int64), empty,
                        np.zeros(0, np.int8) if labelled else None)
    ids = np.array([row[:2] for row in rows], dtype=np.int64)
    raw = np.array([row[2:] for row in rows], dtype=np.float64)  # None becomes nan
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
    return Snapshot(as_of, ids[:, 0], ids[:, 1], X, y)


# ---------------------------------------------------------------------------------------------
# Training, the holdout and the baseline

def baseline_scores(X: np.ndarray) -> np.ndarray:
    """The naive cadence model: the closer the days since the buyer last ordered the item are to
    its usual gap, the likelier the order (score = −|days since − usual gap|)."""
    return -np.abs(X[:, 0] - X[:, 3])


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Mean predicted probability against the observed rate, per tenth of probability."""
    index = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        table.append({
            "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
            "predicted": round(float(p[inside].mean()), 4) if count else None,
            "observed": round(float(y[inside].mean()), 4) if count else None,
            "count": count,
        })
    return table


def judge(*, auc: float, baseline: float) -> tuple[bool, str]:
    """Used when the holdout AUC beats the cadence baseline's by MARGIN and a coin toss by a
    clear margin; the verdict says which, in plain words."""
    if auc <= baseline + MARGIN:
        return False, f"AUC {auc:.2f} does not beat the baseline {baseline:.2f}: not used."
    if auc < CHANCE_FLOOR:
        return False, (f"AUC {auc:.2f} beats the baseline {baseline:.2f} but is too close to "
                       f"chance (below {CHANCE_FLOOR:.2f}): not used.")
    return True, f"AUC {auc:.2f} against the cadence baseline's {baseline:.2f}: used."


def _candidates():
    yield "HistGradientBoostingClassifier", HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=31, early_stopping=False,
        random_state=SEED,
    )
    yield "LogisticRegression (standardised features)", make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=500, random_state=SEED)
    )


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score))


def _fit_best(train: Snapshot, holdout: Snapshot):
    """Fit each candidate on the training snapshots; keep the one with the best holdout AUC.
    One OpenMP thread: the training set is sampled small, and spinning threads on a machine
    busy with the rest of the recompute cost far more than they save."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return _fit_each(train, holdout)


def _fit_each(train: Snapshot, holdout: Snapshot):
    best = None
    for name, estimator in _candidates():
        estimator.fit(train.X, train.y)
        p = estimator.predict_proba(holdout.X)[:, 1]
        auc = _auc(holdout.y, p)
        if best is None or auc > best[2]:
            best = (name, estimator, auc, p)
    return best


def _stack(snapshots: list[Snapshot]) -> Snapshot:
    return Snapshot(
        snapshots[-1].as_of,
        np.concatenate([s.buyers for s in snapshots]),
        np.concatenate([s.items for s in snapshots]),
        np.concatenate([s.X for s in snapshots]),
        np.concatenate([s.y for s in snapshots]),
    )


def _history(audience: str) -> tuple[int, datetime | None]:
    """How many buyers of the audience have a counted order, and the first such order."""
    buyer, counted = _counted(audience)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(DISTINCT {buyer}), MIN(o.placed_at) "
                       f"FROM {Order._meta.db_table} o WHERE {counted}")
        buyers, first = cursor.fetchone()
    if isinstance(first, str):  # SQLite returns the aggregate as naive UTC text
        first = parse_datetime(first).replace(tzinfo=UTC)
    return buyers or 0, first


def _sample(buyers: int, wanted: int) -> int:
    return max(1, math.ceil(buyers / wanted))


@dataclass
class Trained:
    model: PropensityModel
    estimator: object = None


def _train(*, audience: str, now: datetime, run: SegmentRun | None) -> Trained:
    buyers, first = _history(audience)
    plan = plan_snapshots(now=now, first_order_at=first)
    model = PropensityModel(
        audience=audience, algorithm="none", trained_at=now, horizon_days=HORIZON_DAYS,
        cutoff=(plan.holdout or now).date(), features=[
            {"name": name, "meaning": meaning} for name, meaning in FEATURES
        ], run=run,
    )
    if not plan.training:
        model.verdict = "Not enough order history for a training snapshot: not used."
        return Trained(model)
    modulus = _sample(buyers, TRAINING_BUYERS_PER_SNAPSHOT)
    train = _stack([
        snapshot_features(audience=audience, as_of=as_of, modulus=modulus, residue=k % modulus)
        for k, as_of in enumerate(plan.training)
    ])
    modulus = _sample(buyers, HOLDOUT_BUYERS)
    holdout = snapshot_features(audience=audience, as_of=plan.holdout, modulus=modulus)
    model.train_rows, model.holdout_rows = len(train.y), len(holdout.y)
    if len(holdout.y):
        model.positive_rate = round(float(holdout.y.mean()), 4)
    if len(set(train.y.tolist())) < 2 or len(set(holdout.y.tolist())) < 2:
        model.verdict = ("The training or holdout snapshots hold only one outcome (everyone or "
                         "no one ordered), so the model cannot be judged: not used.")
        return Trained(model)
    name, estimator, auc, p = _fit_best(train, holdout)
    baseline = _auc(holdout.y, baseline_scores(holdout.X))
    model.algorithm, model.auc, model.baseline_auc = name, round(auc, 4), round(baseline, 4)
    model.brier = round(float(brier_score_loss(holdout.y, p)), 4)
    model.calibration = calibration_table(holdout.y, p)
    model.used, model.verdict = judge(auc=auc, baseline=baseline)
    return Trained(model, estimator)


# ---------------------------------------------------------------------------------------------
# Scores

def keep_top(buyers: np.ndarray, probability: np.ndarray, *, top: int,
             floor: float) -> np.ndarray:
    """Which pairs to store: per buyer the `top` highest probabilities (ties to the lower item
    position, so the choice is deterministic), and any other pair at or above `floor`."""
    if not len(buyers):
        return np.zeros(0, dtype=bool)
    order = np.lexsort((np.arange(len(buyers)), -probability, buyers))
    ranked = buyers[order]
    starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
    rank = np.arange(len(ranked)) - np.repeat(starts, np.diff(np.r_[starts, len(ranked)]))
    keep = np.zeros(len(buyers), dtype=bool)
    keep[order] = rank < top
    return keep | (probability >= floor)


def _score_rows(audience: str, estimator, now: datetime) -> list[tuple]:
    """(organisation, user, category, product, probability) of every stored pair as of now: the
    buyer's TOP_CATEGORIES likeliest categories and any other at or above KEEP_FLOOR, and its
    TOP_PRODUCTS most-bought products."""
    rows = []
    for level in ("category", "product"):
        snap = snapshot_features(audience=audience, as_of=now, level=level, labelled=False)
        if not len(snap.buyers):
            continue
        with threadpool_limits(limits=1, user_api="openmp"):
            probability = np.clip(estimator.predict_proba(snap.X)[:, 1], 0.0, 1.0)
        if level == "category":
            keep = keep_top(snap.buyers, probability, top=TOP_CATEGORIES, floor=KEEP_FLOOR)
            buyers, items, probability = snap.buyers[keep], snap.items[keep], probability[keep]
        else:
            buyers, items = snap.buyers, snap.items
        buyers, items, probability = buyers.tolist(), items.tolist(), probability.tolist()
        none = [None] * len(buyers)
        owners = (buyers, none) if audience == Audience.ORGANISATIONS else (none, buyers)
        scored = (items, none) if level == "category" else (none, items)
        rows.extend(zip(*owners, *scored, probability, strict=True))
    return rows


def _write_scores(model: PropensityModel, rows: list[tuple]) -> int:
    """Insert the scores in bulk: COPY on PostgreSQL, batches of BATCH_SIZE rows elsewhere."""
    if connection.vendor == "postgresql":
        return _copy_scores(model, rows)
    sql = (f"INSERT INTO {PropensityScore._meta.db_table} (model_id, organisation_id, user_id, "
           "category_id, product_id, probability) VALUES (%s, %s, %s, %s, %s, %s)")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, [(model.pk, *row) for row in rows[start:start + BATCH_SIZE]])
    return len(rows)


def _copy_scores(model: PropensityModel, rows: list[tuple]) -> int:
    def text(value):
        return r"\N" if value is None else str(value)

    payload = "".join(
        f"{model.pk}\t{text(o)}\t{text(u)}\t{text(c)}\t{text(p)}\t{prob!r}\n"
        for o, u, c, p, prob in rows
    )
    table = PropensityScore._meta.db_table
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {table} (model_id, organisation_id, user_id, category_id, product_id, "
        "probability) FROM STDIN"
    ) as copy:
        copy.write(payload)
    return len(rows)


def _retire_scores(audience: str, trained: PropensityModel, now: datetime) -> None:
    """A used model replaces every earlier score of its audience. A model that is not used
    leaves the previous used model's scores in place while that model is younger than
    KEEP_PREVIOUS_DAYS (one bad month should not blank the segments), and removes them once it
    is older: stale probabilities are worse than none."""
    earlier = PropensityScore.objects.filter(model__audience=audience).exclude(model=trained)
    if not trained.used:
        earlier = earlier.filter(model__trained_at__lt=now - timedelta(days=KEEP_PREVIOUS_DAYS))
    earlier.delete()


def train_and_score(*, now: datetime | None = None,
                    run: SegmentRun | None = None) -> list[PropensityModel]:
    """Train, judge and (when used) score the propensity model of each audience; returns the
    models, saved, used or not."""
    now = now or timezone.now()
    models = []
    with transaction.atomic():
        for audience in (Audience.ORGANISATIONS, Audience.CONSUMERS):
            with history_tables(audience=audience, until=now):
                trained = _train(audience=audience, now=now, run=run)
                trained.model.save()
                _retire_scores(audience, trained.model, now)
                if trained.model.used:
                    _write_scores(trained.model,
                                  _score_rows(audience, trained.estimator, now))
            models.append(trained.model)
    return models
