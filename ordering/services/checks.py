"""The questions every cart change and checkout re-asks for a set of products and quantities:
visible to this buyer?, priced for them?, within the quantity rules?, sold to their territory
directly, through a distributor, or not at all? Set-based: a fixed number of queries per distinct
quantity (the price engine answers for one quantity at a time)."""

from collections import defaultdict
from dataclasses import dataclass

from catalog.models import Product, Recall
from catalog.selectors import offered_but_off_sale, visible_products
from pricing.engine import (
    LineTotal,
    PricingError,
    ResolvedPrice,
    check_quantity,
    line_total,
    prices_for,
)
from segments.resolver import BuyerContext, Workflow
from territories.rules import availability_for, restriction_reasons

DIRECT = "direct"
VIA_DISTRIBUTOR = "via_distributor"


@dataclass(frozen=True)
class CheckedLine:
    product_id: int
    quantity: int
    product: Product | None = None
    price: ResolvedPrice | None = None
    availability: object = None
    problem_code: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem_code

    @property
    def routed(self) -> bool:
        return self.availability is not None and self.availability.status == VIA_DISTRIBUTOR

    @property
    def total(self) -> LineTotal | None:
        return line_total(self.price, self.quantity) if self.price else None


def _prices(buyer, quantities, *, relief, contract_id) -> dict[int, ResolvedPrice]:
    by_quantity = defaultdict(list)
    for product_id, quantity in quantities.items():
        by_quantity[quantity].append(product_id)
    prices = {}
    for quantity, product_ids in sorted(by_quantity.items()):
        prices.update(
            prices_for(buyer, product_ids, quantity, relief=relief, contract_id=contract_id)
        )
    return prices


def _recalled(buyer, product_ids) -> dict[int, Recall]:
    """Active recalls of every lot among the hidden products this buyer would otherwise see
    (queries only when some are hidden): the buyer is told why they cannot order them, and a
    product they could never see stays unnamed."""
    if not product_ids:
        return {}
    off_sale = offered_but_off_sale(buyer, product_ids)
    if not off_sale:
        return {}
    recalls = Recall.objects.filter(
        product_id__in=list(off_sale), lifted_at__isnull=True, lot_numbers=""
    ).select_related("product").order_by("raised_at")
    return {recall.product_id: recall for recall in recalls}


def _not_visible(buyer, restriction: str | None) -> tuple[str, str]:
    if restriction is None:
        return "not_visible", "This product is not available to you."
    where = buyer.postcode or buyer.territory_name or "your delivery address"
    return "unavailable", f"This product is not sold for delivery to {where}: {restriction}."


def _problem(
    buyer, product, quantity, price, availability, restriction=None, recall=None,
) -> tuple[str, str]:
    if product is None and recall is not None:
        return "recalled", f"{recall.product.name} cannot be ordered: {recall.summary}."
    if product is None:
        return _not_visible(buyer, restriction)
    if price is None:
        return "no_price", f"{product.name} has no price for you: ask for a quote."
    try:
        check_quantity(price, quantity)
    except PricingError as error:
        return error.code, f"{product.name}: {error.message}"
    status = availability.status
    if status == DIRECT:
        return "", ""
    if status == VIA_DISTRIBUTOR and buyer.workflow != Workflow.DISTRIBUTOR:
        return "", ""
    reason = availability.reason or "it is not sold to your delivery address"
    return "unavailable", f"{product.name} cannot be bought here: {reason}."


def check_lines(
    buyer: BuyerContext, quantities: dict[int, int], *, relief: bool = False,
    contract_id: int | None = None,
) -> dict[int, CheckedLine]:
    """Every product of `quantities` (product id → quantity) checked for `buyer`."""
    if not quantities:
        return {}
    products = {
        p.pk: p
        for p in visible_products(buyer).filter(pk__in=list(quantities)).select_related("category")
    }
    prices = _prices(
        buyer, {pid: q for pid, q in quantities.items() if pid in products},
        relief=relief, contract_id=contract_id,
    )
    availability = availability_for(buyer, products.values())
    hidden = [pid for pid in quantities if pid not in products]
    restricted = restriction_reasons(buyer, hidden) if hidden else {}
    recalls = _recalled(buyer, hidden)
    checked = {}
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        price = prices.get(product_id)
        where = availability.get(product_id)
        code, message = _problem(buyer, product, quantity, price, where,
                                 restricted.get(product_id), recalls.get(product_id))
        checked[product_id] = CheckedLine(
            product_id, quantity, product, price, where, code, message
        )
    return checked
