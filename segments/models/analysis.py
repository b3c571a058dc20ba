"""What the segmentation analysis reads and writes: each buyer's purchase-history facts, the
computed memberships with the inputs that placed the buyer there, every entry and exit, the
clusters, the propensity models and their scores, and the runs that produced them.

A buyer is an organisation or a retail consumer (a user without an active organisation): every
per-buyer row names exactly one of them.
"""

from django.db import models
from django.db.models import Q

from .definitions import Audience, Segment

MONEY = {"max_digits": 14, "decimal_places": 2}


def _one_buyer(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(organisation__isnull=False) & Q(user__isnull=True))
        | (Q(organisation__isnull=True) & Q(user__isnull=False)),
        name=name,
        violation_error_message="A buyer is either an organisation or a consumer.",
    )


class BuyerRow(models.Model):
    """A row about one buyer: an organisation or a retail consumer."""

    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def buyer(self):
        return self.organisation if self.organisation_id else self.user

    @property
    def audience(self) -> str:
        return Audience.ORGANISATIONS if self.organisation_id else Audience.CONSUMERS


class RfmGroup(models.TextChoices):
    CHAMPIONS = "champions", "Champions"
    LOYAL = "loyal", "Loyal"
    POTENTIAL_LOYALISTS = "potential_loyalists", "Potential loyalists"
    NEW = "new", "New"
    PROMISING = "promising", "Promising"
    NEED_ATTENTION = "need_attention", "Need attention"
    ABOUT_TO_SLEEP = "about_to_sleep", "About to sleep"
    AT_RISK = "at_risk", "At risk"
    CANT_LOSE = "cant_lose", "Can't lose"
    HIBERNATING = "hibernating", "Hibernating"
    PROSPECTS = "prospects", "Prospects"


class ValueTier(models.TextChoices):
    CONCIERGE = "concierge", "Concierge (top 20% by revenue)"
    STANDARD = "standard", "Standard"
    SELF_SERVICE = "self_service", "Self-service (bottom 20% by revenue)"


class BuyerFacts(BuyerRow):
    """One buyer's purchase history, from placed orders that were not cancelled, rejected or
    declined, and the scores the analysis derived from it."""

    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    orders_total = models.PositiveIntegerField(default=0)
    orders_12m = models.PositiveIntegerField("orders in the trailing 12 months", default=0)
    revenue_12m = models.DecimalField(
        "net revenue in the trailing 12 months (GBP)", **MONEY, default=0
    )
    margin_12m = models.DecimalField(
        "margin in the trailing 12 months (GBP)", **MONEY, null=True, blank=True,
        help_text="Empty when no line of the period has a cost price.",
    )
    revenue_last_6m = models.DecimalField(**MONEY, default=0)
    revenue_prior_6m = models.DecimalField("revenue in the 6 months before those", **MONEY,
                                           default=0)
    average_order_value = models.DecimalField(**MONEY, null=True, blank=True)
    cadence_days = models.FloatField(
        "median days between orders", null=True, blank=True,
        help_text="Empty for a buyer with fewer than two orders.",
    )
    trend = models.FloatField(
        null=True, blank=True,
        help_text="Revenue of the last 6 months against the 6 before, as a ratio minus one "
        "(0.25 = up 25%); empty when the earlier half had no revenue.",
    )
    recency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_group = models.CharField(max_length=20, choices=RfmGroup.choices, blank=True)
    value_tier = models.CharField(max_length=15, choices=ValueTier.choices, blank=True)
    margin_tier = models.CharField(max_length=15, choices=ValueTier.choices, blank=True)
    lapsed = models.BooleanField(default=False)
    cluster = models.ForeignKey(
        "segments.Cluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "buyer facts"
        verbose_name_plural = "buyer facts"
        constraints = [
            _one_buyer("buyer_facts_organisation_or_user"),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(organisation__isnull=False),
                name="buyer_facts_organisation_once",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(user__isnull=False), name="buyer_facts_user_once",
            ),
        ]
        indexes = [
            models.Index(fields=["last_order_at"], name="buyer_facts_last_order"),
        ]

    def __str__(self) -> str:
        return f"facts of {self.buyer}"


