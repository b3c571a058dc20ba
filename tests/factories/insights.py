"""Builders for the report aggregates, written straight into their tables (the refresh that fills
them from orders is tested on its own): buyer-days, sales-days, segment sets and sizes, and the
segment movements the dashboard pairs into moves."""

import datetime
from decimal import Decimal

from django.utils import timezone

from insights.models import BuyerDay, SalesDay, SegmentSet, SegmentSize
from segments.models import MovementDirection, SegmentMovement

MONEY_FIELDS = ("revenue", "costed_revenue", "cost", "listed_revenue", "list_value")


def segment_set(*segments) -> SegmentSet:
    """The set of exactly these segments (no segment: the empty set)."""
    ids = sorted({s.pk for s in segments})
    found, created = SegmentSet.objects.get_or_create(key=",".join(str(i) for i in ids))
    if created and ids:
        found.segments.add(*ids)
    return found


def _figures(fields: dict) -> dict:
    for money in MONEY_FIELDS:
        if money in fields:
            fields[money] = Decimal(str(fields[money]))
    return fields


def buyer_day(day: datetime.date, *, organisation=None, user=None, segments=(), **figures):
    """One buyer's orders on one day while in `segments`."""
    row = BuyerDay(day=day, organisation=organisation, user=user,
                   segment_set=segment_set(*segments), **_figures(figures))
    row.full_clean()
    row.save()
    return row


def sales_day(day: datetime.date, category, *, organisation=None, user=None, segments=(),
              price_source: str = "list", price_list_code: str = "", postcode_area: str = "",
              **figures):
    """One buyer's lines on one day in one category, price list and postcode area."""
    row = SalesDay(day=day, category=category, organisation=organisation, user=user,
                   segment_set=segment_set(*segments), price_source=price_source,
                   price_list_code=price_list_code, postcode_area=postcode_area,
                   **_figures(figures))
    row.full_clean()
    row.save()
    return row


def segment_size(segment, day: datetime.date, members: int) -> SegmentSize:
    return SegmentSize.objects.create(segment=segment, day=day, members=members)


def moved(source, target, on: datetime.date, *, organisation=None, user=None, run=None):
    """A buyer leaving `source` and entering `target` on one day (at noon), as a recompute
    writes it."""
    at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(12)))
    return [
        SegmentMovement.objects.create(segment=segment, direction=direction, at=at, run=run,
                                       organisation=organisation, user=user)
        for segment, direction in ((source, MovementDirection.EXITED),
                                   (target, MovementDirection.ENTERED))
    ]
