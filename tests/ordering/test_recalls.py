"""Recalls and withdrawals: every open, unshipped line of a recalled product is held (no stock,
no approval, no allocation, no shipment), the product cannot be ordered on any surface, the
people of each order are told, and a recall naming lots stops those lots from shipping."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import Budget
from catalog.models import Product, Recall, RegulatoryStatus
from catalog.selectors import visible_products
from ordering.errors import OrderError
from ordering.models import (
    Allocation,
    ApprovalStep,
    Order,
    OrderEvent,
    OrderLine,
    OutboxEvent,
    Stock,
)
from ordering.services.allocation import allocation_run
from ordering.services.approvals import order_approve, order_cancel
from ordering.services.carts import cart_add
from ordering.services.checkout import InstitutionalDetails, checkout_institutional, checkout_review
from ordering.services.recalls import order_line_remove_held, recall_lift, recall_raise
from ordering.services.shipping import ShipmentReport, ShippedLot, order_ship
from ordering.services.stock import stock_reserve
from tests.factories import UserFactory

from .builders import make_order

HOLDING_STATES = ["pending_approval", "approved", "submitted", "routed",
                  "accepted_by_distributor", "allocated", "partly_backordered"]


@pytest.fixture
def staff(db):
    return UserFactory(email="vigilance@maker.test", is_staff=True, is_superuser=True)


def raise_recall(product, staff, **extra):
    details = {"kind": "recall", "reason": "Sterile barrier may be breached",
               "reference": "FSN-2026-014", "effective_date": datetime.date(2026, 12, 1)}
    details.update(extra)
    return recall_raise(product=product, raised_by=staff, **details)


def test_an_order_waiting_for_approval_cannot_be_approved_once_its_product_is_recalled(
    world, staff
):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    order = make_order(world, "pending_approval", total="100.00")

    raise_recall(world.dressing, staff)
    events = OrderEvent.objects.filter(order=order).count()
    with pytest.raises(OrderError) as refused:
        order_approve(order=order, actor_buyer=world.buyer("approver"), comment="Fine")

    assert refused.value.code == "line_held"
    assert "Foam dressing 10 x 10 cm" in refused.value.message
    assert "FSN-2026-014" in refused.value.message
    order.refresh_from_db()
    assert order.state == "pending_approval" and order.budget_id is None
    assert ApprovalStep.objects.get(order=order).status == "pending"
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("0.00")
    assert OrderEvent.objects.filter(order=order).count() == events
    line = OrderLine.objects.get(order=order)
    assert line.held_at is not None and line.allocated_quantity == 0
    assert line.held_reason == "Recall FSN-2026-014: Sterile barrier may be breached"
    assert Stock.objects.get(product=world.dressing).reserved == 0


def test_arriving_stock_is_never_allocated_to_a_held_line(world, staff):
    Stock.objects.filter(product=world.dressing).update(on_hand=0)
    order = make_order(world, "partly_backordered", allocated=0, backordered=8)
    raise_recall(world.dressing, staff)

    Stock.objects.filter(product=world.dressing).update(on_hand=40)
    allocations = allocation_run(product_id=world.dressing.pk)

    assert allocations == []
    assert not Allocation.objects.filter(line__order=order).exists()
    line = OrderLine.objects.get(order=order)
    assert (line.allocated_quantity, line.held_at is not None) == (0, True)
    assert Order.objects.get(pk=order.pk).state == "partly_backordered"
    assert Stock.objects.get(product=world.dressing).reserved == 0


@pytest.mark.parametrize("state", HOLDING_STATES)
def test_every_open_unshipped_line_is_held_and_its_stock_released(world, staff, state):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    fulfiller = world.distributor if state in ("routed", "accepted_by_distributor") else None
    order = make_order(world, state, fulfiller=fulfiller)
    other = make_order(world, state, fulfiller=fulfiller, product=world.gloves, allocated=0)

    recall = raise_recall(world.dressing, staff)

    line = OrderLine.objects.get(order=order)
    assert line.recall_id == recall.pk and line.held_at is not None
    assert line.allocated_quantity == 0 and line.backordered_quantity == 0
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert OrderLine.objects.get(order=other).held_at is None
    assert Order.objects.get(pk=order.pk).state == state
    assert OrderEvent.objects.filter(order=order, action="recall_hold").count() == 1
    assert OutboxEvent.objects.filter(order=order, type="order.recall_hold").exists()


@pytest.mark.parametrize("state", ["shipped", "delivered", "cancelled", "rejected"])
def test_lines_shipped_delivered_or_closed_are_left_alone(world, staff, state):
    shipped = 8 if state in ("shipped", "delivered") else 0
    order = make_order(world, state, allocated=0)
    OrderLine.objects.filter(order=order).update(shipped_quantity=shipped)

    raise_recall(world.dressing, staff)

    line = OrderLine.objects.get(order=order)
    assert line.held_at is None and line.recall_id is None
    assert not OrderEvent.objects.filter(order=order, action="recall_hold").exists()


def test_a_recall_takes_the_product_off_sale_and_a_withdrawal_marks_it_withdrawn(world, staff):
    raise_recall(world.dressing, staff)
    raise_recall(world.gloves, staff, kind="withdrawal", reference="FSN-2026-015")

    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == RegulatoryStatus.RECALLED
    assert Product.objects.get(pk=world.gloves.pk).regulatory_status == RegulatoryStatus.WITHDRAWN
    shown = set(visible_products(world.buyer("buyer")).values_list("sku", flat=True))
    assert shown == {world.frame.sku}


def test_a_recall_without_a_reason_or_reference_is_refused_and_holds_nothing(world, staff):
    order = make_order(world, "pending_approval")

    with pytest.raises(ValidationError):
        raise_recall(world.dressing, staff, reason=" ", reference="")

    assert not Recall.objects.exists()
    assert OrderLine.objects.get(order=order).held_at is None
    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == "on_market"


def test_a_recalled_product_cannot_be_added_to_a_cart_and_says_why(world, staff):
    raise_recall(world.dressing, staff)

    with pytest.raises(OrderError) as refused:
        cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=10)

    assert refused.value.code == "recalled"
    assert "FSN-2026-014" in refused.value.message
    assert not world.buyer("buyer").user.carts.filter(lines__isnull=False).exists()


def test_a_cart_holding_a_product_recalled_since_cannot_be_checked_out(world, staff):
    buyer = world.buyer("buyer", site=world.ward_a.pk)
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=10)
    cart_add(buyer=buyer, product_id=world.gloves.pk, quantity=10)
    token = checkout_review(buyer=buyer).price_token

    raise_recall(world.dressing, staff)
    with pytest.raises(OrderError) as refused:
        checkout_institutional(
            buyer=buyer, expected_token=token,
            details=InstitutionalDetails(
                po_number="PO-R-1", cost_centre_id=world.cost_centre.pk,
                requested_delivery_date=datetime.date.today() + datetime.timedelta(days=7),
            ),
        )

    assert refused.value.code == "cart_problem"
    assert "FSN-2026-014" in refused.value.message
    assert Order.objects.count() == 0
    assert Stock.objects.get(product=world.gloves).reserved == 0


def test_the_placer_and_the_pending_approvers_are_emailed_about_a_hold(
    world, staff, django_capture_on_commit_callbacks
):
    Stock.objects.filter(product=world.dressing).update(reserved=16)
    waiting = make_order(world, "pending_approval")
    submitted = make_order(world, "submitted", placed_by="buyer")

    with django_capture_on_commit_callbacks(execute=True):
        raise_recall(world.dressing, staff)

    sent = {message.subject: message for message in mail.outbox}
    assert set(sent) == {f"Order {waiting.number}: a recalled product is on hold",
                         f"Order {submitted.number}: a recalled product is on hold"}
    to_waiting = sent[f"Order {waiting.number}: a recalled product is on hold"]
    assert sorted(to_waiting.to) == sorted([
        "requisitioner@ordering.test", "approver@ordering.test", "senior@ordering.test",
        "budget_holder@ordering.test",
    ])
    assert "FSN-2026-014" in to_waiting.body and "WC-10001" in to_waiting.body
    assert sent[f"Order {submitted.number}: a recalled product is on hold"].to == [
        "buyer@ordering.test"
    ]


def test_an_order_with_a_held_line_can_be_cancelled(world, staff):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    order = make_order(world, "pending_approval")
    raise_recall(world.dressing, staff)

    order_cancel(order=order, actor_buyer=world.buyer("requisitioner"), comment="Recalled")

    assert Order.objects.get(pk=order.pk).state == "cancelled"


def test_a_held_line_is_never_shipped(world, staff):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    order = make_order(world, "allocated")
    raise_recall(world.dressing, staff)
    line = OrderLine.objects.get(order=order)
    report = ShipmentReport("TRK-1", (ShippedLot(line.pk, "L-1", 8),))

    with pytest.raises(OrderError) as refused:
        order_ship(order=order, actor_buyer=None, report=report)

    assert refused.value.code == "line_held"
    assert Order.objects.get(pk=order.pk).state == "allocated"
    assert not order.shipments.exists()


def test_a_recall_of_named_lots_holds_no_open_line_but_those_lots_never_ship(world, staff):
    order = make_order(world, "allocated")
    recall = raise_recall(world.dressing, staff, lot_numbers="L-BAD-1\nL-BAD-2")
    line = OrderLine.objects.get(order=order)

    with pytest.raises(OrderError) as refused:
        order_ship(order=order, actor_buyer=None, report=ShipmentReport(
            "TRK-1", (ShippedLot(line.pk, "L-OK", 4), ShippedLot(line.pk, "L-BAD-2", 4))))
    shipped = order_ship(order=order, actor_buyer=None,
                         report=ShipmentReport("TRK-2", (ShippedLot(line.pk, "L-OK", 8),)))

    assert recall.lots == ["L-BAD-1", "L-BAD-2"]
    assert line.held_at is None
    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == "on_market"
    assert refused.value.code == "lot_recalled"
    assert [lot.lot_number for lot in shipped.lots.all()] == ["L-OK"]


def test_lifting_a_recall_makes_the_product_orderable_and_held_lines_stay_held(world, staff):
    Stock.objects.filter(product=world.dressing).update(reserved=8)
    order = make_order(world, "pending_approval")
    recall = raise_recall(world.dressing, staff)

    with pytest.raises(OrderError):
        recall_lift(recall=recall, lifted_by=staff, reason="")
    recall_lift(recall=recall, lifted_by=staff, reason="Investigation closed, no defect")
    line = cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=10)

    assert line.quantity == 10
    assert Product.objects.get(pk=world.dressing.pk).regulatory_status == "on_market"
    assert Recall.objects.get(pk=recall.pk).lifted_by == staff
    assert OrderLine.objects.get(order=order).held_at is not None
    with pytest.raises(OrderError):
        recall_lift(recall=recall, lifted_by=staff, reason="Again")


def add_line(order, product, *, net="50.00", quantity=10, allocated=10, backordered=0):
    """A second line on a built order, its totals added to the order's."""
    net = Decimal(net)
    OrderLine.objects.create(
        order=order, product=product, site=order.site, quantity=quantity,
        unit_price=net / quantity, vat_rate=Decimal("0"), price_source="list", line_net=net,
        line_vat=Decimal("0.00"), line_gross=net, allocated_quantity=allocated,
        backordered_quantity=backordered,
    )
    Order.objects.filter(pk=order.pk).update(total_net=order.total_net + net,
                                             total_gross=order.total_gross + net)
    order.refresh_from_db()
    return order


