"""What the sales dashboard reads: revenue, orders, units, margin and discount against list by
segment, organisation, rep, price list, category, postcode area or region, over a period and the
previous period of equal length, from the daily aggregates only (never raw order lines).

`scope` is the set of organisation ids the reader may see, or None for every buyer (consumers
included). Each answer is a fixed number of queries: both periods are summed in one grouped query
with filtered sums, whatever the number of rows, segments or weeks.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts.models import Organisation, User
from catalog.models import Category
from segments.models import Segment
from territories.models import PostcodeArea, Territory

from ..models import BuyerDay, SalesDay, SegmentSetMember

MEASURES = ("revenue", "orders", "units", "costed_revenue", "cost", "listed_revenue",
            "list_value")
CONSUMERS_LABEL = "Retail consumers (no rep)"
NO_REP_LABEL = "Organisations without an account manager"
NO_SEGMENT_LABEL = "(in no segment)"
UNKNOWN_AREA_LABEL = "(no postcode area)"


@dataclass(frozen=True)
class Period:
    """Days from `start` to `end`, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts."""
        end = self.start - datetime.timedelta(days=1)
        return Period(end - datetime.timedelta(days=self.days - 1), end)

    def week_starts(self) -> list[datetime.date]:
        """The first day of each week of the period, counted from its start (the last week may
        be shorter)."""
        return [self.start + datetime.timedelta(days=7 * i) for i in range((self.days + 6) // 7)]

    def week_of(self, day: datetime.date) -> int:
        return (day - self.start).days // 7

    def __str__(self) -> str:
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    source: type  # BuyerDay or SalesDay
    keys: tuple[str, ...]


DIMENSIONS = {
    d.code: d for d in (
        Dimension("segment", "Segment", BuyerDay, ("segment_set",)),
        Dimension("organisation", "Organisation", BuyerDay, ("organisation",)),
        Dimension("rep", "Account manager", BuyerDay, ("rep", "consumer")),
        Dimension("price_list", "Price list", SalesDay, ("price_source", "price_list_code")),
        Dimension("category", "Category", SalesDay, ("category",)),
        Dimension("area", "Postcode area", SalesDay, ("postcode_area",)),
        Dimension("region", "Region", SalesDay, ("postcode_area",)),
    )
}


@dataclass
class Breakdown:
    """The rows of one dimension, largest current revenue first; `more` when a limit cut it."""

    dimension: Dimension
    rows: list[dict]
    more: bool


def _scoped(queryset, scope):
    return queryset if scope is None else queryset.filter(organisation_id__in=scope)


def _both_periods(model, period: Period, scope):
    previous = period.previous
    rows = model.objects.filter(day__gte=previous.start, day__lte=period.end)
    return _scoped(rows, scope)


def _sums(period: Period) -> dict:
    """Each measure summed over the period (`cur_…`) and over the previous one (`prev_…`)."""
    current, previous = Q(day__gte=period.start), Q(day__lt=period.start)
    sums = {}
    for measure in MEASURES:
        sums[f"cur_{measure}"] = Sum(measure, filter=current)
        sums[f"prev_{measure}"] = Sum(measure, filter=previous)
    return sums


def _ratio(numerator, denominator) -> float | None:
    if not denominator:
        return None
    return float(Decimal(numerator) / Decimal(denominator))


def _margin(costed_revenue, cost) -> float | None:
    """(costed revenue - cost) / costed revenue, over the lines that had a cost price."""
    return _ratio((costed_revenue or 0) - (cost or 0), costed_revenue)


def _discount(list_value, listed_revenue) -> float | None:
    """(list value - revenue) / list value, over the lines that had a list price."""
    return _ratio((list_value or 0) - (listed_revenue or 0), list_value)


def _change(current, previous) -> float | None:
    if not previous:
        return None
    return float((Decimal(current or 0) - Decimal(previous)) / Decimal(previous))


def _points(current, previous) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


def figures(sums: dict) -> dict:
    """The columns every sales table shows, from the `cur_`/`prev_` sums of one row."""
    def get(prefix, measure):
        return sums.get(f"{prefix}_{measure}") or 0

    row = {}
    for measure in ("revenue", "orders", "units"):
        cur, prev = get("cur", measure), get("prev", measure)
        row[measure], row[f"{measure}_prev"] = cur, prev
        row[f"{measure}_change"] = _change(cur, prev)
    for name, ratio, top, bottom in (("margin", _margin, "costed_revenue", "cost"),
                                     ("discount", _discount, "list_value", "listed_revenue")):
        cur = ratio(get("cur", top), get("cur", bottom))
        prev = ratio(get("prev", top), get("prev", bottom))
        row[name], row[f"{name}_prev"], row[f"{name}_change"] = cur, prev, _points(cur, prev)
    return row


def _grouped(dimension: Dimension, period: Period, scope):
    rows = _both_periods(dimension.source, period, scope)
    if dimension.code == "rep":
        rows = rows.annotate(
            rep=Coalesce("organisation__account_manager",
                         "organisation__coverage__account_manager"),
            consumer=Case(When(organisation__isnull=True, then=Value(1)), default=Value(0),
                          output_field=IntegerField()),
        )
    return (rows.order_by().values(*dimension.keys).annotate(**_sums(period))
            .order_by(F("cur_revenue").desc(nulls_last=True), *dimension.keys))


def sales_by(*, dimension: str, period: Period, scope, limit: int | None = None) -> Breakdown:
    """The sales of `period` grouped by `dimension` (a DIMENSIONS code), each row beside the
    previous period; at most `limit` rows (the largest by revenue) when a limit is given."""
    chosen = DIMENSIONS[dimension]
    grouped = _grouped(chosen, period, scope)
    found = list(grouped if limit is None else grouped[:limit + 1])
    more = limit is not None and len(found) > limit
    found = found[:limit] if more else found
    if chosen.code == "segment":
        found = _by_segment(found)
    elif chosen.code == "region":
        found = _by_region(found)
    labelled = _LABELS[chosen.code](found)
    rows = [{**key, **figures(sums)} for key, sums in zip(labelled, found, strict=True)]
    return Breakdown(chosen, rows, more)


def _segment_labels(rows) -> list[dict]:
    ids = {r["segment"] for r in rows if r["segment"] is not None}
    names = dict(Segment.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{"key": r["segment"], "name": names.get(r["segment"], NO_SEGMENT_LABEL)}
            for r in rows]


def _organisation_labels(rows) -> list[dict]:
    ids = {r["organisation"] for r in rows if r["organisation"] is not None}
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [{"key": r["organisation"],
             "name": names.get(r["organisation"], "") if r["organisation"] else "Retail consumers"}
            for r in rows]


def _rep_labels(rows) -> list[dict]:
    ids = {r["rep"] for r in rows if r["rep"] is not None}
    names = {pk: name or email for pk, name, email in
             User.objects.filter(pk__in=ids).values_list("pk", "full_name", "email")}
    labels = []
    for r in rows:
        if r["consumer"]:
            name = CONSUMERS_LABEL
        else:
            name = names.get(r["rep"], NO_REP_LABEL) if r["rep"] else NO_REP_LABEL
        labels.append({"key": r["rep"], "name": name})
    return labels


def _price_list_labels(rows) -> list[dict]:
    labels = []
    for r in rows:
        source = (r["price_source"] or "unknown").capitalize()
        code = r["price_list_code"]
        labels.append({"key": f"{r['price_source']}:{code}",
                       "name": f"{source} · {code}" if code else source})
    return labels


def _category_labels(rows) -> list[dict]:
    names = dict(Category.objects.filter(pk__in={r["category"] for r in rows})
                 .values_list("pk", "name"))
    return [{"key": r["category"], "name": names.get(r["category"], "")} for r in rows]


def _area_name(code: str, names: dict) -> str:
    if not code:
        return UNKNOWN_AREA_LABEL
    return f"{code} ({names[code]})" if names.get(code) else code


def _area_labels(rows) -> list[dict]:
    names = dict(PostcodeArea.objects.filter(code__in={r["postcode_area"] for r in rows})
                 .values_list("code", "name"))
    return [{"key": r["postcode_area"], "name": _area_name(r["postcode_area"], names)}
            for r in rows]


def _region_labels(rows) -> list[dict]:
    return [{"key": r["region"], "name": r["region"]} for r in rows]


_LABELS = {
    "segment": _segment_labels, "organisation": _organisation_labels, "rep": _rep_labels,
    "price_list": _price_list_labels, "category": _category_labels, "area": _area_labels,
    "region": _region_labels,
}


def _regions_of_areas() -> dict[str, str]:
    """Each postcode area's region (regions cover every area once), in one query."""
    return dict(Territory.areas.through.objects.filter(territory__is_region=True)
                .values_list("postcodearea_id", "territory__name"))


