"""Territories: named sets of UK postcode areas. Regions are the default territories."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class PostcodeArea(models.Model):
    """A UK postcode area such as "SE" or "LS" (the letters that start a postcode)."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Territory(models.Model):
    """A set of postcode areas. Each area is in exactly one region; other territories are free."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    is_region = models.BooleanField(
        default=False,
        help_text=(
            "Regions are the default territories: together they cover every postcode area once."
        ),
    )
    areas = models.ManyToManyField(PostcodeArea, related_name="territories", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name


def validity_covers(valid_from, valid_to, day) -> bool:
    """A validity window includes both its first and its last day; no last day means open-ended."""
    return valid_from <= day and (valid_to is None or day <= valid_to)


def validity_q(day, prefix: str = "") -> Q:
    """Rows whose validity window includes `day`."""
    return Q(**{f"{prefix}valid_from__lte": day}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": day})
    )


def _periods_overlap(a_from, a_to, b_from, b_to) -> bool:
    return (a_to is None or b_from <= a_to) and (b_to is None or a_from <= b_to)


class DistributorProfile(models.Model):
    """How buyers reach a distributor about a line it holds rights to (shown by protected lines)."""

    organisation = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="distributor_profile",
        limit_choices_to={"kind": "distributor"},
    )
    contact_name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"Contact details of {self.organisation}"

    def clean(self):
        super().clean()
        if self.organisation_id and self.organisation.kind != "distributor":
            raise ValidationError({"organisation": "Only a distributor has a distributor profile."})


class CoveredLine(models.Model):
    """A product, or a category with all its descendants, in one territory for a validity window."""

    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Covers the category and every category below it.",
    )
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(default=timezone.localdate)
    valid_to = models.DateField(
        null=True, blank=True, help_text="Last day included. Leave empty for no end date."
    )

    class Meta:
        abstract = True

    @property
    def line(self) -> str:
        return str(self.product) if self.product_id else f"{self.category} (and below)"

    def clean(self):
        super().clean()
        if bool(self.product_id) == bool(self.category_id):
            raise ValidationError("Choose either one product or one category, not both.")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "The last day cannot come before the first."})

    def is_valid_on(self, day) -> bool:
        return validity_covers(self.valid_from, self.valid_to, day)

    def coverage_path(self) -> str:
        """The category path that bounds what this row covers (the product's own category for a
        product row); used to compare two rows' coverage without touching the catalogue rules."""
        return self.product.category.path if self.product_id else self.category.path


def _one_line_only(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(product__isnull=False) & Q(category__isnull=True))
        | (Q(product__isnull=True) & Q(category__isnull=False)),
        name=f"{name}_product_or_category",
        violation_error_message="Choose either one product or one category, not both.",
    )


def _ends_after_start(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
        name=f"{name}_valid_to_after_from",
        violation_error_message="The last day cannot come before the first.",
    )


class TerritoryRight(CoveredLine):
    """A distributor's right to sell a product, or a category with its descendants, in a territory.

    An exclusive right means no one else sells the line there: buyers in the territory are routed
    to the distributor. Two rights conflict when they cover a common product in a common postcode
    area on a common day and both are exclusive, or one is exclusive and the other belongs to
    another distributor.
    """

    distributor = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="territory_rights",
        limit_choices_to={"kind": "distributor"},
    )
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="rights")
    exclusive = models.BooleanField(default=True)
    agreement_reference = models.CharField(max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["territory__name", "distributor__name", "valid_from", "pk"]
        indexes = [models.Index(fields=["territory", "valid_from", "valid_to"])]
        constraints = [_one_line_only("territory_right"), _ends_after_start("territory_right")]

    def __str__(self) -> str:
        kind = "Exclusive" if self.exclusive else "Non-exclusive"
        return f"{kind} right of {self.distributor} for {self.line} in {self.territory}"

    def clean(self):
        super().clean()
        if self.distributor_id and self.distributor.kind != "distributor":
            raise ValidationError({"distributor": "Only a distributor can hold territory rights."})
        one_line = bool(self.product_id) != bool(self.category_id)
        if self.territory_id and self.valid_from and one_line:
            clash = next(iter(self.conflicting_rights()), None)
            if clash is not None:
                raise ValidationError(
                    f"This overlaps the {clash.describe()}. Two exclusive rights cannot cover the "
                    "same product in the same postcode area on the same day, nor can another "
                    "distributor hold a right where one is exclusive.",
                    code="overlapping_exclusive_right",
                )

    def describe(self) -> str:
        period = f"from {self.valid_from:%d %b %Y}"
        if self.valid_to:
            period += f" to {self.valid_to:%d %b %Y}"
        return f"{str(self).lower()[0]}{str(self)[1:]} {period}"

    def conflicting_rights(self) -> list["TerritoryRight"]:
        """Stored rights conflicting with this one (sharing a postcode area, a day, a product)."""
        sharing_an_area = Territory.objects.filter(
            Q(pk=self.territory_id) | Q(areas__in=self.territory.areas.all())
        ).values("pk")
        candidates = (
            TerritoryRight.objects.filter(territory__in=sharing_an_area)
            .exclude(pk=self.pk)
            .select_related("distributor", "territory", "product__category", "category")
        )
        if self.valid_to is not None:
            candidates = candidates.filter(valid_from__lte=self.valid_to)
        candidates = candidates.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
        return [other for other in candidates if rights_conflict(self, other, areas_shared=True)]


def coverages_overlap(a_path: str, a_product_id, b_path: str, b_product_id) -> bool:
    """Whether two covered lines share a product. A product row covers just that product (its
    category path given); a category row covers every product under its path."""
    if a_product_id and b_product_id:
        return a_product_id == b_product_id
    if a_product_id:
        return a_path.startswith(b_path)
    if b_product_id:
        return b_path.startswith(a_path)
    return a_path.startswith(b_path) or b_path.startswith(a_path)


def rights_conflict(a: TerritoryRight, b: TerritoryRight, *, areas_shared: bool) -> bool:
    """The one definition of a conflict, used by validation and by the admin's conflict list."""
    if not (a.exclusive or b.exclusive):
        return False
    if not (a.exclusive and b.exclusive) and a.distributor_id == b.distributor_id:
        return False
    return (
        areas_shared
        and _periods_overlap(a.valid_from, a.valid_to, b.valid_from, b.valid_to)
        and coverages_overlap(a.coverage_path(), a.product_id, b.coverage_path(), b.product_id)
    )


class TerritoryRestriction(CoveredLine):
    """A product, or a category with its descendants, that is not sold in a territory at all."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="restrictions")
    reason = models.CharField(
        max_length=200, help_text='Shown to buyers, e.g. "Not registered for sale in Scotland".'
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["territory__name", "valid_from", "pk"]
        constraints = [
            _one_line_only("territory_restriction"),
            _ends_after_start("territory_restriction"),
        ]

    def __str__(self) -> str:
        return f"{self.line} not sold in {self.territory}"
