"""Price lists with volume tiers and quantity rules, contracts, quotes (with revisions) and price
imports. Every change is kept with who and when (django-simple-history)."""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from simple_history.models import HistoricalRecords

from accounts.models import ServiceTier
from segments.models import refuse_computed


class Currency(models.TextChoices):
    GBP = "GBP", "Pound sterling"
    EUR = "EUR", "Euro"


class PriceListKind(models.TextChoices):
    LIST = "list", "List price (B2B default)"
    RETAIL = "retail", "Retail price (B2C default)"
    SEGMENT = "segment", "Segment price list"
    TERRITORY = "territory", "Territory price list"
    PROMOTION = "promotion", "Promotion"
    CONTRACT = "contract", "Contract price list"


# Base lists apply to everyone of their channel; assigned lists only through their assignments;
# contract lists only through a Contract.
BASE_KINDS = (PriceListKind.LIST, PriceListKind.RETAIL)
ASSIGNED_KINDS = (PriceListKind.SEGMENT, PriceListKind.TERRITORY, PriceListKind.PROMOTION)

MONEY = {"max_digits": 12, "decimal_places": 4}


def _dates_overlap(a_from, a_to, b_from, b_to) -> bool:
    """Do two validity periods (None = open-ended) share at least one day?"""
    starts_before_b_ends = b_to is None or a_from is None or a_from <= b_to
    ends_after_b_starts = a_to is None or b_from is None or a_to >= b_from
    return starts_before_b_ends and ends_after_b_starts


def overlapping(queryset, valid_from, valid_to):
    """Rows of `queryset` (with valid_from/valid_to) whose period overlaps the given one."""
    if valid_to is not None:
        queryset = queryset.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=valid_to))
    if valid_from is not None:
        queryset = queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    return queryset


