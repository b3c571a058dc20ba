"""Complementary products for one buyer: "often ordered together" (for a product page or a cart)
and "accounts like yours also order", read from the figures `merchandising.services` learned.

The stored figures only propose candidates. What a buyer is shown is decided, as everywhere,
by the rules asked with this buyer: `catalog.selectors.visible_products` (an invisible product is
never proposed), `territories.rules.availability_for` (nothing the buyer's territory forbids) and
`pricing.engine.prices_for` (the buyer's own price; a product without one is left out). Among the
survivors the buyer's propensity for the product, or else its category, ranks first where the
analysis knows it, then the lift. Each function runs a fixed number of queries whatever the limit.

Answers are cached for `MERCHANDISING_CACHE_SECONDS` under the buyer's cache key, its own
organisation or consumer (clusters and recent orders are the buyer's own), the rules version
(any change of catalogue, price, right or segment) and the figures version (each recompute).
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from catalog.models import Product
from catalog.selectors import visible_products, with_availability
from pricing.engine import ResolvedPrice, prices_for
from segments.analysis import COUNTED_STATES
from segments.models import BuyerFacts, PropensityScore
from segments.resolver import BuyerContext
from segments.versioning import rules_version
from territories.rules import Availability, availability_for

from ..models import EVERYONE, PeerFavourite, ProductAffinity, segment_scope

DEFAULT_LIMIT = 6
# Candidates read from the figures per call: enough that the rules may drop many and still
# leave a full list, and fixed, so the queries do not depend on the limit.
CANDIDATES = 60
FIGURES_VERSION_KEY = "merchandising-figures-version"


def bump_figures_version() -> None:
    """New figures: every cached answer is asked again."""
    cache.set(FIGURES_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _cache_key(buyer: BuyerContext, name: str, *parts) -> str | None:
    """The key of one cached answer for this buyer; None: not cached (no cache, no key)."""
    version = rules_version()
    if version is None or not buyer.cache_key:
        return None
    figures = cache.get(FIGURES_VERSION_KEY)
    if figures is None:
        cache.add(FIGURES_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        figures = cache.get(FIGURES_VERSION_KEY) or ""
    who = f"o{buyer.organisation_id}" if buyer.organisation_id else f"u{buyer.user_id}"
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
    return ":".join(["merchandising", name, buyer.cache_key, who, version, figures, digest])


def _cached(buyer: BuyerContext, name: str, build, *parts):
    seconds = getattr(settings, "MERCHANDISING_CACHE_SECONDS", 120)
    key = _cache_key(buyer, name, *parts) if seconds > 0 else None
    if key is None:
        return build()
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, seconds)
    return found


@dataclass(frozen=True)
class Recommendation:
    """A product put forward to one buyer, with that buyer's price and availability, and the
    figures that put it there."""

    product: Product
    price: ResolvedPrice
    availability: Availability
    lift: float
    strength: float  # confidence of the pair, or the share of peers who order it
    scope: str
    propensity: float | None = None
    kind: str = "together"  # or "peers"

    @property
    def reason(self) -> str:
        """Why the buyer is shown it, in words."""
        who = {"cluster": "accounts like yours", "segment": "buyers like you"}.get(
            self.scope.partition(":")[0], "other buyers")
        reason = (f"Often ordered with it by {who}" if self.kind == "together"
                  else f"Popular with {who}")
        if self.propensity is not None:
            reason += "; you are likely to order it soon"
        return reason


@dataclass(frozen=True)
class _Candidate:
    product_id: int
    lift: float
    strength: float
    scope: str


def _buyer_row(buyer: BuyerContext) -> dict | None:
    """How the analysis tables name this buyer: its organisation, or the consumer itself."""
    if buyer.organisation_id:
        return {"organisation_id": buyer.organisation_id}
    if buyer.user_id:
        return {"user_id": buyer.user_id, "organisation__isnull": True}
    return None


def _in_scopes(buyer: BuyerContext) -> Q:
    """Rows of every buyer, of the buyer's segments and of its current cluster (a subquery, so
    no query of its own)."""
    scopes = Q(scope__in=[EVERYONE, *(segment_scope(code) for code in sorted(buyer.segments))])
    row = _buyer_row(buyer)
    if row is None:
        return scopes
    cluster = (
        BuyerFacts.objects.filter(**row, cluster__is_current=True)
        .annotate(scope=Concat(Value("cluster:"), Cast("cluster_id", CharField())))
        .values("scope")[:1]
    )
    return scopes | Q(scope__in=cluster)


def _best_per_product(rows) -> dict[int, _Candidate]:
    """The first (strongest) row per product, in the order read."""
    found: dict[int, _Candidate] = {}
    for product_id, lift, strength, scope in rows:
        found.setdefault(product_id, _Candidate(product_id, lift, strength, scope))
    return found


def _propensities(buyer: BuyerContext) -> tuple[dict[int, float], dict[int, float]]:
    """The buyer's stored propensities: by product and by category."""
    row = _buyer_row(buyer)
    if row is None:
        return {}, {}
    by_product, by_category = {}, {}
    for product_id, category_id, probability in PropensityScore.objects.filter(**row).values_list(
        "product_id", "category_id", "probability"
    ):
        if product_id:
            by_product[product_id] = max(probability, by_product.get(product_id, 0.0))
        elif category_id:
            by_category[category_id] = max(probability, by_category.get(category_id, 0.0))
    return by_product, by_category


