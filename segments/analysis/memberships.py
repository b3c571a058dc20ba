"""Computed memberships: who is in each active computed segment now, from the facts, scores,
clusters and propensities the earlier phases wrote, and the difference from what was stored.

Each member keeps the inputs that placed it there (read by "explain this buyer"); every entry and
exit is kept as a movement. Only the buyers whose computed segments changed get a new cache version
(`bump_buyers`): nobody else's cached context is computed again, and the global rules version is
left alone (ComputedMembership is not a watched model).
"""

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Membership

from ..models import (
    Audience,
    BuyerFacts,
    Cluster,
    ComputedBasis,
    ComputedMembership,
    MovementDirection,
    PropensityModel,
    PropensityScore,
    RunStatus,
    Segment,
    SegmentKind,
    SegmentMovement,
    SegmentRun,
    propensity_basis,
)
from ..versioning import bump_buyers

BATCH = 2000
CODED_BASES = (ComputedBasis.RFM_GROUP, ComputedBasis.VALUE_TIER, ComputedBasis.MARGIN_TIER)
NO_LONGER_A_BUYER = {"reason": "no longer an active buyer of this audience"}

# A buyer is (organisation id, None) or (None, user id), as stored on every per-buyer row.
Buyer = tuple[int | None, int | None]

FACT_FIELDS = (
    "organisation_id", "user_id", "last_order_on", "orders_total", "orders_12m", "revenue_12m",
    "margin_12m", "cadence_days", "recency_score", "frequency_score", "monetary_score",
    "rfm_group", "value_tier", "margin_tier", "lapsed", "cluster_id",
)


@dataclass
class MembershipSync:
    """What one sync changed: entries, exits, members kept (`renewed`: those whose inputs
    changed), and the buyers whose computed segments changed (those, and only those, were given a
    new cache version)."""

    entered: int = 0
    exited: int = 0
    stayed: int = 0
    renewed: int = 0
    segments: int = 0
    skipped: int = 0
    organisation_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)


def buyers_q(audience: str) -> Q:
    """Rows (of any per-buyer table) about a current buyer of `audience`: an active organisation,
    or an active user without an active membership of an active organisation."""
    if audience == Audience.ORGANISATIONS:
        return Q(organisation__isnull=False, organisation__is_active=True)
    in_organisation = Membership.objects.filter(
        user_id=OuterRef("user_id"), is_active=True, organisation__is_active=True
    )
    return Q(user__isnull=False, user__is_active=True) & ~Q(Exists(in_organisation))


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(Decimal("0.01")))


def _day(day) -> str | None:
    """A date kept as the day (ISO), not as "days ago": stored inputs then stay the same from one
    night to the next while the buyer's facts do, and are rewritten only when those change."""
    return None if day is None else day.isoformat()


def _recency(row, now) -> dict:
    return {
        "last_order_on": _day(row.last_order_on),
        "orders_12m": row.orders_12m,
        "revenue_12m": _money(row.revenue_12m),
    }


def _rfm_inputs(row, now) -> dict:
    return {
        "rfm_group": row.rfm_group,
        "recency_score": row.recency_score,
        "frequency_score": row.frequency_score,
        "monetary_score": row.monetary_score,
        **_recency(row, now),
    }


def _value_tier_inputs(row, now) -> dict:
    return {"value_tier": row.value_tier, "revenue_12m": _money(row.revenue_12m),
            "orders_12m": row.orders_12m}


def _margin_tier_inputs(row, now) -> dict:
    return {"margin_tier": row.margin_tier, "margin_12m": _money(row.margin_12m),
            "revenue_12m": _money(row.revenue_12m)}


def _lapsed_inputs(row, now) -> dict:
    cadence = None if row.cadence_days is None else round(row.cadence_days, 1)
    return {"lapsed": row.lapsed, "last_order_on": _day(row.last_order_on),
            "cadence_days": cadence, "orders_total": row.orders_total}


@dataclass(frozen=True)
class _Rule:
    """Who belongs to one segment: a test on a buyer's facts and the inputs to keep."""

    holds: Callable[[object], bool]
    inputs: Callable[[object, datetime], dict]


