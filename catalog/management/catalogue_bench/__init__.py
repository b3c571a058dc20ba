"""The generated world of `bench_catalogue`: the demo's category names three levels deep, products
with stock, catalogues per segment and per organisation, organisations (ICSs over trusts, clinics,
distributors, practices, care homes) with delivery sites, price lists and contracts, territory
rights and restrictions, and one signed-in buyer per kind.

Bulk rows go in by COPY on PostgreSQL (batched inserts elsewhere), price rows through
bench_pricing's own writer. Every row carries a bench marker (codes and slugs starting
`catalogue-bench`, SKUs `CB-`, organisation names `CB `, e-mail domain `catalogue-bench.test`), so
the world can be found again, reused when it was built with the same parameters, and removed
without touching anything else — also not bench_pricing's world (`bench`/`BENCH-`).
"""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.fields import AutoFieldMixin
from django.utils.text import slugify

from accounts.models import Membership, Organisation, Site, User
from catalog.models import Catalog, Category, Manufacturer, Product
from ordering.models import Stock
from pricing.models import Contract, PriceList, PriceListItem, Quote, QuoteLine
from segments.models import Segment, SegmentCondition, SegmentMembership
from territories.models import DistributorProfile, TerritoryRestriction, TerritoryRight

PREFIX = "catalogue-bench"
SKU_PREFIX = "CB-"
NAME_PREFIX = "CB "
EMAIL_DOMAIN = "catalogue-bench.test"
QUOTE_PREFIX = "CB-Q"
MARKER = f"{PREFIX}-professional"
BROWSED_ROOT = "Wound care"
LEAVES = ("single-use", "reusable", "paediatric", "bariatric", "specialist", "economy")
STATIC_SEGMENTS = 20
BATCH = 2000

MAKER_WORDS = ("Aldergrove", "Bramley", "Calder", "Dunmore", "Elmsworth", "Fenwick", "Garston",
               "Hartley", "Ingleby", "Jarrow", "Kelso", "Langley", "Marlow", "Newby", "Orwell",
               "Penrith", "Quarrybank", "Redmire", "Selby", "Thornbury")
MAKER_SUFFIXES = ("Medical", "Healthcare")
STYLES = ("Advanced", "Classic", "Comfort", "Ultra", "Essential", "Pro", "Flex", "Secure")
DEVICE_CLASSES = ("I", "Is", "IIa", "IIb", "III")
SIZES = ("small", "medium", "large", "extra large", "5 cm", "10 cm", "15 cm", "20 cm", "one size")
RELIEF_ITEM = "VAT Notice 701/7, Schedule 8 Group 12 item 2(g): equipment designed for invalids"

# (buyer key, label) of the signed-in buyers whose pages are measured.
BUYERS = (
    ("nhs", "NHS trust (own + ICS contract, quote)"),
    ("clinic", "private clinic"),
    ("distributor", "distributor"),
    ("consumer", "retail consumer"),
)
BUYER_POSTCODES = {"nhs": "SE1 7EH", "clinic": "PL6 8DH", "distributor": "LS11 5DR",
                   "consumer": "G12 8QQ"}


def buyer_email(key: str) -> str:
    return f"{key}.buyer@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class Spec:
    """What the world is built from; a stored world with the same spec is reused."""

    products: int
    price_rows: int
    organisations: int
    seed: int

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class World:
    users: dict[str, User]
    category_slug: str
    category_id: int


# ---- bulk writing --------------------------------------------------------------------------------


def copy_models(model, objects: Iterable) -> int:
    """Write unsaved model instances: COPY on PostgreSQL (each field's own conversion to the
    database value, defaults and auto_now included), bulk_create elsewhere. No signals, no
    history rows: it is generated data."""
    if connection.vendor != "postgresql":
        rows = list(objects)
        model.objects.bulk_create(rows, batch_size=BATCH)
        return len(rows)
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
                    "FROM STDIN") as copy,
    ):
        for obj in objects:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
            count += 1
    return count