class PriceList(models.Model):
    """A named set of prices in one currency, valid for a period, reaching buyers by its kind."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.GBP)
    kind = models.CharField(max_length=10, choices=PriceListKind.choices)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    priority = models.SmallIntegerField(
        default=0,
        help_text="Among lists of the same precedence level, a higher priority wins; "
        "at equal priority the lowest price wins.",
    )
    is_active = models.BooleanField(default=True)
    segments = models.ManyToManyField("segments.Segment", blank=True, related_name="price_lists")
    organisations = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="price_lists",
        help_text="An organisation's assignment also covers its child organisations.",
    )
    territories = models.ManyToManyField(
        "territories.Territory", blank=True, related_name="price_lists"
    )
    note = models.TextField(blank=True)
    history = HistoricalRecords(m2m_fields=[segments, organisations, territories])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="price_list_valid_to_after_from",
                violation_error_message="A price list cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(currency__in=Currency.values), name="price_list_known_currency",
                violation_error_message="Prices are in GBP or EUR.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self):
        super().clean()
        if self.currency not in Currency.values:
            raise ValidationError({"currency": "Prices are in GBP or EUR."})
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "A price list cannot end before it starts."})
        if self.kind in BASE_KINDS and self.is_active:
            clash = overlapping(
                PriceList.objects.filter(kind=self.kind, currency=self.currency, is_active=True)
                .exclude(pk=self.pk),
                self.valid_from, self.valid_to,
            ).first()
            if clash is not None:
                raise ValidationError(
                    f"{clash} is already the {self.get_kind_display().lower()} in {self.currency} "
                    "for overlapping dates: end it first or choose other dates."
                )

    def clean_assignments(self, *, segments, organisations, territories) -> None:
        """Base and contract lists reach buyers by their kind, so they take no assignments; only a
        promotion may target a computed segment."""
        if self.kind in ASSIGNED_KINDS:
            if self.kind != PriceListKind.PROMOTION:
                try:
                    refuse_computed(segments, f"a {self.get_kind_display().lower()}")
                except ValidationError as exc:
                    raise ValidationError({"segments": exc.messages}) from exc
            return
        if segments or organisations or territories:
            raise ValidationError(
                f"A {self.get_kind_display().lower()} is not assigned to segments, organisations "
                "or territories."
            )


class PriceListItem(models.Model):
    """The price of one product in one list from a minimum quantity (a volume tier), with the
    quantity rules that go with it."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="prices")
    min_quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        **MONEY, validators=[MinValueValidator(Decimal("0.0001"))],
        help_text="Net (ex VAT) price per unit of sale.",
    )
    min_order_qty = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    max_order_qty = models.PositiveIntegerField(null=True, blank=True)
    order_multiple = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"],
                name="price_list_item_unique_tier",
                violation_error_message="This list already prices this product from that quantity.",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0), name="price_list_item_price_positive",
                violation_error_message="A price must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1)
                & Q(min_order_qty__gte=1)
                & Q(order_multiple__gte=1),
                name="price_list_item_quantities_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_order_qty__isnull=True) | Q(max_order_qty__gte=F("min_order_qty")),
                name="price_list_item_max_not_below_min",
                violation_error_message="The maximum order quantity is below the minimum.",
            ),
        ]
        indexes = [models.Index(fields=["product", "price_list"])]

    def __str__(self) -> str:
        return f"{self.price_list.code}: product {self.product_id} from {self.min_quantity}"

    def clean(self):
        super().clean()
        if self.unit_price is not None and self.unit_price <= 0:
            raise ValidationError({"unit_price": "A price must be more than zero."})
        if self.max_order_qty is not None and self.max_order_qty < self.min_order_qty:
            raise ValidationError(
                {"max_order_qty": "The maximum order quantity is below the minimum."}
            )


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class Contract(models.Model):
    """A framework agreement (reference and lot) of one organisation, priced by a contract list.
    It applies to the organisation and its children, unless a child has its own for a product."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="contracts"
    )
    reference = models.CharField("framework reference", max_length=40)
    lot = models.CharField(max_length=40, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    price_list = models.ForeignKey(
        PriceList, on_delete=models.PROTECT, related_name="contracts",
        limit_choices_to={"kind": PriceListKind.CONTRACT},
    )
    note = models.TextField(blank=True)
    service_tier = models.CharField(
        max_length=12, choices=ServiceTier.choices, blank=True,
        help_text="The service level this contract promises; empty = from the value tier. "
        "Where two contracts apply, the better tier wins.",
    )
    authorised_fulfillers = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="authorised_contracts",
        limit_choices_to={"kind": "distributor"},
        help_text="Distributors that fulfil this contract's orders and invoice at its prices "
        "(chargeback). Only these see the contract price on an order routed to them.",
    )
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())
    history = HistoricalRecords(m2m_fields=[authorised_fulfillers])

    class Meta:
        ordering = ["organisation", "reference", "lot"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="contract_valid_to_after_from",
                violation_error_message="A contract cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}{f' (lot {self.lot})' if self.lot else ''}"

    @property
    def label(self) -> str:
        return f"Contract {self}"

    def clean(self):
        super().clean()
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "A contract cannot end before it starts."})
        if self.price_list_id and self.price_list.kind != PriceListKind.CONTRACT:
            raise ValidationError({"price_list": "Choose a contract price list."})
        if self.organisation_id and self.reference and self.status != ContractStatus.ENDED:
            clash = overlapping(
                Contract.objects.filter(
                    organisation_id=self.organisation_id, reference=self.reference, lot=self.lot
                ).exclude(status=ContractStatus.ENDED).exclude(pk=self.pk),
                self.valid_from, self.valid_to,
            ).first()
            if clash is not None:
                raise ValidationError(
                    f"{clash} already covers this organisation from {clash.valid_from}: "
                    "the same reference and lot cannot overlap in dates."
                )


class QuoteStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ANSWERED = "answered", "Answered"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    SUPERSEDED = "superseded", "Superseded by a later revision"


class Quote(models.Model):
    """One revision of a request for quotation. A renegotiation adds a revision with the same
    number; earlier revisions are kept (superseded)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="quotes"
    )
    number = models.CharField(max_length=20, db_index=True)
    revision = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.REQUESTED
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.GBP)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="quotes_requested",
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="quotes_answered",
    )
    note = models.TextField(blank=True, help_text="The buyer's note.")
    response_note = models.TextField(blank=True, help_text="The account manager's answer.")
    expires_on = models.DateField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "number", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "revision"], name="quote_number_revision_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["answered", "accepted"]) | Q(expires_on__isnull=False),
                name="quote_answer_has_expiry",
                violation_error_message="An answered quote needs an expiry date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} rev {self.revision}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    target_price = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    unit_price = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0.0001"))],
        help_text="The quoted net unit price, up to the quoted quantity.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["quote", "id"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "product"], name="quote_line_product_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="quote_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gt=0),
                name="quote_line_price_positive",
                violation_error_message="A quoted price must be more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(target_price__isnull=True) | Q(target_price__gt=0),
                name="quote_line_target_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quote}: {self.quantity} × product {self.product_id}"


class PriceImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    CHECKING = "checking", "Checking rows"
    WRITING = "writing", "Writing prices"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed (nothing imported)"


class PriceImport(models.Model):
    """One import of a price file into a price list: progress while running, errors after."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=20, default="admin")
    status = models.CharField(
        max_length=10, choices=PriceImportStatus.choices, default=PriceImportStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.price_list.code} ({self.get_status_display()})"

    @property
    def progress(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
