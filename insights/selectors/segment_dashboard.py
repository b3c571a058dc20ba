"""What the segment dashboard reads: each active segment's size now, at the start of the period
and week by week (from the daily `SegmentSize` counts), and who moved between computed segments
in the period (from `segments.SegmentMovement`), with the accounts named.

`scope` is the set of organisation ids the reader may see, or None for every buyer. The daily
counts cover every buyer, so a reader with a narrower scope gets their own accounts counted from
the memberships instead, and no series over time. A fixed number of queries whatever the number
of segments, weeks or movements.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Organisation, User
from segments.models import (
    Audience,
    ComputedBasis,
    ComputedMembership,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    SegmentMovement,
)
from segments.rules import segment_q

from ..models import SegmentSize
from .dashboard import Period

# The analyses that place a buyer in exactly one of their segments: leaving one and entering
# another of the same analysis is a move. Lapsing and propensities are not exclusive.
EXCLUSIVE_BASES = (ComputedBasis.RFM_GROUP, ComputedBasis.VALUE_TIER, ComputedBasis.MARGIN_TIER,
                   ComputedBasis.CLUSTER)


def _size_on_or_before(day: datetime.date, *, before: bool = False) -> Subquery:
    bound = {"day__lt" if before else "day__lte": day}
    return Subquery(SegmentSize.objects.filter(segment=OuterRef("pk"), **bound)
                    .order_by("-day").values("members")[:1])


def _active_segments(scope):
    segments = Segment.objects.filter(is_active=True)
    if scope is not None:
        segments = segments.filter(audience=Audience.ORGANISATIONS)
    return segments.order_by("kind", "name", "pk")


def segment_sizes(*, period: Period, scope) -> list[dict]:
    """Each active segment: its members at the end of the period, at its start (the end of the
    day before) and the change; for a narrower scope, the reader's accounts in it now."""
    if scope is not None:
        return _sizes_in_scope(scope)
    rows = (_active_segments(scope)
            .annotate(size_end=_size_on_or_before(period.end),
                      size_start=_size_on_or_before(period.start, before=True))
            .values("pk", "name", "kind", "audience", "size_end", "size_start"))
    return [_size_row({**row, "members": row["size_end"], "members_start": row["size_start"]})
            for row in rows]


def _size_row(row: dict) -> dict:
    members, start = row.get("members"), row.get("members_start")
    change = None if members is None or start is None else members - start
    kind = SegmentKind(row["kind"]).label.split(" (")[0]
    return {"key": row["pk"], "name": row["name"], "kind": kind,
            "audience": Audience(row["audience"]).label, "members": members,
            "members_start": start, "change": change}


def _sizes_in_scope(scope) -> list[dict]:
    """The reader's organisations in each active segment of organisations now: assigned and
    computed members counted from their rows, rule segments matched in one aggregate query."""
    segments = list(_active_segments(scope).prefetch_related(
        Prefetch("conditions", queryset=SegmentCondition.objects.order_by("id"))))
    counts: dict[int, int] = {}
    for model in (SegmentMembership, ComputedMembership):
        counts.update(model.objects.filter(organisation_id__in=scope, segment__is_active=True)
                      .order_by().values_list("segment").annotate(n=Count("organisation")))
    rules = [s for s in segments if s.kind == SegmentKind.RULE]
    if rules:
        matched = Organisation.objects.filter(pk__in=scope, is_active=True).aggregate(**{
            f"s{s.pk}": Count("pk", distinct=True, filter=segment_q(s, list(s.conditions.all())))
            for s in rules
        })
        counts.update({s.pk: matched[f"s{s.pk}"] for s in rules})
    return [_size_row({"pk": s.pk, "name": s.name, "kind": s.kind, "audience": s.audience,
                       "members": counts.get(s.pk, 0)}) for s in segments]


@dataclass
class SizeSeries:
    segments: list[tuple[int, str]]
    weeks: list[dict]


def segment_size_weeks(*, period: Period, sizes: list[dict]) -> SizeSeries:
    """Each active segment's size at the end of every week of the period (the last count of the
    week; a week without a count carries the one before, starting from the size at the start).
    `sizes` is `segment_sizes`' answer for the whole customer base."""
    segments = [(row["key"], row["name"]) for row in sizes]
    starts = period.week_starts()
    weeks = [{"week": min(start + datetime.timedelta(days=6), period.end)} for start in starts]
    for segment_id, day, members in (
        SegmentSize.objects.filter(segment_id__in=[pk for pk, _ in segments],
                                   day__gte=period.start, day__lte=period.end)
        .order_by("day").values_list("segment_id", "day", "members")
    ):
        weeks[period.week_of(day)][f"s{segment_id}"] = members
    for row in sizes:
        carried = row["members_start"]
        for week in weeks:
            carried = week.setdefault(f"s{row['key']}", carried)
    return SizeSeries(segments, weeks)


