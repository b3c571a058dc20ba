"""Categories, products with the fields a medical-device buyer and regulator need, and catalogues:
named assortments assigned to segments and organisations."""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from simple_history.models import HistoricalRecords
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError


def validate_gtin(value: str) -> None:
    """A GS1 GTIN (UDI-DI): 8, 12, 13 or 14 digits with a valid GS1 check digit."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", value or ""):
        raise ValidationError("A GTIN has 8, 12, 13 or 14 digits.", code="invalid_gtin")
    try:
        ean.validate(value)
    except StdnumError as exc:
        raise ValidationError("This GTIN's check digit is wrong.", code="invalid_gtin") from exc


class Category(models.Model):
    """A node of the category tree. `path` (ids from the root, dot-separated) makes descendant
    queries a single `startswith`."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0)
    path = models.CharField(max_length=1000, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if not self.slug:
            self.slug = slugify(self.name)
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": "A category cannot sit below itself."})
            node = node.parent

    def compute_path(self) -> str:
        """Set `path`/`depth` from the parent (needs a primary key)."""
        prefix = self.parent.path if self.parent_id else ""
        self.path = f"{prefix}{self.pk:06d}."
        self.depth = self.path.count(".") - 1
        return self.path


class Manufacturer(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceClass(models.TextChoices):
    I = "I", "Class I"  # noqa: E741
    IS = "Is", "Class Is (sterile)"
    IM = "Im", "Class Im (measuring)"
    IIA = "IIa", "Class IIa"
    IIB = "IIb", "Class IIb"
    III = "III", "Class III"
    AIMD = "AIMD", "Active implantable"
    IVD = "IVD", "In vitro diagnostic"


class RegulatoryStatus(models.TextChoices):
    ON_MARKET = "on_market", "On the market"
    FIELD_SAFETY_ACTION = "fsca", "Field safety corrective action in progress"
    RECALLED = "recalled", "Recalled"
    WITHDRAWN = "withdrawn", "Withdrawn"


SELLABLE_STATUSES = (RegulatoryStatus.ON_MARKET, RegulatoryStatus.FIELD_SAFETY_ACTION)


class VatCategory(models.TextChoices):
    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"
    RELIEF = "relief", "Standard rate, zero-rated for eligible disabled people"


class UnitOfMeasure(models.TextChoices):
    EACH = "each", "Each"
    PACK = "pack", "Pack"
    BOX = "box", "Box"
    CASE = "case", "Case"
    ROLL = "roll", "Roll"
    PAIR = "pair", "Pair"


class ProductKind(models.TextChoices):
    DEVICE = "device", "Device"
    SERVICE = "service", "Service (support plan, training…)"


class Product(models.Model):
    sku = models.CharField("SKU", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    plain_description = models.TextField(
        blank=True, help_text="Plain-language description shown to retail customers."
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    kind = models.CharField(max_length=8, choices=ProductKind.choices, default=ProductKind.DEVICE)
    manufacturer = models.ForeignKey(
        Manufacturer, on_delete=models.PROTECT, related_name="products"
    )
    gtin = models.CharField("GTIN / UDI-DI", max_length=14, unique=True, validators=[validate_gtin])
    device_class = models.CharField(
        max_length=5, choices=DeviceClass.choices, blank=True,
        help_text="Every device has one; a service (a support plan) has none.",
    )
    gmdn_code = models.CharField("GMDN code", max_length=10, blank=True)
    gmdn_term = models.CharField("GMDN term", max_length=200, blank=True)
    sterile = models.BooleanField(default=False)
    single_use = models.BooleanField(default=False)
    contains_latex = models.BooleanField(default=False)
    pack_size = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_of_measure = models.CharField(
        max_length=8, choices=UnitOfMeasure.choices, default=UnitOfMeasure.EACH
    )
    regulatory_status = models.CharField(
        max_length=10, choices=RegulatoryStatus.choices, default=RegulatoryStatus.ON_MARKET
    )
    vat_category = models.CharField(
        max_length=10, choices=VatCategory.choices, default=VatCategory.STANDARD
    )
    vat_relief_item = models.CharField(
        max_length=200,
        blank=True,
        help_text="The legal item under which the product is eligible for VAT relief.",
    )
    professional_only = models.BooleanField(default=False)
    cost_price = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Net cost per unit in GBP (what the product costs us). Order lines keep the "
        "cost price of their submission, so margins are reported; never shown to buyers.",
    )
    attributes = models.JSONField(default=dict, blank=True)
    image = models.FileField(upload_to="products/", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "sku"]
        indexes = [
            models.Index(fields=["is_active", "regulatory_status"]),
            # Listings page through products in this order: the first pages of a big category
            # are read from the index instead of sorting the whole category.
            models.Index(fields=["name", "sku"], name="catalog_product_listing"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(pack_size__gte=1), name="product_pack_size_positive"
            ),
            models.CheckConstraint(
                condition=Q(cost_price__isnull=True) | Q(cost_price__gte=0),
                name="product_cost_price_not_negative",
                violation_error_message="A cost price is zero or more.",
            ),
            models.CheckConstraint(
                condition=~Q(vat_category="relief") | ~Q(vat_relief_item=""),
                name="product_relief_has_legal_item",
                violation_error_message="A relief-eligible product needs its legal item.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def clean(self):
        super().clean()
        self.sku = (self.sku or "").strip().upper()
        if not self.slug and self.name:
            self.slug = slugify(f"{self.name}-{self.sku}")
        if self.vat_category == VatCategory.RELIEF and not self.vat_relief_item:
            raise ValidationError(
                {"vat_relief_item": "A relief-eligible product needs its legal item."}
            )
        if self.kind == ProductKind.DEVICE and not self.device_class:
            raise ValidationError({"device_class": "A device needs its device class."})

    @property
    def is_sellable(self) -> bool:
        return self.is_active and self.regulatory_status in SELLABLE_STATUSES


class RecallKind(models.TextChoices):
    RECALL = "recall", "Recall"
    WITHDRAWAL = "withdrawal", "Withdrawal"


LOT_SEPARATORS = re.compile(r"[\s,;]+")


def parse_lots(text: str) -> list[str]:
    """Lot numbers typed one per line (or separated by commas), in order, without repeats."""
    return list(dict.fromkeys(lot for lot in LOT_SEPARATORS.split(text or "") if lot))


class Recall(models.Model):
    """A recall or withdrawal of a product (a field safety notice): of every lot, or only of the
    lots named. Raised and lifted by staff through `ordering.services.recalls`, which holds the
    open order lines it concerns; an active recall is one not lifted."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="recalls")
    kind = models.CharField(max_length=10, choices=RecallKind.choices, default=RecallKind.RECALL)
    lot_numbers = models.TextField(
        blank=True,
        help_text="Lots recalled, one per line. Leave empty to recall every lot of the product.",
    )
    reason = models.TextField()
    reference = models.CharField(
        max_length=60, help_text="The field safety notice's number (e.g. FSN-2026-014)."
    )
    effective_date = models.DateField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["product", "lifted_at"], name="recall_active_by_product")]
        constraints = [
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_by__isnull=False),
                name="recall_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} of {self.product.sku}"

    def clean(self):
        super().clean()
        self.reference = (self.reference or "").strip()
        self.reason = (self.reason or "").strip()
        lots = parse_lots(self.lot_numbers)
        if any(len(lot) > 40 for lot in lots):
            raise ValidationError({"lot_numbers": "A lot number has at most 40 characters."})
        self.lot_numbers = "\n".join(lots)

    @property
    def lots(self) -> list[str]:
        return parse_lots(self.lot_numbers)

    @property
    def every_lot(self) -> bool:
        """A recall naming no lot covers every lot of the product."""
        return not self.lots

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    @property
    def summary(self) -> str:
        """"Recall FSN-2026-014: sterile barrier may be breached" — what a buyer is told."""
        return f"{self.get_kind_display()} {self.reference}: {self.reason}"


class Catalog(models.Model):
    """A named assortment: categories (with their descendants) and products, minus exclusions,
    assigned to segments and/or organisations (an organisation's assignment covers its children)."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    categories = models.ManyToManyField(Category, blank=True, related_name="catalogs")
    products = models.ManyToManyField(Product, blank=True, related_name="catalogs")
    excluded_categories = models.ManyToManyField(
        Category, blank=True, related_name="excluded_from_catalogs"
    )
    excluded_products = models.ManyToManyField(
        Product, blank=True, related_name="excluded_from_catalogs"
    )
    segments = models.ManyToManyField("segments.Segment", blank=True, related_name="catalogs")
    organisations = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="catalogs"
    )
    history = HistoricalRecords(m2m_fields=[])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CategoryAncestry(models.Model):
    """Read-only, a database view (migration 0003): one row per category and each category at or
    above it (`ancestor`), from the materialised paths. "Does this catalogue, restriction or right
    cover the product's category?" becomes an equality the database answers from one hash for a
    whole page, instead of comparing path prefixes product by product."""

    pk = models.CompositePrimaryKey("ancestor", "category")
    ancestor = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.DO_NOTHING, related_name="+")

    class Meta:
        managed = False
        db_table = "catalog_categoryancestry"

    def __str__(self) -> str:
        return f"category {self.category_id} at or below {self.ancestor_id}"
