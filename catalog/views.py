"""Catalogue pages: home (the buyer's category tree), category browse with facets, search and
product detail. Each asks the selectors with `request.buyer`, prices the page's products with
one call to pricing.engine.prices_for, and answers `Cache-Control: private`."""

import math
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


def cached_for_buyer(buyer, name: str, build, *parts, timeout: int):
    """A personalised value cached by the buyer's cache key and the rules version, so a change of
    catalogue, product or segment shows on the next request. No cache, no caching."""
    version = rules_version()
    if version is None or not buyer.cache_key:
        return build()
    key = ":".join(["catalog", name, buyer.cache_key, version, *map(str, parts)])
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout)
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


def _tree(buyer) -> TreeIndex:
    roots = cached_for_buyer(buyer, "tree", lambda: category_tree(buyer), timeout=TREE_SECONDS)
    by_id: dict[int, CategoryNode] = {}
    pending = list(roots)
    while pending:
        node = pending.pop()
        by_id[node.id] = node
        pending.extend(node.children)
    return TreeIndex(roots, by_id, {n.slug: n for n in by_id.values()})


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


def _listings(buyer, products: list[Product], tree: TreeIndex) -> list[Listing]:
    prices = prices_for(buyer, products)
    availability = availability_for(buyer, products)
    return [
        Listing(p, prices.get(p.pk), _illustration(tree.root_slug(p.category_id)),
                availability.get(p.pk))
        for p in products
    ]


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
    products = list(
        filters.apply(with_availability(scope)).select_related("manufacturer", "category")[
            window.offset : window.offset + PAGE_SIZE
        ]
    )
    context = _page_context(buyer, tree, _listings(buyer, products, tree), window)
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
    context = _page_context(buyer, tree, _listings(buyer, products, tree), window)
    context["query"] = query
    template = "catalog/_results.html" if request.htmx else "catalog/search.html"
    return render(request, template, context)


@personalised
def product_detail(request, slug: str):
    buyer = request.buyer
    product = product_for_buyer(buyer, slug)
    tree = _tree(buyer)
    listing = _listings(buyer, [product], tree)[0]
    node = tree.by_id.get(product.category_id)
    return render(request, "catalog/product.html", {
        "listing": listing,
        "product": product,
        "lineage": tree.lineage(node) if node else [],
        "b2b": buyer.is_b2b,
        "add_to_cart_url": _add_to_cart_url() if request.user.is_authenticated else None,
    })
