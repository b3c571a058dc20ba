"""The difference-in-differences analysis on synthetic panels (no database): it recovers a planted
effect inside its interval, finds none in pure noise, and flags groups that did not move alike
before the start."""

import datetime

import numpy as np
import pytest

from insights.analysis.did import Panel, analyse
from insights.analysis.wording import day_words, effect_sentence, pre_trend_sentence


def _panel(*, effect=0.0, pre_trend=0.0, seed=0, treated=80, control=160, before=8, after=8):
    """Accounts ordering every week: each its own level, a season shared by both groups, weekly
    noise; the treated group's revenue times (1 + effect) from the start, and growing by
    `pre_trend` a week before it."""
    rng = np.random.default_rng(seed)
    n = treated + control
    is_treated = np.arange(n) < treated
    level = rng.lognormal(6.5, 0.3, n)
    season = 1 + 0.1 * np.sin(np.arange(before + after) / 3)
    account, week, values = [], [], []
    for i in range(n):
        for w in range(before + after):
            revenue = level[i] * season[w] * rng.lognormal(0, 0.1)
            if is_treated[i]:
                revenue *= 1 + pre_trend * min(w, before)
                revenue *= 1 + effect if w >= before else 1
            account.append(i)
            week.append(w)
            values.append([revenue, 1, 4, revenue * 0.3, revenue * 1.1, revenue])
    return Panel.from_rows(treated=is_treated, weight=np.ones(n), account=account, week=week,
                       values=values, weeks_before=before, weeks_after=after)


def test_a_planted_revenue_effect_lies_inside_its_interval_which_excludes_zero():
    result = analyse(_panel(effect=0.15, seed=0))

    revenue = result.estimates["revenue"]
    assert revenue.relative_low < 0.15 < revenue.relative_high
    assert revenue.relative_low > 0
    assert revenue.relative == pytest.approx(0.15, abs=0.03)
    assert result.pre_trends["revenue"].alike is True


def test_orders_did_not_change_when_only_revenue_did():
    orders = analyse(_panel(effect=0.15, seed=1)).estimates["orders"]

    assert orders.value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_pure_noise_gives_an_interval_that_includes_zero(seed):
    revenue = analyse(_panel(seed=seed)).estimates["revenue"]

    assert revenue.relative_low < 0 < revenue.relative_high
    assert not revenue.clear


def test_the_intervals_cover_the_truth_about_as_often_as_they_say():
    """Over 20 worlds (fixed seeds) a 95% interval misses the planted effect, or finds one in
    noise, or flags parallel groups, in about one world in twenty: at most three here."""
    planted = [analyse(_panel(effect=0.15, seed=s), replicates=300) for s in range(20, 40)]
    noise = [analyse(_panel(seed=s), replicates=300) for s in range(40, 60)]

    missed = sum(not (r.estimates["revenue"].relative_low < 0.15
                      < r.estimates["revenue"].relative_high) for r in planted)
    found_in_noise = sum(r.estimates["revenue"].clear for r in noise)
    flagged = sum(r.pre_trends["revenue"].alike is False for r in noise)
    assert (missed <= 3, found_in_noise <= 3, flagged <= 3) == (True, True, True), (
        missed, found_in_noise, flagged)


def test_groups_that_drifted_apart_before_the_start_are_flagged():
    result = analyse(_panel(pre_trend=0.03, seed=6))

    check = result.pre_trends["revenue"]
    assert check.alike is False
    assert check.slope > 0.02


def test_the_analysis_is_the_same_on_every_run():
    first = analyse(_panel(effect=0.1, seed=7)).estimates["revenue"]
    second = analyse(_panel(effect=0.1, seed=7)).estimates["revenue"]

    assert (first.relative_low, first.relative_high) == (second.relative_low, second.relative_high)


def test_weights_give_the_control_group_the_treated_mix():
    """Two control strata, one spending twice the other; weighted to the treated mix (all in the
    low stratum), the control mean is the low stratum's."""
    treated = [True, False, False]
    panel = Panel.from_rows(treated=treated, weight=[1.0, 2.0, 0.0], account=[0, 1, 2],
                        week=[0, 0, 0], values=[[100, 1, 1, 0, 0, 0], [100, 1, 1, 0, 0, 0],
                                                [200, 1, 1, 0, 0, 0]],
                        weeks_before=4, weeks_after=0)

    weekly = analyse(panel).weekly["revenue"]

    assert weekly[:, 0].tolist() == [100.0, 100.0]


def test_no_week_after_the_start_gives_no_estimate():
    result = analyse(_panel(after=0))

    assert result.estimates == {}
    assert "too little to compare" in effect_sentence(
        None, label="Revenue per account", group="At risk", since="1 March")


def test_the_sentence_reads_rose_with_its_interval():
    estimate = analyse(_panel(effect=0.15, seed=1)).estimates["revenue"]

    sentence = effect_sentence(estimate, label="Revenue per account", group="At risk",
                               since="1 March")

    low, high = round(estimate.relative_low * 100), round(estimate.relative_high * 100)
    assert sentence == (
        f"Revenue per account in At risk rose {round(estimate.relative * 100)}% "
        f"(95% CI {low}–{high}%) against the control group since 1 March."
    )


def test_the_sentence_reads_fell_for_a_loss():
    estimate = analyse(_panel(effect=-0.2, seed=0)).estimates["revenue"]

    sentence = effect_sentence(estimate, label="Revenue per account", group="At risk",
                               since="1 March")

    assert sentence.startswith("Revenue per account in At risk fell ")
    assert estimate.relative_low < -0.2 < estimate.relative_high
    assert "−" not in sentence


def test_the_sentence_says_no_clear_change_when_the_interval_spans_zero():
    estimate = analyse(_panel(seed=2)).estimates["revenue"]

    sentence = effect_sentence(estimate, label="Orders per account", group="At risk",
                               since="1 March")

    assert sentence.startswith(
        "Orders per account in At risk showed no clear change against the control group since "
        "1 March (")
    assert "95% CI −" in sentence


def test_the_pre_trend_sentence_warns_when_the_groups_drifted():
    drifted = analyse(_panel(pre_trend=0.03, seed=6)).pre_trends["revenue"]
    alike = analyse(_panel(seed=3)).pre_trends["revenue"]

    assert "did NOT move alike" in pre_trend_sentence(drifted)
    assert "read the estimate with care" in pre_trend_sentence(drifted)
    assert pre_trend_sentence(alike).startswith("Before the start the two groups moved alike")


def test_a_date_reads_without_the_year_only_in_the_current_year():
    today = datetime.date(2026, 6, 1)

    assert day_words(datetime.date(2026, 3, 1), today) == "1 March"
    assert day_words(datetime.date(2025, 3, 1), today) == "1 March 2025"