def test_the_placer_removes_a_held_line_and_the_order_can_then_be_approved(world, staff):
    order = add_line(make_order(world, "pending_approval", allocated=0), world.gloves)
    raise_recall(world.dressing, staff)
    held = OrderLine.objects.get(order=order, product=world.dressing)

    with pytest.raises(OrderError) as stranger:
        order_line_remove_held(order=order, line_id=held.pk, actor_buyer=world.buyer("approver"))
    order_line_remove_held(order=order, line_id=held.pk, actor_buyer=world.buyer("requisitioner"))
    order_approve(order=order, actor_buyer=world.buyer("approver"))

    assert stranger.value.code == "forbidden"
    order.refresh_from_db()
    assert (order.total_net, order.total_gross) == (Decimal("50.00"), Decimal("50.00"))
    assert list(order.lines.values_list("product_id", flat=True)) == [world.gloves.pk]
    assert order.state == "allocated"
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("50.00")
    assert OrderEvent.objects.filter(order=order, action="remove_held_line").exists()


def test_removing_a_held_line_gives_back_its_committed_budget_and_completes_the_order(
    world, staff
):
    Stock.objects.filter(product=world.dressing).update(on_hand=0)
    Budget.objects.filter(pk=world.budget.pk).update(committed=Decimal("150.00"))
    order = make_order(world, "partly_backordered", allocated=0, backordered=8,
                       budget=world.budget)
    order = add_line(order, world.gloves)
    raise_recall(world.dressing, staff)
    held = OrderLine.objects.get(order=order, product=world.dressing)

    order_line_remove_held(order=order, line_id=held.pk, actor_buyer=world.buyer("requisitioner"))

    order.refresh_from_db()
    assert order.state == "allocated" and order.total_net == Decimal("50.00")
    assert Budget.objects.get(pk=world.budget.pk).committed == Decimal("50.00")


