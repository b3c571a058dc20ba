"""The price engine: what a buyer pays for a page of products, set-based.

`prices_for(buyer, products, quantity)` gathers every candidate price for all the products in a
fixed number of queries (products, price-list items, contract items, accepted quotes) and picks per
product in Python by one precedence key:

    accepted quote  >  contract (own organisation, then parent, grandparent …)
    >  segment / territory / promotion list  >  list price (B2B) or retail price (B2C)

Within a level: higher list priority first, then the home currency (GBP), then the lowest unit
price at the requested quantity, then the code (so the answer is deterministic). The volume tier of
a list is its item with the highest minimum quantity not above the requested quantity.
docs/pricing.md has the rules.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.models import VatCategory
from catalog.selectors import VISIBILITY_STAMP, visibility_stamp, visible_products
from segments.models import SegmentKind
from segments.resolver import BuyerContext

from .models import (
    ASSIGNED_KINDS,
    Currency,
    PriceList,
    PriceListItem,
    PriceListKind,
    QuoteLine,
    QuoteStatus,
)
from .selectors import contracts_of

HOME_CURRENCY = Currency.GBP
EX_VAT = "ex VAT"
INC_VAT = "inc VAT"

VAT_RATES = {
    VatCategory.STANDARD: Decimal("0.20"),
    VatCategory.REDUCED: Decimal("0.05"),
    VatCategory.ZERO: Decimal("0"),
    VatCategory.RELIEF: Decimal("0.20"),
}
MINOR_UNITS = {Currency.GBP: Decimal("0.01"), Currency.EUR: Decimal("0.01")}


class Source:
    QUOTE = "quote"
    CONTRACT = "contract"
    SEGMENT = "segment"
    TERRITORY = "territory"
    PROMOTION = "promotion"
    LIST = "list"
    RETAIL = "retail"


LEVEL_QUOTE, LEVEL_CONTRACT, LEVEL_ASSIGNED, LEVEL_BASE = range(4)


class PricingError(Exception):
    """A pricing problem the buyer can fix (a quantity outside the rules of the price)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def quantize_price(amount: Decimal, currency: str) -> Decimal:
    """The one rounding of money: to the currency's minor unit, half up."""
    return Decimal(amount).quantize(MINOR_UNITS[currency], rounding=ROUND_HALF_UP)


def vat_rate_for(vat_category: str, *, relief: bool = False) -> Decimal:
    """UK VAT rate of a product. Relief-eligible items are standard-rated unless the order carries a
    valid eligibility declaration (`relief=True`)."""
    if vat_category == VatCategory.RELIEF and relief:
        return Decimal("0")
    return VAT_RATES[vat_category]


@dataclass(frozen=True)
class ResolvedPrice:
    product_id: int
    currency: str
    unit_price: Decimal
    vat_rate: Decimal
    unit_price_gross: Decimal
    shown: Decimal
    shown_label: str
    source: str
    tier_min_quantity: int
    explanation: str
    price_list_code: str
    tiers: tuple
    min_order_qty: int = 1
    max_order_qty: int | None = None
    order_multiple: int = 1
    contract_id: int | None = None
    quote_id: int | None = None
    # The base list price (B2B list or retail list) per unit, net, at the same quantity and in
    # the same currency: what "below list" is measured against. None when there is none.
    list_unit_price: Decimal | None = None

    @property
    def includes_vat(self) -> bool:
        return self.shown_label == INC_VAT


@dataclass(frozen=True)
class LineTotal:
    """Money of one line; `net + vat == gross` always holds."""

    currency: str
    net: Decimal
    vat: Decimal
    gross: Decimal


def line_total(price: ResolvedPrice, quantity: int) -> LineTotal:
    """Line money, rounded once. B2B lines round the net and add VAT on it; B2C lines start from the
    VAT-inclusive unit price the buyer was shown, so the total matches what they saw."""
    currency = price.currency
    if price.includes_vat:
        gross = quantize_price(price.unit_price_gross * quantity, currency)
        net = quantize_price(gross / (1 + price.vat_rate), currency)
        return LineTotal(currency, net, gross - net, gross)
    net = quantize_price(price.unit_price * quantity, currency)
    vat = quantize_price(net * price.vat_rate, currency)
    return LineTotal(currency, net, vat, net + vat)