def _roll_up(rows: list[dict], name: str, groups_of) -> list[dict]:
    """Rows added up into the groups `groups_of(row)` names (every figure is a sum, so they
    add), largest current revenue first; the groups become the `name` key."""
    totals: dict = {}
    for row in rows:
        for group in groups_of(row):
            into = totals.setdefault(group, {name: group})
            for key, value in row.items():
                if key.startswith(("cur_", "prev_")) and value is not None:
                    into[key] = into.get(key, 0) + value
    return sorted(totals.values(),
                  key=lambda r: (-(r.get("cur_revenue") or 0), str(r[name])))


def _by_region(area_rows: list[dict]) -> list[dict]:
    """Postcode-area rows added up into their regions."""
    regions = _regions_of_areas()
    return _roll_up(area_rows, "region",
                    lambda row: [regions.get(row["postcode_area"], UNKNOWN_AREA_LABEL)])


def _by_segment(set_rows: list[dict]) -> list[dict]:
    """Segment-set rows added up into each segment of the set: a sale counts once in every
    segment its buyer was in. Summing the few sets first, then joining their members, reads
    each buyer-day once instead of once per segment."""
    members: dict[int, list[int]] = {}
    for set_id, segment_id in SegmentSetMember.objects.filter(
        segment_set_id__in=[r["segment_set"] for r in set_rows]
    ).values_list("segment_set_id", "segment_id"):
        members.setdefault(set_id, []).append(segment_id)
    return _roll_up(set_rows, "segment", lambda row: members.get(row["segment_set"]) or [None])


