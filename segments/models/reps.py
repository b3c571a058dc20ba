"""Who looks after which accounts: account managers assigned to a customer group (a segment or a
territory), and the coverage that results for each organisation.

Precedence: the organisation's own account manager beats a segment assignment, which beats a
territory assignment. The coverage row keeps the group's answer and who was given the admin
object permissions because of it, so a change can take them back.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class CoverageSource(models.TextChoices):
    ORGANISATION = "organisation", "Assigned to the organisation"
    SEGMENT = "segment", "Assigned to a segment"
    TERRITORY = "territory", "Assigned to a territory"


class RepAssignment(models.Model):
    """An account manager for every organisation of one segment or one territory. An
    organisation in two assigned segments (or territories) goes to the oldest assignment."""

    account_manager = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="rep_assignments",
        limit_choices_to={"is_staff": True},
    )
    segment = models.OneToOneField(
        "segments.Segment", null=True, blank=True, on_delete=models.CASCADE,
        related_name="rep_assignment",
    )
    territory = models.OneToOneField(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE,
        related_name="rep_assignment",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(segment__isnull=False) & Q(territory__isnull=True))
                | (Q(segment__isnull=True) & Q(territory__isnull=False)),
                name="rep_assignment_segment_or_territory",
                violation_error_message="Assign the account manager to a segment or a territory.",
            ),
        ]

    def __str__(self) -> str:
        group = self.segment or self.territory
        return f"{self.account_manager} for {group}"

    def clean(self):
        super().clean()
        if bool(self.segment_id) == bool(self.territory_id):
            raise ValidationError("Assign the account manager to a segment or a territory.")
        if self.account_manager_id and not self.account_manager.is_staff:
            raise ValidationError({"account_manager": "The account manager must be a staff user."})
        if self.segment_id and self.segment.audience != "organisations":
            raise ValidationError({"segment": "Choose a segment of organisations."})


class AccountCoverage(models.Model):
    """The account manager a customer group gives one organisation, and who holds the admin
    permissions on it because of that (nobody when the organisation has its own manager)."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="coverage"
    )
    account_manager = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=12, choices=CoverageSource.choices, blank=True)
    via = models.CharField(max_length=200, blank=True, help_text="The segment or territory.")
    granted_to = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "account coverage"
        indexes = [models.Index(fields=["granted_to"], name="coverage_granted_to")]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.account_manager_id} ({self.source})"
