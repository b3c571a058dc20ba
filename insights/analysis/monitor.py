"""A pricing monitor's figures for one viewer: the frozen accounts they may see, their weekly sums
from `BuyerDay`, and the difference-in-differences analysis of them.

The weeks run from `weeks_before` whole weeks before the start to the last whole week that has
ended by the monitor's end (or today), and that the aggregates have been refreshed through. The
result is cached, keyed on the monitor, the viewer's scope, the last week and the aggregates'
refresh time, so a refresh of the aggregates shows on the next visit.
"""

import datetime
import hashlib
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from ..models import MonitorGroup, PricingMonitor
from ..selectors.monitors import (
    aggregates_through,
    compared_accounts,
    period_account_sums,
    weekly_group_sums,
)
from .did import FIELDS, Panel, Result, analyse, period_bounds

CACHE_SECONDS = 6 * 3600


@dataclass
class MonitorFigures:
    first_day: datetime.date  # the first day of week 0 (the first week of the pre-period)
    result: Result

    def week_start(self, week: int) -> datetime.date:
        return self.first_day + datetime.timedelta(weeks=week)


def weeks_after(monitor: PricingMonitor, refreshed_at, today: datetime.date) -> int:
    """Whole weeks since the start that have ended by the end day, today and the last refresh."""
    ends = [today]
    if monitor.ends_on:
        ends.append(monitor.ends_on + datetime.timedelta(days=1))
    if refreshed_at is not None:
        ends.append(timezone.localdate(refreshed_at))
    return max(0, (min(ends) - monitor.starts_on).days // 7)


def monitor_figures(monitor: PricingMonitor, scope: frozenset[int] | None,
                    today: datetime.date | None = None) -> MonitorFigures:
    """The analysis of the monitor over the accounts in `scope` (None: all), cached."""
    today = today or timezone.localdate()
    refreshed_at = aggregates_through()
    after = weeks_after(monitor, refreshed_at, today)
    first_day = monitor.starts_on - datetime.timedelta(weeks=monitor.weeks_before)
    key = _cache_key(monitor, scope, after, refreshed_at)
    result = cache.get(key)
    if result is None:
        result = analyse(_panel(monitor, scope, first_day, after))
        cache.set(key, result, CACHE_SECONDS)
    return MonitorFigures(first_day, result)


def _cache_key(monitor, scope, after, refreshed_at) -> str:
    viewer = "all" if scope is None else hashlib.sha256(
        ",".join(map(str, sorted(scope))).encode()
    ).hexdigest()[:16]
    frozen = monitor.frozen_at.timestamp() if monitor.frozen_at else "-"
    refreshed = refreshed_at.timestamp() if refreshed_at else "-"
    return f"insights:monitor:{monitor.pk}:{frozen}:{after}:{refreshed}:{viewer}"


def _panel(monitor, scope, first_day, after) -> Panel:
    """The panel from three grouped queries: the compared accounts, the sums per period of those
    with sales, and each group's weighted sums per week."""
    end_day = monitor.starts_on + datetime.timedelta(weeks=after)
    width = len(FIELDS) + 1
    accounts = compared_accounts(monitor, scope)
    index = {buyer: i for i, (buyer, _, _) in enumerate(accounts)}
    periods = np.zeros((len(accounts), 3 * width))
    for buyer, *sums in period_account_sums(monitor, scope, first_day, end_day,
                                            period_bounds(monitor.weeks_before)):
        periods[index[buyer]] = sums
    weekly = np.zeros((2, monitor.weeks_before + after, width))
    for group, week, *sums in weekly_group_sums(monitor, scope, first_day, end_day):
        weekly[0 if group == MonitorGroup.TREATED else 1, int(week)] = sums
    return Panel(
        treated=np.array([group == MonitorGroup.TREATED for _, group, _ in accounts], dtype=bool),
        weight=np.array([weight for _, _, weight in accounts], dtype=float),
        periods=periods.reshape(-1, 3, width), weekly=weekly,
        weeks_before=monitor.weeks_before, weeks_after=after,
    )
