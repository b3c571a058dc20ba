"""Today's propensity features of every buyer, for scoring: the same features the feature query
computes (`propensity_features`), derived in numpy from the audience's open history tables, which
are read once each. Scoring every buyer reads every pair of the history, where the training reads a
sample: grouping and medians over arrays cost a fraction of the same work in window functions.
"""

# ruff: noqa: S608 -- the SQL here is assembled from this module's table names; no values.

from datetime import datetime

import numpy as np
from django.db import connection

from .propensity_features import (
    TOP_PRODUCTS,
    Snapshot,
    _day_number,
    _open,
    _table,
    features_from,
)


def _columns(table: str, columns: str, kinds: str, t: float) -> list[np.ndarray]:
    """The named columns of `table`'s rows before day `t`, `kinds` one letter a column ("i"
    integer, "f" double; never NULL). On PostgreSQL, each column comes back as one bytea of
    its binary values, read straight into an array (every aggregate reads the rows in the same
    order), rather than as millions of rows."""
    names = [name.strip() for name in columns.split(",")]
    where = f"FROM {table} WHERE day < {t!r}"
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} {where}")
            rows = cursor.fetchall()
        return [np.array([row[k] for row in rows], dtype=np.int64 if kind == "i" else np.float64)
                for k, kind in enumerate(kinds)]
    send = {"i": "int8send(CAST({} AS BIGINT))", "f": "float8send(CAST({} AS DOUBLE PRECISION))"}
    aggregates = ", ".join(f"string_agg({send[kind].format(name)}, ''::bytea)"
                           for name, kind in zip(names, kinds, strict=True))
    from psycopg import Cursor  # a server-binding cursor: binary results

    connection.ensure_connection()
    with Cursor(connection.connection) as cursor:
        cursor.execute(f"SELECT {aggregates} {where}", binary=True)
        values = cursor.fetchone()
    return [np.frombuffer(value or b"", dtype=">i8" if kind == "i" else ">f8")
            .astype(np.int64 if kind == "i" else np.float64)
            for value, kind in zip(values, kinds, strict=True)]


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts in arrays sorted by them."""
    if not len(keys[0]):
        return np.zeros(0, dtype=np.int64)
    new = np.zeros(len(keys[0]), dtype=bool)
    new[0] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(new)


def _group_median(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """The median of `values` per group number (NaN for a group with none), interpolated
    between the middle two as percentile_cont(0.5) is."""
    out = np.full(groups, np.nan)
    if not len(values):
        return out
    order = _order_by(group, values)
    group, values = group[order], values[order]
    starts = _group_starts(group)
    counts = np.diff(np.r_[starts, len(group)])
    low, high = values[starts + (counts - 1) // 2], values[starts + counts // 2]
    out[group[starts]] = low + (high - low) * 0.5
    return out


def _history_summary(keys: list[np.ndarray], day: np.ndarray, net: np.ndarray, t: float):
    """Per group of `keys` (rows sorted by keys, then day): the group's keys, last day, orders
    in the 90 and 365 days before `t`, net revenue in those 365 days and the median gap in days
    between its orders."""
    starts = _group_starts(*keys)
    ends = np.r_[starts[1:], len(day)] - 1
    first = np.zeros(len(day), dtype=np.int64)
    first[starts] = 1
    number = np.cumsum(first) - 1
    in_90, in_365 = day >= t - 90, day >= t - 365
    gap = np.diff(day)
    same = number[1:] == number[:-1]
    return {
        "keys": [key[starts] for key in keys],
        "last_day": day[ends],
        "orders_90": np.add.reduceat(in_90.astype(np.int64), starts) if len(starts) else in_90,
        "orders_365": np.add.reduceat(in_365.astype(np.int64), starts) if len(starts) else in_90,
        "revenue_365": (np.add.reduceat(np.where(in_365, net, 0.0), starts) if len(starts)
                        else net),
        "gap": _group_median(number[1:][same], gap[same], len(starts)),
    }


def _order_by(key: np.ndarray, then: np.ndarray) -> np.ndarray:
    """The order that sorts by `key`, then `then`: two stable sorts (faster than a lexsort)."""
    order = np.argsort(then, kind="stable")
    return order[np.argsort(key[order], kind="stable")]


def _sorted(columns: list[np.ndarray], keys: int) -> list[np.ndarray]:
    """The rows sorted by the first `keys` columns (buyer, and item when two), then the next
    (the day)."""
    key = columns[0]
    if keys == 2:
        key = columns[0] * (int(columns[1].max(initial=0)) + 1) + columns[1]
    order = _order_by(key, columns[keys])
    return [column[order] for column in columns]


def _top_products(buyer, item, day, net, units, t: float) -> list[np.ndarray]:
    """The lines (one per buyer, order and product) of each buyer's TOP_PRODUCTS products by
    units in the 365 days before `t`, ties to the lower product id, as the product events table
    keeps them."""
    order = np.lexsort((item, buyer))
    buyer, item, day, net, units = (column[order] for column in (buyer, item, day, net, units))
    starts = _group_starts(buyer, item)
    if not len(starts):
        return [buyer, item, day, net]
    first = np.zeros(len(buyer), dtype=np.int64)
    first[starts] = 1
    pair = np.cumsum(first) - 1
    recent = (day >= t - 365) & (day < t)
    total = np.add.reduceat(np.where(recent, units, 0), starts)
    had = np.add.reduceat(recent.astype(np.int64), starts) > 0
    candidates = np.flatnonzero(had)
    ranked = candidates[np.lexsort((item[starts][candidates], -total[candidates],
                                    buyer[starts][candidates]))]
    heads = _group_starts(buyer[starts][ranked])
    rank = np.arange(len(ranked)) - np.repeat(heads, np.diff(np.r_[heads, len(ranked)]))
    chosen = np.zeros(len(starts), dtype=bool)
    chosen[ranked[rank < TOP_PRODUCTS]] = True
    keep = chosen[pair]
    return [buyer[keep], item[keep], day[keep], net[keep]]


def _buyer_summary(audience: str, t: float) -> dict:
    """The buyers' own figures from the orders table, read once for both levels."""
    tables = _open()[audience]
    if tables.get("today") is None:
        owner, day, net = _sorted(
            _columns(_table(audience, "orders"), "buyer, day, net", "iff", t), keys=1)
        tables["today"] = _history_summary([owner], day, net, t)
    return tables["today"]