def _offered(buyer: BuyerContext, candidates: dict[int, _Candidate], limit: int,
             kind: str) -> list[Recommendation]:
    """The candidates this buyer may see, buy in its territory and has a price for, ranked."""
    if not candidates or limit <= 0:
        return []
    products = list(
        with_availability(visible_products(buyer))
        .filter(pk__in=sorted(candidates)).select_related("category", "manufacturer")
    )
    prices, availability = prices_for(buyer, products), availability_for(buyer, products)
    by_product, by_category = _propensities(buyer)
    found = []
    for product in products:
        price, where = prices.get(product.pk), availability.get(product.pk)
        if price is None or where is None or where.is_unavailable:
            continue
        c = candidates[product.pk]
        propensity = by_product.get(product.pk, by_category.get(product.category_id))
        found.append(Recommendation(product, price, where, c.lift, c.strength, c.scope,
                                    propensity, kind))
    found.sort(key=lambda r: (-(r.propensity or 0.0), -r.lift, -r.strength, r.product.pk))
    return found[:limit]


def _ids(products) -> list[int]:
    """Product ids from products, ids or lines that name a product."""
    ids = set()
    for item in products:
        item = getattr(item, "product", item)
        if item is not None:
            ids.add(int(getattr(item, "pk", item)))
    return sorted(ids)


def complementary_for(buyer: BuyerContext, *, product_ids=(), limit: int = DEFAULT_LIMIT,
                      ) -> list[Recommendation]:
    """"Often ordered together": what buyers of this buyer's scopes ordered with the given
    products (a product page's product, a cart's lines), never one of them, priced and checked
    for this buyer."""
    ids = _ids(product_ids)
    if not ids:
        return []
    return _cached(buyer, "together", lambda: _complementary(buyer, ids, limit), ids, limit)


def _complementary(buyer: BuyerContext, ids: list[int], limit: int) -> list[Recommendation]:
    rows = (
        ProductAffinity.objects.filter(_in_scopes(buyer), product_id__in=ids)
        .exclude(other_id__in=ids)
        .order_by("-lift", "-confidence", "other_id")
        .values_list("other_id", "lift", "confidence", "scope")[:CANDIDATES]
    )
    return _offered(buyer, _best_per_product(rows), limit, "together")


def _recently_ordered(buyer: BuyerContext, row: dict) -> QuerySet:
    """Ids of the products this buyer ordered within `MERCHANDISING_RECENT_DAYS` (a subquery)."""
    since = timezone.now() - timedelta(days=getattr(settings, "MERCHANDISING_RECENT_DAYS", 90))
    lines = apps.get_model("ordering", "OrderLine").objects.filter(
        order__state__in=COUNTED_STATES, order__placed_at__gte=since,
    )
    if "organisation_id" in row:
        lines = lines.filter(order__organisation_id=row["organisation_id"])
    else:
        lines = lines.filter(order__organisation__isnull=True, order__placed_by_id=row["user_id"])
    return lines.values("product_id")


def peers_also_order(buyer: BuyerContext, *, limit: int = DEFAULT_LIMIT,
                     exclude_ids=()) -> list[Recommendation]:
    """"Accounts like yours also order": the products the buyers of this buyer's cluster and
    segments order most (against buyers at large), leaving out what this buyer ordered recently
    and `exclude_ids`; priced and checked for this buyer."""
    excluded = _ids(exclude_ids)
    return _cached(buyer, "peers", lambda: _peers(buyer, excluded, limit), excluded, limit)


def _peers(buyer: BuyerContext, excluded: list[int], limit: int) -> list[Recommendation]:
    favourites = PeerFavourite.objects.filter(_in_scopes(buyer)).exclude(product_id__in=excluded)
    row = _buyer_row(buyer)
    if row is not None:
        favourites = favourites.exclude(product_id__in=_recently_ordered(buyer, row))
    rows = favourites.order_by("-lift", "-share", "product_id").values_list(
        "product_id", "lift", "share", "scope"
    )[:CANDIDATES]
    return _offered(buyer, _best_per_product(rows), limit, "peers")
