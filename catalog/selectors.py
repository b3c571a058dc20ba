"""What a buyer may see of the catalogue, answered set-based: one SQL query however many products.

A product is visible when it is active, on the market (or under a field safety action), in at least
one active catalogue assigned to one of the buyer's segments or to their organisation or an
ancestor of it, not excluded from that catalogue, not restricted in the buyer's territory, and not
professional-only unless the buyer is a verified professional organisation.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.lookups import StartsWith
from django.http import Http404

from ordering.models import Stock
from segments.resolver import BuyerContext
from territories.rules import territory_visibility_q

from .models import SELLABLE_STATUSES, Catalog, Category, Product

CatalogCategory = Catalog.categories.through
CatalogProduct = Catalog.products.through
CatalogExcludedCategory = Catalog.excluded_categories.through
CatalogExcludedProduct = Catalog.excluded_products.through
CatalogSegment = Catalog.segments.through
CatalogOrganisation = Catalog.organisations.through


def buyer_catalogs(buyer: BuyerContext) -> QuerySet[Catalog]:
    """Active catalogues assigned to one of the buyer's segments, or to their organisation or one
    of its ancestors (a catalogue for an ICS reaches its trusts)."""
    by_segment = Exists(
        CatalogSegment.objects.filter(
            catalog_id=OuterRef("pk"),
            segment__code__in=sorted(buyer.segments),
            segment__is_active=True,
        )
    )
    by_organisation = Exists(
        CatalogOrganisation.objects.filter(
            catalog_id=OuterRef("pk"), organisation_id__in=list(buyer.organisation_path)
        )
    )
    return Catalog.objects.filter(by_segment | by_organisation, is_active=True)


def _holds_product(through, catalog_ref, product_ref) -> Exists:
    return Exists(through.objects.filter(catalog_id=catalog_ref, product_id=product_ref))


def _holds_category_of(through, catalog_ref, product_path_ref) -> Exists:
    """The catalogue lists the product's category or one of its ancestors (paths are prefixes)."""
    return Exists(
        through.objects.filter(catalog_id=catalog_ref).filter(
            StartsWith(product_path_ref, F("category__path"))
        )
    )


def _in_one_of(catalogs: QuerySet[Catalog]) -> Exists:
    """Correlated to a Product row: some catalogue of `catalogs` includes the product (itself or
    through a category subtree) and does not exclude it (itself or through a category subtree)."""
    catalog, product, path = OuterRef("pk"), OuterRef(OuterRef("pk")), OuterRef(
        OuterRef("category__path")
    )
    includes = _holds_product(CatalogProduct, catalog, product) | _holds_category_of(
        CatalogCategory, catalog, path
    )
    excludes = _holds_product(CatalogExcludedProduct, catalog, product) | _holds_category_of(
        CatalogExcludedCategory, catalog, path
    )
    return Exists(catalogs.filter(includes).exclude(excludes).values("pk"))


def _may_see_professional_devices(buyer: BuyerContext) -> bool:
    """Professional-only devices are for verified professional organisations; a retail buyer
    never sees one, whatever their own registration."""
    return buyer.professional and buyer.is_b2b


def _without_territory_restrictions(buyer: BuyerContext, products: QuerySet[Product]):
    """The one place where products restricted in the buyer's territory leave the buyer's
    catalogue, and where a distributor's catalogue narrows to the lines it holds rights to."""
    return products.filter(territory_visibility_q(buyer))


def visible_products(buyer: BuyerContext) -> QuerySet[Product]:
    """Every product this buyer may see and buy, as one lazily evaluated query."""
    products = Product.objects.filter(
        _in_one_of(buyer_catalogs(buyer)),
        is_active=True,
        regulatory_status__in=SELLABLE_STATUSES,
    )
    if not _may_see_professional_devices(buyer):
        products = products.filter(professional_only=False)
    return _without_territory_restrictions(buyer, products)


def visible_categories(buyer: BuyerContext) -> QuerySet[Category]:
    """Categories holding at least one visible product in their subtree. An ancestor's subtree
    holds its descendants' products, so the ancestors needed to draw the tree come with them."""
    holding = visible_products(buyer).filter(
        StartsWith(F("category__path"), OuterRef("path"))
    )
    return Category.objects.filter(Exists(holding.values("pk"))).order_by("path")


@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    path: str
    depth: int
    position: int
    children: list["CategoryNode"] = field(default_factory=list)


def category_tree(buyer: BuyerContext) -> list[CategoryNode]:
    """The buyer's visible categories as a tree (roots first), siblings by position then name."""
    nodes = {
        c.pk: CategoryNode(c.pk, c.name, c.slug, c.path, c.depth, c.position)
        for c in visible_categories(buyer).only("name", "slug", "path", "depth", "position")
    }
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent_id = _parent_id(node.path)
        (nodes[parent_id].children if parent_id in nodes else roots).append(node)
    for node in [*nodes.values(), None]:
        siblings = roots if node is None else node.children
        siblings.sort(key=lambda n: (n.position, n.name))
    return roots


def _parent_id(path: str) -> int | None:
    ids = path.rstrip(".").split(".")
    return int(ids[-2]) if len(ids) > 1 else None


