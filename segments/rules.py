"""Rule segments as SQL: each condition becomes a Q on Organisation or User, so membership of a
rule segment is decided by the database for any number of buyers at once."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Membership, Organisation, User, VerificationStatus
from territories.models import Territory

from .models import Audience, ConditionField, Operator, Segment, SegmentCondition

_ANCESTOR_DEPTH = 4


def _territory_q(area_field: str, codes: list[str]) -> Q:
    in_territory = Territory.objects.filter(code__in=codes, areas__code=OuterRef(area_field))
    return Q(Exists(in_territory))


def _organisation_condition_q(condition: SegmentCondition) -> Q:
    values = condition.values
    field = condition.field
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
    """A visitor who has not signed in has no region, no postcode and no registration."""
    for condition in conditions:
        if condition.field == ConditionField.PROFESSIONAL:
            holds = condition.values[0].lower() == "false"
        else:
            holds = False
        if condition.operator == Operator.IS_NOT:
            holds = not holds
        if not holds:
            return False
    return True