def test_only_a_held_line_may_be_removed_and_never_the_last_one(world, staff):
    alone = make_order(world, "pending_approval", allocated=0)
    both = add_line(make_order(world, "pending_approval", allocated=0, product=world.frame),
                    world.gloves, allocated=0)
    raise_recall(world.dressing, staff)
    free = OrderLine.objects.get(order=both, product=world.gloves)

    with pytest.raises(OrderError) as last:
        order_line_remove_held(order=alone, line_id=alone.lines.get().pk,
                               actor_buyer=world.buyer("requisitioner"))
    with pytest.raises(OrderError) as not_held:
        order_line_remove_held(order=both, line_id=free.pk,
                               actor_buyer=world.buyer("requisitioner"))

    assert (last.value.code, not_held.value.code) == ("last_line", "not_held")
    assert alone.lines.count() == 1 and both.lines.count() == 2
    assert Order.objects.get(pk=both.pk).total_net == Decimal("150.00")


def test_the_order_page_shows_the_hold_and_offers_the_placer_to_remove_the_line(
    world, staff, client
):
    order = add_line(make_order(world, "pending_approval", allocated=0), world.gloves)
    raise_recall(world.dressing, staff)
    held = OrderLine.objects.get(order=order, product=world.dressing)

    client.force_login(world.user("approver"))
    seen_by_approver = client.get(f"/orders/{order.number}/").content.decode()
    client.force_login(world.user("requisitioner"))
    seen_by_placer = client.get(f"/orders/{order.number}/").content.decode()
    removed = client.post(f"/orders/{order.number}/lines/{held.pk}/remove/")

    banner = f'data-held-line="{held.pk}"'
    assert banner in seen_by_approver and "Recall FSN-2026-014" in seen_by_approver
    assert "Remove this line" not in seen_by_approver
    assert banner in seen_by_placer and "Remove this line" in seen_by_placer
    assert removed.status_code == 302
    assert not OrderLine.objects.filter(pk=held.pk).exists()


