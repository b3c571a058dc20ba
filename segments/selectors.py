"""Reads about segments: the buyer's segments as rows, and for staff why each one applies.

Whether a segment applies is the resolver's answer (`buyer.segments`); these functions only lay the
evidence beside it — each condition of a rule segment with the buyer's actual value, or the
membership row that put the buyer in a static or computed segment.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import Organisation, User, VerificationStatus
from territories.models import Territory

from .models import (
    BEHAVIOUR_FIELDS,
    CATEGORY_FIELDS,
    Audience,
    BuyerCategoryFacts,
    BuyerFacts,
    ConditionField,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    category_lookup,
)


@dataclass(frozen=True)
class ConditionEvidence:
    """One condition of a rule segment and the buyer's fact it was tested against."""

    field: str
    operator: str
    value: str
    fact: str


@dataclass(frozen=True)
class SegmentExplanation:
    code: str
    name: str
    kind: str
    applies: bool
    reason: str
    conditions: tuple[ConditionEvidence, ...] = ()
    member_note: str = ""
    member_since: datetime | None = None


def _territories_text(area: str, where: str) -> str:
    if not area:
        return f"no {where} postcode"
    codes = list(
        Territory.objects.filter(areas__code=area).order_by("code").values_list("code", flat=True)
    )
    inside = ", ".join(codes) if codes else "no territory"
    return f"{where} postcode area {area}, in: {inside}"


def _organisation_facts(organisation: Organisation) -> dict[str, str]:
    ancestors = organisation.ancestors()
    verified = organisation.professional_status == VerificationStatus.VERIFIED
    return {
        ConditionField.KIND: f"{organisation.get_kind_display()} ({organisation.kind})",
        ConditionField.CUSTOMER_TIER: organisation.customer_tier,
        ConditionField.SIZE_BAND: organisation.size_band or "not set",
        ConditionField.INDUSTRY: organisation.industry or "not set",
        ConditionField.REGION: _territories_text(organisation.postcode_area, "registered"),
        ConditionField.POSTCODE_AREA: organisation.postcode_area or "no registered postcode",
        ConditionField.PARENT: (
            "within " + ", ".join(f"{a.name} (id {a.pk})" for a in ancestors)
            if ancestors
            else "no parent organisation"
        ),
        ConditionField.PROFESSIONAL: (
            "true (professional status verified)"
            if verified
            else f"false (professional status: {organisation.get_professional_status_display()})"
        ),
    }


def _consumer_facts(user: User | None) -> dict[str, str]:
    if user is None:
        not_signed_in = "not signed in"
        return {
            ConditionField.REGION: not_signed_in,
            ConditionField.POSTCODE_AREA: not_signed_in,
            ConditionField.PROFESSIONAL: "false (not signed in)",
        }
    professional = (
        f"true ({user.get_regulator_display()} {user.registration_number}, verified)"
        if user.is_registered_professional
        else f"false (registration: {user.get_registration_status_display()})"
    )
    return {
        ConditionField.REGION: _territories_text(user.postcode_area, "home"),
        ConditionField.POSTCODE_AREA: user.postcode_area or "no home postcode",
        ConditionField.PROFESSIONAL: professional,
    }


def _facts_for(buyer) -> tuple[str, dict[str, str], Q]:
    """The audience, the facts and the filter for the buyer's own membership rows."""
    if buyer.organisation_id is not None:
        organisation = Organisation.objects.select_related("parent__parent__parent").get(
            pk=buyer.organisation_id
        )
        return (
            Audience.ORGANISATIONS,
            _organisation_facts(organisation),
            Q(organisation_id=organisation.pk),
        )
    user = User.objects.filter(pk=buyer.user_id).first() if buyer.user_id else None
    return Audience.CONSUMERS, _consumer_facts(user), Q(user_id=buyer.user_id, user__isnull=False)


def _when(moment: datetime) -> str:
    days = (timezone.now() - moment).days
    return f"{timezone.localtime(moment):%Y-%m-%d}, {days} day{'' if days == 1 else 's'} ago"


def _named_categories(segments) -> dict:
    """The categories the category conditions of `segments` name, by slug and by id."""
    lookup = Q(pk__in=[])
    for segment in segments:
        for condition in segment.conditions.all():
            if condition.field in CATEGORY_FIELDS:
                with contextlib.suppress(ValidationError):
                    lookup |= category_lookup(condition.behaviour_value[0])
    found = {}
    if lookup != Q(pk__in=[]):
        for category in apps.get_model("catalog", "Category").objects.filter(lookup):
            found[str(category.pk)] = found[category.slug] = category
    return found


