"""What the staff reports read: daily sales aggregates (so no report reads raw order lines), the
segments each buyer belonged to on the day of the sale, daily segment sizes, and the
pricing-strategy monitors with the accounts frozen into their treated and control groups.

A buyer is an organisation or a retail consumer (a user without an active organisation): every
per-buyer row names exactly one of them, as the segment analysis does.

Money is net GBP. `cost` and `costed_revenue` cover only the lines that had a cost price at
submission, `list_value` and `listed_revenue` only those that had a list price, so a margin or a
discount is always computed over the lines that carry one:

    margin % = (costed_revenue - cost) / costed_revenue
    discount against list % = (list_value - listed_revenue) / list_value
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY = {"max_digits": 16, "decimal_places": 2}
MONITOR_WEEKS_BEFORE = (4, 104)


def _one_buyer(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(organisation__isnull=False) & Q(user__isnull=True))
        | (Q(organisation__isnull=True) & Q(user__isnull=False)),
        name=name,
        violation_error_message="A buyer is either an organisation or a consumer.",
    )


class Buyer(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def buyer(self):
        return self.organisation if self.organisation_id else self.user


class SegmentSet(models.Model):
    """A set of segments, named once: the aggregates name the set a buyer was in on the day of
    the sale, so revenue by segment joins the set's members and never counts a sale twice within
    one segment. `key` is the members' ids, sorted and comma-joined ("" for no segment)."""

    key = models.TextField(unique=True)
    segments = models.ManyToManyField(
        "segments.Segment", through="SegmentSetMember", related_name="+"
    )

    def __str__(self) -> str:
        return self.key or "(no segment)"


class SegmentSetMember(models.Model):
    segment_set = models.ForeignKey(SegmentSet, on_delete=models.CASCADE, related_name="members")
    segment = models.ForeignKey("segments.Segment", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment_set", "segment"],
                                    name="segment_set_member_once"),
        ]
        indexes = [models.Index(fields=["segment", "segment_set"], name="segment_set_by_segment")]

    def __str__(self) -> str:
        return f"{self.segment_id} in {self.segment_set_id}"


class Figures(models.Model):
    """The summable figures of a group of order lines."""

    orders = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    units = models.PositiveBigIntegerField(default=0)
    revenue = models.DecimalField(**MONEY, default=0)
    costed_revenue = models.DecimalField(**MONEY, default=0)
    cost = models.DecimalField(**MONEY, default=0)
    listed_revenue = models.DecimalField(**MONEY, default=0)
    list_value = models.DecimalField(**MONEY, default=0)

    class Meta:
        abstract = True


class SalesDay(Buyer, Figures):
    """The counted order lines of one buyer on one day (by `placed_at`, in the site's time zone),
    for one category, price source and price list, delivered to one postcode area, while the
    buyer was in one segment set. `orders` counts the orders with a line in the row, so it does
    not add up across categories: per-buyer order counts come from `BuyerDay`."""

    day = models.DateField()
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+")
    price_source = models.CharField(max_length=12)
    price_list_code = models.CharField(max_length=60, blank=True)
    postcode_area = models.CharField(max_length=2, blank=True, help_text="Where the goods went.")
    segment_set = models.ForeignKey(SegmentSet, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [_one_buyer("sales_day_organisation_or_user")]
        indexes = [
            models.Index(fields=["day"], name="sales_day_day"),
            models.Index(fields=["organisation", "day"], name="sales_day_organisation"),
            models.Index(fields=["user", "day"], name="sales_day_user"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} on {self.day}: category {self.category_id}, {self.price_source}"


class BuyerDay(Buyer, Figures):
    """The counted orders of one buyer on one day, while in one segment set: the grain at which
    orders add up."""

    day = models.DateField()
    segment_set = models.ForeignKey(SegmentSet, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            _one_buyer("buyer_day_organisation_or_user"),
            models.UniqueConstraint(
                fields=["organisation", "day"], condition=Q(organisation__isnull=False),
                name="buyer_day_organisation_once",
            ),
            models.UniqueConstraint(
                fields=["user", "day"], condition=Q(user__isnull=False),
                name="buyer_day_user_once",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="buyer_day_day")]

    def __str__(self) -> str:
        return f"{self.buyer} on {self.day}"


class SegmentSize(models.Model):
    """How many buyers one segment had at the end of one day."""

    day = models.DateField()
    segment = models.ForeignKey("segments.Segment", on_delete=models.CASCADE, related_name="+")
    members = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "day"], name="segment_size_once_a_day"),
        ]
        indexes = [models.Index(fields=["day"], name="segment_size_day")]

    def __str__(self) -> str:
        return f"{self.segment_id} on {self.day}: {self.members}"


