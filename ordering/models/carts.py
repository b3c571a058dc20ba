"""Carts: one per (user, active organisation, delivery site). Lines hold a product and a quantity
only; prices are asked of the price engine every time the cart is shown."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


def cart_scope_key(user_id: int, organisation_id: int | None, site_id: int | None) -> str:
    """The natural key of a cart: who buys, for which organisation, delivered where."""
    return f"{user_id}:{organisation_id or '-'}:{site_id or '-'}"


class Cart(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="carts"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scope_key = models.CharField(max_length=60, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"Cart {self.scope_key}"

    def clean(self):
        super().clean()
        self.scope_key = cart_scope_key(self.user_id, self.organisation_id, self.site_id)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_line_product_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="cart_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × product {self.product_id}"
