"""Rule segments as SQL: each condition becomes a Q on Organisation or User, so membership of a
rule segment is decided by the database for any number of buyers at once.

Conditions on behaviour read the stored purchase-history facts (`BuyerFacts`,
`BuyerCategoryFacts`) through EXISTS subqueries, so they follow the last facts refresh. A buyer
without a facts row is taken as one who never ordered: it has no last order (so its last order is
"more than N days ago"), no revenue and no orders.
"""

import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership, Organisation, User, VerificationStatus
from territories.models import Territory

from .models import (
    BEHAVIOUR_FIELDS,
    Audience,
    BuyerCategoryFacts,
    BuyerFacts,
    ConditionField,
    Operator,
    Segment,
    SegmentCondition,
    SegmentKind,
    category_lookup,
)

_ANCESTOR_DEPTH = 4
_NOBODY = Q(pk__in=[])
_EVERYBODY = Q(pk__isnull=False)


def _within_category(reference: str) -> QuerySet:
    """The ids of the category named by slug or id and of every category below it."""
    ancestry = apps.get_model("catalog", "CategoryAncestry")
    category = apps.get_model("catalog", "Category")
    named = category.objects.filter(category_lookup(reference)).values("pk")
    return ancestry.objects.filter(ancestor__in=named).values("category_id")


def _days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def _behaviour_q(condition: SegmentCondition, buyer: str) -> Q | None:
    """The Q of a behaviour condition (before its operator) on the rows named by `buyer`
    ("organisation" or "user"); None when the stored value cannot be read."""
    try:
        value = condition.behaviour_value
    except ValidationError:
        return None
    facts = BuyerFacts.objects.filter(**{buyer: OuterRef("pk")})
    bought = BuyerCategoryFacts.objects.filter(**{f"facts__{buyer}": OuterRef("pk")})
    field = condition.field
    if field == ConditionField.LAST_ORDER_OVER_DAYS:
        return ~Q(Exists(facts.filter(last_order_at__gte=_days_ago(value))))
    if field == ConditionField.NEVER_ORDERED:
        ordered = Q(Exists(facts.filter(orders_total__gt=0)))
        return ~ordered if value else ordered
    if field == ConditionField.REVENUE_12M_BAND:
        low, high = value
        if low == 0:
            return _EVERYBODY if high is None else ~Q(Exists(facts.filter(revenue_12m__gte=high)))
        band = Q(revenue_12m__gte=low) & (Q() if high is None else Q(revenue_12m__lt=high))
        return Q(Exists(facts.filter(band)))
    if field == ConditionField.ORDERS_12M_AT_LEAST:
        return Q(Exists(facts.filter(orders_12m__gte=value)))
    if field == ConditionField.ORDERS_12M_AT_MOST:
        return ~Q(Exists(facts.filter(orders_12m__gt=value)))
    category, days = value
    bought = bought.filter(category__in=_within_category(category))
    if field == ConditionField.BOUGHT_CATEGORY_DAYS:
        return Q(Exists(bought.filter(last_bought_at__gte=_days_ago(days))))
    return ~Q(Exists(bought))


def holds_without_orders(condition: SegmentCondition) -> bool:
    """Whether a behaviour condition (before its operator) holds for a buyer who never ordered,
    as `_behaviour_q` decides for a buyer without facts."""
    value = condition.behaviour_value
    field = condition.field
    if field == ConditionField.NEVER_ORDERED:
        return value
    if field == ConditionField.REVENUE_12M_BAND:
        return value[0] == 0
    return field in {
        ConditionField.LAST_ORDER_OVER_DAYS,
        ConditionField.ORDERS_12M_AT_MOST,
        ConditionField.NOT_BOUGHT_CATEGORY,
    }


def _with_operator(condition: SegmentCondition, q: Q | None) -> Q:
    if q is None:
        return _NOBODY  # a value that cannot be read matches nobody, whatever the operator
    return ~q if condition.operator == Operator.IS_NOT else q


def _territory_q(area_field: str, codes: list[str]) -> Q:
    in_territory = Territory.objects.filter(code__in=codes, areas__code=OuterRef(area_field))
    return Q(Exists(in_territory))