def test_a_line_the_hold_did_not_reach_is_still_never_approved_allocated_or_shipped(
    world, staff
):
    # An order placed while the recall was being raised: its line is not held.
    raise_recall(world.dressing, staff)
    waiting = make_order(world, "pending_approval", allocated=0)
    short = make_order(world, "partly_backordered", allocated=0, backordered=8)
    ready = make_order(world, "allocated", allocated=0)
    ready_line = OrderLine.objects.get(order=ready)

    with pytest.raises(OrderError) as approval:
        order_approve(order=waiting, actor_buyer=world.buyer("approver"))
    allocations = allocation_run(product_id=world.dressing.pk)
    with pytest.raises(OrderError) as shipment:
        order_ship(order=ready, actor_buyer=None,
                   report=ShipmentReport("TRK-9", (ShippedLot(ready_line.pk, "L-1", 8),)))

    assert approval.value.code == "line_held" and "FSN-2026-014" in approval.value.message
    assert Order.objects.get(pk=waiting.pk).state == "pending_approval"
    assert allocations == [] and OrderLine.objects.get(order=short).allocated_quantity == 0
    assert shipment.value.code == "lot_recalled"
    assert Order.objects.get(pk=ready.pk).state == "allocated"


def test_stock_is_not_reserved_for_a_product_recalled_while_the_checkout_waited(world, staff):
    raise_recall(world.dressing, staff)

    with pytest.raises(OrderError) as refused:
        stock_reserve({world.dressing.pk: 5, world.gloves.pk: 5})

    assert refused.value.code == "recalled"
    assert Stock.objects.get(product=world.gloves).reserved == 0
    assert Stock.objects.get(product=world.dressing).reserved == 0
