"""Difference in differences for a pricing monitor, in numpy alone (no database).

The input is each frozen account (treated or control, with its weight) with its sums over three
periods (the two halves of the pre-period and the post-period), and each group's weighted sums
per week, week 0 being the first of the pre-period. Every metric is a weighted ratio of sums over
a group's accounts and a period's weeks:

    revenue, orders, units, margin   sum(w * figure) / (sum(w) * weeks): per account per week
    order frequency                  sum(w * weeks with an order) / (sum(w) * weeks): the share
                                     of accounts that order in an average week
    discount against list            sum(w * (list value - listed revenue)) / sum(w * list value)

An account that bought nothing in a week counts as zero, so a lost customer lowers the mean.

The estimate is (treated post - treated pre) - (control post - control pre). Its relative form
divides by the treated group's counterfactual, treated pre + (control post - control pre): what
the treated group would have done had it moved as the control group did.

The confidence interval is a cluster bootstrap: each replicate draws, with replacement, as many
accounts from each group as it holds, keeping each account's weeks together, and recomputes the
estimate; the interval is the 2.5th to 97.5th percentile. The seed is fixed so a page reads the
same on every visit.

The pre-trend check is a placebo: the same estimate with the second half of the pre-period as a
pretend post-period and the first half as its pre-period. Its interval covering zero says that the
groups moved alike before the start. The slope of the weekly difference across the pre-period is
reported beside it.
"""

from dataclasses import dataclass, field

import numpy as np

FIELDS = ("revenue", "orders", "units", "margin", "list_value", "listed_revenue")
ACTIVE = len(FIELDS)  # the column counting weeks with an order, after the summed fields
REPLICATES = 1000
SEED = 20240301
_CHUNK = 50


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # as insights.tables.Column: "money", "number" or "percent"
    numerator: tuple[tuple[int, int], ...]  # (sign, column) pairs summed
    per_week: bool = True  # False: the denominator is the list value


METRICS = (
    Metric("revenue", "Revenue per account", "money", ((1, 0),)),
    Metric("orders", "Orders per account", "number", ((1, 1),)),
    Metric("units", "Units per account", "number", ((1, 2),)),
    Metric("margin", "Margin per account", "money", ((1, 3),)),
    Metric("discount", "Average discount against list", "percent", ((1, 4), (-1, 5)),
           per_week=False),
    Metric("frequency", "Share of accounts ordering in a week", "percent", ((1, ACTIVE),)),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}


@dataclass
class Estimate:
    """One metric's difference in differences: the group means per period, the estimate in the
    metric's unit and relative to the counterfactual, each with its bootstrap interval."""

    metric: Metric
    treated_pre: float | None
    treated_post: float | None
    control_pre: float | None
    control_post: float | None
    value: float | None
    low: float | None
    high: float | None
    relative: float | None
    relative_low: float | None
    relative_high: float | None

    @property
    def clear(self) -> bool:
        """Does the interval exclude zero?"""
        return self.low is not None and (self.low > 0 or self.high < 0)


@dataclass
class PreTrend:
    placebo: Estimate
    slope: float | None  # change per week of (treated - control), relative to the treated mean

    @property
    def alike(self) -> bool | None:
        if self.placebo.low is None:
            return None
        return not self.placebo.clear


@dataclass
class Result:
    weeks_before: int
    weeks_after: int
    treated_accounts: int
    control_accounts: int
    estimates: dict[str, Estimate] = field(default_factory=dict)
    pre_trends: dict[str, PreTrend] = field(default_factory=dict)
    weekly: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> (2, weeks)


@dataclass
class Panel:
    """The frozen accounts and their sums.

    treated: bool per account; weight: float per account; periods: per account, the unweighted
    sums of FIELDS and the weeks with an order over (first half of the pre-period, second half,
    post-period), shape (accounts, 3, fields + 1); weekly: per group (treated, control) and
    week, the weighted sums of FIELDS and the weight of the accounts that ordered, shape
    (2, weeks, fields + 1)."""

    treated: np.ndarray
    weight: np.ndarray
    periods: np.ndarray
    weekly: np.ndarray
    weeks_before: int
    weeks_after: int

    @classmethod
    def from_rows(cls, *, treated, weight, account, week, values, weeks_before, weeks_after):
        """From one row per account and week with sales (`values`: rows of FIELDS)."""
        treated = np.asarray(treated, dtype=bool)
        weight = np.asarray(weight, dtype=float)
        account = np.asarray(account, dtype=np.int64)
        week = np.asarray(week, dtype=np.int64)
        values = np.asarray(values, dtype=float).reshape(-1, len(FIELDS))
        figures = np.column_stack([values, values[:, 1] > 0])
        half = period_bounds(weeks_before)[0]
        period = np.where(week < half, 0, np.where(week < weeks_before, 1, 2))
        periods = np.zeros((len(treated), 3, len(FIELDS) + 1))
        np.add.at(periods, (account, period), figures)
        weekly = np.zeros((2, weeks_before + weeks_after, len(FIELDS) + 1))
        group = np.where(treated[account], 0, 1)
        np.add.at(weekly, (group, week), figures * weight[account][:, None])
        return cls(treated, weight, periods, weekly, weeks_before, weeks_after)


def period_bounds(weeks_before: int) -> tuple[int, int]:
    """The first weeks of the second half of the pre-period and of the post-period."""
    return weeks_before // 2, weeks_before


