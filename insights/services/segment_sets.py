# ruff: noqa: S608, S611 -- SQL names only from model metadata and temporary tables; values are parameters
"""The segments each buyer belonged to on a day, named as a `SegmentSet`.

A buyer-day's set holds the active segments the buyer was in at the end of that day (in the
site's time zone):

- computed segments as the movement history says: the last `SegmentMovement` of the buyer and
  segment up to the end of the day decides (entered: in; exited: out). Before a pair's first
  movement the buyer was out if that movement is an entry, in if it is an exit. A pair with no
  movement at all falls back to the current `ComputedMembership`;
- static segments (`SegmentMembership`) and rule segments (`segments.rules.segment_q`, evaluated
  in SQL) as they stand now: neither keeps a history, so a past day carries today's answer.

Everything is set-based, in temporary tables, with a fixed number of statements whatever the
number of buyers (one more per rule segment):

    insights_spans (buyer, segment_id, start_day, end_day)   -- in the segment on the days
        start_day <= day < end_day (an empty bound is open)
    insights_buyer_days (buyer, organisation_id, user_id, day, orders, set_key, segment_set_id)

`buyer` is the organisation's id, or minus the consumer's user id, so one integer names either.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate

from insights.models import SegmentSet, SegmentSetMember
from segments.models import (
    ComputedMembership,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    SegmentMovement,
)
from segments.rules import consumer_buyers, organisation_buyers, segment_q

SPANS = "insights_spans"
MOVES = "insights_moves"
BUYER_DAYS = "insights_buyer_days"
DAY_SEGMENTS = "insights_day_segments"
SET_KEYS = "insights_set_keys"


def local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime.datetime) -> datetime.date:
    """The day of `moment` in the site's time zone."""
    return moment.astimezone(local_zone()).date()


def buyer_key(organisation_field: str, user_field: str):
    """The buyer of a row as one integer: the organisation's id, or minus the user's."""
    return Case(
        When(**{f"{organisation_field}__isnull": False}, then=F(organisation_field)),
        default=-F(user_field), output_field=IntegerField(),
    )


def temporary(cursor, table: str, columns: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")


def analyse(cursor, table: str) -> None:
    # PostgreSQL never analyses temporary tables by itself: without it, it guesses their size.
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def insert_from(cursor, table: str, columns: str, queryset) -> None:
    """INSERT INTO `table` (`columns`) the rows of `queryset` (its values in that order)."""
    sql, params = queryset.query.sql_with_params()
    cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)


def _only(queryset, buyers: str | None, organisation_field: str, user_field: str) -> list:
    """`queryset` restricted to the buyers in the temporary table `buyers`, as one queryset per
    audience (each read through its own index), or `[queryset]` for every buyer (None)."""
    if buyers is None:
        return [queryset]
    organisations = RawSQL(f"SELECT buyer FROM {buyers} WHERE buyer > 0", [])
    consumers = RawSQL(f"SELECT -buyer FROM {buyers} WHERE buyer < 0", [])
    return [queryset.filter(**{f"{organisation_field}__in": organisations}),
            queryset.filter(**{f"{user_field}__in": consumers})]


def _movement_spans(cursor, buyers: str | None) -> None:
    """Spans of computed segments from the movement history: each entry opens one up to the
    pair's next movement; a pair whose first movement is an exit was in before it."""
    temporary(cursor, MOVES, "buyer bigint, segment_id bigint, direction varchar(7), day date, "
                             "at timestamp with time zone, id bigint")
    movements = SegmentMovement.objects.filter(segment__is_active=True,
                                               segment__kind=SegmentKind.COMPUTED)
    for moves in _only(movements, buyers, "organisation_id", "user_id"):
        insert_from(cursor, MOVES, "buyer, segment_id, direction, day, at, id", moves.annotate(
            buyer=buyer_key("organisation_id", "user_id"),
            day=TruncDate("at", tzinfo=local_zone()),
        ).order_by().values_list("buyer", "segment_id", "direction", "day", "at", "id"))
    cursor.execute(f"""
        INSERT INTO {SPANS} (buyer, segment_id, start_day, end_day)
        SELECT buyer, segment_id,
            CASE WHEN direction = 'entered' THEN day END,
            CASE WHEN direction = 'entered' THEN next_day ELSE day END
        FROM (
            SELECT buyer, segment_id, direction, day,
                LEAD(day) OVER (PARTITION BY buyer, segment_id ORDER BY at, id) AS next_day,
                ROW_NUMBER() OVER (PARTITION BY buyer, segment_id ORDER BY at, id) AS position
            FROM {MOVES}
        ) ordered
        WHERE direction = 'entered' OR position = 1
    """)
    cursor.execute(f"DROP TABLE {MOVES}")


def _current_spans(cursor, queryset, buyers: str | None) -> None:
    """Open spans (always in) for the members `queryset` lists (organisation_id, user_id,
    segment_id)."""
    for rows in _only(queryset, buyers, "organisation_id", "user_id"):
        insert_from(cursor, SPANS, "buyer, segment_id", rows.annotate(
            buyer=buyer_key("organisation_id", "user_id"),
        ).order_by().values_list("buyer", "segment_id"))


