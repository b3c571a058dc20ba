"""In the demo world: Northgate's contract NHS-2025-240 names no fulfiller, so Pennine sees its own
trade price on Northgate's routed continence order, never Northgate's contract price; Riverside's
NHS-2025-131 names Solent, so Riverside's splints reach Solent at the contract price."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import CostCentre, User
from catalog.models import Product
from ordering.services.approvals import order_approve
from ordering.services.carts import cart_add, cart_for
from ordering.services.checkout import (
    InstitutionalDetails,
    checkout_institutional,
    checkout_review,
)
from pricing.engine import prices_for
from segments.resolver import resolve

pytestmark = pytest.mark.django_db


def _routed_order(email: str, sku: str, po_number: str):
    buyer = resolve(User.objects.get(email=email))
    cart_for(buyer=buyer).lines.all().delete()
    product = Product.objects.get(sku=sku)
    cart_add(buyer=buyer, product_id=product.pk, quantity=4)
    cost_centre = CostCentre.objects.filter(organisation_id=buyer.organisation_id,
                                            is_active=True).order_by("code").first()
    orders = checkout_institutional(
        buyer=buyer,
        details=InstitutionalDetails(
            po_number=po_number, cost_centre_id=cost_centre.pk,
            requested_delivery_date=timezone.localdate() + datetime.timedelta(days=7),
        ),
        expected_token=checkout_review(buyer=buyer).price_token,
    )
    return buyer, product, next(order for order in orders if order.fulfiller_id)


def _page(email: str, order) -> str:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client.get(reverse("routed_order", args=[order.number])).content.decode()


def test_pennine_sees_its_own_trade_price_on_northgates_routed_order(demo_world):
    buyer, product, order = _routed_order("trust2.buyer@demo.test", "CT-1001", "NG-ROUTED-1")
    contract_price = prices_for(buyer, [product], 4)[product.pk]
    line = order.lines.get()

    page = _page("distributor.north@demo.test", order)

    assert order.fulfiller.name == "Pennine Medical Supplies"
    assert contract_price.explanation == "Contract NHS-2025-240 (lot 1)"
    assert line.unit_price == contract_price.unit_price
    assert f"£{contract_price.unit_price:.2f}" not in page and "NHS-2025-240" not in page
    assert line.fulfiller_unit_price is not None
    assert line.fulfiller_unit_price < line.unit_price
    assert f"£{line.fulfiller_unit_price:.2f}" in page and "Distributor trade prices" in page


def test_solent_sees_riversides_contract_price_on_the_contract_it_fulfils(demo_world):
    buyer, product, order = _routed_order("nhs.buyer@demo.test", "OR-1008", "RUH-ROUTED-1")
    approver = resolve(User.objects.get(email="nhs.approver@demo.test"),
                       organisation=buyer.organisation_id)
    order_approve(order=order, actor_buyer=approver, comment="For the routed demo")
    line = order.lines.get()

    page = _page("distributor.south@demo.test", order)

    assert order.fulfiller.name == "Solent Healthcare Distribution"
    assert line.price_explanation == "Contract NHS-2025-131 (lot 2)"
    assert f"£{line.unit_price:.2f}" in page and "Contract NHS-2025-131 (lot 2)" in page
