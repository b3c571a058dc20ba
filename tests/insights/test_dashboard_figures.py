"""The dashboard's figures against the hand-counted world of world.py (1-14 November 2026,
beside 18-31 October)."""

import datetime
from decimal import Decimal

import pytest

from insights.selectors.dashboard import Period, sales_by, sales_over_time
from insights.selectors.segment_dashboard import (
    movement_accounts,
    movements,
    segment_size_weeks,
    segment_sizes,
)

PERIOD = Period(datetime.date(2026, 11, 1), datetime.date(2026, 11, 14))


def _by_name(rows):
    return {row["name"]: row for row in rows}


def test_the_previous_period_is_as_long_and_ends_the_day_before():
    assert PERIOD.previous == Period(datetime.date(2026, 10, 18), datetime.date(2026, 10, 31))
    assert PERIOD.week_starts() == [datetime.date(2026, 11, 1), datetime.date(2026, 11, 8)]


def test_totals_and_weeks_add_up_every_buyer(world):
    over_time = sales_over_time(period=PERIOD, scope=None)

    totals = over_time.totals
    assert (totals["revenue"], totals["orders"], totals["units"]) == (Decimal("4740"), 8, 95)
    assert (totals["revenue_prev"], totals["orders_prev"], totals["units_prev"]) == (
        Decimal("2300"), 3, 30)
    assert totals["revenue_change"] == pytest.approx(2440 / 2300)
    assert totals["margin"] == pytest.approx(1260 / 4040)
    assert totals["margin_prev"] == pytest.approx(0.2)
    assert totals["margin_change"] == pytest.approx(1260 / 4040 - 0.2)
    assert totals["discount"] == pytest.approx(1260 / 5800)
    assert totals["discount_prev"] == pytest.approx(0.08)
    assert [(w["week"].day, w["revenue"], w["orders"], w["revenue_prev"])
            for w in over_time.weeks] == [
        (1, Decimal("1200"), 3, Decimal("800")), (8, Decimal("3540"), 5, Decimal("1500")),
    ]


def test_sales_by_segment_count_a_sale_in_each_of_its_segments(world):
    rows = sales_by(dimension="segment", period=PERIOD, scope=None).rows

    assert [r["name"] for r in rows] == ["Report NHS trusts", "Loyal", "(in no segment)"]
    nhs, loyal, none = rows
    assert (nhs["revenue"], nhs["orders"], nhs["units"], nhs["revenue_prev"]) == (
        Decimal("4500"), 6, 90, Decimal("2300"))
    assert nhs["margin"] == pytest.approx(1200 / 3800)
    assert nhs["discount"] == pytest.approx(1250 / 5750)
    assert (loyal["revenue"], loyal["orders"], loyal["units"], loyal["revenue_prev"]) == (
        Decimal("1700"), 4, 44, Decimal("800"))
    assert loyal["margin"] == pytest.approx(0.25)
    assert loyal["discount"] == pytest.approx(250 / 1750)
    assert (none["revenue"], none["orders"]) == (Decimal("40"), 1)


def test_sales_by_organisation_and_rep(world):
    organisations = sales_by(dimension="organisation", period=PERIOD, scope=None).rows
    reps = sales_by(dimension="rep", period=PERIOD, scope=None).rows

    assert [(r["name"], r["revenue"], r["revenue_prev"]) for r in organisations] == [
        ("Northgate Hospitals NHS Trust", Decimal("3000"), Decimal("1500")),
        ("Riverside University Hospitals NHS FT", Decimal("1500"), Decimal("800")),
        ("Harbour Physiotherapy Clinic", Decimal("200"), 0),
        ("Retail consumers", Decimal("40"), 0),
    ]
    harbour = organisations[2]
    assert harbour["revenue_change"] is None and harbour["discount"] is None
    assert harbour["margin"] == pytest.approx(0.25)
    assert [(r["name"], r["revenue"], r["orders"]) for r in reps] == [
        ("Tom Hargreaves", Decimal("3000"), 3), ("Priya Shah", Decimal("1700"), 4),
        ("Retail consumers (no rep)", Decimal("40"), 1),
    ]


