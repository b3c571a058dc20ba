"""An allocated order that has not been shipped can be cancelled by its placer or an org admin —
on the order page and through the API alike — giving back its reserved stock and its committed
budget; an approver cannot, and a shipped order cannot be cancelled by anyone."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Budget
from ordering.models import ApprovalRule, Order, OrderEvent, OrderState, Stock
from ordering.services.carts import cart_add
from ordering.services.checkout import InstitutionalDetails, checkout_institutional, checkout_review
from ordering.services.transitions import order_transition
from tests.api.test_orders import client_for

from .conftest import build_world


@pytest.fixture
def world(db):
    world = build_world(budget_amount="1000.00")
    ApprovalRule.objects.filter(organisation=world.trust).delete()
    return world


def _allocated_order(world, who="buyer"):
    buyer = world.buyer(who)
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=10)
    details = InstitutionalDetails(
        po_number="PO-3001", cost_centre_id=world.cost_centre.pk,
        requested_delivery_date=datetime.date.today() + datetime.timedelta(days=5),
    )
    [order] = checkout_institutional(buyer=buyer, details=details,
                                     expected_token=checkout_review(buyer=buyer).price_token)
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED
    return order


def _reserved(world) -> int:
    return Stock.objects.get(product=world.dressing).reserved


def _committed(world) -> Decimal:
    return Budget.objects.get(pk=world.budget.pk).committed


def test_the_placer_cancels_an_allocated_order_through_the_api(world):
    reserved_before = _reserved(world)
    order = _allocated_order(world)
    reserved, committed = _reserved(world), _committed(world)

    answer = client_for(world, "buyer").post(f"/api/v1/orders/{order.number}/cancel/",
                                             {"comment": "Ordered twice"}, format="json")

    assert answer.status_code == 200 and answer.json()["state"] == "cancelled"
    assert (reserved - reserved_before, committed) == (10, Decimal("125.00"))
    assert (_reserved(world), _committed(world)) == (reserved_before, Decimal("0.00"))
    assert all(line.allocated_quantity == 0 for line in order.lines.all())


def test_an_org_admin_cancels_an_allocated_order_on_its_page(world):
    reserved_before = _reserved(world)
    order = _allocated_order(world)
    client = Client()
    client.force_login(world.user("org_admin"))

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()
    client.post(reverse("order_action", args=[order.number, "cancel"]), {"comment": "Not needed"})

    assert "Cancel order" in page
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELLED
    assert (_reserved(world), _committed(world)) == (reserved_before, Decimal("0.00"))


def test_an_approver_cannot_cancel_someone_elses_allocated_order(world):
    order = _allocated_order(world)
    reserved, committed, events = _reserved(world), _committed(world), OrderEvent.objects.count()
    client = Client()
    client.force_login(world.user("approver"))

    client.post(reverse("order_action", args=[order.number, "cancel"]), {"comment": "No"})

    assert Order.objects.get(pk=order.pk).state == OrderState.ALLOCATED
    assert (_reserved(world), _committed(world)) == (reserved, committed)
    assert OrderEvent.objects.count() == events


def test_a_shipped_order_cannot_be_cancelled(world):
    order = _allocated_order(world)
    order_transition(order=order, action="ship", actor_buyer=None)
    committed = _committed(world)

    answer = client_for(world, "buyer").post(f"/api/v1/orders/{order.number}/cancel/",
                                             {}, format="json")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_allowed"
    assert Order.objects.get(pk=order.pk).state == OrderState.SHIPPED
    assert _committed(world) == committed

