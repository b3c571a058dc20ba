"""Allocation policies: who gets arriving stock when it cannot cover every backorder. Pure
functions over plain facts, so each policy can be checked against a hand-computed answer.

- requested date: the earliest requested delivery date first (then the oldest order);
- fair share: pro rata to the units backordered, rounded down to whole packs, the packs left
  over going to the largest unmet fractions;
- tier priority: concierge accounts first and self-service accounts last (the service tier),
  then customer tier A before B before C, then the oldest order;
- credit standing: accounts within their credit limit first, accounts over it last.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from .models import AllocationPolicy

FAR_FUTURE = datetime.date.max
TIER_ORDER = {"A": 0, "B": 1, "C": 2}
SERVICE_ORDER = {"concierge": 0, "standard": 1, "self_service": 2}
SERVICE_WORDS = {"concierge": "concierge", "standard": "standard", "self_service": "self-service"}


@dataclass(frozen=True)
class Backorder:
    line_id: int
    backordered: int
    placed_at: datetime.datetime
    requested_date: datetime.date | None = None
    tier: str = ""
    over_credit_limit: bool = False
    service_tier: str = ""


@dataclass(frozen=True)
class Grant:
    line_id: int
    quantity: int
    reason: str


def _greedy(free: int, ordered, reason_of) -> list[Grant]:
    grants = []
    for position, backorder in enumerate(ordered, start=1):
        if free <= 0:
            break
        take = min(free, backorder.backordered)
        free -= take
        grants.append(Grant(backorder.line_id, take, reason_of(backorder, position, len(ordered))))
    return grants


def _by_requested_date(free, backorders):
    ordered = sorted(
        backorders, key=lambda b: (b.requested_date or FAR_FUTURE, b.placed_at, b.line_id)
    )

    def reason(b, position, count):
        wanted = "no date requested"
        if b.requested_date:
            wanted = f"requested for {b.requested_date:%d %b %Y}"
        return f"By requested date: {wanted}, {position} of {count} in line"

    return _greedy(free, ordered, reason)


def _by_tier(free, backorders):
    ordered = sorted(
        backorders,
        key=lambda b: (SERVICE_ORDER.get(b.service_tier, 1), TIER_ORDER.get(b.tier, 3),
                       b.placed_at, b.line_id),
    )

    def reason(b, position, count):
        service = SERVICE_WORDS.get(b.service_tier, "standard")
        return (f"Tier priority: {service} service, tier {b.tier or 'none'} customer, "
                f"{position} of {count} in line")

    return _greedy(free, ordered, reason)


def _by_credit(free, backorders):
    ordered = sorted(backorders, key=lambda b: (b.over_credit_limit, b.placed_at, b.line_id))

    def reason(b, position, count):
        standing = "over its credit limit, served last" if b.over_credit_limit else (
            "within its credit limit"
        )
        return f"Credit standing: account {standing}, {position} of {count} in line"

    return _greedy(free, ordered, reason)


def _fair_share(free, backorders, pack_size):
    total = sum(b.backordered for b in backorders)
    if total <= free:
        return [Grant(b.line_id, b.backordered, "Fair share: enough stock for every backorder")
                for b in backorders]
    exact = {b.line_id: Decimal(free) * b.backordered / total for b in backorders}
    given = {
        b.line_id: min(b.backordered, int(exact[b.line_id] // pack_size) * pack_size)
        for b in backorders
    }
    left = free - sum(given.values())
    by_shortfall = sorted(
        backorders, key=lambda b: (-(exact[b.line_id] - given[b.line_id]), b.placed_at, b.line_id)
    )
    for b in by_shortfall:
        chunk = min(pack_size, b.backordered - given[b.line_id])
        if 0 < chunk <= left:
            given[b.line_id] += chunk
            left -= chunk
    return [
        Grant(b.line_id, given[b.line_id],
              f"Fair share: {b.backordered} of {total} units backordered, pro rata "
              f"{exact[b.line_id]:.2f} of {free}, in packs of {pack_size}")
        for b in backorders if given[b.line_id]
    ]


def allocation_plan(
    policy: str, free: int, backorders: list[Backorder], *, pack_size: int = 1
) -> list[Grant]:
    """How `free` units go to `backorders` under `policy` (never more than each line lacks)."""
    if free <= 0 or not backorders:
        return []
    if policy == AllocationPolicy.REQUESTED_DATE:
        return _by_requested_date(free, backorders)
    if policy == AllocationPolicy.FAIR_SHARE:
        return _fair_share(free, backorders, max(pack_size, 1))
    if policy == AllocationPolicy.TIER_PRIORITY:
        return _by_tier(free, backorders)
    if policy == AllocationPolicy.CREDIT_STANDING:
        return _by_credit(free, backorders)
    raise ValueError(f"Unknown allocation policy {policy!r}")