def _organisation_condition_q(condition: SegmentCondition) -> Q:
    values = condition.values
    field = condition.field
    if field in BEHAVIOUR_FIELDS:
        return _with_operator(condition, _behaviour_q(condition, "organisation"))
    if field == ConditionField.REGION:
        q = _territory_q("postcode_area", values)
    elif field == ConditionField.PARENT:
        ids = [int(v) for v in values]
        q = Q()
        path = "parent_id"
        for _ in range(_ANCESTOR_DEPTH):
            q |= Q(**{f"{path}__in": ids})
            path = "parent__" + path
    elif field == ConditionField.PROFESSIONAL:
        verified = Q(professional_status=VerificationStatus.VERIFIED)
        q = verified if values[0].lower() == "true" else ~verified
    else:
        q = Q(**{f"{field}__in": values})
    return ~q if condition.operator == Operator.IS_NOT else q


def _consumer_condition_q(condition: SegmentCondition) -> Q:
    values = condition.values
    field = condition.field
    if field in BEHAVIOUR_FIELDS:
        return _with_operator(condition, _behaviour_q(condition, "user"))
    if field == ConditionField.REGION:
        q = _territory_q("postcode_area", values)
    elif field == ConditionField.PROFESSIONAL:
        verified = Q(registration_status=VerificationStatus.VERIFIED) & ~Q(regulator="")
        q = verified if values[0].lower() == "true" else ~verified
    elif field == ConditionField.POSTCODE_AREA:
        q = Q(postcode_area__in=values)
    else:
        q = Q(pk__in=[])  # a field consumers do not have never matches
    return ~q if condition.operator == Operator.IS_NOT else q


def segment_q(segment: Segment, conditions: list[SegmentCondition] | None = None) -> Q:
    """The Q that selects the members of a rule segment (all conditions must hold)."""
    conditions = list(segment.conditions.all()) if conditions is None else conditions
    build = (
        _organisation_condition_q
        if segment.audience == Audience.ORGANISATIONS
        else _consumer_condition_q
    )
    q = Q(pk__isnull=False)  # a rule segment without conditions holds everyone in its audience
    for condition in conditions:
        q &= build(condition)
    return q


def organisation_buyers() -> QuerySet:
    """Every organisation that buys: the active ones."""
    return Organisation.objects.filter(is_active=True)


def consumer_buyers() -> QuerySet:
    """Every retail consumer: an active user with no active membership of an active
    organisation."""
    with_organisation = Membership.objects.filter(
        user=OuterRef("pk"), is_active=True, organisation__is_active=True
    )
    return User.objects.filter(is_active=True).exclude(Exists(with_organisation))


def rule_segment_members(segment: Segment) -> QuerySet:
    """Organisations (or consumers) that match a rule segment now."""
    if segment.audience == Audience.ORGANISATIONS:
        return organisation_buyers().filter(segment_q(segment))
    return consumer_buyers().filter(segment_q(segment))


def guest_matches(conditions: list[SegmentCondition]) -> bool:
    """A visitor who has not signed in has no region, no postcode and no registration, and has
    never ordered."""
    for condition in conditions:
        if condition.field in BEHAVIOUR_FIELDS:
            try:
                holds = holds_without_orders(condition)
            except ValidationError:
                return False  # a value that cannot be read matches nobody
        elif condition.field == ConditionField.PROFESSIONAL:
            holds = condition.values[0].lower() == "false"
        else:
            holds = False
        if condition.operator == Operator.IS_NOT:
            holds = not holds
        if not holds:
            return False
    return True


def time_relative_rule_segments_exist() -> bool:
    """Does an active rule segment have a condition whose answer moves with the calendar ("no
    order for more than N days", "bought category X within N days")?"""
    return SegmentCondition.objects.filter(
        segment__is_active=True, segment__kind=SegmentKind.RULE,
        field__in=[ConditionField.LAST_ORDER_OVER_DAYS, ConditionField.BOUGHT_CATEGORY_DAYS],
    ).exists()