def today_features(*, audience: str, as_of: datetime, level: str = "category") -> Snapshot:
    """The unlabelled features of every (buyer, item) pair as of `as_of`, as
    `snapshot_features(audience=…, as_of=as_of, level=…, labelled=False)` computes them, from
    the audience's history tables, which must be open until `as_of`."""
    if _open()[audience]["until"] != as_of:
        raise ValueError("Today's features need the history tables open until that moment.")
    t = _day_number(as_of)
    if level == "product":
        buyer, item, day, net, units = _columns(
            _table(audience, "lines"), "buyer, product, day, net, units", "iiffi", t)
        buyer, item, day, net = _sorted(_top_products(buyer, item, day, net, units, t), keys=2)
    else:
        buyer, item, day, net = _sorted(_columns(
            _table(audience, "category"), "buyer, item, day, net", "iiff", t), keys=2)
    pairs = _history_summary([buyer, item], day, net, t)
    buyers = _buyer_summary(audience, t)
    pair_buyers, items = pairs["keys"]
    known = buyers["keys"][0]
    at = np.minimum(np.searchsorted(known, pair_buyers), max(len(known) - 1, 0))
    joined = (known[at] == pair_buyers) if len(known) else np.zeros(len(pair_buyers), bool)
    at = at[joined]
    raw = np.column_stack([
        t - pairs["last_day"][joined], pairs["orders_90"][joined], pairs["orders_365"][joined],
        pairs["gap"][joined], buyers["gap"][at], t - buyers["last_day"][at],
        buyers["orders_365"][at], buyers["revenue_365"][at], pairs["revenue_365"][joined],
        np.zeros(int(joined.sum())),
    ]).astype(np.float64)
    return features_from(as_of, pair_buyers[joined], items[joined], raw, labelled=False)
