"""Catalogue pages: home (the buyer's category tree), category browse with facets, search and
product detail. Each asks the selectors with `request.buyer`, prices the page's products with
one call to pricing.engine.prices_for, and answers `Cache-Control: private`.

What a page derives from the rules — the category tree, facet counts, the listing order, a page's
prices and availability — is kept as fragments keyed by the buyer's cache key and the rules
version (`cached_for_buyer`); a page's own rows are read each time, through the visibility rules,
with fresh stock."""

import hashlib
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache, wraps

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control, patch_vary_headers

from pricing.engine import prices_for
from segments.versioning import rules_version
from territories.rules import availability_for

from .models import DeviceClass, Product
from .selectors import (
    CategoryNode,
    FacetFilters,
    category_tree,
    facet_counts,
    facet_rows,
    filtered_total,
    in_category,
    listed_products,
    listing_ids,
    listing_page,
    manufacturer_names,
    product_for_buyer,
    search_products,
    visible_products,
    with_availability,
)

PAGE_SIZE = 24
TREE_SECONDS = 60 * 60
# Facet counts include stock, which changes without bumping the rules version: keep them briefly.
FACET_SECONDS = 120
ADD_TO_CART_URL_NAME = "cart_add"


def personalised(view):
    """The response depends on who is asking: no shared cache may keep it."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
        patch_vary_headers(response, ["Cookie", "HX-Request"])
        return response

    return wrapper


def fragment_key(buyer, name: str, *parts) -> str | None:
    """The cache key of one personalised fragment: the buyer's cache key and the rules version, so
    a change of catalogue, product or segment shows on the next request. None: not cached."""
    version = rules_version()
    if version is None or not buyer.cache_key:
        return None
    return ":".join(["catalog", name, buyer.cache_key, version, *map(str, parts)])


# Fragments just read or built are also kept in this process until the same moment they leave the
# shared cache, so a warm page does not fetch and unpickle them again. They are never changed in
# place, and a new rules version means new keys.
_LOCAL_LIMIT = 256
_local: OrderedDict[str, tuple[float, object]] = OrderedDict()
_local_lock = threading.Lock()


def forget_local_fragments() -> None:
    """Empty this process's copies (the shared cache is untouched)."""
    with _local_lock:
        _local.clear()


def _kept(key: str):
    """A fragment's value from this process or the shared cache; None when neither holds it."""
    now = time.time()
    with _local_lock:
        kept = _local.get(key)
    if kept is None or kept[0] <= now:
        kept = cache.get(key)
        if not (isinstance(kept, tuple) and len(kept) == 2 and kept[0] > now):
            return None
        _remember(key, kept)
    return kept[1]


def _keep(key: str, value, timeout: int) -> None:
    kept = (time.time() + timeout, value)
    cache.set(key, kept, timeout)
    _remember(key, kept)


def _remember(key: str, kept: tuple) -> None:
    with _local_lock:
        _local[key] = kept
        _local.move_to_end(key)
        while len(_local) > _LOCAL_LIMIT:
            _local.popitem(last=False)


def cached_for_buyer(buyer, name: str, build, *parts, timeout: int):
    """A personalised value cached under `fragment_key`. No cache, no caching."""
    key = fragment_key(buyer, name, *parts)
    if key is None:
        return build()
    value = _kept(key)
    if value is None:
        value = build()
        _keep(key, value, timeout)
    return value


@dataclass(frozen=True)
class TreeIndex:
    roots: list[CategoryNode]
    by_id: dict[int, CategoryNode]
    by_slug: dict[str, CategoryNode]

    def lineage(self, node: CategoryNode) -> list[CategoryNode]:
        ids = [int(i) for i in node.path.rstrip(".").split(".")]
        return [self.by_id[i] for i in ids if i in self.by_id]

    def root_slug(self, category_id: int) -> str:
        node = self.by_id.get(category_id)
        return self.lineage(node)[0].slug if node else ""


