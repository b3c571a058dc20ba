"""RFM scores and groups, value tiers and lapsing for every buyer, each buyer ranked against the
other buyers of its own audience (organisations against organisations, retail consumers against
retail consumers).

Everything is decided by one SQL statement: window functions rank the facts of every
`BuyerFacts` row, and the same statement writes back the rows whose scores changed and returns
who they belong to. docs/segments.md explains the scores for a sales-ops reader; the rules, in
short:

- R, F and M are 1–5 by quintile among the buyers of the audience that have ordered: R from whole
  days since the last order (fewer days, higher score), F from orders in the trailing 12 months
  (no fall-back to older orders: a buyer whose orders are all older has 0 and F = 1), M from
  revenue in the trailing 12 months.
- Quintile: score = 1 + floor(5 × w / n), w = how many buyers of the population are strictly
  worse, n = the population. Tied buyers have the same w, so a tie never splits across two
  scores, and nothing depends on the order of the rows.
- The group comes from R and FM = round-half-up of the mean of F and M, through `GRID`; a buyer
  with no order is a prospect.
- Value tier: among the buyers with revenue in the trailing 12 months, the top quintile is
  concierge, the bottom one self-service, the rest standard; no revenue is self-service. The
  margin tier does the same with margin among the buyers that have one, and is blank without.
- Lapsed: has ordered, and the whole days since the last order exceed
  `SEGMENTS_LAPSE_MULTIPLE` × the buyer's cadence (`SEGMENTS_DEFAULT_CADENCE_DAYS` for a buyer
  with a single order).

Needs PostgreSQL, or SQLite 3.35 or later (UPDATE … FROM and RETURNING).
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, Value, When
from django.utils import timezone

from segments.models import Audience, BuyerFacts, RfmGroup, ValueTier

_G = RfmGroup

# The common RFM segment map: R (rows, 5 = ordered most recently) × FM (columns 1 to 5) → group.
GRID: dict[int, tuple[RfmGroup, RfmGroup, RfmGroup, RfmGroup, RfmGroup]] = {
    5: (_G.NEW, _G.POTENTIAL_LOYALISTS, _G.POTENTIAL_LOYALISTS, _G.CHAMPIONS, _G.CHAMPIONS),
    4: (_G.PROMISING, _G.POTENTIAL_LOYALISTS, _G.POTENTIAL_LOYALISTS, _G.LOYAL, _G.LOYAL),
    3: (_G.ABOUT_TO_SLEEP, _G.ABOUT_TO_SLEEP, _G.NEED_ATTENTION, _G.LOYAL, _G.LOYAL),
    2: (_G.HIBERNATING, _G.HIBERNATING, _G.AT_RISK, _G.AT_RISK, _G.CANT_LOSE),
    1: (_G.HIBERNATING, _G.HIBERNATING, _G.AT_RISK, _G.AT_RISK, _G.CANT_LOSE),
}

_SCORED_FIELDS = (
    "recency_score", "frequency_score", "monetary_score", "rfm_group", "value_tier",
    "margin_tier", "lapsed",
)


def fm_score(frequency: int, monetary: int) -> int:
    """The mean of F and M, a half rounded up: (2, 3) → 3, (4, 5) → 5."""
    return (frequency + monetary + 1) // 2


def rfm_group_for(recency: int, frequency: int, monetary: int) -> RfmGroup:
    """The group of a buyer that has ordered, from its three scores."""
    return GRID[recency][fm_score(frequency, monetary) - 1]


@dataclass
class ScoreResult:
    """What a scoring run found: buyers per group and tier in each audience, and the buyers whose
    scores, group, tiers or lapsing changed (the ones whose computed memberships may move)."""

    buyers: int = 0
    groups: dict[str, Counter] = field(default_factory=dict)
    value_tiers: dict[str, Counter] = field(default_factory=dict)
    margin_tiers: dict[str, Counter] = field(default_factory=dict)
    lapsed: dict[str, int] = field(default_factory=dict)
    organisation_ids: set[int] = field(default_factory=set)
    user_ids: set[int] = field(default_factory=set)

    @property
    def changed(self) -> int:
        return len(self.organisation_ids) + len(self.user_ids)

    def counts(self) -> dict:
        """The figures as plain JSON, for `SegmentRun.counts`."""
        return {
            "buyers": self.buyers,
            "changed": self.changed,
            "groups": {audience: dict(c) for audience, c in self.groups.items()},
            "value_tiers": {audience: dict(c) for audience, c in self.value_tiers.items()},
            "margin_tiers": {audience: dict(c) for audience, c in self.margin_tiers.items()},
            "lapsed": dict(self.lapsed),
        }


def score_buyers(*, now: datetime.datetime | None = None) -> ScoreResult:
    """Score every buyer's facts as of `now` and write the rows that changed, in one transaction."""
    now = now or timezone.now()
    result = ScoreResult()
    with transaction.atomic():
        sql, params = _scoring_update(now)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Five sorts of every row: in memory, not spilled to disk in small chunks.
                cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(sql, params)
            for organisation_id, user_id in cursor.fetchall():
                if organisation_id is not None:
                    result.organisation_ids.add(organisation_id)
                else:
                    result.user_ids.add(user_id)
        _count(result)
    return result


