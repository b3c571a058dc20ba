"""Reads about segments: the buyer's segments as rows, and for staff why each one applies.

Whether a segment applies is the resolver's answer (`buyer.segments`); these functions only lay the
evidence beside it — each condition of a rule segment with the buyer's actual value, or the
membership row that put the buyer in a static or computed segment.
"""

import contextlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, Subquery
from django.utils import timezone

from accounts.models import Organisation, User, VerificationStatus
from territories.models import Territory

from .models import (
    BEHAVIOUR_FIELDS,
    CATEGORY_FIELDS,
    Audience,
    BuyerCategoryFacts,
    BuyerFacts,
    ComputedMembership,
    ConditionField,
    PropensityModel,
    PropensityScore,
    RfmGroup,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    ValueTier,
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
    inputs: tuple[str, ...] = ()
    computed_at: datetime | None = None


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
    computed = _computed_memberships(own_rows, segments)
    explanations = []
    for segment in segments:
        applies = segment.code in buyer.segments
        if segment.kind == SegmentKind.RULE:
            explanations.append(_rule_explanation(segment, applies, facts, behaviour))
        elif segment.kind == SegmentKind.COMPUTED:
            explanations.append(_computed_explanation(segment, applies, computed.get(segment.pk)))
        else:
            explanations.append(_assigned_explanation(segment, applies, members.get(segment.pk)))
    return sorted(explanations, key=lambda e: (not e.applies, e.code))


def buyer_segments(*, buyer) -> list[Segment]:
    """The segments the buyer belongs to, as rows (code and name), in code order."""
    if not buyer.segments:
        return []
    return list(Segment.objects.filter(code__in=buyer.segments).order_by("code"))


# Computed segments: the stored inputs in words, and the analysis behind them ----------------------

def _computed_memberships(own_rows: Q, segments) -> dict[int, ComputedMembership]:
    rows = ComputedMembership.objects.filter(own_rows, segment__in=segments)
    return {m.segment_id: m for m in rows}


def _computed_explanation(
    segment: Segment, applies: bool, member: ComputedMembership | None
) -> SegmentExplanation:
    reason = (
        "Written by the segmentation analysis, from these inputs:"
        if member is not None
        else "The resolver lists it, but no computed membership row was found."
    )
    return SegmentExplanation(
        code=segment.code,
        name=segment.name,
        kind=segment.get_kind_display(),
        applies=applies,
        reason=reason,
        inputs=inputs_in_words(member.inputs) if member is not None else (),
        computed_at=member.computed_at if member is not None else None,
    )


def _ago(inputs: dict) -> str:
    """When the buyer last ordered, counted from today: "last order 3 days ago (2 Dec 2026)"."""
    if inputs.get("last_order_on"):
        try:
            day = date.fromisoformat(inputs["last_order_on"])
        except (TypeError, ValueError):
            return f"last order on {inputs['last_order_on']}"
        days = (timezone.localdate() - day).days
        ago = "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
        return f"last order {ago} ({day.day} {day:%b %Y})"
    if inputs.get("days_since_last_order") is not None:
        return f"last order {inputs['days_since_last_order']} days before it was computed"
    return "no order yet"


def _pounds(amount) -> str:
    try:
        return f"£{Decimal(str(amount)):,.2f}"
    except (InvalidOperation, ValueError):
        return "—"


def _label(choices, code) -> str:
    return dict(choices.choices).get(code, code or "none")


def _rfm_words(inputs: dict) -> list[str]:
    words = []
    if "rfm_group" in inputs:
        words.append(f"RFM group: {_label(RfmGroup, inputs['rfm_group'])}")
    if "recency_score" in inputs:
        words.append(f"R {inputs['recency_score']}: {_ago(inputs)}")
    if "frequency_score" in inputs:
        words.append(f"F {inputs['frequency_score']}: {inputs.get('orders_12m', 0)} orders in "
                     "the last 12 months")
    if "monetary_score" in inputs:
        words.append(f"M {inputs['monetary_score']}: {_pounds(inputs.get('revenue_12m'))} in the "
                     "last 12 months")
    return words


def _tier_words(inputs: dict) -> list[str]:
    words = []
    if "value_tier" in inputs:
        words.append(f"Value tier: {_label(ValueTier, inputs['value_tier'])}, "
                     f"{_pounds(inputs.get('revenue_12m'))} revenue in 12 months")
    if "margin_tier" in inputs:
        margin = inputs.get("margin_12m")
        words.append(f"Margin tier: {_label(ValueTier, inputs['margin_tier'])}, "
                     f"{_pounds(margin) if margin is not None else 'no cost price'} margin in "
                     "12 months")
    return words


def _lapsing_words(inputs: dict) -> list[str]:
    if "lapsed" not in inputs:
        return []
    cadence = inputs.get("cadence_days")
    usual = f"usually {cadence:g} days between orders" if cadence else "no usual cadence yet"
    return [f"Lapsed: {_ago(inputs)}, {usual} "
            f"({inputs.get('orders_total', 0)} orders in all)"]


def _cluster_words(inputs: dict) -> list[str]:
    if "cluster" not in inputs:
        return []
    words = [f"Cluster {inputs['cluster']}: {inputs.get('cluster_name') or 'unnamed'}"]
    if "recency_score" not in inputs and "orders_12m" in inputs:
        words.append(f"{_ago(inputs).capitalize()}, "
                     f"{inputs['orders_12m']} orders and {_pounds(inputs.get('revenue_12m'))} "
                     "in the last 12 months")
    return words


def _propensity_words(inputs: dict) -> list[str]:
    if "probability" not in inputs:
        return []
    category = inputs.get("category") or f"category {inputs.get('category_id')}"
    trained = (inputs.get("model_trained_at") or "")[:10]
    return [f"Likely to order {category} soon: {inputs['probability']:.0%} (at least "
            f"{inputs.get('min_probability', 0):.0%} required; model {inputs.get('model_id')}"
            f"{', trained ' + trained if trained else ''})"]


_WORDED = {
    "rfm_group", "recency_score", "frequency_score", "monetary_score", "days_since_last_order",
    "last_order_on",
    "orders_12m", "revenue_12m", "value_tier", "margin_tier", "margin_12m", "lapsed",
    "cadence_days", "orders_total", "cluster", "cluster_name", "probability", "category",
    "category_id", "min_probability", "model_id", "model_trained_at",
}


def inputs_in_words(inputs: dict) -> tuple[str, ...]:
    """The inputs stored with a computed membership, as sentences for staff ("R 5: last order 3
    days ago"); keys this function does not know are shown as they are."""
    words = [
        *_rfm_words(inputs), *_tier_words(inputs), *_lapsing_words(inputs),
        *_cluster_words(inputs), *_propensity_words(inputs),
    ]
    words += [f"{key.replace('_', ' ')}: {value}" for key, value in inputs.items()
              if key not in _WORDED]
    return tuple(words)


@dataclass(frozen=True)
class BuyerAnalysis:
    """What the analysis holds about one buyer: RFM scores and group, tiers, lapsing, cluster
    and the highest buying propensities of the newest used model."""

    computed_at: datetime | None
    rfm: str
    rfm_group: str
    value_tier: str
    margin_tier: str
    lapsed: bool
    cluster: str
    propensities: tuple[tuple[str, float], ...]


def _own_analysis_rows(buyer) -> tuple[str, Q]:
    if buyer.organisation_id is not None:
        return Audience.ORGANISATIONS, Q(organisation_id=buyer.organisation_id)
    return Audience.CONSUMERS, Q(user_id=buyer.user_id, organisation__isnull=True)


def buyer_analysis(*, buyer) -> BuyerAnalysis | None:
    """The analysis of `buyer` (a BuyerContext) for "explain this buyer", in two queries; None
    for a visitor who has not signed in. Empty values where the analysis has not run yet."""
    if buyer.organisation_id is None and buyer.user_id is None:
        return None
    audience, own = _own_analysis_rows(buyer)
    facts = BuyerFacts.objects.filter(own).select_related("cluster").first()
    newest = (
        PropensityModel.objects.filter(audience=audience, used=True)
        .order_by("-trained_at", "-id").values("pk")[:1]
    )
    scores = (
        PropensityScore.objects.filter(own, model_id=Subquery(newest))
        .select_related("category", "product").order_by("-probability", "id")[:5]
    )
    propensities = tuple(
        (str(score.product or score.category), score.probability) for score in scores
    )
    if facts is None:
        return BuyerAnalysis(None, "", "", "", "", False, "", propensities)
    scored = facts.recency_score is not None
    return BuyerAnalysis(
        computed_at=facts.computed_at,
        rfm=(f"R {facts.recency_score} · F {facts.frequency_score} · M {facts.monetary_score}"
             if scored else ""),
        rfm_group=facts.get_rfm_group_display(),
        value_tier=facts.get_value_tier_display(),
        margin_tier=facts.get_margin_tier_display(),
        lapsed=facts.lapsed,
        cluster=str(facts.cluster) if facts.cluster else "",
        propensities=propensities,
    )
