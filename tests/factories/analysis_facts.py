"""Orders for the purchase-history analysis, built straight in the tables: a buyer, a moment, a
state and the lines (product, units, net), with `placed_at` set after the insert (it is
auto_now_add) and `updated_at` set to the same moment, as if nothing touched the order since."""

import datetime
import itertools
from decimal import Decimal

from ordering.models import Order, OrderLine, PaymentMethod

_serial = itertools.count(1)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def history_order(*, placed_by, placed_at: datetime.datetime, lines, organisation=None,
                  state="delivered", currency="GBP", fulfiller=None) -> Order:
    """An order of `organisation` (or of the consumer `placed_by` when it is None) with
    `lines` = [(product, quantity, "net"), …], each perhaps followed by its unit cost and its
    list unit price ("net", "cost", "list"); its total is the sum of the lines' net."""
    total = sum((Decimal(line[2]) for line in lines), Decimal("0.00"))
    order = Order.objects.create(
        number=f"H-{next(_serial):07d}", workflow="institutional" if organisation else "retail",
        state=state, placed_by=placed_by, organisation=organisation, fulfiller=fulfiller,
        currency=currency, total_net=total, total_vat=Decimal("0.00"), total_gross=total,
        payment_method=PaymentMethod.ACCOUNT if organisation else PaymentMethod.CARD,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order, product=product, quantity=quantity,
            unit_price=Decimal(net) / quantity, vat_rate=Decimal("0"), price_source="list",
            line_net=Decimal(net), line_vat=Decimal("0.00"), line_gross=Decimal(net),
            unit_cost=_decimal(rest[0] if rest else None),
            list_unit_price=_decimal(rest[1] if len(rest) > 1 else None),
        )
        for product, quantity, net, *rest in lines
    )
    Order.objects.filter(pk=order.pk).update(placed_at=placed_at, updated_at=placed_at)
    order.placed_at = order.updated_at = placed_at
    return order
