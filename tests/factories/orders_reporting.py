"""Orders as the reports see them: placed at a given moment, each line with its price source,
list, cost and list price snapshots and delivery site."""

import datetime
import itertools
from decimal import Decimal

from ordering.models import Order, OrderLine, PaymentMethod

_serial = itertools.count(1)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def reporting_order(user, organisation, placed_at: datetime.datetime, *, lines, site=None,
                    state="delivered", currency="GBP", postcode="") -> Order:
    """An order of `organisation` (None: the consumer `user`) placed at `placed_at`, with
    `lines` = [(product, quantity, "net", "unit cost" | None, "list unit price" | None,
    {"price_source": …, "price_list_code": …}, site | None), …]. Its `updated_at` is its
    `placed_at`, as for an order untouched since."""
    total = sum((Decimal(line[2]) for line in lines), Decimal("0.00"))
    order = Order.objects.create(
        number=f"RP-{next(_serial):07d}", workflow="institutional" if organisation else "retail",
        state=state, placed_by=user, organisation=organisation, site=site, currency=currency,
        total_net=total, total_vat=Decimal("0.00"), total_gross=total,
        delivery_postcode=postcode,
        payment_method=PaymentMethod.ACCOUNT if organisation else PaymentMethod.CARD,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order, product=product, quantity=quantity, site=line_site,
            unit_price=Decimal(net) / quantity, vat_rate=Decimal("0"),
            price_source=extra.get("price_source", "list"),
            price_list_code=extra.get("price_list_code", ""),
            unit_cost=_decimal(cost), list_unit_price=_decimal(listed),
            line_net=Decimal(net), line_vat=Decimal("0.00"), line_gross=Decimal(net),
        )
        for product, quantity, net, cost, listed, extra, line_site in lines
    )
    Order.objects.filter(pk=order.pk).update(placed_at=placed_at, updated_at=placed_at)
    order.placed_at = order.updated_at = placed_at
    return order
