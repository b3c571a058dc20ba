"""Build the demo catalogue: categories, manufacturers, about two hundred products with GS1 GTINs
under the demonstration prefix 952, stock, and the four catalogues assigned to the demo segments
and to Riverside. Idempotent: rows are found by slug, SKU or code and updated in place."""
from django.db import transaction
from django.utils.text import slugify
from stdnum import ean

from accounts.models import Organisation
from catalog import services
from catalog.models import Catalog, Category, Manufacturer, Product
from ordering.models import Stock
from segments.models import Segment

from .catalog_products import CATEGORIES, FAMILIES, GS1_COMPANY, MANUFACTURERS, Family
from .organisations import ORGANISATIONS

RETAIL_CATEGORIES = (
    "plasters-and-first-aid", "examination-gloves", "face-masks", "thermometers",
    "blood-pressure", "blood-glucose", "rapid-tests", "pulse-oximetry", "nebulisers", "peak-flow",
    "continence", "supports-and-braces", "cold-therapy", "mobility", "daily-living-aids",
    "profiling-beds", "pressure-mattresses", "pressure-cushions", "heel-protection",
)
DISTRIBUTOR_CATEGORIES = (
    "wound-care", "infection-control", "continence", "orthopaedics", "mobility",
    "daily-living-aids",
)


def demo_gtin(maker: str, item: int) -> str:
    body = f"952{GS1_COMPANY[maker]:04d}{item:05d}"
    return body + ean.calc_check_digit(body)


def _category(slug: str, name: str, parent: Category | None, position: int) -> Category:
    category = Category.objects.filter(slug=slug).first() or Category(slug=slug)
    category.name, category.parent, category.position = name, parent, position
    return services.category_save(category=category)


def build_categories() -> tuple[dict[str, Category], dict[str, str]]:
    """Categories by slug, and the SKU prefix of each subcategory's top-level category."""
    categories, prefixes = {}, {}
    for position, (prefix, name, children) in enumerate(CATEGORIES):
        root = _category(slugify(name), name, None, position)
        categories[root.slug] = root
        for child_position, (slug, child_name) in enumerate(children):
            categories[slug] = _category(slug, child_name, root, child_position)
            prefixes[slug] = prefix
    return categories, prefixes


def build_manufacturers() -> dict[str, Manufacturer]:
    makers = {}
    for key, name in MANUFACTURERS.items():
        maker = Manufacturer.objects.filter(slug=key).first() or Manufacturer(slug=key)
        maker.name = name
        makers[key] = services.manufacturer_save(manufacturer=maker)
    return makers


def _product_fields(family: Family, label: str, attributes: dict) -> dict:
    name = f"{family.name}, {label}" if label else family.name
    flags = family.flags
    return {
        "name": name,
        "description": family.description,
        "plain_description": family.plain,
        "device_class": family.device_class,
        "gmdn_code": family.gmdn[0],
        "gmdn_term": family.gmdn[1],
        "sterile": "sterile" in flags,
        "single_use": "single" in flags,
        "contains_latex": "latex" in flags,
        "professional_only": "pro" in flags,
        "pack_size": family.pack,
        "unit_of_measure": family.unit,
        "vat_category": "relief" if family.relief else "standard",
        "vat_relief_item": family.relief,
        "attributes": attributes,
        "is_active": True,
    }


def build_products(categories, prefixes, makers) -> list[Product]:
    products, serial_by_prefix, item_by_maker = [], {}, {}
    for family in FAMILIES:
        prefix = prefixes[family.subcategory]
        for label, attributes in family.variants:
            serial_by_prefix[prefix] = serial_by_prefix.get(prefix, 1000) + 1
            item_by_maker[family.maker] = item_by_maker.get(family.maker, 0) + 1
            sku = f"{prefix}-{serial_by_prefix[prefix]}"
            product = Product.objects.filter(sku=sku).first() or Product(sku=sku)
            for name, value in _product_fields(family, label, attributes).items():
                setattr(product, name, value)
            product.slug = _slug_for(product.name, sku)
            product.category = categories[family.subcategory]
            product.manufacturer = makers[family.maker]
            product.gtin = demo_gtin(family.maker, item_by_maker[family.maker])
            product = services.product_save(product=product)
            if product.regulatory_status != family.status:
                product = services.product_set_regulatory_status(
                    product=product, status=family.status, reason="Demo data"
                )
            products.append(product)
    return products


def _slug_for(name: str, sku: str) -> str:
    return slugify(f"{name} {sku}")[:220]


def build_stock(products: list[Product]) -> None:
    """Deterministic stock: most lines in stock, every ninth line sold out."""
    for n, product in enumerate(products, start=1):
        on_hand = 0 if n % 9 == 0 else 20 + (n * 37) % 480
        Stock.objects.update_or_create(
            product=product, defaults={"on_hand": on_hand, "reserved": min(on_hand, n % 5)}
        )


def build_catalogs(categories, products) -> dict[str, Catalog]:
    segments = {s.code: s for s in Segment.objects.all()}
    riverside_name = next(o.name for o in ORGANISATIONS if o.key == "riverside")
    riverside = Organisation.objects.get(name=riverside_name)
    by_name = {p.name: p for p in products}
    roots = [c for c in categories.values() if c.parent_id is None]
    specs = {
        "retail": dict(
            name="Retail catalogue",
            description="Public consumer catalogue: products for use at home, never "
                        "professional-only devices.",
            categories=[categories[s] for s in RETAIL_CATEGORIES],
            excluded_products=[by_name["Vinyl examination gloves, lightly powdered, medium"],
                               by_name["Vinyl examination gloves, lightly powdered, large"]],
            segments=[segments["retail-consumers"]], organisations=[], products=[],
            excluded_categories=[],
        ),
        "professional": dict(
            name="Professional catalogue",
            description="Everything sold to NHS trusts, private clinics, GP practices, care "
                        "homes and pharmacies, except custom procedure packs built for one trust.",
            categories=roots, excluded_categories=[categories["custom-procedure-packs"]],
            segments=[segments["private-clinics"], segments["nhs-trusts"],
                      segments["primary-and-community-care"]],
            organisations=[], products=[], excluded_products=[],
        ),
        "distributor": dict(
            name="Distributor catalogue",
            description="The lines distributors hold rights to resell.",
            categories=[categories[s] for s in DISTRIBUTOR_CATEGORIES],
            excluded_categories=[categories["antimicrobial-dressings"]],
            segments=[segments["distributors"]], organisations=[], products=[],
            excluded_products=[],
        ),
        "riverside-custom": dict(
            name="Riverside custom procedure packs",
            description="Procedure packs built to Riverside University Hospitals' specifications.",
            categories=[categories["custom-procedure-packs"]], segments=[],
            organisations=[riverside], products=[], excluded_categories=[],
            excluded_products=[],
        ),
    }
    catalogs = {}
    for code, spec in specs.items():
        catalog = Catalog.objects.filter(code=code).first() or Catalog(code=code)
        catalog.name, catalog.description = spec.pop("name"), spec.pop("description")
        catalog.is_active = True
        catalogs[code] = services.catalog_save(catalog=catalog, **spec)
    return catalogs


def load_catalog() -> dict[str, Catalog]:
    """Create or bring up to date the demo catalogue in one transaction."""
    with transaction.atomic():
        categories, prefixes = build_categories()
        makers = build_manufacturers()
        products = build_products(categories, prefixes, makers)
        build_stock(products)
        return build_catalogs(categories, products)
