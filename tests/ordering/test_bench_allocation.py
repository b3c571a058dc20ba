"""The allocation benchmark runs at a small size (so it cannot rot), times every policy and
leaves nothing behind."""

import io
import re

from django.core.management import call_command

from catalog.models import Product
from ordering.models import Allocation, AllocationPolicy, Order

RESULT = re.compile(
    r"^(?P<policy>\w+): (?P<lines>[\d,]+) lines, (?P<units>[\d,]+) units, "
    r"(?P<orders>[\d,]+) orders allocated, (?P<queries>[\d,]+) queries, [\d.]+s$", re.M
)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_benchmark_times_every_policy_on_the_same_backorders_and_keeps_nothing(db):
    out = io.StringIO()

    call_command("bench_allocation", "--lines", "200", "--organisations", "40", stdout=out)

    results = {m["policy"]: m for m in RESULT.finditer(out.getvalue())}
    assert set(results) == set(AllocationPolicy.values)
    arriving = _number(re.search(r"([\d,]+) arriving", out.getvalue())[1])
    for found in results.values():
        assert 0 < _number(found["units"]) <= arriving
        assert 0 < _number(found["lines"]) <= 200
    # fair share fills no order completely at 40% cover: its queries are the fixed part
    assert _number(results["fair_share"]["orders"]) == 0
    assert _number(results["fair_share"]["queries"]) < 30
    # the others add a few queries per order they complete (its state change and log), never
    # one per line
    for policy in ("requested_date", "tier_priority", "credit_standing"):
        completed = _number(results[policy]["orders"])
        assert _number(results[policy]["queries"]) <= 30 + 5 * completed, policy
    assert not Order.objects.filter(number__startswith="BENCH-A-").exists()
    assert not Product.objects.filter(sku="BENCH-ALLOC-1").exists()
    assert not Allocation.objects.exists()