def _count(result: ScoreResult) -> None:
    audience = Case(
        When(organisation__isnull=True, then=Value(Audience.CONSUMERS.value)),
        default=Value(Audience.ORGANISATIONS.value),
    )
    rows = (
        BuyerFacts.objects.annotate(audience=audience)
        .values("audience", "rfm_group", "value_tier", "margin_tier", "lapsed")
        .annotate(buyers=Count("id"))
        .order_by()
    )
    for audience in Audience.values:
        result.groups[audience] = Counter()
        result.value_tiers[audience] = Counter()
        result.margin_tiers[audience] = Counter()
        result.lapsed[audience] = 0
    for row in rows:
        audience, buyers = row["audience"], row["buyers"]
        result.buyers += buyers
        result.groups[audience][row["rfm_group"]] += buyers
        result.value_tiers[audience][row["value_tier"]] += buyers
        if row["margin_tier"]:
            result.margin_tiers[audience][row["margin_tier"]] += buyers
        if row["lapsed"]:
            result.lapsed[audience] += buyers


def _days_since_last_order(now: datetime.datetime) -> tuple[str, list]:
    """Whole days (24-hour periods) from the last order to `now`; an order later than `now`
    counts as 0 days."""
    moment = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        elapsed = "CAST(FLOOR(EXTRACT(EPOCH FROM (%s - last_order_at)) / 86400) AS INTEGER)"
    else:
        # julianday() is exact to the millisecond; integer division then truncates to days.
        elapsed = (
            "CAST(ROUND((julianday(%s) - julianday(last_order_at)) * 86400000) AS INTEGER)"
            " / 86400000"
        )
    return f"CASE WHEN last_order_at > %s THEN 0 ELSE {elapsed} END", [moment, moment]


def _quintile(partition: str, order: str) -> str:
    """1 + floor(5 × (buyers strictly worse) / population); RANK() − 1 counts the buyers
    ordered strictly before a row, so tied rows share it. Both operands are integers, and
    integer division truncates, which for these non-negative values is the floor."""
    return (
        f"1 + 5 * (RANK() OVER (PARTITION BY {partition} ORDER BY {order}) - 1)"
        f" / COUNT(*) OVER (PARTITION BY {partition})"
    )


def _tier(score: str) -> tuple[str, list]:
    return (
        f"CASE WHEN {score} = 5 THEN %s WHEN {score} = 1 THEN %s ELSE %s END",
        [ValueTier.CONCIERGE.value, ValueTier.SELF_SERVICE.value, ValueTier.STANDARD.value],
    )


def _grid_case() -> tuple[str, list]:
    """The group of an ordering buyer, with r, f and m from the ranking."""
    whens, params = [], []
    for recency, row in GRID.items():
        for fm, group in enumerate(row, start=1):
            whens.append("WHEN %s THEN %s")
            params += [recency * 10 + fm, group.value]
    return f"CASE r * 10 + (f + m + 1) / 2 {' '.join(whens)} END", params


def _scoring_update(now: datetime.datetime) -> tuple[str, list]:
    """One UPDATE … FROM (the ranked facts) that writes only the rows whose values differ and
    returns their buyers."""
    days, days_params = _days_since_last_order(now)
    facts = f"""
        SELECT id,
               CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END AS audience,
               CASE WHEN last_order_at IS NULL THEN 0 ELSE 1 END AS ordered,
               CASE WHEN revenue_12m > 0 THEN 1 ELSE 0 END AS earned,
               CASE WHEN margin_12m IS NULL THEN 0 ELSE 1 END AS has_margin,
               {days} AS days,
               orders_12m, revenue_12m, margin_12m, cadence_days
        FROM segments_buyerfacts
    """  # noqa: S608 (only this module's own SQL is interpolated; values are parameters)
    ranked = f"""
        SELECT id, ordered, earned, has_margin, days, cadence_days,
               {_quintile("audience, ordered", "days DESC")} AS r,
               {_quintile("audience, ordered", "orders_12m")} AS f,
               {_quintile("audience, ordered", "revenue_12m")} AS m,
               {_quintile("audience, earned", "revenue_12m")} AS v,
               {_quintile("audience, has_margin", "margin_12m")} AS mg
        FROM ({facts}) AS facts
    """  # noqa: S608
    grid, grid_params = _grid_case()
    value_tier, value_params = _tier("v")
    margin_tier, margin_params = _tier("mg")
    scored = f"""
        SELECT id,
               CASE WHEN ordered = 1 THEN r END AS recency_score,
               CASE WHEN ordered = 1 THEN f END AS frequency_score,
               CASE WHEN ordered = 1 THEN m END AS monetary_score,
               CASE WHEN ordered = 0 THEN %s ELSE {grid} END AS rfm_group,
               CASE WHEN earned = 0 THEN %s ELSE {value_tier} END AS value_tier,
               CASE WHEN has_margin = 0 THEN '' ELSE {margin_tier} END AS margin_tier,
               CASE WHEN ordered = 1 AND days > %s * COALESCE(cadence_days, %s)
                    THEN TRUE ELSE FALSE END AS lapsed
        FROM ({ranked}) AS ranked
    """  # noqa: S608
    scored_params = [
        RfmGroup.PROSPECTS.value, *grid_params,
        ValueTier.SELF_SERVICE.value, *value_params,
        *margin_params,
        float(settings.SEGMENTS_LAPSE_MULTIPLE), float(settings.SEGMENTS_DEFAULT_CADENCE_DAYS),
    ]
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    assignments = ", ".join(f"{name} = scored.{name}" for name in _SCORED_FIELDS)
    changed = " OR ".join(
        f"segments_buyerfacts.{name} {differs} scored.{name}" for name in _SCORED_FIELDS
    )
    sql = f"""
        UPDATE segments_buyerfacts SET {assignments}
        FROM ({scored}) AS scored
        WHERE segments_buyerfacts.id = scored.id AND ({changed})
        RETURNING segments_buyerfacts.organisation_id, segments_buyerfacts.user_id
    """  # noqa: S608
    # The select list of `scored` comes before its FROM, which holds the days' parameters.
    return sql, [*scored_params, *days_params]