def in_category(products: QuerySet[Product], category_path: str) -> QuerySet[Product]:
    """The products of a category and all its descendants."""
    return products.filter(category__path__startswith=category_path)


def with_availability(products: QuerySet[Product]) -> QuerySet[Product]:
    """Annotate `in_stock` (units on hand beyond those reserved) in the same query."""
    return products.annotate(
        in_stock=Exists(Stock.objects.filter(product_id=OuterRef("pk"), on_hand__gt=F("reserved")))
    )


# Facets ------------------------------------------------------------------------------------------

FACET_FIELDS = ("device_class", "manufacturer", "sterile", "in_stock")


@dataclass(frozen=True)
class FacetFilters:
    """The facet values a buyer chose; unknown values were already dropped by the caller."""

    device_classes: frozenset[str] = frozenset()
    manufacturers: frozenset[str] = frozenset()
    sterile: bool | None = None
    in_stock: bool = False

    def matches(self, row: dict, *, ignore: str = "") -> bool:
        return (
            (ignore == "device_class" or not self.device_classes
             or row["device_class"] in self.device_classes)
            and (ignore == "manufacturer" or not self.manufacturers
                 or row["manufacturer__slug"] in self.manufacturers)
            and (ignore == "sterile" or self.sterile is None or row["sterile"] == self.sterile)
            and (ignore == "in_stock" or not self.in_stock or row["in_stock"])
        )

    def apply(self, products: QuerySet[Product]) -> QuerySet[Product]:
        if self.device_classes:
            products = products.filter(device_class__in=sorted(self.device_classes))
        if self.manufacturers:
            products = products.filter(manufacturer__slug__in=sorted(self.manufacturers))
        if self.sterile is not None:
            products = products.filter(sterile=self.sterile)
        if self.in_stock:
            products = products.filter(in_stock=True)
        return products


def facet_rows(products: QuerySet[Product]) -> list[dict]:
    """Product counts grouped by every facet dimension at once: one query whose few rows give
    every facet count (each with the other facets' filters applied) and the filtered total."""
    return list(
        with_availability(products)
        .order_by()
        .values("device_class", "manufacturer__slug", "manufacturer__name", "sterile", "in_stock")
        .annotate(count=Count("pk"))
    )


def filtered_total(rows: list[dict], filters: FacetFilters) -> int:
    return sum(row["count"] for row in rows if filters.matches(row))


def facet_counts(rows: list[dict], filters: FacetFilters) -> dict[str, dict]:
    """Counts per facet value, each computed with the buyer's other facet choices applied."""
    counts: dict[str, dict] = {name: {} for name in FACET_FIELDS}
    for row in rows:
        for name in FACET_FIELDS:
            if not filters.matches(row, ignore=name):
                continue
            key = {"device_class": row["device_class"], "manufacturer": row["manufacturer__slug"],
                   "sterile": row["sterile"], "in_stock": row["in_stock"]}[name]
            counts[name][key] = counts[name].get(key, 0) + row["count"]
    return counts


def manufacturer_names(rows: list[dict]) -> dict[str, str]:
    return {row["manufacturer__slug"]: row["manufacturer__name"] for row in rows}


# Search and detail -------------------------------------------------------------------------------


def search_products(buyer: BuyerContext, query: str) -> QuerySet[Product]:
    """Visible products matching `query`: PostgreSQL full-text search ranked by relevance (name,
    SKU and GTIN weigh most), or a case-insensitive match on SQLite. A SKU or GTIN typed exactly
    always matches."""
    query = " ".join(query.split())[:200]
    products = visible_products(buyer)
    if not query:
        return products.none()
    exact = Q(sku__iexact=query) | Q(gtin=query)
    if connection.vendor == "postgresql":
        return _full_text(products, query, exact)
    words = Q()
    for word in query.split()[:8]:
        words &= (
            Q(name__icontains=word) | Q(sku__icontains=word) | Q(gtin__icontains=word)
            | Q(description__icontains=word) | Q(gmdn_term__icontains=word)
            | Q(manufacturer__name__icontains=word) | Q(category__name__icontains=word)
        )
    return products.filter(exact | words).order_by("name", "sku")


def _full_text(products: QuerySet[Product], query: str, exact: Q) -> QuerySet[Product]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = (
        SearchVector("name", "sku", "gtin", weight="A", config="english")
        + SearchVector("gmdn_term", "category__name", "manufacturer__name", weight="B",
                       config="english")
        + SearchVector("description", "plain_description", weight="C", config="english")
    )
    search = SearchQuery(query, search_type="websearch", config="english")
    return (
        products.annotate(document=vector, rank=SearchRank(vector, search))
        .filter(Q(document=search) | exact)
        .order_by("-rank", "name", "sku")
    )


def product_for_buyer(buyer: BuyerContext, slug: str) -> Product:
    """The product behind a detail page, or 404 when this buyer may not see it: an invisible
    product must look exactly like one that does not exist."""
    product = (
        with_availability(visible_products(buyer))
        .select_related("manufacturer", "category", "stock")
        .filter(slug=slug)
        .first()
    )
    if product is None:
        raise Http404("No such product.")
    return product
