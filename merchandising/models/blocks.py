"""Front-page content blocks edited by staff: what they say, whom they reach (segments, everyone,
or visitors not signed in), when, and in which order. An offer block points to a promotion price
list; the price itself always comes from the price engine."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce


class BlockKind(models.TextChoices):
    MESSAGE = "message", "Message"
    BANNER = "banner", "Banner with an image"
    FEATURED_CATEGORIES = "categories", "Featured categories"
    FEATURED_PRODUCTS = "products", "Featured products"
    OFFER = "offer", "Offer"


class BlockAudience(models.TextChoices):
    SEGMENTS = "segments", "Buyers in one of the chosen segments"
    EVERYONE = "everyone", "Everyone, signed in or not"
    GUESTS = "guests", "Visitors who are not signed in"


class ContentBlock(models.Model):
    """One piece of front-page content for the buyers it targets, shown while valid, highest
    priority first."""

    title = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=BlockKind.choices, default=BlockKind.MESSAGE)
    audience = models.CharField(
        max_length=10, choices=BlockAudience.choices, default=BlockAudience.SEGMENTS
    )
    segments = models.ManyToManyField(
        "segments.Segment", blank=True, related_name="content_blocks",
        help_text="Buyers in any of these segments see the block (static, rule or computed).",
    )
    priority = models.SmallIntegerField(default=0, help_text="Higher comes first.")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    image_path = models.CharField(
        max_length=200, blank=True,
        help_text="Path of an image served by this site, such as /static/merchandising/ward.svg.",
    )
    image_alt = models.CharField("image description", max_length=200, blank=True)
    link_url = models.CharField(
        max_length=200, blank=True, help_text="A page of this site, such as /catalogue/."
    )
    link_label = models.CharField(max_length=60, blank=True)
    products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="content_blocks",
        help_text="Featured products (an offer without any shows its promotion's products).",
    )
    categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="content_blocks"
    )
    promotion = models.ForeignKey(
        "pricing.PriceList", null=True, blank=True, on_delete=models.PROTECT,
        related_name="content_blocks", limit_choices_to={"kind": "promotion"},
        help_text="The promotion price list behind an offer.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="content_block_ends_after_it_starts",
                violation_error_message="A block must end after it starts.",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "-priority"])]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        super().clean()
        errors = {}
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = "A block must end after it starts."
        for name in ("image_path", "link_url"):
            value = getattr(self, name)
            if value and (not value.startswith("/") or value.startswith("//")):
                errors[name] = "Give a path on this site, starting with a single /."
        if self.kind == BlockKind.BANNER and not self.image_path:
            errors["image_path"] = "A banner needs an image."
        if self.image_path and not self.image_alt:
            errors["image_alt"] = "Describe the image for buyers who cannot see it."
        errors.update(self._promotion_errors())
        if errors:
            raise ValidationError(errors)

    def _promotion_errors(self) -> dict:
        if self.kind != BlockKind.OFFER:
            return {"promotion": "Only an offer has a promotion."} if self.promotion_id else {}
        if self.promotion_id is None:
            return {"promotion": "An offer needs its promotion price list."}
        if self.promotion.kind != "promotion":
            return {"promotion": "Choose a price list of kind promotion."}
        return {}

    def clean_targets(self, *, segments, products, categories) -> None:
        """What the block's many-to-many choices must hold for its kind and audience."""
        errors = {}
        if self.audience == BlockAudience.SEGMENTS and not segments:
            errors["segments"] = "Choose at least one segment, or another audience."
        if self.audience != BlockAudience.SEGMENTS and segments:
            errors["segments"] = "Segments apply only to the audience of chosen segments."
        if self.kind == BlockKind.FEATURED_PRODUCTS and not products:
            errors["products"] = "Choose the products to feature."
        if self.kind == BlockKind.FEATURED_CATEGORIES and not categories:
            errors["categories"] = "Choose the categories to feature."
        if self.kind == BlockKind.OFFER and self.promotion_id and segments:
            outside = self._segments_outside_promotion(segments)
            if outside:
                errors["segments"] = (
                    f"{', '.join(outside)} not reached by {self.promotion.code}: those buyers "
                    "would see the offer without its price."
                )
        if errors:
            raise ValidationError(errors)

    def _segments_outside_promotion(self, segments) -> list[str]:
        reached = set(self.promotion.segments.values_list("pk", flat=True))
        if not reached:
            return []
        return sorted(s.name for s in segments if s.pk not in reached)


class BlockImpression(models.Model):
    """A buyer was shown a block on a day (one row per block, buyer and day, however often)."""

    block = models.ForeignKey(ContentBlock, on_delete=models.CASCADE, related_name="impressions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    segments = models.CharField(
        max_length=250, blank=True, help_text="The block's segments that matched the buyer."
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "id"]
        constraints = [
            models.UniqueConstraint(
                F("block"), F("user"), Coalesce(F("organisation"), 0), F("day"),
                name="block_impression_once_per_buyer_and_day",
            ),
        ]
        indexes = [models.Index(fields=["block", "day"])]

    def __str__(self) -> str:
        return f"{self.block} shown to user {self.user_id} on {self.day}"


class OfferReport(ContentBlock):
    """Offers as staff read their reach: who was shown each and who ordered at its price."""

    class Meta:
        proxy = True
        verbose_name = "offer report"
