"""Orders of a purchase history, written straight into the tables with the date they were placed:
what the analyses (segments, complementary products) learn from."""

import itertools
from decimal import Decimal

from django.utils import timezone

from ordering.models import Order, OrderLine, PaymentMethod

_serial = itertools.count(1)


def history_order(*, products, user, organisation=None, state="delivered", days_ago=10,
                  unit_price="10.00") -> Order:
    """One order of `products` (one line each) placed `days_ago` days ago by `user`, for
    `organisation` (None: a retail consumer's order)."""
    price = Decimal(unit_price)
    net = price * len(products)
    order = Order.objects.create(
        number=f"H-{next(_serial):07d}",
        workflow="retail" if organisation is None else "institutional", state=state,
        placed_by=user, organisation=organisation, currency="GBP", total_net=net,
        total_vat=Decimal("0.00"), total_gross=net,
        payment_method=PaymentMethod.CARD if organisation is None else PaymentMethod.ACCOUNT,
    )
    OrderLine.objects.bulk_create([
        OrderLine(order=order, product=product, quantity=1, unit_price=price,
                  vat_rate=Decimal("0"), price_source="list", line_net=price,
                  line_vat=Decimal("0.00"), line_gross=price)
        for product in products
    ])
    placed = timezone.now() - timezone.timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(placed_at=placed, updated_at=placed)
    return order