@dataclass
class SalesOverTime:
    """The period's weeks (revenue, orders, units, and the previous period's week beside each),
    and the totals of both periods."""

    weeks: list[dict]
    totals: dict


def sales_over_time(*, period: Period, scope) -> SalesOverTime:
    """Weekly sales of `period` and its totals against the previous period, from the buyer-days
    (so orders add up): one query, grouped by day."""
    previous = period.previous
    daily = (_both_periods(BuyerDay, period, scope).order_by().values("day")
             .annotate(**{m: Sum(m) for m in MEASURES}))
    weeks = [{"week": start, "revenue": Decimal(0), "orders": 0, "units": 0,
              "revenue_prev": Decimal(0)} for start in period.week_starts()]
    sums = dict.fromkeys([f"{p}_{m}" for p in ("cur", "prev") for m in MEASURES], 0)
    for day in daily:
        current = day["day"] >= period.start
        prefix = "cur" if current else "prev"
        for measure in MEASURES:
            sums[f"{prefix}_{measure}"] += day[measure] or 0
        if current:
            week = weeks[period.week_of(day["day"])]
            week["revenue"] += day["revenue"] or 0
            week["orders"] += day["orders"] or 0
            week["units"] += day["units"] or 0
        else:
            index = previous.week_of(day["day"])
            if index < len(weeks):
                weeks[index]["revenue_prev"] += day["revenue"] or 0
    return SalesOverTime(weeks, {"key": None, "name": "All sales", **figures(sums)})