def analyse(panel: Panel, *, replicates: int = REPLICATES, seed: int = SEED) -> Result:
    """Every metric's estimate, interval and pre-trend check, and the weekly series."""
    result = Result(
        panel.weeks_before, panel.weeks_after,
        int(panel.treated.sum()), int((~panel.treated).sum()),
    )
    result.weekly = weekly_series(panel)
    if not (result.treated_accounts and result.control_accounts and panel.weeks_after):
        return result
    periods = panel.periods
    weeks = _period_weeks(panel)
    rng = np.random.default_rng(seed)
    point, reps = {}, {}
    for group in (True, False):
        columns = _columns(periods[panel.treated == group], panel.weight[panel.treated == group])
        point[group] = columns.sum(axis=0)
        reps[group] = _bootstrap_sums(columns, replicates, rng)
    for metric in METRICS:
        result.estimates[metric.key] = _estimate(metric, point, reps, weeks, (0, 1), 2)
        placebo = _estimate(metric, point, reps, weeks, (0,), 1)
        result.pre_trends[metric.key] = PreTrend(
            placebo, _pre_slope(result.weekly[metric.key], panel.weeks_before)
        )
    return result


def weekly_series(panel: Panel) -> dict[str, np.ndarray]:
    """Each metric per week for (treated, control): weighted means over the group's accounts."""
    weights = np.array([panel.weight[panel.treated].sum(), panel.weight[~panel.treated].sum()])
    rows = panel.weekly
    series = {}
    for metric in METRICS:
        numerator = _combine(rows, metric.numerator)
        denominator = (
            weights[:, None] * np.ones(rows.shape[1]) if metric.per_week else rows[..., 4]
        )
        series[metric.key] = _divide(numerator, denominator)
    return series


def _combine(sums: np.ndarray, columns: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The numerator from summed columns, each added with its sign."""
    total = np.zeros(sums.shape[:-1])
    for sign, column in columns:
        total = total + sign * sums[..., column]
    return total


def _divide(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1),
                        np.nan)


def _period_weeks(panel: Panel) -> np.ndarray:
    half, before = period_bounds(panel.weeks_before)
    return np.array([half, before - half, panel.weeks_after], dtype=float)


def _columns(periods: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """One row per account: its weight, then its weighted sums per period and field."""
    weighted = periods * weight[:, None, None]
    return np.column_stack([weight, weighted.reshape(len(weight), -1)])


def _bootstrap_sums(columns: np.ndarray, replicates: int, rng) -> np.ndarray:
    """The column sums of `replicates` resamples of the rows (accounts), drawn with replacement:
    shape (replicates, columns). Done in chunks as (draw counts) @ columns."""
    n = len(columns)
    out = np.empty((replicates, columns.shape[1]))
    for start in range(0, replicates, _CHUNK):
        size = min(_CHUNK, replicates - start)
        drawn = rng.integers(0, n, size=(size, n), dtype=np.int32)
        drawn += (np.arange(size, dtype=np.int32) * n)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
        out[start:start + size] = counts.astype(float) @ columns
    return out


def _group_value(sums: np.ndarray, metric: Metric, weeks: np.ndarray, periods) -> np.ndarray:
    """The metric over the chosen periods from column sums (one row per replicate, or one)."""
    width = len(FIELDS) + 1
    by_period = sums[..., 1:].reshape(*sums.shape[:-1], 3, width)
    chosen = by_period[..., list(periods), :].sum(axis=-2)
    numerator = _combine(chosen, metric.numerator)
    per_week = sums[..., 0] * weeks[list(periods)].sum()
    denominator = per_week if metric.per_week else chosen[..., 4]
    return _divide(numerator, denominator)


def _estimate(metric, point, reps, weeks, before, after) -> Estimate:
    """The difference in differences of `after` against `before` (period indexes)."""

    def did(sums_t, sums_c):
        t0 = _group_value(sums_t, metric, weeks, before)
        t1 = _group_value(sums_t, metric, weeks, (after,))
        c0 = _group_value(sums_c, metric, weeks, before)
        c1 = _group_value(sums_c, metric, weeks, (after,))
        value = (t1 - t0) - (c1 - c0)
        counterfactual = t0 + (c1 - c0)
        relative = _divide(value, np.where(counterfactual > 0, counterfactual, 0))
        return (t0, t1, c0, c1), value, relative

    means, value, relative = did(point[True], point[False])
    _, rep_values, rep_relative = did(reps[True], reps[False])
    low, high = _interval(rep_values) if np.isfinite(value) else (None, None)
    rel_low, rel_high = _interval(rep_relative) if np.isfinite(relative) else (None, None)
    return Estimate(
        metric, *(_plain(m) for m in means), _plain(value), low, high,
        _plain(relative), rel_low, rel_high,
    )


def _interval(values: np.ndarray) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if len(finite) < len(values) * 0.9:
        return None, None  # too many replicates without a defined value to trust an interval
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def _plain(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _pre_slope(series: np.ndarray, weeks_before: int) -> float | None:
    """The least-squares slope per week of (treated - control) over the pre-period, relative to
    the treated group's pre-period mean."""
    difference = series[0, :weeks_before] - series[1, :weeks_before]
    known = np.isfinite(difference)
    if known.sum() < 3:
        return None
    weeks = np.arange(weeks_before)[known]
    slope = np.polyfit(weeks, difference[known], 1)[0]
    level = np.nanmean(series[0, :weeks_before])
    return float(slope / level) if np.isfinite(level) and level > 0 else None