def test_sales_by_category_price_list_area_and_region(world):
    def table(dimension):
        return [(r["name"], r["revenue"], r["orders"], r["revenue_prev"])
                for r in sales_by(dimension=dimension, period=PERIOD, scope=None).rows]

    assert table("category") == [("Wound care", Decimal("3200"), 6, Decimal("800")),
                                 ("Mobility", Decimal("1540"), 5, Decimal("1500"))]
    assert table("price_list") == [
        ("Contract · NHS-2024-118", Decimal("4000"), 8, Decimal("800")),
        ("List", Decimal("700"), 2, Decimal("1500")),
        ("Retail", Decimal("40"), 1, 0),
    ]
    assert table("area") == [("LS (Leeds)", Decimal("3000"), 6, Decimal("1500")),
                             ("SE (London SE)", Decimal("1540"), 4, Decimal("800")),
                             ("PL (Plymouth)", Decimal("200"), 1, 0)]
    assert table("region") == [("North East and Yorkshire", Decimal("3000"), 6, Decimal("1500")),
                               ("London", Decimal("1540"), 4, Decimal("800")),
                               ("South West", Decimal("200"), 1, 0)]
    wound = _by_name(sales_by(dimension="category", period=PERIOD, scope=None).rows)["Wound care"]
    assert wound["margin"] == pytest.approx(950 / 3000)
    assert wound["discount"] == pytest.approx(850 / 3850)


def test_a_limit_keeps_the_largest_and_says_there_is_more(world):
    breakdown = sales_by(dimension="organisation", period=PERIOD, scope=None, limit=2)

    assert [r["name"] for r in breakdown.rows] == ["Northgate Hospitals NHS Trust",
                                                   "Riverside University Hospitals NHS FT"]
    assert breakdown.more


def test_a_scope_keeps_only_its_organisations_and_no_consumer(world):
    scope = frozenset({world.riverside.pk, world.harbour.pk})

    totals = sales_over_time(period=PERIOD, scope=scope).totals
    organisations = sales_by(dimension="organisation", period=PERIOD, scope=scope).rows
    segments = sales_by(dimension="segment", period=PERIOD, scope=scope).rows

    assert (totals["revenue"], totals["orders"], totals["revenue_prev"]) == (
        Decimal("1700"), 4, Decimal("800"))
    assert [r["name"] for r in organisations] == ["Riverside University Hospitals NHS FT",
                                                  "Harbour Physiotherapy Clinic"]
    assert [(r["name"], r["revenue"]) for r in segments] == [
        ("Loyal", Decimal("1700")), ("Report NHS trusts", Decimal("1500"))]


def test_segment_sizes_now_at_the_start_and_week_by_week(world):
    sizes = [s for s in segment_sizes(period=PERIOD, scope=None) if s["name"] in
             ("Loyal", "At risk", "Report NHS trusts")]
    weeks = segment_size_weeks(period=PERIOD, sizes=sizes).weeks
    s = world.segments

    assert {r["name"]: (r["members"], r["members_start"], r["change"]) for r in sizes} == {
        "Loyal": (108, 100, 8), "At risk": (25, 20, 5), "Report NHS trusts": (3, 3, 0)}
    assert [(w["week"], w[f"s{s['loyal'].pk}"], w[f"s{s['at_risk'].pk}"], w[f"s{s['nhs'].pk}"])
            for w in weeks] == [(datetime.date(2026, 11, 7), 110, 20, 3),
                                (datetime.date(2026, 11, 14), 108, 25, 3)]


def test_a_scoped_reader_counts_their_own_accounts_in_each_segment(world):
    scope = frozenset({world.riverside.pk, world.harbour.pk})

    sizes = {r["name"]: r["members"] for r in segment_sizes(period=PERIOD, scope=scope)}

    assert sizes["Report NHS trusts"] == 1
    assert sizes["Trusts by rule"] == 1
    assert sizes["At risk"] == 2
    assert sizes["Loyal"] == 0
    assert "Loyal consumers" not in sizes


def test_moves_pair_an_exit_with_an_entry_of_the_same_analysis(world):
    rows = movements(period=PERIOD, scope=None)

    assert [(r["from"], r["to"], r["accounts"]) for r in rows] == [
        ("Loyal", "At risk", 2), ("At risk", "Loyal", 1),
        ("Loyal consumers", "Consumers at risk", 1),
    ]


def test_the_accounts_that_moved_are_named_and_scoped(world):
    s = world.segments

    everyone = movement_accounts(period=PERIOD, scope=None, from_id=s["loyal"].pk,
                                 to_id=s["at_risk"].pk)
    priya = movements(period=PERIOD, scope=frozenset({world.riverside.pk, world.harbour.pk}))
    tom = movement_accounts(period=PERIOD, scope=frozenset({world.northgate.pk}),
                            from_id=s["loyal"].pk, to_id=s["at_risk"].pk)

    assert [(r["name"], r["moved_at"].date()) for r in everyone] == [
        ("Harbour Physiotherapy Clinic", datetime.date(2026, 11, 12)),
        ("Riverside University Hospitals NHS FT", datetime.date(2026, 11, 9)),
    ]
    assert [(r["from"], r["to"], r["accounts"]) for r in priya] == [("Loyal", "At risk", 2)]
    assert tom == []
