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

from django.db import connection
from django.db.models import (
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
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


def monitor_accounts(monitor: PricingMonitor, scope: frozenset[int] | None) -> QuerySet:
    """The monitor's frozen accounts this viewer may see figures of: all (scope None), or the
    organisations in the scope (a rep's book holds no retail consumer)."""
    accounts = MonitorAccount.objects.filter(monitor=monitor)
    if scope is None:
        return accounts
    return accounts.filter(organisation_id__in=sorted(scope))


FIGURES = ("revenue", "orders", "units", "margin", "list_value", "listed_revenue")
_SUMMED = {
    "revenue": "CAST(bd.revenue AS DOUBLE PRECISION)",
    "orders": "bd.orders",
    "units": "bd.units",
    "margin": "CAST(bd.costed_revenue - bd.cost AS DOUBLE PRECISION)",
    "list_value": "CAST(bd.list_value AS DOUBLE PRECISION)",
    "listed_revenue": "CAST(bd.listed_revenue AS DOUBLE PRECISION)",
}


def _week_sql(vendor: str) -> str:
    """Whole weeks from the first day (a parameter) to the row's day."""
    if vendor == "sqlite":
        return "CAST(julianday(bd.day) - julianday(%s) AS INTEGER) / 7"
    return "(bd.day - CAST(%s AS DATE)) / 7"


def _account_weeks(monitor, scope, first_day, end_day) -> tuple[str, list]:
    """The SQL (a WITH clause) of the compared accounts (`acc`) and their sums per week with sales
    (`aw`), and its parameters. Only table and column names known to the models are formatted
    into it; every value is a parameter."""
    field = buyer_field(monitor.segment.audience)
    accounts, days = MonitorAccount._meta.db_table, BuyerDay._meta.db_table
    in_scope = ""
    params: list = [monitor.pk]
    if scope is not None:
        ids = sorted(scope) or [0]
        in_scope = f" AND {field} IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    sums = ", ".join(f"SUM({sql}) AS {name}" for name, sql in _SUMMED.items())
    week = _week_sql(connection.vendor)
    sql = (
        f"WITH acc AS (SELECT {field} AS buyer, {connection.ops.quote_name('group')} AS grp, "  # noqa: S608
        f"weight FROM {accounts} WHERE monitor_id = %s AND weight > 0{in_scope}), "
        f"aw AS (SELECT acc.buyer, acc.grp, acc.weight, {week} AS week, {sums} FROM {days} bd "
        f"JOIN acc ON bd.{field} = acc.buyer WHERE bd.day >= %s AND bd.day < %s "
        "GROUP BY 1, 2, 3, 4) "
    )
    return sql, [*params, first_day, first_day, end_day]


def weekly_group_sums(monitor, scope, first_day: datetime.date, end_day: datetime.date):
    """Per group and week (week 0 starting on `first_day`, up to `end_day` excluded): the
    weighted sums of the figures over the compared accounts, and the weight of the accounts that
    ordered that week. One query, whatever the number of weeks."""
    with_clause, params = _account_weeks(monitor, scope, first_day, end_day)
    sums = ", ".join(f"SUM(weight * {name})" for name in FIGURES)
    sql = (
        f"{with_clause}SELECT grp, week, {sums}, "  # noqa: S608 - names, not values
        "SUM(CASE WHEN orders > 0 THEN weight ELSE 0 END) FROM aw GROUP BY grp, week"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def compared_accounts(monitor, scope) -> list[tuple[int, str, float]]:
    """(buyer id, group, weight) of every compared account, by buyer id: weight 0 (a treated
    account whose stratum has no control account) is left out."""
    field = buyer_field(monitor.segment.audience)
    return list(
        monitor_accounts(monitor, scope).filter(weight__gt=0).order_by(field)
        .values_list(field, "group", "weight")
    )


def period_account_sums(monitor, scope, first_day, end_day, periods: tuple[int, ...]):
    """Per compared account with sales: its buyer id, and for each period (weeks from the given
    bounds: [0, b1), [b1, b2), ..., [bn, end)) its summed figures and the weeks with an order.
    One query."""
    with_clause, params = _account_weeks(monitor, scope, first_day, end_day)
    bounds = [0, *periods, 10**6]
    columns = []
    for low, high in zip(bounds, bounds[1:], strict=False):
        within = f"week >= {int(low)} AND week < {int(high)}"
        columns += [f"SUM(CASE WHEN {within} THEN {name} ELSE 0 END)" for name in FIGURES]
        columns.append(f"SUM(CASE WHEN {within} AND orders > 0 THEN 1 ELSE 0 END)")
    sql = (
        f"{with_clause}SELECT buyer, {', '.join(columns)} "  # noqa: S608 - names, not values
        "FROM aw GROUP BY buyer"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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

