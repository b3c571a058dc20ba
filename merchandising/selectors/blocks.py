"""Reads of front-page content: the blocks a buyer sees now, their featured products priced for
that buyer, and what staff read about an offer's reach.

A buyer sees a block when it is active, valid now, and aimed at everyone, at visitors who are not
signed in (for a guest) or at a segment the buyer belongs to. Featured products come through
`catalog.selectors.visible_products`, featured categories through `visible_categories`, prices
through `pricing.engine.prices_for` and availability through `territories.rules.availability_for`
— a product the buyer may not see never appears and a price is always the buyer's own.

The composition is kept per buyer cache key (the facts that decide visibility, price and
segments), guest or not, rules version and day, so a warm front page reads no block at all; every
write to a block bumps the rules version (see apps.py)."""

import datetime
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import visible_categories, visible_products, with_availability
from pricing.engine import prices_for
from pricing.models import PriceListItem
from segments.models import Segment
from segments.resolver import BuyerContext
from segments.versioning import rules_version
from territories.rules import availability_for

from ..models import BlockAudience, BlockImpression, BlockKind, ContentBlock

FEATURED_LIMIT = 8
CACHE_SECONDS = 10 * 60
# The cached composition holds the blocks starting within this window, each filtered by `now`.
LOOKAHEAD = datetime.timedelta(days=1)


@dataclass(frozen=True)
class FeaturedProduct:
    """A product as the front page shows it to one buyer: its row (with `in_stock`), its price for
    that buyer (None: price on request) and how the buyer may obtain it."""

    product: Product
    price: object
    availability: object


@dataclass(frozen=True)
class FeaturedCategory:
    name: str
    slug: str


@dataclass(frozen=True)
class ShownBlock:
    """A block as one buyer sees it, with the segments of theirs that brought it to them."""

    id: int
    kind: str
    title: str
    body: str
    priority: int
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    image_path: str = ""
    image_alt: str = ""
    link_url: str = ""
    link_label: str = ""
    reasons: tuple[str, ...] = ()
    promotion_name: str = ""
    promotion_code: str = ""
    categories: tuple[FeaturedCategory, ...] = ()
    products: tuple[FeaturedProduct, ...] = field(default=())

    def live_at(self, now: datetime.datetime) -> bool:
        started = self.valid_from is None or self.valid_from <= now
        return started and (self.valid_until is None or now < self.valid_until)

    @property
    def is_offer(self) -> bool:
        return self.kind == BlockKind.OFFER

    @property
    def reason_text(self) -> str:
        """"Because you are in At risk": why this block reached this buyer."""
        return f"Because you are in {' and '.join(self.reasons)}" if self.reasons else ""


def targeted_q(buyer: BuyerContext) -> Q:
    """Blocks aimed at this buyer: at everyone, at guests (when not signed in) or at one of the
    buyer's active segments."""
    in_segment = ContentBlock.segments.through.objects.filter(
        contentblock_id=OuterRef("pk"), segment__code__in=sorted(buyer.segments),
        segment__is_active=True,
    )
    aimed = Q(audience=BlockAudience.EVERYONE) | Q(
        Exists(in_segment), audience=BlockAudience.SEGMENTS
    )
    if buyer.is_guest:
        aimed |= Q(audience=BlockAudience.GUESTS)
    return aimed


def live_q(now: datetime.datetime, *, lookahead=datetime.timedelta(0)) -> Q:
    starts = Q(valid_from__isnull=True) | Q(valid_from__lte=now + lookahead)
    return starts & (Q(valid_until__isnull=True) | Q(valid_until__gt=now)) & Q(is_active=True)


def _block_rows(buyer: BuyerContext, now: datetime.datetime) -> QuerySet[ContentBlock]:
    """The buyer's blocks with everything shown, in one query per relation however many."""
    products = with_availability(visible_products(buyer)).select_related("category")
    visible_product_ids = visible_products(buyer).values("pk")
    return (
        ContentBlock.objects.filter(live_q(now, lookahead=LOOKAHEAD), targeted_q(buyer))
        .select_related("promotion")
        .prefetch_related(
            Prefetch("segments", queryset=Segment.objects.filter(
                code__in=sorted(buyer.segments)).order_by("name"), to_attr="matched"),
            Prefetch("products", queryset=products.order_by("name"), to_attr="shown_products"),
            Prefetch("categories", queryset=visible_categories(buyer), to_attr="shown_categories"),
            Prefetch("promotion__items", queryset=PriceListItem.objects.filter(
                product_id__in=visible_product_ids).order_by("product__name", "min_quantity"),
                to_attr="visible_items"),
        )
        .order_by("-priority", "id")
    )