def check_quantity(price: ResolvedPrice, quantity: int) -> None:
    """Raise PricingError when `quantity` breaks the minimum, maximum or pack multiple."""
    if quantity < price.min_order_qty:
        raise PricingError("below_minimum", f"The minimum order is {price.min_order_qty}.")
    if price.max_order_qty is not None and quantity > price.max_order_qty:
        raise PricingError("above_maximum", f"The maximum order is {price.max_order_qty}.")
    if quantity % price.order_multiple:
        raise PricingError(
            "not_a_multiple", f"Order in multiples of {price.order_multiple}."
        )


@dataclass(frozen=True)
class Candidate:
    """One way a product could be priced for this buyer, at the requested quantity."""

    product_id: int
    source: str
    level: int
    depth: int
    priority: int
    currency: str
    unit_price: Decimal
    tier_min_quantity: int
    code: str
    label: str
    tiers: tuple = ()
    min_order_qty: int = 1
    max_order_qty: int | None = None
    order_multiple: int = 1
    contract_id: int | None = None
    quote_id: int | None = None
    ref_id: int = 0
    price_list_code: str = ""

    @property
    def precedence(self) -> tuple:
        return (
            self.level, self.depth, -self.priority, self.currency != HOME_CURRENCY,
            self.unit_price, self.code, self.ref_id,
        )

    @property
    def explanation(self) -> str:
        if self.tier_min_quantity > 1:
            return f"{self.label}, {self.tier_min_quantity}+ tier"
        return self.label


