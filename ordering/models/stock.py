"""Stock on hand per product and the allocations of arriving stock to backordered lines."""

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords


class Stock(models.Model):
    """Units of one product on hand and the part of them reserved for accepted orders."""

    product = models.OneToOneField(
        "catalog.Product", on_delete=models.CASCADE, related_name="stock"
    )
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")),
                name="stock_reserved_within_on_hand",
                violation_error_message="More units are reserved than are on hand.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class AllocationPolicy(models.TextChoices):
    REQUESTED_DATE = "requested_date", "By requested delivery date"
    FAIR_SHARE = "fair_share", "Fair share (pro rata, rounded to pack size)"
    TIER_PRIORITY = "tier_priority", "Customer tier priority (A, B, C)"
    CREDIT_STANDING = "credit_standing", "Credit standing (accounts over limit last)"


class Allocation(models.Model):
    """Units of arriving stock given to one backordered line, and why that line got them."""

    line = models.ForeignKey(
        "ordering.OrderLine", on_delete=models.CASCADE, related_name="allocations"
    )
    quantity = models.PositiveIntegerField()
    policy = models.CharField(max_length=20, choices=AllocationPolicy.choices)
    reason = models.CharField(max_length=250)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} to {self.line} ({self.policy})"