class BuyerCategoryFacts(models.Model):
    """What one buyer bought of one category (the product's own category)."""

    # No index of their own: (facts, category) is unique and (category, last_bought_at) indexed,
    # and each leads with the column; a third and fourth index would only cost every refresh.
    facts = models.ForeignKey(BuyerFacts, on_delete=models.CASCADE, related_name="categories",
                              db_index=False)
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+",
                                 db_index=False)
    first_bought_at = models.DateTimeField()
    last_bought_at = models.DateTimeField()
    orders_total = models.PositiveIntegerField(default=0)
    orders_12m = models.PositiveIntegerField(default=0)
    units_12m = models.PositiveIntegerField(default=0)
    revenue_12m = models.DecimalField(**MONEY, default=0)

    class Meta:
        verbose_name_plural = "buyer category facts"
        constraints = [
            models.UniqueConstraint(fields=["facts", "category"], name="buyer_category_once"),
        ]
        indexes = [
            models.Index(fields=["category", "last_bought_at"], name="buyer_category_last"),
        ]

    def __str__(self) -> str:
        return f"{self.facts.buyer}: category {self.category_id}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SegmentRun(models.Model):
    """One recompute of the computed segments: full or incremental, its phases and progress."""

    full = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    phase = models.CharField(max_length=60, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per phase.")
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("recompute_segments", "Can start a recompute of the computed segments")]

    def __str__(self) -> str:
        kind = "full" if self.full else "incremental"
        return f"{kind} recompute {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class ComputedMembership(BuyerRow):
    """A buyer in a computed segment, with the inputs that placed it there."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="computed_members")
    inputs = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            _one_buyer("computed_member_organisation_or_user"),
            models.UniqueConstraint(
                fields=["segment", "organisation"], condition=Q(organisation__isnull=False),
                name="computed_member_organisation_once",
            ),
            models.UniqueConstraint(
                fields=["segment", "user"], condition=Q(user__isnull=False),
                name="computed_member_user_once",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation"], name="computed_member_organisation"),
            models.Index(fields=["user"], name="computed_member_user"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} in {self.segment.code}"


class MovementDirection(models.TextChoices):
    ENTERED = "entered", "Entered"
    EXITED = "exited", "Exited"


class SegmentMovement(BuyerRow):
    """A buyer entering or leaving a computed segment: kept for ever, so movement over time can
    be reported."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="movements")
    direction = models.CharField(max_length=7, choices=MovementDirection.choices)
    at = models.DateTimeField()
    inputs = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        SegmentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="movements"
    )

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [_one_buyer("segment_movement_organisation_or_user")]
        indexes = [
            models.Index(fields=["segment", "at"], name="segment_movement_when"),
            models.Index(fields=["organisation", "at"], name="segment_movement_organisation"),
            models.Index(fields=["user", "at"], name="segment_movement_user"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} {self.direction} {self.segment.code} at {self.at:%Y-%m-%d}"


class Cluster(models.Model):
    """A group of buyers who resemble each other, found by k-means on their history features."""

    audience = models.CharField(max_length=15, choices=Audience.choices)
    number = models.PositiveSmallIntegerField(help_text="Its index in the fitted model.")
    generated_name = models.CharField(max_length=200)
    name = models.CharField(
        max_length=200, blank=True, help_text="Staff's own name; the generated one when empty."
    )
    size = models.PositiveIntegerField(default=0)
    profile = models.JSONField(
        default=dict, blank=True, help_text="Medians of the features and the top categories."
    )
    centroid = models.JSONField(default=list, blank=True)
    segment = models.OneToOneField(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="cluster",
        help_text="The computed segment that holds this cluster's members, once staff made one.",
    )
    run = models.ForeignKey(
        SegmentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="clusters"
    )
    is_current = models.BooleanField(default=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["audience", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "number"], condition=Q(is_current=True),
                name="cluster_number_once_per_audience",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.generated_name


class PropensityModel(models.Model):
    """One training run of the buying-propensity model, with how it did on the holdout."""

    audience = models.CharField(max_length=15, choices=Audience.choices)
    algorithm = models.CharField(max_length=80)
    trained_at = models.DateTimeField()
    cutoff = models.DateField(help_text="Features before it, the 30 days after it to check.")
    horizon_days = models.PositiveSmallIntegerField(default=30)
    train_rows = models.PositiveIntegerField(default=0)
    holdout_rows = models.PositiveIntegerField(default=0)
    positive_rate = models.FloatField(null=True, blank=True)
    auc = models.FloatField("AUC on the holdout", null=True, blank=True)
    baseline_auc = models.FloatField(
        "cadence baseline AUC", null=True, blank=True,
        help_text="The naive model: the closer a buyer is to its usual reorder day, the likelier.",
    )
    brier = models.FloatField("Brier score", null=True, blank=True)
    calibration = models.JSONField(
        default=list, blank=True, help_text="Predicted against observed rate, per probability bin."
    )
    features = models.JSONField(default=list, blank=True)
    used = models.BooleanField(
        default=False, help_text="Only a model that beats the baseline on the holdout is used."
    )
    verdict = models.CharField(max_length=250, blank=True)
    run = models.ForeignKey(
        SegmentRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )

    class Meta:
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"{self.algorithm} for {self.get_audience_display()} ({self.trained_at:%Y-%m-%d})"


class PropensityScore(BuyerRow):
    """The probability that a buyer orders a category (or a product) within the horizon."""

    # Scores are written in bulk by every used training and read per buyer (the indexes
    # below); the model, category and product are only filtered on in the admin, where a scan of
    # the table (a few rows per buyer) is fast enough, so they carry no index of their own.
    # Derived rows, rebuilt by every used training: the database checks none of their foreign
    # keys (hundreds of thousands of deferred checks at commit); deleting a buyer, category,
    # product or model still deletes its scores, through the ORM's cascade.
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE,
        related_name="+", db_constraint=False,
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_constraint=False,
    )
    model = models.ForeignKey(PropensityModel, on_delete=models.CASCADE, related_name="scores",
                              db_index=False, db_constraint=False)
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_index=False, db_constraint=False,
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        db_index=False, db_constraint=False,
    )
    probability = models.FloatField()

    class Meta:
        ordering = ["-probability"]
        constraints = [
            _one_buyer("propensity_organisation_or_user"),
            models.CheckConstraint(
                condition=Q(category__isnull=False) | Q(product__isnull=False),
                name="propensity_of_category_or_product",
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="propensity_is_a_probability",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "-probability"], name="propensity_organisation"),
            models.Index(fields=["user", "-probability"], name="propensity_user"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer}: {self.probability:.0%}"