def _moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _pairs_sql(buyer: str, scope, pair: tuple[int, int] | None) -> tuple[str, list]:
    """Exits paired with entries of the same buyer (`buyer` is "organisation_id" or "user_id"),
    between two segments of the same exclusive analysis, in the same run (or either without a
    run), both within the period."""
    movement = SegmentMovement._meta.db_table
    segment = Segment._meta.db_table
    # Only table and column names of our own models and placeholders are formatted in.
    sql = (
        f"SELECT x.segment_id AS from_id, n.segment_id AS to_id, x.{buyer} AS buyer_id, "  # noqa: S608
        f"MAX(n.at) AS moved_at FROM {movement} x "
        f"JOIN {movement} n ON n.{buyer} = x.{buyer} "
        f"JOIN {segment} sx ON sx.id = x.segment_id "
        f"JOIN {segment} sn ON sn.id = n.segment_id "
        "WHERE x.direction = %s AND n.direction = %s "
        "AND x.at >= %s AND x.at < %s AND n.at >= %s AND n.at < %s "
        "AND x.segment_id <> n.segment_id AND sx.basis = sn.basis AND sx.basis IN "
        f"({', '.join(['%s'] * len(EXCLUSIVE_BASES))}) "
        "AND (x.run_id = n.run_id OR x.run_id IS NULL OR n.run_id IS NULL)"
    )
    params: list = ["exited", "entered"]
    if pair is not None:
        sql += " AND x.segment_id = %s AND n.segment_id = %s"
    if scope is not None:
        sql += f" AND x.{buyer} IN ({', '.join(['%s'] * len(scope)) or 'NULL'})"
    return sql + " GROUP BY x.segment_id, n.segment_id, x." + buyer, params


def _when(value) -> datetime.datetime | None:
    """A raw query's timestamp (SQLite answers with text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def _union(period: Period, scope, pair: tuple[int, int] | None) -> tuple[str, list]:
    """The moves of every buyer as one statement: an organisations' part and (for every-buyer
    scope) a consumers' part, each row marked with `of_organisation`."""
    start, end = _moment(period.start), _moment(period.end + datetime.timedelta(days=1))
    parts, params = [], []
    buyers = ("organisation_id",) if scope is not None else ("organisation_id", "user_id")
    for buyer in buyers:
        sql, fixed = _pairs_sql(buyer, scope, pair)
        parts.append(f"SELECT from_id, to_id, buyer_id, moved_at, "  # noqa: S608
                     f"{1 if buyer == 'organisation_id' else 0} AS of_organisation "
                     f"FROM ({sql}) AS {buyer[0]}")
        params += [*fixed, start, end, start, end, *EXCLUSIVE_BASES, *(pair or ()),
                   *sorted(scope or ())]
    return " UNION ALL ".join(parts), params


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def movements(*, period: Period, scope) -> list[dict]:
    """How many buyers moved from one computed segment to another in the period, most first:
    two queries."""
    union, params = _union(period, scope, None)
    counted = _fetch(f"SELECT from_id, to_id, COUNT(*) FROM ({union}) AS moves "  # noqa: S608
                     "GROUP BY from_id, to_id", params)
    names = dict(Segment.objects.filter(pk__in={i for f, t, _ in counted for i in (f, t)})
                 .values_list("pk", "name"))
    rows = [{"key": f"{f}-{t}", "from_id": f, "to_id": t, "from": names.get(f, ""),
             "to": names.get(t, ""), "accounts": n} for f, t, n in counted]
    return sorted(rows, key=lambda r: (-r["accounts"], r["from"], r["to"]))


def movement_accounts(*, period: Period, scope, from_id: int, to_id: int) -> list[dict]:
    """The buyers that moved from one segment to the other in the period, by name: three
    queries (the moves, the organisations' names, the consumers' names)."""
    union, params = _union(period, scope, (from_id, to_id))
    found = _fetch(union, params)
    organisations = dict(Organisation.objects.filter(
        pk__in=[b for _, _, b, _, o in found if o]).values_list("pk", "name"))
    users = {pk: name or email for pk, name, email in User.objects.filter(
        pk__in=[b for _, _, b, _, o in found if not o]).values_list("pk", "full_name", "email")}
    rows = [{"name": organisations.get(b, "") if o else users.get(b, ""),
             "kind": "Organisation" if o else "Retail consumer",
             "organisation_id": b if o else None, "user_id": None if o else b,
             "moved_at": _when(at)}
            for _, _, b, at, o in found]
    return sorted(rows, key=lambda r: (r["name"].lower(), r["organisation_id"] or 0,
                                       r["user_id"] or 0))
