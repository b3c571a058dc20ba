"""A monitor's estimates in plain words, e.g.

    Revenue per account in At risk rose 12% (95% CI 4–20%) against the control group since
    1 March.

"rose" or "fell" only when the 95% interval excludes zero; otherwise "showed no clear change",
with the estimate and its interval in brackets.
"""

import datetime

from .did import Estimate, PreTrend


def day_words(day: datetime.date, today: datetime.date) -> str:
    """"1 March", with the year when it is not this year's."""
    words = f"{day.day} {day:%B}"
    return words if day.year == today.year else f"{words} {day.year}"


def _percent(value: float) -> str:
    return f"{abs(value) * 100:.0f}%"


def _signed(value: float) -> str:
    rounded = round(value * 100)
    if rounded == 0:
        return "0%"
    return f"{'+' if rounded > 0 else '−'}{abs(rounded)}%"


def effect_sentence(estimate: Estimate | None, *, label: str, group: str, since: str) -> str:
    """One metric's relative change in the treated group against the control group."""
    subject = f"{label} in {group}"
    if estimate is None or estimate.relative is None or estimate.relative_low is None:
        return f"{subject}: too little to compare with the control group yet."
    low, high, value = estimate.relative_low, estimate.relative_high, estimate.relative
    if low > 0 or high < 0:
        verb = "rose" if value > 0 else "fell"
        ends = sorted((abs(low), abs(high)))
        interval = f"{ends[0] * 100:.0f}–{ends[1] * 100:.0f}%"
        return (f"{subject} {verb} {_percent(value)} (95% CI {interval}) against the control "
                f"group since {since}.")
    return (f"{subject} showed no clear change against the control group since {since} "
            f"({_signed(value)}, 95% CI {_signed(low)} to {_signed(high)}).")


def pre_trend_sentence(check: PreTrend | None) -> str:
    """Whether the groups moved alike before the start (the placebo on the pre-period)."""
    if check is None or check.alike is None:
        return "Too few weeks of sales before the start to check that the groups moved alike."
    placebo = check.placebo
    if placebo.relative is None or placebo.relative_low is None:
        figures = "placebo estimate in the metric's own units"
    else:
        figures = (f"placebo {_signed(placebo.relative)}, 95% CI "
                   f"{_signed(placebo.relative_low)} to {_signed(placebo.relative_high)}")
    if check.alike:
        return f"Before the start the two groups moved alike ({figures})."
    return (f"Before the start the two groups did NOT move alike ({figures}): read the estimate "
            "with care.")
