"""Orders in a given state, built straight in the tables, for tests of what may happen next."""

from decimal import Decimal

from ordering.models import ApprovalStep, Order, OrderLine, PaymentMethod

_serial = iter(range(1, 10**6))


def make_order(world, state, *, placed_by="requisitioner", fulfiller=None, total="100.00",
               steps=(("Every requisition", "approver"),), cost_centre=True, product=None,
               quantity=8, allocated=8, backordered=0, **extra) -> Order:
    net = Decimal(total)
    order = Order.objects.create(
        number=f"T-{next(_serial):06d}", workflow="institutional", state=state,
        placed_by=world.user(placed_by), organisation=world.trust, site=world.ward_a,
        customer_tier="A", fulfiller=fulfiller,
        cost_centre=world.cost_centre if cost_centre else None, currency="GBP",
        total_net=net, total_vat=Decimal("0.00"), total_gross=net,
        payment_method=PaymentMethod.ACCOUNT, **extra,
    )
    OrderLine.objects.create(
        order=order, product=product or world.dressing, site=world.ward_a, quantity=quantity,
        unit_price=net / quantity, vat_rate=Decimal("0"), price_source="list",
        line_net=net, line_vat=Decimal("0.00"), line_gross=net,
        allocated_quantity=allocated, backordered_quantity=backordered,
    )
    if state == "pending_approval":
        for position, (name, role) in enumerate(steps, start=1):
            ApprovalStep.objects.create(order=order, position=position, rule_name=name,
                                        approver_role=role)
    return order
