"""Buying propensity: the probability that a buyer orders a category (and each of its most-bought
products) within the next 30 days, learned from the buyers' own history.

Features are computed in SQL as of a date T from counted orders placed before T; the label is
whether the buyer ordered the item in [T, T + 30 days). The model is trained on snapshots 60, 90,
… days ago and checked on the snapshot 30 days ago (whose 30 days are over by now), against a
naive cadence baseline. Only a model that beats the baseline on that holdout writes scores.
Scoring every buyer as of now derives the same features in numpy from the history tables the
training read (`propensity_today`).
"""

# ruff: noqa: S608 -- the SQL here is assembled from table names and this module's constants;
# every value (dates, sample) is a bound parameter.

import math
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

from ordering.models import Order

from ..models import Audience, PropensityModel, PropensityScore, SegmentRun
from .propensity_features import (  # noqa: F401 -- the feature names are part of this API
    FEATURES,
    HORIZON_DAYS,
    NO_GAP_DAYS,
    TOP_PRODUCTS,
    Snapshot,
    _counted,
    history_tables,
    snapshot_features,
)
from .propensity_today import today_features

SNAPSHOT_STEP_DAYS = 30
MAX_TRAINING_SNAPSHOTS = 6
MIN_HISTORY_DAYS = 90  # a training snapshot needs this much history before it
MARGIN = 0.01  # how far the model's AUC must pass the baseline's to be used
CHANCE_FLOOR = 0.55  # and a model this close to a coin toss is never used
KEEP_PREVIOUS_DAYS = 60  # a previous used model's scores outlive a failed training this long
TOP_CATEGORIES = 5  # categories stored per buyer, the likeliest first ...
KEEP_FLOOR = 0.5  # ... and any other this likely
TRAINING_BUYERS_PER_SNAPSHOT = 3_000
HOLDOUT_BUYERS = 10_000
BATCH_SIZE = 5_000
SEED = 7



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


@dataclass
class Scored:
    """The stored pairs of one audience and level: buyer ids, item ids and probabilities."""

    level: str
    buyers: np.ndarray
    items: np.ndarray
    probability: np.ndarray

    def rows(self, audience: str) -> list[tuple]:
        """(organisation, user, category, product, probability) per pair."""
        buyers, items = self.buyers.tolist(), self.items.tolist()
        none = [None] * len(buyers)
        owners = (buyers, none) if audience == Audience.ORGANISATIONS else (none, buyers)
        scored = (items, none) if self.level == "category" else (none, items)
        return list(zip(*owners, *scored, self.probability.tolist(), strict=True))


def _score_rows(audience: str, estimator, now: datetime) -> list[Scored]:
    """Every stored pair as of now: the buyer's TOP_CATEGORIES likeliest categories and any
    other at or above KEEP_FLOOR, and its TOP_PRODUCTS most-bought products."""
    scored = []
    for level in ("category", "product"):
        snap = today_features(audience=audience, as_of=now, level=level)
        if not len(snap.buyers):
            continue
        with threadpool_limits(limits=1, user_api="openmp"):
            probability = np.clip(estimator.predict_proba(snap.X)[:, 1], 0.0, 1.0)
        if level == "category":
            keep = keep_top(snap.buyers, probability, top=TOP_CATEGORIES, floor=KEEP_FLOOR)
            scored.append(Scored(level, snap.buyers[keep], snap.items[keep], probability[keep]))
        else:
            scored.append(Scored(level, snap.buyers, snap.items, probability))
    return scored


def _write_scores(model: PropensityModel, scored: list[Scored]) -> int:
    """Insert the scores in bulk: a binary COPY on PostgreSQL, batches of BATCH_SIZE rows
    elsewhere."""
    if connection.vendor == "postgresql":
        return sum(_copy_scores(model, part) for part in scored)
    rows = [row for part in scored for row in part.rows(model.audience)]
    sql = (f"INSERT INTO {PropensityScore._meta.db_table} (model_id, organisation_id, user_id, "
           "category_id, product_id, probability) VALUES (%s, %s, %s, %s, %s, %s)")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, [(model.pk, *row) for row in rows[start:start + BATCH_SIZE]])
    return len(rows)


def _copy_scores(model: PropensityModel, scored: Scored) -> int:
    """One audience and level's pairs by a binary COPY of the four columns they fill (the
    others are left empty): rows of one width, laid out by numpy in one buffer."""
    owner = "organisation_id" if model.audience == Audience.ORGANISATIONS else "user_id"
    item = f"{scored.level}_id"
    rows = np.zeros(len(scored.buyers), dtype=np.dtype([
        ("count", ">i2"), ("w0", ">i4"), ("model", ">i8"), ("w1", ">i4"), ("owner", ">i8"),
        ("w2", ">i4"), ("item", ">i8"), ("w3", ">i4"), ("probability", ">f8"),
    ]))
    rows["count"], rows["model"] = 4, model.pk
    rows["w0"] = rows["w1"] = rows["w2"] = rows["w3"] = 8
    rows["owner"], rows["item"], rows["probability"] = (scored.buyers, scored.items,
                                                        scored.probability)
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {PropensityScore._meta.db_table} (model_id, {owner}, {item}, probability) "
        "FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(header + rows.tobytes() + b"\xff\xff")
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
