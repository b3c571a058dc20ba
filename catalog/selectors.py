"""What a buyer may see of the catalogue, answered set-based: one SQL query however many products.

A product is visible when it is active, on the market (or under a field safety action), in at least
one active catalogue assigned to one of the buyer's segments or to their organisation or an
ancestor of it, not excluded from that catalogue, not restricted in the buyer's territory, and not
professional-only unless the buyer is a verified professional organisation.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import StartsWith
from django.http import Http404
from django.utils import timezone

from segments.models import SegmentKind
from segments.resolver import BuyerContext
from territories.rules import territory_visibility_q

from .models import SELLABLE_STATUSES, Catalog, Category, CategoryAncestry, Product

CatalogProduct = Catalog.products.through
CatalogExcludedProduct = Catalog.excluded_products.through
CatalogSegment = Catalog.segments.through
CatalogOrganisation = Catalog.organisations.through


def buyer_catalogs(buyer: BuyerContext) -> QuerySet[Catalog]:
    """Active catalogues assigned to one of the buyer's segments, or to their organisation or one
    of its ancestors (a catalogue for an ICS reaches its trusts)."""
    by_segment = CatalogSegment.objects.filter(
        segment__code__in=sorted(buyer.segments), segment__is_active=True
    ).exclude(segment__kind=SegmentKind.COMPUTED).values("catalog_id")
    by_organisation = CatalogOrganisation.objects.filter(
        organisation_id__in=list(buyer.organisation_path)
    ).values("catalog_id")
    return Catalog.objects.filter(Q(pk__in=by_segment) | Q(pk__in=by_organisation), is_active=True)


class _PairIn(Func):
    """`(first, second) IN (SELECT a, b …)`: membership of a pair in an uncorrelated set. The
    database builds the set once per query and probes it per row; a correlated EXISTS asking the
    same is planned (and costed) per row, which at catalogue size makes PostgreSQL JIT-compile the
    query for longer than it takes to run."""

    output_field = BooleanField()

    def __init__(self, first, second, pairs: QuerySet):
        super().__init__(first, second, Subquery(pairs))

    def as_sql(self, compiler, connection, **extra_context):
        (first, first_params), (second, second_params), (pairs, pairs_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return f"({first}, {second}) IN {pairs}", (*first_params, *second_params, *pairs_params)


def _listed(through, catalogs, product_ref) -> _PairIn:
    """The catalogue lists (or excludes) the product itself."""
    pairs = through.objects.filter(catalog__in=catalogs).values("catalog_id", "product_id")
    return _PairIn(F("pk"), product_ref, pairs)


def _covered(relation: str, catalogs, category_ref) -> _PairIn:
    """The catalogue lists (`catalogs`) or excludes (`excluded_from_catalogs`) the category or
    one of its ancestors."""
    pairs = CategoryAncestry.objects.filter(**{f"ancestor__{relation}__in": catalogs})
    return _PairIn(F("pk"), category_ref, pairs.values(f"ancestor__{relation}", "category_id"))


def _in_one_of(catalogs: QuerySet[Catalog]) -> Exists:
    """Correlated to a Product row: some catalogue of `catalogs` includes the product (itself or
    through a category subtree) and does not exclude it (itself or through a category subtree).
    Each test is a pair membership in a set limited to `catalogs`, so its size follows the
    buyer's catalogues, not every catalogue there is."""
    product, category, ids = OuterRef("pk"), OuterRef("category_id"), catalogs.values("pk")
    includes = Q(_listed(CatalogProduct, ids, product)) | Q(_covered("catalogs", ids, category))
    excludes = Q(_listed(CatalogExcludedProduct, ids, product)) | Q(
        _covered("excluded_from_catalogs", ids, category)
    )
    return Exists(catalogs.filter(includes).exclude(excludes).values("pk"))


def _may_see_professional_devices(buyer: BuyerContext) -> bool:
    """Professional-only devices are for verified professional organisations; a retail buyer
    never sees one, whatever their own registration."""
    return buyer.professional and buyer.is_b2b