def postcode_in(area: str, n: int) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{area}{n % 9 + 1} {n % 10}{letters[n % 20]}{letters[(n // 20) % 20]}"


def area_of_postcode(postcode: str) -> str:
    return postcode.split(" ")[0].rstrip("0123456789")


def build_world(spec: Spec, out=print) -> World:
    """Build the world (call inside a transaction; bump the rules version afterwards)."""
    from .builder import Builder

    builder = Builder(spec, out)
    world = builder.build()
    out(f"built: {len(builder.products):,} products in "
        f"{len(builder.roots) + len(builder.root_of_child) + len(builder.leaves):,} categories, "
        f"{spec.organisations:,} organisations, {builder.price_rows:,} price rows")
    return world


def find_world(spec: Spec) -> World | None:
    """The stored world, when it was built with exactly this spec and is complete."""
    marker = Catalog.objects.filter(code=MARKER).first()
    if marker is None or marker.description != spec.as_json():
        return None
    users = {u.email: u for u in User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")}
    root = Category.objects.filter(slug=f"{PREFIX}-{slugify(BROWSED_ROOT)}").first()
    if root is None or any(buyer_email(key) not in users for key, _ in BUYERS):
        return None
    return World({key: users[buyer_email(key)] for key, _ in BUYERS}, root.slug, root.pk)


def world_sizes() -> dict[str, int]:
    """Row counts of the stored world, for the report."""
    lists = PriceList.objects.filter(code__startswith=PREFIX)
    return {
        "products": Product.objects.filter(sku__startswith=SKU_PREFIX).count(),
        "categories": Category.objects.filter(slug__startswith=PREFIX).count(),
        "organisations": Organisation.objects.filter(name__startswith=NAME_PREFIX).count(),
        "catalogues": Catalog.objects.filter(code__startswith=PREFIX).count(),
        "price lists": lists.count(),
        "contracts": Contract.objects.filter(price_list__in=lists).count(),
        "price rows": PriceListItem.objects.filter(price_list__in=lists).count(),
        "territory rights": TerritoryRight.objects.filter(
            agreement_reference__startswith="CB-").count(),
        "territory restrictions": TerritoryRestriction.objects.filter(
            Q(category__slug__startswith=PREFIX) | Q(product__sku__startswith=SKU_PREFIX)
        ).count(),
    }


def clear_world() -> None:
    """Remove every bench row, dependents first, by raw deletes (no per-row collector, signals or
    history rows). Call inside a transaction."""
    lists = PriceList.objects.filter(code__startswith=PREFIX)
    quotes = Quote.objects.filter(number__startswith=QUOTE_PREFIX)
    products = Product.objects.filter(sku__startswith=SKU_PREFIX)
    categories = Category.objects.filter(slug__startswith=PREFIX)
    catalogs = Catalog.objects.filter(code__startswith=PREFIX)
    organisations = Organisation.objects.filter(name__startswith=NAME_PREFIX)
    segments = Segment.objects.filter(code__startswith=PREFIX)
    User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()  # few; cascades memberships
    querysets = [
        PriceListItem.objects.filter(price_list__in=lists),
        QuoteLine.objects.filter(quote__in=quotes),
        quotes,
        Contract.objects.filter(price_list__in=lists),
        PriceList.segments.through.objects.filter(pricelist__in=lists),
        PriceList.organisations.through.objects.filter(pricelist__in=lists),
        PriceList.territories.through.objects.filter(pricelist__in=lists),
        lists,
        TerritoryRight.objects.filter(distributor__in=organisations),
        TerritoryRestriction.objects.filter(product__in=products),
        TerritoryRestriction.objects.filter(category__in=categories),
        DistributorProfile.objects.filter(organisation__in=organisations),
        Stock.objects.filter(product__in=products),
    ]
    for field in ("categories", "excluded_categories", "products", "excluded_products",
                  "segments", "organisations"):
        querysets.append(getattr(Catalog, field).through.objects.filter(catalog__in=catalogs))
    querysets += [
        catalogs,
        products,
        categories,
        Manufacturer.objects.filter(slug__startswith=PREFIX),
        SegmentMembership.objects.filter(organisation__in=organisations),
        SegmentMembership.objects.filter(segment__in=segments),
        SegmentCondition.objects.filter(segment__in=segments),
        segments,
        Membership.objects.filter(organisation__in=organisations),
        Site.objects.filter(organisation__in=organisations),
        organisations,
    ]
    for queryset in querysets:
        queryset._raw_delete(queryset.db)