def _tree_index(roots: list[CategoryNode]) -> TreeIndex:
    by_id: dict[int, CategoryNode] = {}
    pending = list(roots)
    while pending:
        node = pending.pop()
        by_id[node.id] = node
        pending.extend(node.children)
    return TreeIndex(roots, by_id, {n.slug: n for n in by_id.values()})


def _tree(buyer) -> TreeIndex:
    return cached_for_buyer(
        buyer, "tree", lambda: _tree_index(category_tree(buyer)), timeout=TREE_SECONDS
    )


@lru_cache(maxsize=64)
def _illustration(root_slug: str) -> str:
    name = f"catalog/illustrations/{root_slug}.svg"
    return name if root_slug and finders.find(name) else "catalog/illustrations/medical-device.svg"


@dataclass(frozen=True)
class Listing:
    """A product as a page shows it: the row, its resolved price (None: price on request), the
    illustration for retail cards and its territory availability (territories.rules)."""

    product: Product
    price: object
    illustration: str
    availability: object = None


def _ids_digest(ids) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:24]


def offers_now(buyer, products: list[Product]) -> tuple[dict, dict]:
    """Prices and availability of a page's products, asked of the rules now."""
    return prices_for(buyer, products), availability_for(buyer, products)


def offers(buyer, products: list[Product]) -> tuple[dict, dict]:
    """Prices and availability of a page's products, cached like the tree: both are answers of the
    rules for exactly the facts behind the buyer's cache key ("two buyers with the same key see
    byte-identical catalogue and prices"), and every write that could change them (price, list,
    contract, quote, right, restriction, product, segment) and each new day bumps the rules version
    in the key. Carts and checkout ask the rules again."""
    return cached_for_buyer(
        buyer, "offers", lambda: offers_now(buyer, products),
        _ids_digest(p.pk for p in products), timeout=TREE_SECONDS,
    )


def cached_offers(buyer, ids: list[int]) -> tuple[dict, dict] | None:
    """The offers of the products `ids`, when `offers` has them already; None otherwise."""
    key = fragment_key(buyer, "offers", _ids_digest(ids))
    return _kept(key) if key else None


def _listings(products: list[Product], tree: TreeIndex, prices, availability) -> list[Listing]:
    return [
        Listing(p, prices.get(p.pk), _illustration(tree.root_slug(p.category_id)),
                availability.get(p.pk))
        for p in products
    ]


def _page_listings(buyer, scope, ids: list[int], tree: TreeIndex) -> list[Listing]:
    """A listing page's products, prices and availability. The ids come from the listing fragment;
    when the page's offers are fragments too (the rules answered for these rows under the same key
    and version), the rows are read by id. Otherwise they are read through every visibility rule
    of `scope` (stamped, so pricing does not ask again) and their offers are asked of the rules."""
    known = cached_offers(buyer, ids)
    if known is not None:
        return _listings(listed_products(ids), tree, *known)
    products = listing_page(with_availability(scope).select_related("manufacturer", "category"),
                            ids)
    return _listings(products, tree, *offers(buyer, products))