def _facts_rule(segment: Segment, clusters: dict) -> _Rule | None:
    value = segment.basis_value.strip()
    if not value and segment.basis in CODED_BASES:
        return None
    if segment.basis == ComputedBasis.RFM_GROUP:
        return _Rule(lambda row: row.rfm_group == value, _rfm_inputs)
    if segment.basis == ComputedBasis.VALUE_TIER:
        return _Rule(lambda row: row.value_tier == value, _value_tier_inputs)
    if segment.basis == ComputedBasis.MARGIN_TIER:
        return _Rule(lambda row: row.margin_tier == value, _margin_tier_inputs)
    if segment.basis == ComputedBasis.LAPSED:
        return _Rule(lambda row: row.lapsed, _lapsed_inputs)
    if segment.basis == ComputedBasis.CLUSTER:
        cluster = _cluster_for(segment, clusters)
        cluster_id = cluster.pk if cluster else None
        return _Rule(lambda row: cluster_id is not None and row.cluster_id == cluster_id,
                     _cluster_inputs(cluster))
    return None


def _cluster_for(segment: Segment, clusters: dict) -> Cluster | None:
    """The current cluster linked to the segment, else the one its basis value numbers."""
    by_link, by_number = clusters.get(segment.audience, ({}, {}))
    if segment.pk in by_link:
        return by_link[segment.pk]
    value = segment.basis_value.strip()
    return by_number.get(int(value)) if value.isdigit() else None


def _cluster_inputs(cluster: Cluster | None):
    def inputs(row, now) -> dict:
        current = cluster is not None and row.cluster_id == cluster.pk
        return {
            "cluster": cluster.number if current else None,
            "cluster_name": str(cluster) if current else "",
            **_recency(row, now),
        }
    return inputs


def _current_clusters() -> dict[str, tuple[dict, dict]]:
    """Per audience: current clusters by linked segment id and by number (one query)."""
    found: dict[str, tuple[dict, dict]] = {a: ({}, {}) for a in Audience.values}
    for cluster in Cluster.objects.filter(is_current=True):
        by_link, by_number = found[cluster.audience]
        by_number[cluster.number] = cluster
        if cluster.segment_id is not None:
            by_link[cluster.segment_id] = cluster
    return found


def _buyer(row) -> Buyer:
    return (row.organisation_id, None) if row.organisation_id else (None, row.user_id)


def _order(buyer: Buyer) -> tuple[int, int]:
    return buyer[0] or 0, buyer[1] or 0


def _audience_facts(audience: str, only: "Touched | None" = None) -> dict[Buyer, object]:
    """Every current buyer's facts of one audience (or of the `only` buyers), as light rows."""
    rows = (
        BuyerFacts.objects.filter(buyers_q(audience)).order_by()
        .annotate(last_order_on=TruncDate("last_order_at"))  # the local day, by the database
        .values_list(*FACT_FIELDS, named=True)
    )
    if only is None:
        return {_buyer(row): row for row in rows.iterator(chunk_size=BATCH)}
    found = {}
    for batch in _batches(_of(only, audience)):
        column = "organisation_id" if audience == Audience.ORGANISATIONS else "user_id"
        found.update((_buyer(row), row) for row in rows.filter(**{f"{column}__in": batch}))
    return found


def _of(only: "Touched", audience: str | None = None) -> list[int]:
    """The ids of the `only` buyers of one audience (organisations, or consumers)."""
    if audience == Audience.ORGANISATIONS:
        return sorted(o for o, _u in only if o)
    return sorted(u for o, u in only if not o)


def _facts_members(rule: _Rule, facts: dict, now) -> tuple[dict, Callable[[Buyer], dict]]:
    wanted = {buyer: rule.inputs(row, now) for buyer, row in facts.items() if rule.holds(row)}

    def leaving(buyer: Buyer) -> dict:
        row = facts.get(buyer)
        return NO_LONGER_A_BUYER if row is None else rule.inputs(row, now)

    return wanted, leaving


def _newest_used_model(audience: str) -> PropensityModel | None:
    return (
        PropensityModel.objects.filter(audience=audience, used=True)
        .order_by("-trained_at", "-id").first()
    )


def _propensity_members(segment: Segment) -> tuple[dict, Callable[[Buyer], dict]]:
    """Buyers whose probability of ordering the category, by the audience's newest used model,
    is at least the segment's threshold; a leaver's inputs carry its probability now."""
    parsed = propensity_basis(segment.basis_value)
    model = _newest_used_model(segment.audience) if parsed else None
    if model is None:
        return {}, lambda buyer: {"reason": "no used propensity model for this audience"}
    category_id, least = parsed
    category = apps.get_model("catalog", "Category").objects.filter(pk=category_id).first()
    scores = (
        PropensityScore.objects.filter(buyers_q(segment.audience), model=model,
                                       category_id=category_id, product__isnull=True)
        .order_by().values_list("organisation_id", "user_id", "probability")
    )
    probability: dict[Buyer, float] = {}
    for organisation_id, user_id, p in scores.iterator(chunk_size=BATCH):
        buyer = (organisation_id, None) if organisation_id else (None, user_id)
        probability[buyer] = max(p, probability.get(buyer, 0.0))

    def inputs(buyer: Buyer) -> dict:
        return {"category_id": category_id, "category": category.name if category else "",
                "probability": round(probability.get(buyer, 0.0), 4),
                "min_probability": least, "model_id": model.pk,
                "model_trained_at": model.trained_at.isoformat()}

    wanted = {buyer: inputs(buyer) for buyer, p in probability.items() if p >= least}
    return wanted, inputs