def _territory_rules(buyer: BuyerContext) -> Q:
    """The one place where products restricted in the buyer's territory leave the buyer's
    catalogue, and where a distributor's catalogue narrows to the lines it holds rights to."""
    return territory_visibility_q(buyer)


class _CompiledOnce(Expression):
    """A filter condition whose SQL is compiled once and then reused. The visibility condition is a
    dozen nested subqueries whose SQL is the same for every query built from one stored
    `visible_products` (same buyer facts, same day), and compiling it costs more than running it
    for a page. Resolving or relabelling the expression (for use inside another query) copies it,
    and a copy compiles afresh."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, condition):
        super().__init__()
        self.condition = condition
        self._resolved = False
        self._compiled: dict = {}

    def get_source_expressions(self):
        return [self.condition]

    def set_source_expressions(self, exprs):
        (self.condition,) = exprs

    def copy(self):
        clone = super().copy()
        clone._compiled = {}
        return clone

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False,
                           for_save=False):
        if self._resolved:  # compiling resolves a filter's expression again: nothing to do
            return self
        clone = self.copy()
        clone.condition = self.condition.resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        clone._resolved = True
        return clone

    def as_sql(self, compiler, connection):
        compiled = self._compiled.get(connection.alias)
        if compiled is None:
            compiled = self._compiled[connection.alias] = compiler.compile(self.condition)
        return compiled


VISIBILITY_STAMP = "visible_to"
_BUILT_LIMIT = 256
_built: OrderedDict = OrderedDict()
_built_lock = threading.Lock()


def _visibility_facts(buyer: BuyerContext) -> tuple:
    """Exactly the facts `visible_products` is built from (and the day: validity windows)."""
    return (
        tuple(sorted(buyer.segments)), buyer.organisation_path, buyer.organisation_id,
        buyer.professional, buyer.channel, buyer.workflow, buyer.postcode_area,
        timezone.localdate().isoformat(),
    )


def visibility_stamp(buyer: BuyerContext) -> str:
    """What `visible_products` writes on each row it returns (as `visible_to`): a digest of the
    facts it was answered for. The price engine skips asking again for rows stamped for the
    same buyer facts today."""
    return hashlib.sha256(repr(_visibility_facts(buyer)).encode()).hexdigest()[:24]


def _offered(buyer: BuyerContext) -> Q:
    """Every condition of visibility but the product's regulatory status."""
    offered = Q(_in_one_of(buyer_catalogs(buyer)), is_active=True)
    if not _may_see_professional_devices(buyer):
        offered &= Q(professional_only=False)
    return offered & _territory_rules(buyer)


def _build_visible_products(buyer: BuyerContext) -> QuerySet[Product]:
    visible = _offered(buyer) & Q(regulatory_status__in=SELLABLE_STATUSES)
    return Product.objects.filter(_CompiledOnce(visible)).annotate(
        **{VISIBILITY_STAMP: Value(visibility_stamp(buyer))}
    )


def offered_but_off_sale(buyer: BuyerContext, product_ids) -> set[int]:
    """Of `product_ids`, those this buyer would see but for their regulatory status (recalled,
    withdrawn): the buyer may be told why they cannot order them. Any other hidden product stays
    unnamed."""
    return set(
        Product.objects.filter(_offered(buyer), pk__in=list(product_ids))
        .exclude(regulatory_status__in=SELLABLE_STATUSES)
        .values_list("pk", flat=True)
    )


def visible_products(buyer: BuyerContext) -> QuerySet[Product]:
    """Every product this buyer may see and buy, as one lazily evaluated query.

    Building the query (a dozen nested subqueries) costs more than running it for a page, so
    the unevaluated queryset is kept per visibility facts and handed out as a fresh clone — the
    way a generic view keeps its `queryset`. It holds no rows: every use runs it anew."""
    facts = _visibility_facts(buyer)
    with _built_lock:
        built = _built.get(facts)
        if built is not None:
            _built.move_to_end(facts)
    if built is None:
        built = _build_visible_products(buyer)
        with _built_lock:
            _built[facts] = built
            while len(_built) > _BUILT_LIMIT:
                _built.popitem(last=False)
    return built.all()


