"""Service levels and sales reps in the demo: Riverside is a concierge account through its
NHS-2025-118 contract, a paid support plan is in the catalogue for self-service accounts, and two
account managers look after customer groups — primary and community care (a segment) and the
North East and Yorkshire (a territory) — for the history's organisations that have no account
manager of their own."""

from decimal import Decimal

from accounts.models import Organisation, User
from catalog import services as catalog_services
from catalog.models import Catalog, Category, Manufacturer, Product, ProductKind
from catalog.selectors import visible_products
from ordering.models import Stock
from pricing import services as pricing_services
from pricing.models import Contract, Quote
from segments.coverage import account_coverage_sync, rep_assignment_save
from segments.models import RepAssignment, Segment
from segments.resolver import resolve
from territories.lookup import region_for_area
from territories.models import Territory
from territories.postcodes import parse_postcode

from .catalog import demo_gtin
from .organisations import ORGANISATIONS

SUPPORT_PLAN_SKU = "SV-1001"
SUPPORT_PLAN = "Priority support plan, 12 months"
# Net; the retail price list holds it at the demo's retail mark-up (£93.15, £111.78 with VAT).
SUPPORT_PLAN_LIST_PRICE = Decimal("69.00")
CONCIERGE_CONTRACT = ("NHS-2025-118", "3")
DIRECT_LINES = {
    "manager@demo.test": "020 7946 0321",
    "manager2@demo.test": "0113 496 0458",
    "rep.primary@demo.test": "0117 496 0772",
    "rep.north@demo.test": "0191 498 0163",
}
PRIMARY_CARE_SEGMENT = "primary-and-community-care"
PRIMARY_CARE_KINDS = ("gp_practice", "care_home", "pharmacy")
NORTH_REGION = "north-east-and-yorkshire"
GROUP_REPS = (("rep.primary@demo.test", PRIMARY_CARE_SEGMENT, None),
              ("rep.north@demo.test", None, NORTH_REGION))


def covered_by_group(kind: str, postcode: str) -> bool:
    """Whether a history organisation is left to its customer group's rep (no own manager)."""
    region = region_for_area(parse_postcode(postcode).area)
    return kind in PRIMARY_CARE_KINDS or (region is not None and region.code == NORTH_REGION)


def load_support_plan() -> Product:
    """The support plan: a catalogue item of kind service, in the retail and professional
    catalogues (before the prices are loaded, so the price lists carry it)."""
    category = Category.objects.filter(slug="support-services").first() or Category(
        slug="support-services", name="Support and services")
    category.parent = None
    category = catalog_services.category_save(category=category)
    product = Product.objects.filter(sku=SUPPORT_PLAN_SKU).first() or Product(sku=SUPPORT_PLAN_SKU)
    product.name, product.kind, product.category = SUPPORT_PLAN, ProductKind.SERVICE, category
    product.slug = "priority-support-plan-12-months"
    product.manufacturer = Manufacturer.objects.get(name="Northwall Healthcare")
    product.gtin, product.device_class = demo_gtin("northwall", 990), ""
    product.description = ("A named support adviser, next-working-day answers and help with "
                           "orders, deliveries and returns for twelve months.")
    product.plain_description = product.description
    product.is_active = True
    product = catalog_services.product_save(product=product)
    Stock.objects.update_or_create(product=product, defaults={"on_hand": 100000})
    for code in ("retail", "professional"):
        catalog_services.catalog_save(catalog=Catalog.objects.get(code=code), products=[product])
    return product


def _group_reps() -> None:
    for email, segment_code, territory_code in GROUP_REPS:
        user = User.objects.get(email=email)
        segment = Segment.objects.filter(code=segment_code).first() if segment_code else None
        territory = (Territory.objects.filter(code=territory_code).first()
                     if territory_code else None)
        found = RepAssignment.objects.filter(segment=segment, territory=territory).first()
        assignment = found or RepAssignment(segment=segment, territory=territory)
        assignment.account_manager = user
        rep_assignment_save(assignment=assignment)


# Quote requests waiting in the staff queue: a concierge, a standard and a self-service account.
OPEN_REQUESTS = (
    ("multi@demo.test", "riverside", "Demo request: theatre consumables for the new day unit."),
    ("clinic.buyer@demo.test", "harbour", "Demo request: a year of treatment couch covers."),
    ("exe.buyer@demo.test", "exe-valley", "Demo request: dressings for a diabetic foot clinic."),
)


def _open_requests() -> None:
    for email, key, note in OPEN_REQUESTS:
        user = User.objects.get(email=email)
        organisation = Organisation.objects.get(name=_organisation_name(key))
        if Quote.objects.filter(organisation=organisation, note=note).exists():
            continue
        buyer = resolve(user, organisation=organisation)
        products = list(visible_products(buyer).filter(kind=ProductKind.DEVICE)
                        .order_by("sku")[:2])
        pricing_services.quote_request(buyer=buyer, note=note,
                                       lines=[(p, 50, None) for p in products])


def _organisation_name(key: str) -> str:
    return next(spec.name for spec in ORGANISATIONS if spec.key == key)


def load_service_levels() -> None:
    """The concierge contract, direct lines, the group reps and open quote requests."""
    reference, lot = CONCIERGE_CONTRACT
    contract = Contract.objects.get(reference=reference, lot=lot)
    if contract.service_tier != "concierge":
        contract.service_tier = "concierge"
        pricing_services.contract_save(contract=contract)
    for user in User.objects.filter(email__in=DIRECT_LINES):
        if user.direct_phone != DIRECT_LINES[user.email]:
            user.direct_phone = DIRECT_LINES[user.email]
            user.save(update_fields=["direct_phone"])
    _group_reps()
    account_coverage_sync()
    _open_requests()
