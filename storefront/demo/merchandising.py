"""The demo's front-page content: a block for each kind of buyer, so every persona's home page is
different for the reason that it should be — a framework message for NHS trusts, a volume offer
for clinics, a notice for distributors, featured categories and an offer for consumers, a landing
banner for visitors, and retention offers for the computed segments (At risk, Can't lose, Lapsed)
that reach whoever the analysis puts there. Idempotent: blocks are found by title."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.models import Category, Product
from merchandising.models import BlockAudience, BlockKind, ContentBlock
from merchandising.services import content_block_save
from pricing import services as pricing_services
from pricing.models import PriceList, PriceListItem, PriceListKind
from segments.models import Segment

# (code, name, segments, category slugs, share of the list price, priority)
PROMOTIONS = (
    ("clinic-wound-care", "Clinic wound-care offer", ("private-clinics",), ("wound-care",),
     "0.85", 10),
    ("win-back", "Welcome back offer", ("rfm-at-risk", "rfm-cant-lose", "lapsed-organisations"),
     ("wound-care", "infection-control"), "0.80", 20),
    ("consumer-win-back", "Consumer welcome back offer", ("consumer-at-risk", "lapsed-consumers"),
     ("daily-living-aids",), "1.10", 20),
)


@dataclass(frozen=True)
class BlockSpec:
    title: str
    kind: str
    body: str
    segments: tuple[str, ...] = ()
    audience: str = BlockAudience.SEGMENTS
    priority: int = 0
    categories: tuple[str, ...] = ()
    promotion: str = ""
    image_path: str = ""
    image_alt: str = ""
    link_url: str = ""
    link_label: str = ""
    days: int = 60


BLOCKS = (
    BlockSpec("NHS framework NHS-2025-118: lot 3 prices until March", BlockKind.MESSAGE,
              "Your trust's contract prices apply to every line of the framework. Orders over "
              "your approval limit go to your procurement lead; raise them before the month's "
              "cut-off on the 25th.", ("nhs-trusts",), priority=30,
              link_url="/catalogue/", link_label="Your contract catalogue"),
    BlockSpec("Wound care for clinics: 15% off this season", BlockKind.OFFER,
              "Dressings and wound-care lines at a clinic price, on top of your volume tiers.",
              ("private-clinics",), priority=40, promotion="clinic-wound-care", days=45),
    BlockSpec("Distributors: answer routed orders within two working days", BlockKind.MESSAGE,
              "End-customer orders in your exclusive territories are routed to you. Accept or "
              "decline each one with an expected delivery date; unanswered orders are escalated "
              "to your account manager.", ("distributors",), priority=30,
              link_url="/routed-orders/", link_label="Routed orders"),
    BlockSpec("Shop for home and daily living", BlockKind.FEATURED_CATEGORIES,
              "Everyday aids and supplies, delivered, with prices including VAT.",
              ("retail-consumers",), priority=20,
              categories=("mobility", "daily-living-aids", "continence", "blood-pressure")),
    BlockSpec("Spring mobility offer", BlockKind.OFFER,
              "Walking aids and frames at an offer price for a limited time.",
              ("retail-consumers",), priority=25, promotion="spring-mobility", days=50),
    BlockSpec("Living independently at home", BlockKind.BANNER,
              "Mobility aids, daily living aids and first aid for you or someone you care for — "
              "and VAT relief on eligible aids when you buy for a disabled person.",
              audience=BlockAudience.GUESTS, priority=50,
              image_path="/static/catalog/illustrations/mobility.svg",
              image_alt="A walking frame", link_url="/catalogue/c/mobility/",
              link_label="Shop mobility aids"),
    BlockSpec("We would like you back: 20% off wound care and infection control", BlockKind.OFFER,
              "It has been a while since your last order. For the next month your account has "
              "a welcome-back price on our core wound-care and infection-control lines.",
              ("rfm-at-risk", "rfm-cant-lose", "lapsed-organisations"), priority=60,
              promotion="win-back", days=30),
    BlockSpec("Welcome back: daily living aids", BlockKind.OFFER,
              "Your favourite daily living aids at a welcome-back price this month.",
              ("consumer-at-risk", "lapsed-consumers"), priority=60,
              promotion="consumer-win-back", days=30),
    BlockSpec("Thank you for your custom", BlockKind.MESSAGE,
              "You are among our most valued accounts. Your account manager will be in touch "
              "about next year's volumes and priority allocation.",
              ("rfm-champions", "value-concierge"), priority=10),
)


def _promotion(code, name, segments, category_slugs, share, priority, today) -> PriceList:
    price_list = PriceList.objects.filter(code=code).first() or PriceList(code=code)
    price_list.name, price_list.kind, price_list.currency = name, PriceListKind.PROMOTION, "GBP"
    price_list.valid_from, price_list.valid_to = today, today + datetime.timedelta(days=45)
    price_list.priority, price_list.is_active = priority, True
    pricing_services.price_list_save(
        price_list=price_list, organisations=[], territories=[],
        segments=list(Segment.objects.filter(code__in=segments)),
    )
    paths = [c.path for c in Category.objects.filter(slug__in=category_slugs)]
    base = PriceList.objects.get(code="list-gbp" if "consumer" not in code else "retail-gbp")
    items = PriceListItem.objects.filter(price_list=base, min_quantity=1,
                                         product__in=_products_under(paths))
    price_list.items.all().delete()
    PriceListItem.objects.bulk_create(
        PriceListItem(price_list=price_list, product_id=item.product_id, min_quantity=1,
                      unit_price=(item.unit_price * Decimal(share)).quantize(Decimal("0.01")))
        for item in items
    )
    return price_list


def _products_under(paths):
    from django.db.models import Q

    match = Q(pk__in=[])
    for path in paths:
        match |= Q(category__path__startswith=path)
    return Product.objects.filter(match, is_active=True).values("pk")


def _block(spec: BlockSpec, now) -> ContentBlock:
    block = ContentBlock.objects.filter(title=spec.title).first() or ContentBlock()
    for name in ("title", "kind", "body", "audience", "priority", "image_path", "image_alt",
                 "link_url", "link_label"):
        setattr(block, name, getattr(spec, name))
    block.valid_from = now - datetime.timedelta(days=1)
    block.valid_until = now + datetime.timedelta(days=spec.days)
    block.promotion = PriceList.objects.get(code=spec.promotion) if spec.promotion else None
    block.is_active = True
    return content_block_save(
        block=block, segments=list(Segment.objects.filter(code__in=spec.segments)),
        products=[], categories=list(Category.objects.filter(slug__in=spec.categories)),
    )


def load_merchandising() -> list[ContentBlock]:
    """Create or bring up to date the demo's promotions behind offers and its front-page blocks."""
    now = timezone.now()
    with transaction.atomic():
        for spec in PROMOTIONS:
            _promotion(*spec, today=timezone.localdate(now))
        return [_block(spec, now) for spec in BLOCKS]
