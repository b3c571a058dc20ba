"""Stock reservation and release under row locks (PostgreSQL `SELECT … FOR UPDATE`), rows always
locked in primary-key order so two checkouts never deadlock."""

from django.db.models import F

from catalog.models import SELLABLE_STATUSES, Product, Recall

from ..errors import OrderError
from ..models import Stock


def stock_under_recall(product_id: int) -> bool:
    """Is the product under an active recall of every lot? Its stock goes to nobody."""
    return Recall.objects.filter(
        product_id=product_id, lifted_at__isnull=True, lot_numbers=""
    ).exists()


def stock_reserve(wanted: dict[int, int]) -> dict[int, int]:
    """Reserve up to `wanted[product_id]` units of each product; returns the units reserved
    (a product without a stock row has none). Call inside a transaction."""
    if not wanted:
        return {}
    rows = list(
        Stock.objects.select_for_update().filter(product_id__in=list(wanted)).order_by("pk")
    )
    # Read after the locks: a recall raised while this checkout waited for them is seen here.
    off_sale = Product.objects.filter(pk__in=list(wanted)).exclude(
        regulatory_status__in=SELLABLE_STATUSES
    ).order_by("name").values_list("name", flat=True).first()
    if off_sale is not None:
        raise OrderError("recalled", f"{off_sale} was recalled or withdrawn a moment ago: "
                         "remove it from your cart.")
    reserved = {}
    for row in rows:
        take = max(0, min(row.on_hand - row.reserved, wanted[row.product_id]))
        row.reserved += take
        reserved[row.product_id] = take
    Stock.objects.bulk_update([r for r in rows if reserved[r.product_id]], ["reserved"])
    return {product_id: reserved.get(product_id, 0) for product_id in wanted}


def stock_release(released: dict[int, int]) -> None:
    """Give back reserved units (an order cancelled, rejected or declined)."""
    released = {pid: q for pid, q in released.items() if q}
    locked = Stock.objects.select_for_update().filter(product_id__in=list(released))
    for row in locked.order_by("pk").only("pk", "product_id"):
        Stock.objects.filter(pk=row.pk).update(reserved=F("reserved") - released[row.product_id])


def order_stock_release(*, order) -> None:
    """Give back the units reserved for an order's lines (cancelled, rejected, or its payment
    failed); its lines then hold none. Call inside a transaction."""
    released = {}
    for line in order.lines.filter(allocated_quantity__gt=0):
        released[line.product_id] = released.get(line.product_id, 0) + line.allocated_quantity
    stock_release(released)
    order.lines.update(allocated_quantity=0, backordered_quantity=0)
