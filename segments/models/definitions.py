"""Segments: named groups of buyers that catalogues, price lists and workflows are assigned to."""

import re
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class SegmentKind(models.TextChoices):
    STATIC = "static", "Static (members assigned by staff)"
    RULE = "rule", "Rule (members match conditions)"
    COMPUTED = "computed", "Computed (members written by an analysis job)"


class Audience(models.TextChoices):
    ORGANISATIONS = "organisations", "Organisations"
    CONSUMERS = "consumers", "Retail consumers"


class ComputedBasis(models.TextChoices):
    RFM_GROUP = "rfm_group", "RFM group"
    VALUE_TIER = "value_tier", "Value tier (revenue)"
    MARGIN_TIER = "margin_tier", "Value tier (margin)"
    LAPSED = "lapsed", "Lapsed (no order for longer than the buyer's own cadence allows)"
    CLUSTER = "cluster", "Cluster"
    PROPENSITY = "propensity", "Likely to order a category soon"


class Segment(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices)
    audience = models.CharField(
        max_length=15, choices=Audience.choices, default=Audience.ORGANISATIONS
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    basis = models.CharField(
        max_length=15, choices=ComputedBasis.choices, blank=True,
        help_text="Computed segments only: which analysis fills it.",
    )
    basis_value = models.CharField(
        max_length=100, blank=True,
        help_text="Computed segments only: the RFM group or tier code, the cluster number, or "
        "for propensity the category id and the least probability (\"12 0.5\").",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self):
        super().clean()
        if self.kind != SegmentKind.COMPUTED:
            errors = {}
            if self.basis:
                errors["basis"] = "Only computed segments are filled by an analysis."
            if self.basis_value:
                errors["basis_value"] = "Only computed segments have a basis value."
            if errors:
                raise ValidationError(errors)
            return
        if not self.basis:
            raise ValidationError({"basis": "Choose which analysis fills this computed segment."})
        problem = _basis_value_problem(self)
        if problem:
            raise ValidationError({"basis_value": problem})


def propensity_basis(value: str) -> tuple[int, float] | None:
    """The category id and least probability of a propensity basis ("12 0.5"), or None when
    `value` is not of that form (a whole number, then a probability above 0 and at most 1)."""
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    try:
        probability = float(parts[1])
    except ValueError:
        return None
    if not 0 < probability <= 1:
        return None
    return int(parts[0]), probability


def _basis_value_problem(segment: Segment) -> str:
    """What is wrong with a computed segment's basis value, or "" when it names something that
    exists."""
    from .analysis import Cluster, RfmGroup, ValueTier

    basis, value = segment.basis, segment.basis_value.strip()
    if basis == ComputedBasis.RFM_GROUP and value not in RfmGroup.values:
        return f"Write one of the RFM groups: {', '.join(RfmGroup.values)}."
    if basis in (ComputedBasis.VALUE_TIER, ComputedBasis.MARGIN_TIER) and (
        value not in ValueTier.values
    ):
        return f"Write one of the tiers: {', '.join(ValueTier.values)}."
    if basis == ComputedBasis.LAPSED and value:
        return "Lapsing takes no value: leave it empty."
    if basis == ComputedBasis.CLUSTER and segment.is_active:
        # A switched-off segment may keep the number of a cluster a refit no longer has.
        current = Cluster.objects.filter(audience=segment.audience, is_current=True)
        linked = segment.pk is not None and current.filter(segment_id=segment.pk).exists()
        if not (value or linked):
            return "Write the number of a current cluster of this audience."
        if value and not (value.isdigit() and current.filter(number=int(value)).exists()):
            numbers = ", ".join(str(n) for n in current.values_list("number", flat=True))
            known = f"the current ones are {numbers}" if numbers else "none exists yet"
            return f"No current cluster of this audience has number {value}: {known}."
    if basis == ComputedBasis.PROPENSITY:
        parsed = propensity_basis(value)
        if parsed is None:
            return 'Write a category id and the least probability above 0, e.g. "12 0.5".'
        category = apps.get_model("catalog", "Category")
        if not category.objects.filter(pk=parsed[0]).exists():
            return f"No category has id {parsed[0]}."
    return ""


def refuse_computed(segments, what: str) -> None:
    """Computed segments never grant a catalogue or a contract or segment price (those stay
    assigned by staff): raise when `segments` holds one."""
    computed = sorted(s.code for s in segments if s.kind == SegmentKind.COMPUTED)
    if computed:
        raise ValidationError(
            f"{', '.join(computed)}: a computed segment cannot be given {what}; computed segments "
            "drive promotions, content, recommendations, service levels and reports only."
        )


class ConditionField(models.TextChoices):
    KIND = "kind", "Organisation kind"
    CUSTOMER_TIER = "customer_tier", "Customer tier"
    SIZE_BAND = "size_band", "Size band"
    INDUSTRY = "industry", "Industry"
    REGION = "region", "Region (territory code of the registered or home postcode)"
    POSTCODE_AREA = "postcode_area", "Postcode area"
    PARENT = "parent", "Within organisation (id of a parent or higher ancestor)"
    PROFESSIONAL = "professional", "Verified professional (true / false)"
    LAST_ORDER_OVER_DAYS = (
        "last_order_over_days",
        "Last order more than N days ago (N; a buyer who never ordered matches too)",
    )
    NEVER_ORDERED = "never_ordered", "Never ordered (true / false)"
    REVENUE_12M_BAND = (
        "revenue_12m_band",
        "Net revenue in the trailing 12 months, GBP (\"1000-5000\": from 1000 up to but not "
        "including 5000; \"5000-\": 5000 or more)",
    )
    ORDERS_12M_AT_LEAST = "orders_12m_at_least", "Orders in the trailing 12 months: at least N"
    ORDERS_12M_AT_MOST = "orders_12m_at_most", "Orders in the trailing 12 months: at most N"
    BOUGHT_CATEGORY_DAYS = (
        "bought_category_days",
        "Bought in a category or below it within N days (the category's slug or id, then N: "
        "\"wound-care 90\")",
    )
    NOT_BOUGHT_CATEGORY = (
        "not_bought_category",
        "Never bought in a category or below it (the category's slug or id)",
    )


BEHAVIOUR_FIELDS = {
    ConditionField.LAST_ORDER_OVER_DAYS,
    ConditionField.NEVER_ORDERED,
    ConditionField.REVENUE_12M_BAND,
    ConditionField.ORDERS_12M_AT_LEAST,
    ConditionField.ORDERS_12M_AT_MOST,
    ConditionField.BOUGHT_CATEGORY_DAYS,
    ConditionField.NOT_BOUGHT_CATEGORY,
}
CONSUMER_FIELDS = {
    ConditionField.REGION, ConditionField.POSTCODE_AREA, ConditionField.PROFESSIONAL,
    *BEHAVIOUR_FIELDS,
}
CATEGORY_FIELDS = {ConditionField.BOUGHT_CATEGORY_DAYS, ConditionField.NOT_BOUGHT_CATEGORY}

_WHOLE = re.compile(r"[0-9]+")
_AMOUNT = r"[0-9]+(?:\.[0-9]{1,2})?"
_BAND = re.compile(rf"({_AMOUNT})-({_AMOUNT})?")
_CATEGORY = re.compile(r"[-a-zA-Z0-9_]+")


def _positive(text: str, what: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) <= 0:
        raise ValidationError({"value": f"Write {what} as a whole number above 0."})
    return int(text)


def _band(text: str) -> tuple[Decimal, Decimal | None]:
    match = _BAND.fullmatch(text.replace(" ", ""))
    if match is None:
        raise ValidationError(
            {"value": "Write a band in GBP as \"1000-5000\", or \"5000-\" for 5000 or more."}
        )
    low = Decimal(match[1])
    high = Decimal(match[2]) if match[2] else None
    if high is not None and high <= low:
        raise ValidationError({"value": "The upper end of the band must be above the lower."})
    return low, high


def _category(text: str) -> str:
    if not _CATEGORY.fullmatch(text):
        raise ValidationError({"value": "Write the category's slug or id."})
    return text


def parse_behaviour_value(field: str, value: str):
    """The typed value of a behaviour condition, read strictly; ValidationError at `value`
    otherwise. Days and counts are whole numbers above 0, a band is (low, high or None),
    "never ordered" a bool, a category condition (slug or id, days or None)."""
    text = value.strip()
    if field == ConditionField.NEVER_ORDERED:
        if text.lower() not in {"true", "false"}:
            raise ValidationError({"value": "Write true or false."})
        return text.lower() == "true"
    if field == ConditionField.REVENUE_12M_BAND:
        return _band(text)
    if field == ConditionField.LAST_ORDER_OVER_DAYS:
        return _positive(text, "the number of days")
    if field in {ConditionField.ORDERS_12M_AT_LEAST, ConditionField.ORDERS_12M_AT_MOST}:
        return _positive(text, "the number of orders")
    parts = text.split()
    if field == ConditionField.BOUGHT_CATEGORY_DAYS:
        if len(parts) != 2:
            raise ValidationError(
                {"value": "Write the category's slug or id, a space, then the days: "
                 "\"wound-care 90\"."}
            )
        return _category(parts[0]), _positive(parts[1], "the number of days")
    if len(parts) != 1:
        raise ValidationError({"value": "Write one category's slug or id."})
    return _category(parts[0]), None


def category_lookup(reference: str) -> Q:
    """The Q on catalog.Category that finds a category by id (digits) or slug."""
    return Q(pk=int(reference)) if reference.isdigit() else Q(slug=reference)


class Operator(models.TextChoices):
    IS = "is", "is"
    IS_NOT = "is_not", "is not"
    IN = "in", "is one of (comma-separated)"


class SegmentCondition(models.Model):
    """One condition of a rule segment; a buyer belongs when every condition holds."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(max_length=20, choices=ConditionField.choices)
    operator = models.CharField(max_length=8, choices=Operator.choices, default=Operator.IS)
    value = models.CharField(
        max_length=200,
        help_text="Conditions on orders, revenue and categories read each buyer's "
        "purchase-history facts as of the last facts refresh, not the orders themselves: an order "
        "counts once a refresh has seen it. Buyers without facts count as never having ordered.",
    )

    class Meta:
        ordering = ["segment", "id"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} {self.get_operator_display()} {self.value}"

    @property
    def values(self) -> list[str]:
        if self.operator == Operator.IN:
            return [v.strip() for v in self.value.split(",") if v.strip()]
        return [self.value.strip()]

    @property
    def behaviour_value(self):
        """The typed value of a behaviour condition (see `parse_behaviour_value`)."""
        return parse_behaviour_value(self.field, self.value)

    def _clean_behaviour(self) -> None:
        if self.operator == Operator.IN:
            raise ValidationError({"operator": "Use \"is\" or \"is not\" with this condition."})
        value = self.behaviour_value
        if self.field in CATEGORY_FIELDS:
            category = apps.get_model("catalog", "Category")
            if not category.objects.filter(category_lookup(value[0])).exists():
                raise ValidationError({"value": f"There is no category \"{value[0]}\"."})

    def clean(self):
        super().clean()
        if self.field in BEHAVIOUR_FIELDS:
            self._clean_behaviour()
        if self.segment_id is None:
            return
        if self.segment.kind != SegmentKind.RULE:
            raise ValidationError("Only rule segments have conditions.")
        if self.segment.audience == Audience.CONSUMERS and self.field not in CONSUMER_FIELDS:
            raise ValidationError(
                {"field": "Consumer segments can use region, postcode area, professional and the "
                 "conditions on orders only."}
            )
        if self.field == ConditionField.PROFESSIONAL and self.value.strip().lower() not in {
            "true",
            "false",
        }:
            raise ValidationError({"value": "Write true or false."})
        if self.field == ConditionField.PARENT and not all(v.isdigit() for v in self.values):
            raise ValidationError({"value": "Write the id of the parent organisation."})
        if not self.values:
            raise ValidationError({"value": "Give a value."})


class SegmentMembership(models.Model):
    """An explicit member of a static or computed segment: an organisation or a consumer."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="segment_memberships",
    )
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="segment_memberships",
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["segment", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organisation__isnull=False) & Q(user__isnull=True))
                | (Q(organisation__isnull=True) & Q(user__isnull=False)),
                name="segment_member_is_organisation_or_user",
                violation_error_message="A member is either an organisation or a consumer.",
            ),
            models.UniqueConstraint(
                fields=["segment", "organisation"],
                condition=Q(organisation__isnull=False),
                name="segment_member_organisation_once",
                violation_error_message="This organisation is already in the segment.",
            ),
            models.UniqueConstraint(
                fields=["segment", "user"],
                condition=Q(user__isnull=False),
                name="segment_member_user_once",
                violation_error_message="This consumer is already in the segment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation or self.user} in {self.segment.code}"

    def clean(self):
        super().clean()
        if self.segment_id is None:
            return
        if self.segment.kind == SegmentKind.RULE:
            raise ValidationError("Rule segments take their members from their conditions.")
        if self.segment.kind == SegmentKind.COMPUTED:
            raise ValidationError("Computed segments take their members from the analysis.")
        if self.segment.audience == Audience.ORGANISATIONS and self.user_id:
            raise ValidationError({"user": "This segment holds organisations, not consumers."})
        if self.segment.audience == Audience.CONSUMERS and self.organisation_id:
            raise ValidationError({"organisation": "This segment holds consumers."})