class _Behaviour:
    """The buyer's stored purchase-history facts, read once (one query for the facts row, one
    for the categories the segments name, one for what the buyer bought of them), and the fact
    each behaviour condition was tested against."""

    def __init__(self, own_rows: Q, segments):
        self.row = BuyerFacts.objects.filter(own_rows).first()
        self.categories = _named_categories(segments)
        self.bought = []
        if self.categories and self.row is not None:
            self.bought = list(
                BuyerCategoryFacts.objects.filter(facts=self.row)
                .values_list("category__path", "last_bought_at")
            )

    def _last_order(self) -> str:
        if not self.row.last_order_at:
            return "never ordered"
        return f"last order {_when(self.row.last_order_at)}"

    def _category(self, reference: str) -> str:
        category = self.categories.get(reference)
        if category is None:
            return f"no category \"{reference}\""
        times = [when for path, when in self.bought if path.startswith(category.path)]
        if not times:
            return f"never bought in {category.name} or below"
        return f"last bought in {category.name} or below {_when(max(times))}"

    def fact(self, condition: SegmentCondition) -> str:
        if self.row is None:
            return "no purchase-history facts yet: taken as never ordered"
        try:
            value = condition.behaviour_value
        except ValidationError:
            return "the condition's value cannot be read: it matches nobody"
        field, row = condition.field, self.row
        if field in CATEGORY_FIELDS:
            text = self._category(value[0])
        elif field in {ConditionField.LAST_ORDER_OVER_DAYS, ConditionField.NEVER_ORDERED}:
            text = self._last_order()
            if row.orders_total:
                text += f", {row.orders_total} orders since {row.first_order_at:%Y-%m-%d}"
        elif field == ConditionField.REVENUE_12M_BAND:
            text = f"£{row.revenue_12m:,} net in the trailing 12 months"
        else:
            text = f"{row.orders_12m} orders in the trailing 12 months"
        return f"{text} (facts of {timezone.localtime(row.computed_at):%Y-%m-%d %H:%M})"


def _rule_explanation(
    segment: Segment, applies: bool, facts: dict[str, str], behaviour: "_Behaviour | None"
) -> SegmentExplanation:
    evidence = tuple(
        ConditionEvidence(
            field=condition.get_field_display(),
            operator=condition.get_operator_display(),
            value=condition.value,
            fact=(
                behaviour.fact(condition)
                if behaviour is not None and condition.field in BEHAVIOUR_FIELDS
                else facts.get(condition.field, "does not apply to this kind of buyer")
            ),
        )
        for condition in segment.conditions.all()
    )
    reason = (
        "Every condition holds."
        if applies
        else "At least one condition does not hold."
        if evidence
        else "A rule segment without conditions."
    )
    return SegmentExplanation(
        code=segment.code,
        name=segment.name,
        kind=segment.get_kind_display(),
        applies=applies,
        reason=reason,
        conditions=evidence,
    )


def _assigned_explanation(
    segment: Segment, applies: bool, member: SegmentMembership | None
) -> SegmentExplanation:
    if member is None:
        reason = "The resolver lists it, but no membership row was found."
    elif segment.kind == SegmentKind.COMPUTED:
        reason = "Written by the segmentation analysis."
    else:
        reason = "Assigned by staff."
    return SegmentExplanation(
        code=segment.code,
        name=segment.name,
        kind=segment.get_kind_display(),
        applies=applies,
        reason=reason,
        member_note=member.note if member else "",
        member_since=member.created_at if member else None,
    )


def segment_explanations(*, buyer) -> list[SegmentExplanation]:
    """Why `buyer` (a BuyerContext) is in each of its segments, and why it is in no other rule
    segment of its audience. Segments that apply come first."""
    audience, facts, own_rows = _facts_for(buyer)
    segments = (
        Segment.objects.filter(is_active=True, audience=audience)
        .filter(Q(kind=SegmentKind.RULE) | Q(code__in=buyer.segments))
        .prefetch_related(Prefetch("conditions", queryset=SegmentCondition.objects.order_by("id")))
        .order_by("code")
    )
    members = {
        m.segment_id: m for m in SegmentMembership.objects.filter(own_rows, segment__in=segments)
    }
    behaviour = None
    if any(c.field in BEHAVIOUR_FIELDS for s in segments for c in s.conditions.all()):
        behaviour = _Behaviour(own_rows, segments)
    explanations = []
    for segment in segments:
        applies = segment.code in buyer.segments
        if segment.kind == SegmentKind.RULE:
            explanations.append(_rule_explanation(segment, applies, facts, behaviour))
        else:
            explanations.append(_assigned_explanation(segment, applies, members.get(segment.pk)))
    return sorted(explanations, key=lambda e: (not e.applies, e.code))


def buyer_segments(*, buyer) -> list[Segment]:
    """The segments the buyer belongs to, as rows (code and name), in code order."""
    if not buyer.segments:
        return []
    return list(Segment.objects.filter(code__in=buyer.segments).order_by("code"))
