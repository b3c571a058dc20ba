"""Reads of the pricing monitors: who was in a segment when a monitor started, who was reached by
a price list, and the frozen accounts' weekly sums.

Membership at the start, by kind of segment:
- computed: replayed from `SegmentMovement` — the buyer's last movement before the start of the
  start day was an entry;
- static: the `SegmentMembership` rows as they stand (staff assign them; their history is not
  replayed);
- rule: `segments.rules.segment_q` as it matches now (conditions on purchase history follow the
  last facts refresh).
"""

import datetime

from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from segments.models import (
    Audience,
    MovementDirection,
    Segment,
    SegmentKind,
    SegmentMembership,
    SegmentMovement,
)
from segments.rules import consumer_buyers, organisation_buyers, segment_q

from ..models import AggregatesState, BuyerDay, MonitorAccount, MonitorGroup, PricingMonitor

_ANCESTOR_DEPTH = 4


def buyer_field(audience: str) -> str:
    """The column naming a buyer of this audience on the per-buyer rows."""
    return "organisation_id" if audience == Audience.ORGANISATIONS else "user_id"


def audience_buyers(audience: str) -> QuerySet:
    """Every buyer of the audience: active organisations, or retail consumers."""
    return organisation_buyers() if audience == Audience.ORGANISATIONS else consumer_buyers()


def start_instant(day: datetime.date) -> datetime.datetime:
    """The first moment of a day in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def members_at(segment: Segment, day: datetime.date) -> QuerySet:
    """The buyers (organisations or users, of the segment's audience) in `segment` at the start
    of `day`, as a lazy queryset: usable as a subquery."""
    buyers = audience_buyers(segment.audience)
    field = buyer_field(segment.audience)
    if segment.kind == SegmentKind.RULE:
        return buyers.filter(segment_q(segment))
    if segment.kind == SegmentKind.STATIC:
        return buyers.filter(pk__in=SegmentMembership.objects.filter(
            segment=segment, **{f"{field}__isnull": False}).values(field))
    moved = SegmentMovement.objects.filter(segment=segment, at__lt=start_instant(day))
    last = moved.filter(**{field: OuterRef("pk")}).order_by("-at", "-id").values("direction")[:1]
    return (
        buyers.filter(pk__in=moved.filter(**{f"{field}__isnull": False}).values(field))
        .annotate(last_movement=Subquery(last))
        .filter(last_movement=MovementDirection.ENTERED)
    )


def reached_by_price_list(price_list, audience: str, day: datetime.date) -> Q:
    """The Q on buyers of `audience` whom the price list reaches: assigned to the organisation
    or one of its ancestors, to a segment the buyer was in at `day`, or to the territory of the
    buyer's postcode area."""
    reached = Q(pk__in=[])
    for segment in price_list.segments.all():
        reached |= Q(pk__in=members_at(segment, day).values("pk"))
    areas = price_list.territories.filter(areas__isnull=False).values("areas__code")
    reached |= Q(postcode_area__in=areas)
    if audience != Audience.ORGANISATIONS:
        return reached
    assigned = price_list.organisations.values("pk")
    path = "pk"
    for _ in range(_ANCESTOR_DEPTH + 1):
        reached |= Q(**{f"{path}__in": assigned})
        path = "parent_id" if path == "pk" else "parent__" + path
    return reached


class DaysSince(Func):
    """Whole days from `origin` to a date column (the column's day on or after the origin)."""

    output_field = IntegerField()

    def __init__(self, expression, origin: datetime.date):
        super().__init__(expression, Value(origin), output_field=IntegerField())

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)",
                              arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)", arg_joiner=") - julianday(",
            **extra,
        )


def monitor_accounts(monitor: PricingMonitor, scope: frozenset[int] | None) -> QuerySet:
    """The monitor's frozen accounts this viewer may see figures of: all (scope None), or the
    organisations in the scope (a rep's book holds no retail consumer)."""
    accounts = MonitorAccount.objects.filter(monitor=monitor)
    if scope is None:
        return accounts
    return accounts.filter(organisation_id__in=sorted(scope))


def compared_accounts(monitor, scope) -> list[tuple[int, str, float]]:
    """(buyer id, group, weight) of the accounts in the comparison: weight 0 marks a treated
    account whose stratum has no control account."""
    field = buyer_field(monitor.segment.audience)
    return list(
        monitor_accounts(monitor, scope).filter(weight__gt=0).order_by()
        .values_list(field, "group", "weight")
    )


def weekly_account_sums(monitor, scope, first_day: datetime.date, end_day: datetime.date):
    """One row per compared account and week with sales, from `first_day` (week 0) up to, not
    including, `end_day`: (buyer id, week, revenue, orders, units, margin, list value, listed
    revenue). One grouped query, whatever the number of weeks."""
    field = buyer_field(monitor.segment.audience)
    accounts = monitor_accounts(monitor, scope).filter(weight__gt=0).values(field)
    week = DaysSince(F("day"), first_day) / Value(7)
    sums = {
        "revenue": Sum("revenue"), "orders": Sum("orders"), "units": Sum("units"),
        "margin": Sum(F("costed_revenue") - F("cost")),
        "list_value": Sum("list_value"), "listed_revenue": Sum("listed_revenue"),
    }
    return list(
        BuyerDay.objects.filter(**{f"{field}__in": accounts}, day__gte=first_day, day__lt=end_day)
        .annotate(week=week).order_by().values(field, "week")
        .annotate(**{name: Cast(total, FloatField()) for name, total in sums.items()})
        .values_list(field, "week", *sums)
    )


def aggregates_through() -> datetime.datetime | None:
    """When the aggregates were last refreshed (None: never)."""
    return AggregatesState.objects.order_by("pk").values_list("refreshed_at", flat=True).first()


def strata_counts(monitor, scope) -> list[dict]:
    """Per stratum and group: how many frozen accounts, and how many are compared."""
    return list(
        monitor_accounts(monitor, scope).order_by().values("stratum", "group")
        .annotate(accounts=Count("pk"), compared=Count("pk", filter=Q(weight__gt=0)),
                  weight=Sum("weight"))
        .order_by("stratum", "group")
    )


def treated_accounts(monitor, scope) -> QuerySet:
    return (
        monitor_accounts(monitor, scope).filter(group=MonitorGroup.TREATED)
        .select_related("organisation", "user").order_by("stratum", "organisation__name",
                                                         "user__email", "pk")
    )

