"""Approval rules of an organisation and the approval steps each order goes through."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class ApproverRole(models.TextChoices):
    APPROVER = "approver", "Approver"
    BUDGET_HOLDER = "budget_holder", "Budget holder"


class ApprovalRule(models.Model):
    """An order of this organisation whose total reaches `min_total` (and, when a category is
    named, holding a product of that category or below) needs one approval by `approver_role`."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="approval_rules"
    )
    name = models.CharField(max_length=120)
    min_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="Order total ex VAT (GBP) from which the rule applies.",
    )
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    approver_role = models.CharField(max_length=15, choices=ApproverRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organisation", "position", "id"]

    def __str__(self) -> str:
        return self.name


class StepStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ApprovalStep(models.Model):
    """One approval an order needs, in chain order. An approver may decide it only when their
    approval limit covers the order total; otherwise it escalates to one whose limit does."""

    order = models.ForeignKey("ordering.Order", on_delete=models.CASCADE, related_name="approvals")
    position = models.PositiveSmallIntegerField()
    rule_name = models.CharField(max_length=120)
    approver_role = models.CharField(max_length=15, choices=ApproverRole.choices)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "position"], name="approval_step_position_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} step {self.position}: {self.rule_name}"
