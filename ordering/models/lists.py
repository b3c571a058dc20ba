"""Requisition lists: named lists of products and quantities a buyer orders again and again
(a ward's weekly top-up), kept per user and organisation and optionally shared with colleagues."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class RequisitionList(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requisition_lists"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE,
        related_name="requisition_lists",
    )
    name = models.CharField(max_length=80)
    shared = models.BooleanField(
        default=False, help_text="Colleagues in the organisation may use (not edit) the list."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "organisation", "name"], name="requisition_list_name_unique",
                violation_error_message="You already have a list with that name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RequisitionListLine(models.Model):
    requisition_list = models.ForeignKey(
        RequisitionList, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["requisition_list", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requisition_list", "product"], name="requisition_list_product_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="requisition_list_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requisition_list}: {self.quantity} × product {self.product_id}"