def _batches(items: list, size: int = BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _rewrite_inputs(changes: list[tuple[int, dict]], now) -> None:
    """Set new inputs and computed_at on existing membership rows, a batch per statement
    (UPDATE … FROM a VALUES list: PostgreSQL and SQLite ≥ 3.33 both accept it; a CASE per row,
    as bulk_update writes, grows with the square of the batch)."""
    if not changes:
        return
    table = connection.ops.quote_name(ComputedMembership._meta.db_table)
    when = ComputedMembership._meta.get_field("computed_at").get_db_prep_value(now, connection)
    postgres = connection.vendor == "postgresql"
    row = "(%s::bigint, %s::jsonb)" if postgres else "(%s, %s)"
    with connection.cursor() as cursor:
        for batch in _batches(changes, 1000):
            params = [value for pk, inputs in batch for value in (pk, json.dumps(inputs))]
            # Only the model's own table name and placeholders are formatted into the statement.
            sql = (
                f"WITH changed(id, inputs) AS (VALUES {', '.join([row] * len(batch))}) "  # noqa: S608
                f"UPDATE {table} SET inputs = changed.inputs, computed_at = %s FROM changed "
                f"WHERE {table}.id = changed.id"
            )
            cursor.execute(sql, [*params, when])


def _movements(segment, buyers: Iterable[Buyer], direction, inputs, *, now, run) -> list:
    return [
        SegmentMovement(segment=segment, organisation_id=o, user_id=u, direction=direction,
                        at=now, inputs=inputs(o, u), run=run)
        for o, u in buyers
    ]


def _stored(segment, only: "Touched | None") -> dict[Buyer, tuple[int, dict]]:
    """The segment's stored members (of the `only` buyers) with their row id and inputs; the
    inputs are read only for the buyers asked about."""
    rows = ComputedMembership.objects.filter(segment=segment).order_by()
    if only is None:
        return {
            (o, u): (pk, inputs)
            for pk, o, u, inputs in rows.values_list("pk", "organisation_id", "user_id", "inputs")
            .iterator(chunk_size=BATCH)
        }
    stored = {}
    for own, audience in (("organisation_id__in", Audience.ORGANISATIONS),
                          ("user_id__in", Audience.CONSUMERS)):
        for batch in _batches(_of(only, audience)):
            for pk, o, u, inputs in rows.filter(**{own: batch}).values_list(
                "pk", "organisation_id", "user_id", "inputs"
            ):
                stored[(o, u)] = (pk, inputs)
    return stored


def _create_new_rows(segment, entering, exiting, wanted, leaving, *, now, run) -> None:
    """The entrants' membership rows and the movements in and out, a batch at a time."""
    for batch in _batches(entering):
        ComputedMembership.objects.bulk_create([
            ComputedMembership(segment=segment, organisation_id=o, user_id=u,
                               inputs=wanted[(o, u)], computed_at=now)
            for o, u in batch
        ])
        SegmentMovement.objects.bulk_create(_movements(
            segment, batch, MovementDirection.ENTERED, lambda o, u: wanted[(o, u)],
            now=now, run=run,
        ))
    for batch in _batches(exiting):
        SegmentMovement.objects.bulk_create(_movements(
            segment, batch, MovementDirection.EXITED, lambda o, u: leaving((o, u)),
            now=now, run=run,
        ))


def _copy(cursor, model, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table),
        sql.SQL(", ").join(sql.Identifier(column) for column in columns),
    )
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _copy_new_rows(segment, entering, exiting, wanted, leaving, *, now, run) -> None:
    """The same rows as `_create_new_rows`, in the same order, by COPY (PostgreSQL): a first
    sync writes hundreds of thousands of them."""
    run_id = getattr(run, "pk", None)
    entered = [(o, u, json.dumps(wanted[(o, u)])) for o, u in entering]
    exited = [(o, u, json.dumps(leaving((o, u)))) for o, u in exiting]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        if entered:
            _copy(cursor, ComputedMembership,
                  ("segment_id", "organisation_id", "user_id", "inputs", "computed_at"),
                  ((segment.pk, o, u, inputs, now) for o, u, inputs in entered))
        movements = [(MovementDirection.ENTERED.value, row) for row in entered]
        movements += [(MovementDirection.EXITED.value, row) for row in exited]
        if movements:
            _copy(cursor, SegmentMovement,
                  ("segment_id", "organisation_id", "user_id", "direction", "at", "inputs",
                   "run_id"),
                  ((segment.pk, o, u, direction, now, inputs, run_id)
                   for direction, (o, u, inputs) in movements))