def _featured_rows(block: ContentBlock) -> list[Product]:
    """A featured-products or offer block's products; an offer without chosen products features
    its promotion's (visible) products."""
    if block.kind not in (BlockKind.FEATURED_PRODUCTS, BlockKind.OFFER):
        return []
    chosen = list(block.shown_products)
    if chosen or block.kind != BlockKind.OFFER or block.promotion is None:
        return chosen[:FEATURED_LIMIT]
    return _unique_ids(block.promotion.visible_items)[:FEATURED_LIMIT]


def _unique_ids(items) -> list[int]:
    seen: list[int] = []
    for item in items:
        if item.product_id not in seen:
            seen.append(item.product_id)
    return seen


def _featured(rows, by_id, prices, availability) -> tuple[FeaturedProduct, ...]:
    shown = []
    for row in rows:
        product = by_id.get(row if isinstance(row, int) else row.pk)
        if product is not None:
            shown.append(FeaturedProduct(product, prices.get(product.pk),
                                         availability.get(product.pk)))
    return tuple(shown)


def _promotion_products(buyer: BuyerContext, ids: set[int]) -> dict[int, Product]:
    if not ids:
        return {}
    rows = with_availability(visible_products(buyer)).select_related("category")
    return {p.pk: p for p in rows.filter(pk__in=sorted(ids))}


def _shown(block: ContentBlock, featured) -> ShownBlock:
    promotion = block.promotion
    return ShownBlock(
        id=block.pk, kind=block.kind, title=block.title, body=block.body,
        priority=block.priority, valid_from=block.valid_from, valid_until=block.valid_until,
        image_path=block.image_path, image_alt=block.image_alt,
        link_url=block.link_url, link_label=block.link_label,
        reasons=tuple(s.name for s in block.matched),
        promotion_name=promotion.name if promotion else "",
        promotion_code=promotion.code if promotion else "",
        categories=tuple(FeaturedCategory(c.name, c.slug) for c in block.shown_categories
                         if block.kind == BlockKind.FEATURED_CATEGORIES),
        products=featured,
    )


def compose_blocks(buyer: BuyerContext, now: datetime.datetime) -> list[ShownBlock]:
    """Every block aimed at the buyer that is live now or starts within the look-ahead, each with
    its featured products priced for this buyer — in a fixed number of queries."""
    blocks = list(_block_rows(buyer, now))
    rows = {block.pk: _featured_rows(block) for block in blocks}
    by_id = {p.pk: p for chosen in rows.values() for p in chosen if not isinstance(p, int)}
    wanted = {p for chosen in rows.values() for p in chosen if isinstance(p, int)}
    by_id.update(_promotion_products(buyer, wanted - set(by_id)))
    products = list(by_id.values())
    prices = prices_for(buyer, products) if products else {}
    availability = availability_for(buyer, products) if products else {}
    return [_shown(b, _featured(rows[b.pk], by_id, prices, availability)) for b in blocks]


def _cache_key(buyer: BuyerContext, now: datetime.datetime) -> str | None:
    version = rules_version()
    if version is None or not buyer.cache_key:
        return None
    day = timezone.localdate(now).isoformat()
    who = "guest" if buyer.is_guest else "member"
    return f"home-blocks:{buyer.cache_key}:{who}:{version}:{day}"


def blocks_for(buyer: BuyerContext, now: datetime.datetime | None = None) -> list[ShownBlock]:
    """The blocks this buyer sees at `now`, highest priority first."""
    now = now or timezone.now()
    key = _cache_key(buyer, now)
    composed = cache.get(key) if key else None
    if composed is None:
        composed = compose_blocks(buyer, now)
        if key:
            cache.set(key, composed, CACHE_SECONDS)
    return [block for block in composed if block.live_at(now)]


# What staff read about a block's reach ----------------------------------------------------------

def impressions_of(block: ContentBlock) -> QuerySet[BlockImpression]:
    """Who was shown the block, on which days (newest first)."""
    return (
        BlockImpression.objects.filter(block=block)
        .select_related("user", "organisation").order_by("-day", "id")
    )


def blocks_with_reach(blocks: QuerySet[ContentBlock]) -> QuerySet[ContentBlock]:
    """`blocks` with `shown_count` (buyer-days shown) and `buyers_shown` (distinct people)."""
    return blocks.annotate(
        shown_count=Count("impressions", distinct=True),
        buyers_shown=Count("impressions__user", distinct=True),
    )