@dataclass(frozen=True)
class PriceExplanation:
    """Every candidate for one product, best first, and the reason the winner won."""

    product_id: int
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def winner(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _product_ids(products) -> list[int] | None:
    """Ids of the products asked about; None when `products` is a queryset (used as a subquery)."""
    if hasattr(products, "query") and hasattr(products, "values"):
        return None
    return [getattr(p, "pk", p) for p in products]


def _stamped_vat_categories(buyer: BuyerContext, products) -> dict[int, str] | None:
    """VAT categories read from the products themselves, when every one of them was just
    answered by catalog.selectors.visible_products for these buyer facts (its stamp says so):
    asking the database again whether they are visible would only repeat that answer."""
    stamp = visibility_stamp(buyer)
    found = {}
    for product in products:
        loaded = getattr(product, "__dict__", {})
        if loaded.get(VISIBILITY_STAMP) != stamp or "vat_category" not in loaded:
            return None
        found[product.pk] = product.vat_category
    return found


def visible_vat_categories(buyer: BuyerContext, products) -> dict[int, str]:
    """VAT category by id of the asked products this buyer may see (only those get a price)."""
    if not (hasattr(products, "query") and hasattr(products, "values")):
        products = list(products)
        stamped = _stamped_vat_categories(buyer, products)
        if stamped is not None:
            return stamped
    ids = _product_ids(products)
    queryset = visible_products(buyer)
    if ids is None:
        page = products if products.query.is_sliced else products.order_by()
        queryset = queryset.filter(pk__in=page.values("pk"))
    else:
        queryset = queryset.filter(pk__in=ids)
    return dict(queryset.order_by().values_list("pk", "vat_category"))


def _valid_on(today, prefix: str = "") -> Q:
    starts = Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": today})
    ends = Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": today})
    return starts & ends


def _applicable_lists(buyer: BuyerContext, today):
    """Base and assigned price lists that reach this buyer (contracts are gathered separately)."""
    base_kind = PriceListKind.LIST if buyer.is_b2b else PriceListKind.RETAIL
    reached = Q(Exists(
        PriceList.segments.through.objects.filter(
            pricelist_id=OuterRef("pk"), segment__code__in=sorted(buyer.segments)
        ).filter(  # a computed segment reaches promotions only, never a segment price
            ~Q(segment__kind=SegmentKind.COMPUTED) | Q(pricelist__kind=PriceListKind.PROMOTION)
        )
    ))
    if buyer.organisation_path:
        reached |= Q(Exists(
            PriceList.organisations.through.objects.filter(
                pricelist_id=OuterRef("pk"), organisation_id__in=buyer.organisation_path
            )
        ))
    if buyer.postcode_area:
        reached |= Q(Exists(
            PriceList.territories.through.objects.filter(
                pricelist_id=OuterRef("pk"), territory__areas__code=buyer.postcode_area
            )
        ))
    return PriceList.objects.filter(
        _valid_on(today), Q(kind=base_kind) | (Q(kind__in=ASSIGNED_KINDS) & reached),
        is_active=True,
    )


ITEM_FIELDS = ("product_id", "min_quantity", "unit_price", "min_order_qty", "max_order_qty",
               "order_multiple")


def _list_rows(buyer, product_ids, today) -> list[dict]:
    return list(
        PriceListItem.objects.filter(
            product_id__in=product_ids, price_list__in=_applicable_lists(buyer, today).values("pk")
        ).order_by().values(
            *ITEM_FIELDS, "price_list_id", "price_list__code", "price_list__name",
            "price_list__kind", "price_list__currency", "price_list__priority",
        )
    )


def _contract_rows(buyer, product_ids, today) -> list[dict]:
    """Items of every contract that applies to the buyer (`contracts_of`: active, valid today, of
    its organisation or an ancestor), one row per (contract, item): a contract list shared by two
    contracts is gathered for each."""
    c = "price_list__contracts__"
    return list(
        PriceListItem.objects.filter(
            _valid_on(today, "price_list__"),
            product_id__in=product_ids,
            price_list__is_active=True,
            price_list__kind=PriceListKind.CONTRACT,
            **{f"{c}id__in": contracts_of(buyer=buyer, today=today).values("pk")},
        ).order_by().values(
            *ITEM_FIELDS, "price_list_id", "price_list__code", "price_list__currency",
            "price_list__priority", f"{c}id", f"{c}reference", f"{c}lot", f"{c}organisation_id",
            f"{c}organisation__name",
        )
    )


def _quote_rows(buyer, product_ids, today, quantity) -> list[dict]:
    return list(
        QuoteLine.objects.filter(
            quote__organisation_id=buyer.organisation_id,
            quote__status=QuoteStatus.ACCEPTED,
            quote__expires_on__gte=today,
            product_id__in=product_ids,
            quantity__gte=quantity,
            unit_price__isnull=False,
        ).order_by().values(
            "product_id", "quantity", "unit_price", "quote_id", "quote__number",
            "quote__revision", "quote__currency", "quote__expires_on",
        )
    )


def _tier_candidate(rows: list[dict], quantity: int, **fixed) -> Candidate | None:
    """The candidate of one list (or contract) for one product: its tier at `quantity`."""
    rows = sorted(rows, key=lambda r: r["min_quantity"])
    applicable = [r for r in rows if r["min_quantity"] <= quantity]
    if not applicable:
        return None
    tier = applicable[-1]
    return Candidate(
        product_id=tier["product_id"],
        unit_price=tier["unit_price"],
        tier_min_quantity=tier["min_quantity"],
        tiers=tuple((r["min_quantity"], r["unit_price"]) for r in rows),
        min_order_qty=tier["min_order_qty"],
        max_order_qty=tier["max_order_qty"],
        order_multiple=tier["order_multiple"],
        **fixed,
    )


def _grouped(rows, *keys) -> dict:
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return groups


def _list_label(kind: str, name: str) -> str:
    if kind == PriceListKind.LIST:
        return "List price"
    if kind == PriceListKind.RETAIL:
        return "Retail price"
    if kind == PriceListKind.PROMOTION:
        return f"Promotion: {name}"
    return name


def _candidates(buyer, product_ids, quantity, today, contract_id=None) -> list[Candidate]:
    found: list[Candidate] = []
    for rows in _grouped(_list_rows(buyer, product_ids, today), "price_list_id",
                         "product_id").values():
        head = rows[0]
        kind = head["price_list__kind"]
        candidate = _tier_candidate(
            rows, quantity,
            source=kind,
            level=LEVEL_ASSIGNED if kind in ASSIGNED_KINDS else LEVEL_BASE,
            depth=0,
            priority=head["price_list__priority"],
            currency=head["price_list__currency"],
            code=head["price_list__code"],
            label=_list_label(kind, head["price_list__name"]),
            ref_id=head["price_list_id"],
            price_list_code=head["price_list__code"],
        )
        if candidate:
            found.append(candidate)
    if buyer.organisation_id is None:
        return found
    c = "price_list__contracts__"
    depth_of = {org_id: depth for depth, org_id in enumerate(buyer.organisation_path)}
    for (cid, _), rows in _grouped(_contract_rows(buyer, product_ids, today), f"{c}id",
                                   "product_id").items():
        if contract_id is not None and cid != contract_id:
            continue
        head = rows[0]
        depth = depth_of[head[f"{c}organisation_id"]]
        lot = f" (lot {head[f'{c}lot']})" if head[f"{c}lot"] else ""
        inherited = f", via {head[f'{c}organisation__name']}" if depth else ""
        candidate = _tier_candidate(
            rows, quantity,
            source=Source.CONTRACT, level=LEVEL_CONTRACT, depth=depth,
            priority=head["price_list__priority"], currency=head["price_list__currency"],
            code=f"{head[f'{c}reference']}/{head[f'{c}lot']}",
            label=f"Contract {head[f'{c}reference']}{lot}{inherited}",
            contract_id=cid, ref_id=cid, price_list_code=head["price_list__code"],
        )
        if candidate:
            found.append(candidate)
    for row in _quote_rows(buyer, product_ids, today, quantity):
        found.append(Candidate(
            product_id=row["product_id"], source=Source.QUOTE, level=LEVEL_QUOTE, depth=0,
            priority=0, currency=row["quote__currency"], unit_price=row["unit_price"],
            tier_min_quantity=1, code=row["quote__number"],
            label=(f"Quote {row['quote__number']} rev {row['quote__revision']}, up to "
                   f"{row['quantity']}, valid until {row['quote__expires_on']:%d %b %Y}"),
            tiers=((1, row["unit_price"]),), max_order_qty=row["quantity"],
            quote_id=row["quote_id"], ref_id=-row["quote_id"],
            price_list_code=row["quote__number"],
        ))
    return found


def _ranked(buyer, products, quantity, contract_id) -> tuple[dict[int, str], dict[int, list]]:
    vat_categories = visible_vat_categories(buyer, products)
    if not vat_categories:
        return {}, {}
    today = timezone.localdate()
    ranked: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in _candidates(buyer, sorted(vat_categories), quantity, today, contract_id):
        ranked[candidate.product_id].append(candidate)
    for candidates in ranked.values():
        candidates.sort(key=lambda c: c.precedence)
    return vat_categories, ranked


def _list_unit_price(candidates: list[Candidate]) -> Decimal | None:
    """The unit price of the best base list candidate in the winner's currency (the winner's own
    when it is the list price)."""
    currency = candidates[0].currency
    return next((c.unit_price for c in candidates
                 if c.level == LEVEL_BASE and c.currency == currency), None)


def _resolved(buyer, winner: Candidate, vat_rate: Decimal,
              list_unit_price: Decimal | None = None) -> ResolvedPrice:
    gross = quantize_price(winner.unit_price * (1 + vat_rate), winner.currency)

    def shown(net):
        return net if buyer.is_b2b else quantize_price(net * (1 + vat_rate), winner.currency)

    return ResolvedPrice(
        product_id=winner.product_id,
        currency=winner.currency,
        unit_price=winner.unit_price,
        vat_rate=vat_rate,
        unit_price_gross=gross,
        shown=winner.unit_price if buyer.is_b2b else gross,
        shown_label=EX_VAT if buyer.is_b2b else INC_VAT,
        source=winner.source,
        tier_min_quantity=winner.tier_min_quantity,
        explanation=winner.explanation,
        price_list_code=winner.price_list_code,
        tiers=tuple((q, shown(p)) for q, p in winner.tiers),
        min_order_qty=winner.min_order_qty,
        max_order_qty=winner.max_order_qty,
        order_multiple=winner.order_multiple,
        contract_id=winner.contract_id,
        quote_id=winner.quote_id,
        list_unit_price=list_unit_price,
    )


def prices_for(
    buyer: BuyerContext, products, quantity: int = 1, *, relief: bool = False,
    contract_id: int | None = None,
) -> dict[int, ResolvedPrice]:
    """What `buyer` pays per unit for each product at `quantity`. A product without an applicable
    price (or not visible to the buyer) is absent: "price on request". `contract_id` restricts the
    contract level to the contract an institutional buyer chose at checkout."""
    quantity = max(int(quantity), 1)
    vat_categories, ranked = _ranked(buyer, products, quantity, contract_id)
    return {
        product_id: _resolved(
            buyer, candidates[0], vat_rate_for(vat_categories[product_id], relief=relief),
            _list_unit_price(candidates),
        )
        for product_id, candidates in ranked.items()
        if candidates
    }


def price_explanations(
    buyer: BuyerContext, products, quantity: int = 1
) -> dict[int, PriceExplanation]:
    """For staff: every candidate price per product, in precedence order (the first one wins)."""
    quantity = max(int(quantity), 1)
    vat_categories, ranked = _ranked(buyer, products, quantity, None)
    return {
        product_id: PriceExplanation(product_id, tuple(ranked.get(product_id, ())))
        for product_id in vat_categories
    }