def visible_categories(buyer: BuyerContext) -> QuerySet[Category]:
    """Categories holding at least one visible product in their subtree. An ancestor's subtree
    holds its descendants' products, so the ancestors needed to draw the tree come with them.
    The categories of visible products are found once (one set for the whole query), and each
    category asks only whether one of them lies in its subtree."""
    holding = Category.objects.filter(
        StartsWith(F("path"), OuterRef("path")),
        pk__in=visible_products(buyer).values("category_id"),
    )
    return Category.objects.filter(Exists(holding)).order_by("path")


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
    """Annotate `in_stock` (units on hand beyond those reserved) in the same query: a join to the
    product's one stock row (none: not in stock), read for the rows fetched only."""
    on_hand = ExpressionWrapper(Q(stock__on_hand__gt=F("stock__reserved")),
                                output_field=BooleanField())
    return products.annotate(in_stock=Coalesce(on_hand, Value(False)))


# Facets ------------------------------------------------------------------------------------------

FACET_FIELDS = ("device_class", "manufacturer", "sterile", "in_stock")
FACET_COLUMNS = {"device_class": "device_class", "manufacturer": "manufacturer__slug",
                 "sterile": "sterile", "in_stock": "in_stock"}


@dataclass(frozen=True)
class FacetFilters:
    """The facet values a buyer chose; unknown values were already dropped by the caller."""

    device_classes: frozenset[str] = frozenset()
    manufacturers: frozenset[str] = frozenset()
    sterile: bool | None = None
    in_stock: bool = False

    def passes(self, name: str, row: dict) -> bool:
        """Does the row pass the choice made for one facet (no choice: it does)?"""
        if name == "device_class":
            return not self.device_classes or row["device_class"] in self.device_classes
        if name == "manufacturer":
            return not self.manufacturers or row["manufacturer__slug"] in self.manufacturers
        if name == "sterile":
            return self.sterile is None or row["sterile"] == self.sterile
        return not self.in_stock or row["in_stock"]

    def matches(self, row: dict, *, ignore: str = "") -> bool:
        return all(name == ignore or self.passes(name, row) for name in FACET_FIELDS)

    @property
    def key(self) -> str:
        """A short, stable name of these choices (for cache keys)."""
        facts = (sorted(self.device_classes), sorted(self.manufacturers), self.sterile,
                 self.in_stock)
        return hashlib.sha256(repr(facts).encode()).hexdigest()[:16]

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


def listing_ids(products: QuerySet[Product]) -> list[int]:
    """Ids of `products` in listing order (name, then SKU): what a listing pages through."""
    return list(products.order_by("name", "sku").values_list("pk", flat=True))


def listing_page(products: QuerySet[Product], ids: list[int]) -> list[Product]:
    """Those of `ids` that `products` holds, in the order of `ids`: one query for a page, which
    asks every rule of `products` again for just these rows."""
    found = {p.pk: p for p in products.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def listed_products(ids: list[int]) -> list[Product]:
    """The products of a listing page by id, in the order of `ids`, with manufacturer, category
    and stock: for a page whose order and offers the rules answered already (catalog.views keeps
    both as fragments under the buyer's cache key and the rules version)."""
    products = Product.objects.select_related("manufacturer", "category")
    return listing_page(with_availability(products), ids)


def filtered_total(rows: list[dict], filters: FacetFilters) -> int:
    return sum(row["count"] for row in rows if filters.matches(row))


def facet_counts(rows: list[dict], filters: FacetFilters) -> dict[str, dict]:
    """Counts per facet value, each computed with the buyer's other facet choices applied."""
    counts: dict[str, dict] = {name: {} for name in FACET_FIELDS}
    for row in rows:
        # A row counts for a facet when every other facet's choice passes: for all of them when
        # none fails, for the one that fails when exactly one does, for none otherwise.
        failing = [name for name in FACET_FIELDS if not filters.passes(name, row)]
        if len(failing) > 1:
            continue
        for name in failing or FACET_FIELDS:
            key = row[FACET_COLUMNS[name]]
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
