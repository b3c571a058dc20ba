"""Orders, their lines (with the price resolved at submission), the log of every state change and
the VAT-relief declaration kept with a retail order."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Value


def _adds_up(net: str, vat: str, gross: str) -> Q:
    """net + vat == gross, to within a tenth of a penny: SQLite compares decimals as floats."""
    slack = Value(Decimal("0.001"))
    total = F(net) + F(vat)
    return Q(**{f"{gross}__gte": total - slack}) & Q(**{f"{gross}__lte": total + slack})


class OrderState(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUBMITTED = "submitted", "Submitted"
    ROUTED = "routed", "Routed to distributor"
    ACCEPTED_BY_DISTRIBUTOR = "accepted_by_distributor", "Accepted by distributor"
    DECLINED_BY_DISTRIBUTOR = "declined_by_distributor", "Declined by distributor"
    ALLOCATED = "allocated", "Allocated"
    PARTLY_BACKORDERED = "partly_backordered", "Partly backordered"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class DeliveryOption(models.TextChoices):
    STANDARD = "standard", "Standard delivery"
    PRIORITY_NEXT_DAY = "priority_next_day", "Priority next-day (concierge accounts)"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    ACCOUNT = "account", "On account"


MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT_MONEY = {"max_digits": 12, "decimal_places": 4}


class Order(models.Model):
    """One order of one buyer (a consumer, or a user for one organisation). A routed order names
    the distributor that fulfils it."""

    number = models.CharField(max_length=20, unique=True)
    workflow = models.CharField(max_length=15)
    state = models.CharField(max_length=25, choices=OrderState.choices, db_index=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_placed"
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
        verbose_name="placed via API key",
        help_text="The API key the order was placed through; `placed_by` is the member it acted "
        "as, or the member responsible for an integration key.",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="orders",
    )
    customer_tier = models.CharField(max_length=1, blank=True)
    service_tier = models.CharField(
        max_length=12, blank=True, help_text="The account's service tier when the order was placed."
    )
    delivery_option = models.CharField(
        max_length=20, choices=DeliveryOption.choices, default=DeliveryOption.STANDARD
    )
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fulfiller = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT,
        related_name="routed_orders", help_text="The distributor fulfilling a routed order.",
    )
    po_number = models.CharField("PO number", max_length=40, blank=True)
    cost_centre = models.ForeignKey(
        "accounts.CostCentre", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    budget = models.ForeignKey(
        "accounts.Budget", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The budget this order's total is committed to: at placement when it is within "
        "the budget, on the budget holder's approval when it is over.",
    )
    contract = models.ForeignKey(
        "pricing.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_delivery_date = models.DateField(null=True, blank=True)
    expected_delivery_date = models.DateField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    delivery_name = models.CharField(max_length=150, blank=True)
    delivery_address = models.TextField(blank=True)
    delivery_postcode = models.CharField(max_length=8, blank=True)
    currency = models.CharField(max_length=3, default="GBP")
    total_net = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total_vat = models.DecimalField(**MONEY, default=Decimal("0.00"))
    total_gross = models.DecimalField(**MONEY, default=Decimal("0.00"))
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    payment_key = models.CharField(
        max_length=40, blank=True, db_index=True,
        help_text="The idempotency key of the card payment, set before the card is charged; the "
        "orders of one placement share it.",
    )
    payment_reference = models.CharField(max_length=60, blank=True)
    erp_reference = models.CharField(
        "ERP reference", max_length=60, blank=True,
        help_text="The fulfilling ERP's own number for the order, once it acknowledged it.",
    )
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "po_number"],
                condition=~Q(po_number="") & Q(fulfiller__isnull=True),
                name="order_po_number_unique_per_organisation",
                violation_error_message="This organisation already used that PO number.",
            ),
            models.CheckConstraint(
                condition=_adds_up("total_net", "total_vat", "total_gross"),
                name="order_net_plus_vat_is_gross",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "-placed_at"]),
            # The reporting aggregates refresh the buyer-days of the orders changed since
            # their last refresh.
            models.Index(fields=["updated_at"], name="order_updated_at"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_routed(self) -> bool:
        return self.fulfiller_id is not None


class OrderLine(models.Model):
    """A product ordered, with the price resolved at submission (never re-priced afterwards), the
    units reserved from stock and the units still backordered."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "accounts.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Delivery site of this line (institutional orders deliver to several wards).",
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(**UNIT_MONEY, help_text="Net price per unit at submission.")
    vat_rate = models.DecimalField(max_digits=4, decimal_places=3)
    price_source = models.CharField(max_length=12)
    price_explanation = models.CharField(max_length=250, blank=True)
    price_list_code = models.CharField(max_length=60, blank=True)
    contract = models.ForeignKey(
        "pricing.Contract", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The contract that priced this line, when a contract did.",
    )
    fulfiller_unit_price = models.DecimalField(
        **UNIT_MONEY, null=True, blank=True,
        help_text="On a routed order: the distributor's own net price per unit (what it pays for "
        "this product and quantity), priced when the order was routed; empty when it has none.",
    )
    fulfiller_line_net = models.DecimalField(**MONEY, null=True, blank=True)
    fulfiller_price_explanation = models.CharField(max_length=250, blank=True)
    unit_cost = models.DecimalField(
        **UNIT_MONEY, null=True, blank=True,
        help_text="The product's net cost price per unit (GBP) at submission; empty when it had "
        "none.",
    )
    list_unit_price = models.DecimalField(
        **UNIT_MONEY, null=True, blank=True,
        help_text="What the base list price (the B2B list or the retail list, by the buyer's "
        "channel) was per unit, net, for this product and quantity at submission; empty when "
        "it had none in the order's currency.",
    )
    relief_applied = models.BooleanField(default=False)
    line_net = models.DecimalField(**MONEY)
    line_vat = models.DecimalField(**MONEY)
    line_gross = models.DecimalField(**MONEY)
    allocated_quantity = models.PositiveIntegerField(default=0)
    backordered_quantity = models.PositiveIntegerField(default=0)
    shipped_quantity = models.PositiveIntegerField(default=0)
    recall = models.ForeignKey(
        "catalog.Recall", null=True, blank=True, on_delete=models.PROTECT,
        related_name="held_lines", help_text="The recall holding this line: it gets no stock, "
        "is not approved, allocated or shipped.",
    )
    held_reason = models.CharField(max_length=250, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(allocated_quantity__lte=F("quantity"))
                & Q(backordered_quantity__lte=F("quantity")),
                name="order_line_fill_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity")),
                name="order_line_shipped_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(held_at__isnull=True) | Q(allocated_quantity=0),
                name="order_line_held_has_no_stock",
                violation_error_message="A held line holds no stock.",
            ),
            models.CheckConstraint(
                condition=_adds_up("line_net", "line_vat", "line_gross"),
                name="order_line_net_plus_vat_is_gross",
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "backordered_quantity"], condition=Q(backordered_quantity__gt=0),
                name="order_line_open_backorders",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.quantity} × product {self.product_id}"

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class OrderEvent(models.Model):
    """One state change of an order: who, when, from, to, and their comment."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    from_state = models.CharField(max_length=25, blank=True, choices=OrderState.choices)
    to_state = models.CharField(max_length=25, choices=OrderState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="The actor's name and role then.")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_state or '—'} → {self.to_state} ({self.action})"


class ReliefDeclaration(models.Model):
    """A VAT-relief eligibility declaration, made separately from confirming the order and kept
    with it: who is eligible, their address and condition, and who signed when on their behalf."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="relief_declaration")
    full_name = models.CharField(max_length=150)
    address = models.TextField()
    condition = models.CharField(max_length=250)
    signed_on_behalf = models.BooleanField(default=False)
    signer_name = models.CharField(max_length=150, blank=True)
    signer_relationship = models.CharField(max_length=80, blank=True)
    eligible_items = models.TextField(help_text="The products declared for, with their legal item.")
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_on_behalf=False)
                | (~Q(signer_name="") & ~Q(signer_relationship="")),
                name="relief_declaration_names_signer_on_behalf",
                violation_error_message="Name the signer and their relationship.",
            ),
        ]

    def __str__(self) -> str:
        return f"VAT relief declaration for {self.order}"