def _rule_spans(cursor, buyers: str | None) -> None:
    """Open spans for the members of every active rule segment, evaluated now in SQL: one
    statement per rule segment, whatever the number of buyers."""
    segments = Segment.objects.filter(is_active=True, kind=SegmentKind.RULE).order_by("pk")
    conditions: dict[int, list] = {}
    for condition in SegmentCondition.objects.filter(segment__in=segments).order_by("id"):
        conditions.setdefault(condition.segment_id, []).append(condition)
    for segment in segments:
        members = rule_segment_members_of(segment, conditions.get(segment.pk, []))
        consumer = segment.audience != "organisations"
        if buyers is not None:
            sign, column = ("<", "-buyer") if consumer else (">", "buyer")
            members = members.filter(pk__in=RawSQL(
                f"SELECT {column} FROM {buyers} WHERE buyer {sign} 0", []))
        rows = members.annotate(
            buyer=(-F("pk") if consumer else F("pk")), segment=Value(segment.pk),
        ).order_by().values_list("buyer", "segment")
        insert_from(cursor, SPANS, "buyer, segment_id", rows)


def rule_segment_members_of(segment: Segment, conditions: list):
    """The members of a rule segment with its conditions already read (no query for them)."""
    base = organisation_buyers() if segment.audience == "organisations" else consumer_buyers()
    return base.filter(segment_q(segment, conditions))


def fill_spans(cursor, buyers: str | None = None) -> None:
    """Every active segment's spans for the buyers in the temporary table `buyers` (a column
    `buyer`), or for every buyer when None."""
    temporary(cursor, SPANS, "buyer bigint, segment_id bigint, start_day date, end_day date")
    _movement_spans(cursor, buyers)
    _current_spans(cursor, _unmoved_memberships(), buyers)
    _current_spans(cursor, SegmentMembership.objects.filter(
        segment__is_active=True, segment__kind=SegmentKind.STATIC,
    ).values("organisation_id", "user_id", "segment_id"), buyers)
    _rule_spans(cursor, buyers)
    analyse(cursor, SPANS)


def _unmoved_memberships():
    """Current computed memberships of the pairs that never moved."""
    moves = SegmentMovement.objects.filter(segment_id=OuterRef("segment_id"))
    return ComputedMembership.objects.filter(
        segment__is_active=True, segment__kind=SegmentKind.COMPUTED,
    ).exclude(
        Exists(moves.filter(organisation_id=OuterRef("organisation_id")))
    ).exclude(
        Exists(moves.filter(user_id=OuterRef("user_id")))
    ).values("organisation_id", "user_id", "segment_id")


def _key_sql() -> str:
    """Each buyer-day's segment ids, sorted and comma-joined."""
    if connection.vendor == "postgresql":
        return (f"SELECT buyer, day, string_agg(CAST(segment_id AS text), ',' "
                f"ORDER BY segment_id) FROM {DAY_SEGMENTS} GROUP BY buyer, day")
    return (f"SELECT buyer, day, group_concat(segment_id, ',') FROM (SELECT buyer, day, "
            f"segment_id FROM {DAY_SEGMENTS} ORDER BY buyer, day, segment_id) ordered "
            f"GROUP BY buyer, day")


def _create_sets(cursor) -> None:
    """A `SegmentSet` for every key not named yet, with its members: two statements, however
    many sets are new."""
    sets = connection.ops.quote_name(SegmentSet._meta.db_table)
    members = connection.ops.quote_name(SegmentSetMember._meta.db_table)
    cursor.execute(
        f"INSERT INTO {sets} (key) SELECT DISTINCT set_key FROM {BUYER_DAYS} "
        f"WHERE TRUE ON CONFLICT (key) DO NOTHING"
    )
    cursor.execute(f"""
        INSERT INTO {members} (segment_set_id, segment_id)
        SELECT DISTINCT s.id, x.segment_id FROM {sets} s
        JOIN {BUYER_DAYS} d ON d.set_key = s.key
        JOIN {DAY_SEGMENTS} x ON x.buyer = d.buyer AND x.day = d.day
        WHERE s.key <> '' AND NOT EXISTS (
            SELECT 1 FROM {members} m WHERE m.segment_set_id = s.id)
        ON CONFLICT (segment_set_id, segment_id) DO NOTHING
    """)


def name_segment_sets(cursor) -> None:
    """Give every row of the temporary table BUYER_DAYS (buyer, day) the segment set of the buyer
    at the end of that day, from the spans of `fill_spans`."""
    temporary(cursor, DAY_SEGMENTS, "buyer bigint, day date, segment_id bigint")
    cursor.execute(f"""
        INSERT INTO {DAY_SEGMENTS} (buyer, day, segment_id)
        SELECT DISTINCT d.buyer, d.day, s.segment_id FROM {BUYER_DAYS} d
        JOIN {SPANS} s ON s.buyer = d.buyer
            AND (s.start_day IS NULL OR s.start_day <= d.day)
            AND (s.end_day IS NULL OR s.end_day > d.day)
    """)
    analyse(cursor, DAY_SEGMENTS)
    temporary(cursor, SET_KEYS, "buyer bigint, day date, set_key text")
    cursor.execute(f"INSERT INTO {SET_KEYS} (buyer, day, set_key) {_key_sql()}")
    cursor.execute(
        f"UPDATE {BUYER_DAYS} SET set_key = k.set_key FROM {SET_KEYS} k "
        f"WHERE k.buyer = {BUYER_DAYS}.buyer AND k.day = {BUYER_DAYS}.day"
    )
    _create_sets(cursor)
    sets = connection.ops.quote_name(SegmentSet._meta.db_table)
    cursor.execute(
        f"UPDATE {BUYER_DAYS} SET segment_set_id = s.id FROM {sets} s "
        f"WHERE s.key = {BUYER_DAYS}.set_key"
    )
    for table in (DAY_SEGMENTS, SET_KEYS):
        cursor.execute(f"DROP TABLE {table}")


