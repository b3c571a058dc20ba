"""Allocation policies against hand-computed answers, and the task that books an arrival."""

import datetime

from ordering.allocation import Backorder, allocation_plan
from ordering.models import Allocation, Order, OrderLine, Stock
from ordering.tasks import stock_arrived

from .builders import make_order

T0 = datetime.datetime(2026, 11, 1, 9, 0)


def _b(line_id, backordered, *, hours=0, date=None, tier="", over=False):
    return Backorder(line_id, backordered, T0 + datetime.timedelta(hours=hours), date, tier, over)


def _given(grants):
    return {g.line_id: g.quantity for g in grants}


def test_by_requested_date_the_earliest_need_is_filled_first():
    backorders = [
        _b(1, 30, date=datetime.date(2026, 12, 10)),
        _b(2, 30, date=datetime.date(2026, 12, 1)),
        _b(3, 30),
    ]

    assert _given(allocation_plan("requested_date", 50, backorders)) == {2: 30, 1: 20}


def test_fair_share_is_pro_rata_in_whole_packs_with_leftover_packs_to_the_largest_shortfall():
    # 100 units over 60 + 30 + 10 = 100 backordered → exactly 60/30/10 only when stock covers;
    # with 47 units: 28.2, 14.1, 4.7 → packs of 5: 25, 10, 0; 12 left → +5 to line 3 (4.7 short),
    # +5 to line 2 (4.1 short), 2 left over are not a whole pack and stay in stock.
    backorders = [_b(1, 60), _b(2, 30, hours=1), _b(3, 10, hours=2)]

    assert _given(allocation_plan("fair_share", 47, backorders, pack_size=5)) == {
        1: 25, 2: 15, 3: 5
    }


def test_tier_priority_serves_a_before_b_before_c():
    backorders = [_b(1, 10, tier="C"), _b(2, 10, hours=1, tier="A"), _b(3, 10, hours=2, tier="B")]

    assert _given(allocation_plan("tier_priority", 15, backorders)) == {2: 10, 3: 5}


def test_credit_standing_serves_accounts_over_their_limit_last():
    backorders = [_b(1, 10, over=True), _b(2, 10, hours=1), _b(3, 10, hours=2)]

    assert _given(allocation_plan("credit_standing", 25, backorders)) == {2: 10, 3: 10, 1: 5}


def test_an_arrival_is_allocated_with_reasons_and_completes_filled_orders(world):
    Stock.objects.filter(product=world.dressing).update(on_hand=0)
    first = make_order(world, "partly_backordered", allocated=0, backordered=8,
                       requested_delivery_date=datetime.date(2026, 12, 1))
    second = make_order(world, "partly_backordered", allocated=0, backordered=8,
                        requested_delivery_date=datetime.date(2026, 12, 20))

    given = stock_arrived.delay(world.dressing.pk, 10, "requested_date").get()

    assert given == 10
    assert Order.objects.get(pk=first.pk).state == "allocated"
    assert Order.objects.get(pk=second.pk).state == "partly_backordered"
    assert OrderLine.objects.get(order=second).backordered_quantity == 6
    assert Stock.objects.get(product=world.dressing).reserved == 10
    assert "01 Dec 2026" in Allocation.objects.get(line__order=first).reason