def _write_difference(segment, wanted: dict, leaving, *, now, run, result, only=None) -> None:
    """Store `wanted` (buyer → inputs) as the segment's members: new rows for entrants, leavers
    deleted, and stayers whose inputs changed rewritten with the new computed_at (a stayer whose
    inputs are the same keeps its row as it was). With `only`, just those buyers are compared
    (`wanted` holds only them). Rows are built a batch at a time."""
    stored = _stored(segment, only)
    entering = sorted(wanted.keys() - stored.keys(), key=_order)
    exiting = sorted(stored.keys() - wanted.keys(), key=_order)
    changed = [(stored[b][0], wanted[b]) for b in wanted.keys() & stored.keys()
               if stored[b][1] != wanted[b]]
    for batch in _batches([stored[b][0] for b in exiting]):
        ComputedMembership.objects.filter(pk__in=batch).delete()
    _rewrite_inputs(changed, now)
    if connection.vendor == "postgresql":
        _copy_new_rows(segment, entering, exiting, wanted, leaving, now=now, run=run)
    else:
        _create_new_rows(segment, entering, exiting, wanted, leaving, now=now, run=run)
    result.entered += len(entering)
    result.exited += len(exiting)
    result.stayed += len(stored) - len(exiting)
    result.renewed += len(changed)
    for o, u in (*entering, *exiting):
        if o:
            result.organisation_ids.add(o)
        else:
            result.user_ids.add(u)


def _edited_since_last_run(run: SegmentRun | None) -> set[int]:
    """Computed segments created or changed since the last finished run began (all of them when
    there was none): they are evaluated for every buyer even in an incremental run."""
    last = (
        SegmentRun.objects.filter(status=RunStatus.DONE).exclude(pk=getattr(run, "pk", None))
        .order_by("-started_at").first()
    )
    changed = Segment.history.filter(kind=SegmentKind.COMPUTED)
    if last is not None:
        changed = changed.filter(history_date__gte=last.started_at)
    return set(changed.values_list("id", flat=True))


class Touched(frozenset):
    """A set of buyers ((organisation id, None) or (None, user id)) whose facts or scores
    changed."""

    @classmethod
    def of(cls, organisation_ids=(), user_ids=()) -> "Touched":
        return cls({(o, None) for o in organisation_ids} | {(None, u) for u in user_ids})


def sync_computed_memberships(*, run: SegmentRun | None = None, now=None,
                              touched: Touched | None = None) -> MembershipSync:
    """Evaluate every active computed segment from its basis and write the difference from the
    stored members (one transaction); bump the cache version of exactly the buyers who entered or
    left a segment. A segment without a basis is left as it is.

    `touched` limits the work to the buyers whose facts or scores changed (an incremental run,
    where clusters and propensities stay as they were): nobody else's memberships can have
    changed, so nobody else is read, and propensity segments are left as they are."""
    now = now or timezone.now()
    result = MembershipSync()
    segments = list(
        Segment.objects.filter(kind=SegmentKind.COMPUTED, is_active=True).order_by("code")
    )
    clusters = _current_clusters() if segments else {}
    edited = _edited_since_last_run(run) if touched is not None else set()
    facts: dict[str, dict] = {}
    with transaction.atomic():
        for segment in segments:
            only = None if segment.pk in edited else touched
            if segment.basis == ComputedBasis.PROPENSITY:
                if only is not None:
                    continue
                wanted, leaving = _propensity_members(segment)
            else:
                rule = _facts_rule(segment, clusters)
                if rule is None:
                    result.skipped += 1
                    continue
                key = (segment.audience, only is None)
                if key not in facts:
                    facts[key] = _audience_facts(segment.audience, only)
                wanted, leaving = _facts_members(rule, facts[key], now)
            _write_difference(segment, wanted, leaving, now=now, run=run, result=result,
                              only=only)
            result.segments += 1
        bump_buyers(organisation_ids=sorted(result.organisation_ids),
                    user_ids=sorted(result.user_ids))
    return result