def _add_to_cart_url() -> str | None:
    """Rows get a quantity box only once ordering provides somewhere to send it."""
    try:
        return reverse(ADD_TO_CART_URL_NAME)
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class PageWindow:
    number: int
    count: int
    num_pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE

    @property
    def first_shown(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_shown(self) -> int:
        return min(self.offset + PAGE_SIZE, self.count)


def _page_window(raw: str | None, count: int) -> PageWindow:
    """A page number that is not a number is page 1; one past the end is the last page."""
    num_pages = max(1, math.ceil(count / PAGE_SIZE))
    try:
        number = int(raw or 1)
    except ValueError:
        number = 1
    return PageWindow(min(max(number, 1), num_pages), count, num_pages)


def _facet_filters(params, rows: list[dict]) -> FacetFilters:
    """The buyer's facet choices; values that are not facets of this page are ignored."""
    classes = {row["device_class"] for row in rows}
    makers = {row["manufacturer__slug"] for row in rows}
    sterile = {"yes": True, "no": False}.get(params.get("sterile", ""))
    return FacetFilters(
        device_classes=frozenset(v for v in params.getlist("class") if v in classes),
        manufacturers=frozenset(v for v in params.getlist("manufacturer") if v in makers),
        sterile=sterile,
        in_stock=params.get("in_stock") == "1",
    )


def _facets(rows: list[dict], filters: FacetFilters) -> dict:
    counts = facet_counts(rows, filters)
    labels = dict(DeviceClass.choices)
    names = manufacturer_names(rows)
    order = {value: i for i, value in enumerate(DeviceClass.values)}
    return {
        "device_classes": [
            (value, labels.get(value, value), n, value in filters.device_classes)
            for value, n in sorted(counts["device_class"].items(),
                                   key=lambda item: order.get(item[0], 99))
        ],
        "manufacturers": [
            (slug, names[slug], n, slug in filters.manufacturers)
            for slug, n in sorted(counts["manufacturer"].items(), key=lambda i: names[i[0]])
        ],
        "sterile": [
            (key, label, counts["sterile"].get(value, 0), filters.sterile is value)
            for key, label, value in (("yes", "Sterile", True), ("no", "Non-sterile", False))
        ],
        "in_stock": (counts["in_stock"].get(True, 0), filters.in_stock),
    }


def _page_context(buyer, tree: TreeIndex, listings, window: PageWindow) -> dict:
    return {
        "tree": tree.roots,
        "listings": listings,
        "page": window,
        "b2b": buyer.is_b2b,
        "add_to_cart_url": _add_to_cart_url() if buyer.is_b2b else None,
    }


@personalised
def catalogue_home(request):
    tree = _tree(request.buyer)
    return render(request, "catalog/home.html", {"tree": tree.roots})


@personalised
def category_browse(request, slug: str):
    buyer = request.buyer
    tree = _tree(buyer)
    node = tree.by_slug.get(slug)
    if node is None:
        raise Http404("No such category.")
    scope = in_category(visible_products(buyer), node.path)
    rows = cached_for_buyer(buyer, "facets", lambda: facet_rows(scope), node.id,
                            timeout=FACET_SECONDS)
    filters = _facet_filters(request.GET, rows)
    window = _page_window(request.GET.get("page"), filtered_total(rows, filters))
    # The listing order is cached like the facet counts (same key and lifetime); the page's rows
    # are read each time, with fresh stock.
    ordered = cached_for_buyer(
        buyer, "listing", lambda: listing_ids(filters.apply(with_availability(scope))),
        node.id, filters.key, timeout=FACET_SECONDS,
    )
    listings = _page_listings(buyer, scope, ordered[window.offset : window.offset + PAGE_SIZE],
                              tree)
    context = _page_context(buyer, tree, listings, window)
    context.update(
        category=node, lineage=tree.lineage(node), facets=_facets(rows, filters),
        open_ids={n.id for n in tree.lineage(node)},
        filtered=filters != FacetFilters(),
    )
    template = "catalog/_browse.html" if request.htmx else "catalog/category.html"
    return render(request, template, context)


@personalised
def product_search(request):
    buyer = request.buyer
    query = " ".join(request.GET.get("q", "").split())[:200]
    tree = _tree(buyer)
    found = search_products(buyer, query)
    window = _page_window(request.GET.get("page"), found.count() if query else 0)
    products = list(
        with_availability(found).select_related("manufacturer", "category")[
            window.offset : window.offset + PAGE_SIZE
        ]
    )
    context = _page_context(buyer, tree, _listings(products, tree, *offers(buyer, products)),
                            window)
    context["query"] = query
    template = "catalog/_results.html" if request.htmx else "catalog/search.html"
    return render(request, template, context)


@personalised
def product_detail(request, slug: str):
    buyer = request.buyer
    product = product_for_buyer(buyer, slug)
    tree = _tree(buyer)
    listing = _listings([product], tree, *offers(buyer, [product]))[0]
    node = tree.by_id.get(product.category_id)
    return render(request, "catalog/product.html", {
        "listing": listing,
        "product": product,
        "lineage": tree.lineage(node) if node else [],
        "b2b": buyer.is_b2b,
        "add_to_cart_url": _add_to_cart_url() if request.user.is_authenticated else None,
    })
