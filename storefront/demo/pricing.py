"""Build the demo prices: list and retail prices for every product, volume tiers for clinics, a
distributor trade list, Riverside's framework contract NHS-2025-118 (lot 3) and a different
Northgate contract on the same lines (naming no distributor, so Pennine never sees it), Riverside's
orthopaedic soft-goods contract NHS-2025-131 (lot 2) naming Solent as its fulfiller, a North Thames
ICS framework its other trusts inherit, a retail mobility promotion and an accepted quote for
Riverside.

Prices are derived from each SKU (a stable checksum within a band per device class), so a re-run
brings everything back to the same values. Runs after storefront.demo.catalog's products exist."""
import datetime
import zlib
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User
from catalog.models import Category, Product
from pricing import services
from pricing.models import (
    Contract,
    ContractStatus,
    PriceList,
    PriceListItem,
    PriceListKind,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from segments.models import Segment

from .organisations import ORGANISATIONS
from .service_levels import SUPPORT_PLAN_LIST_PRICE, SUPPORT_PLAN_SKU

PENNY = Decimal("0.01")
# Net list price band (GBP) by device class.
BANDS = {
    "I": (Decimal("2.50"), Decimal("60")), "Is": (Decimal("1.20"), Decimal("25")),
    "Im": (Decimal("8"), Decimal("90")), "IIa": (Decimal("6"), Decimal("180")),
    "IIb": (Decimal("45"), Decimal("900")), "III": (Decimal("250"), Decimal("2400")),
    "AIMD": (Decimal("900"), Decimal("6000")), "IVD": (Decimal("4"), Decimal("120")),
}
RIVERSIDE_LINES = 60
ICS_LINES = 100
DEMO_QUOTE = "RFQ-DEMO-0001"
SOFT_GOODS = ("splints-and-casting", "cervical-collars")


def list_price(product: Product) -> Decimal:
    if product.sku == SUPPORT_PLAN_SKU:
        return SUPPORT_PLAN_LIST_PRICE
    low, high = BANDS.get(product.device_class, BANDS["I"])
    fraction = Decimal(zlib.crc32(product.sku.encode()) % 10_000) / Decimal(10_000)
    return (low + (high - low) * fraction).quantize(PENNY, rounding=ROUND_HALF_UP)


def cost_price(product: Product, list_net: Decimal) -> Decimal:
    """A plausible cost: 40 to 65% of the list price, fixed per SKU."""
    fraction = Decimal(zlib.crc32(f"cost:{product.sku}".encode()) % 10_000) / Decimal(10_000)
    return (list_net * (Decimal("0.40") + Decimal("0.25") * fraction)).quantize(
        PENNY, rounding=ROUND_HALF_UP)


def _set_cost_prices(products: list[Product], prices: dict[int, Decimal]) -> None:
    """Give every product its cost price (written only where it differs)."""
    changed = []
    for product in products:
        cost = cost_price(product, prices[product.pk])
        if product.cost_price != cost:
            product.cost_price = cost
            changed.append(product)
    Product.objects.bulk_update(changed, ["cost_price"], batch_size=500)


def _share(amount: Decimal, factor: str) -> Decimal:
    return (amount * Decimal(factor)).quantize(PENNY, rounding=ROUND_HALF_UP)


def _financial_years() -> tuple[datetime.date, datetime.date]:
    """From 1 April of the current NHS financial year to 31 March two years on."""
    today = timezone.localdate()
    start = today.year if today.month >= 4 else today.year - 1
    return datetime.date(start, 4, 1), datetime.date(start + 2, 3, 31)


def _price_list(code, name, kind, *, segments=(), valid_from=None, valid_to=None) -> PriceList:
    price_list = PriceList.objects.filter(code=code).first() or PriceList(code=code)
    price_list.name, price_list.kind, price_list.currency = name, kind, "GBP"
    price_list.valid_from, price_list.valid_to, price_list.is_active = valid_from, valid_to, True
    return services.price_list_save(price_list=price_list, segments=list(segments),
                                    organisations=[], territories=[])


def _set_items(price_list: PriceList, wanted: dict[tuple[int, int], Decimal]) -> None:
    """Make the list hold exactly `wanted` ((product id, minimum quantity) -> price)."""
    existing = {(i.product_id, i.min_quantity): i for i in price_list.items.all()}
    stale = [i.pk for key, i in existing.items() if key not in wanted]
    price_list.items.filter(pk__in=stale).delete()
    for (product_id, min_quantity), amount in wanted.items():
        item = existing.get((product_id, min_quantity))
        if item is not None and item.unit_price == amount:
            continue
        item = item or PriceListItem(price_list=price_list, product_id=product_id,
                                     min_quantity=min_quantity)
        item.unit_price = amount
        services.price_list_item_save(item=item)


def _contract(organisation, reference, lot, price_list, period, fulfillers=()) -> Contract:
    contract = Contract.objects.filter(organisation=organisation, reference=reference,
                                       lot=lot).first() or Contract(
        organisation=organisation, reference=reference, lot=lot)
    contract.price_list = price_list
    contract.valid_from, contract.valid_to = period
    contract.status = ContractStatus.ACTIVE
    contract = services.contract_save(contract=contract)
    contract.authorised_fulfillers.set(fulfillers)
    return contract


def _organisation(key: str) -> Organisation:
    spec = next(o for o in ORGANISATIONS if o.key == key)
    return Organisation.objects.get(ods_code=spec.ods_code) if spec.ods_code else \
        Organisation.objects.get(name=spec.name)


def _accepted_quote(riverside, products, prices) -> Quote:
    quote = Quote.objects.filter(number=DEMO_QUOTE, revision=1).first() or Quote(
        number=DEMO_QUOTE, revision=1)
    quote.organisation = riverside
    quote.status = QuoteStatus.ACCEPTED
    quote.note = "Winter pressure stock for the acute medicine wards."
    quote.response_note = "Volume price agreed for the winter period."
    quote.requested_by = User.objects.filter(email="nhs.buyer@demo.test").first()
    quote.answered_by = User.objects.filter(email="manager@demo.test").first()
    now = timezone.now()
    quote.answered_at = quote.answered_at or now
    quote.accepted_at = quote.accepted_at or now
    quote.expires_on = timezone.localdate() + datetime.timedelta(days=90)
    quote.full_clean()
    quote.save()
    for product in products:
        line = QuoteLine.objects.filter(quote=quote, product=product).first() or QuoteLine(
            quote=quote, product=product)
        line.quantity = 500
        line.unit_price = _share(prices[product.pk], "0.68")
        line.full_clean()
        line.save()
    quote.lines.exclude(product__in=products).delete()
    return quote


def load_pricing() -> dict[str, PriceList]:
    """Create or bring up to date the demo prices in one transaction."""
    with transaction.atomic():
        products = list(Product.objects.select_related("category").order_by("sku"))
        prices = {p.pk: list_price(p) for p in products}
        _set_cost_prices(products, prices)
        segments = {s.code: s for s in Segment.objects.all()}
        period = _financial_years()
        today = timezone.localdate()
        lists = {
            "list": _price_list("list-gbp", "List prices", PriceListKind.LIST),
            "retail": _price_list("retail-gbp", "Retail prices", PriceListKind.RETAIL),
            "clinic": _price_list("clinic-volume", "Clinic volume prices", PriceListKind.SEGMENT,
                                  segments=[segments["private-clinics"]]),
            "distributor": _price_list("distributor-trade", "Distributor trade prices",
                                       PriceListKind.SEGMENT, segments=[segments["distributors"]]),
            "promotion": _price_list(
                "spring-mobility", "Spring mobility offer", PriceListKind.PROMOTION,
                segments=[segments["retail-consumers"]], valid_from=today - datetime.timedelta(
                    days=7), valid_to=today + datetime.timedelta(days=60)),
            "riverside": _price_list("nhs-2025-118-lot-3", "NHS-2025-118 lot 3 (Riverside)",
                                     PriceListKind.CONTRACT),
            "northgate": _price_list("nhs-2025-240-lot-1", "NHS-2025-240 lot 1 (Northgate)",
                                     PriceListKind.CONTRACT),
            "ics": _price_list("ntics-fw-2025", "North Thames ICS framework 2025",
                               PriceListKind.CONTRACT),
            "soft-goods": _price_list("nhs-2025-131-lot-2",
                                      "NHS-2025-131 lot 2 orthopaedic soft goods (Riverside)",
                                      PriceListKind.CONTRACT),
        }
        _set_items(lists["list"], {(p, 1): v for p, v in prices.items()})
        _set_items(lists["retail"], {(p, 1): _share(v, "1.35") for p, v in prices.items()})
        clinic = {}
        for p, v in prices.items():
            clinic[(p, 10)] = _share(v, "0.95")
            clinic[(p, 50)] = _share(v, "0.90")
        _set_items(lists["clinic"], clinic)
        _set_items(lists["distributor"], {(p, 1): _share(v, "0.70") for p, v in prices.items()})
        mobility = Category.objects.filter(slug="mobility").first()
        on_offer = [p for p in products if mobility and p.category.path.startswith(mobility.path)]
        _set_items(lists["promotion"], {(p.pk, 1): _share(prices[p.pk], "1.15") for p in on_offer})
        soft_goods = [c.path for c in Category.objects.filter(slug__in=SOFT_GOODS)]
        _set_items(lists["soft-goods"], {
            (p.pk, 1): _share(prices[p.pk], "0.80") for p in products
            if any(p.category.path.startswith(path) for path in soft_goods)})
        contract_lines = products[:RIVERSIDE_LINES]
        riverside_items, northgate_items = {}, {}
        for p in contract_lines:
            riverside_items[(p.pk, 1)] = _share(prices[p.pk], "0.78")
            riverside_items[(p.pk, 100)] = _share(prices[p.pk], "0.74")
            northgate_items[(p.pk, 1)] = _share(prices[p.pk], "0.81")
        _set_items(lists["riverside"], riverside_items)
        _set_items(lists["northgate"], northgate_items)
        _set_items(lists["ics"], {(p.pk, 1): _share(prices[p.pk], "0.85")
                                  for p in products[:ICS_LINES]})
        riverside, northgate = _organisation("riverside"), _organisation("northgate")
        _contract(riverside, "NHS-2025-118", "3", lists["riverside"], period)
        # Northgate's contract names no distributor, so Pennine sees only its own trade price on
        # Northgate's routed continence orders. Riverside's orthopaedic soft-goods contract is
        # fulfilled by Solent, which invoices at its prices and so sees them on Riverside's
        # splints and collars routed to it.
        _contract(northgate, "NHS-2025-240", "1", lists["northgate"], period)
        _contract(riverside, "NHS-2025-131", "2", lists["soft-goods"], period,
                  fulfillers=[_organisation("solent")])
        _contract(_organisation("north-thames-ics"), "NTICS-FW-2025", "", lists["ics"], period)
        _accepted_quote(riverside, contract_lines[:2], prices)
        return lists