class AggregatesState(models.Model):
    """Where the aggregates stand: one row. The incremental refresh rewrites the buyer-days of
    the orders changed since `refreshed_at` (less an overlap for transactions still open)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    rebuild_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = "aggregates state"
        verbose_name_plural = "aggregates state"
        permissions = [("view_reports", "Can view the staff reports")]

    def __str__(self) -> str:
        return f"aggregates refreshed at {self.refreshed_at}"


class PricingMonitor(models.Model):
    """A pricing strategy watched: a price list, a promotion or a dated change, started for a
    treated segment on `starts_on`, compared with a control group of the same kind and size band
    that was not treated. The groups are frozen when the monitor is created."""

    name = models.CharField(max_length=120)
    price_list = models.ForeignKey(
        "pricing.PriceList", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The price list or promotion started for the group (empty for another change).",
    )
    change = models.CharField(
        max_length=200, blank=True, help_text="What changed, when it is not a price list.",
    )
    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.PROTECT, related_name="+",
        help_text="The treated group.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty: up to today.")
    weeks_before = models.PositiveSmallIntegerField(
        default=12, help_text="Weeks before the start compared, and checked for parallel trends.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="pricing_monitor_ends_after_start",
                violation_error_message="A monitor ends after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """What a monitor needs to be read: a treatment, a start it can freeze the groups at (not
        in the future), enough weeks before it to check the trends, and an end after it."""
        super().clean()
        errors = {}
        if self.price_list_id is None and not self.change.strip():
            errors["change"] = "Choose the price list or promotion, or describe the change."
        if self.starts_on and self.starts_on > timezone.localdate():
            errors["starts_on"] = (
                "The groups are frozen as they stood at the start: choose a start up to today."
            )
        if self.weeks_before is not None and not (
            MONITOR_WEEKS_BEFORE[0] <= self.weeks_before <= MONITOR_WEEKS_BEFORE[1]
        ):
            errors["weeks_before"] = (
                f"Compare between {MONITOR_WEEKS_BEFORE[0]} and {MONITOR_WEEKS_BEFORE[1]} weeks "
                "before the start: fewer cannot show whether the groups moved alike."
            )
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            errors["ends_on"] = "A monitor ends after it starts."
        if errors:
            raise ValidationError(errors)


class MonitorGroup(models.TextChoices):
    TREATED = "treated", "Treated"
    CONTROL = "control", "Control"


class MonitorAccount(Buyer):
    """A buyer frozen into a monitor's treated or control group. A control account carries the
    weight that gives its stratum (kind and size band) the treated group's share."""

    monitor = models.ForeignKey(PricingMonitor, on_delete=models.CASCADE, related_name="accounts")
    group = models.CharField(max_length=7, choices=MonitorGroup.choices)
    stratum = models.CharField(max_length=40, blank=True)
    weight = models.FloatField(default=1.0)

    class Meta:
        constraints = [
            _one_buyer("monitor_account_organisation_or_user"),
            models.UniqueConstraint(
                fields=["monitor", "organisation"], condition=Q(organisation__isnull=False),
                name="monitor_account_organisation_once",
            ),
            models.UniqueConstraint(
                fields=["monitor", "user"], condition=Q(user__isnull=False),
                name="monitor_account_user_once",
            ),
        ]
        indexes = [models.Index(fields=["monitor", "group"], name="monitor_account_group")]

    def __str__(self) -> str:
        return f"{self.buyer} ({self.group}) in {self.monitor_id}"
