"""Shipments reported by whoever fulfils an order (the manufacturer's ERP, or the distributor of a
routed order): tracking, and the lots and expiry dates of every shipped line, so the buyers of a
lot can be found for a recall."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class Shipment(models.Model):
    order = models.ForeignKey("ordering.Order", on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    tracking_url = models.URLField(blank=True)
    shipped_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150, help_text="Who reported the shipment.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "shipped_at", "id"]

    def __str__(self) -> str:
        return f"{self.order} shipped {self.tracking_number or '(no tracking)'}"


class ShipmentLot(models.Model):
    """Units of one order line shipped from one lot."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lots")
    order_line = models.ForeignKey(
        "ordering.OrderLine", on_delete=models.PROTECT, related_name="lots"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    lot_number = models.CharField(max_length=40)
    expiry_date = models.DateField(null=True, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["shipment", "order_line", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "order_line", "lot_number"], name="shipment_lot_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_lot_quantity"),
            models.CheckConstraint(condition=~Q(lot_number=""), name="shipment_lot_named"),
        ]
        indexes = [models.Index(fields=["product", "lot_number"], name="shipment_lot_recall")]

    def __str__(self) -> str:
        return f"{self.quantity} × lot {self.lot_number}"
