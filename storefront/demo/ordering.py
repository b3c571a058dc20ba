"""Ordering in the demo world: Riverside's approval rules, and a little order history made through
the real cart and checkout services (so prices, territory and approvals are those a buyer meets).
Idempotent: history is only created once, recognised by its PO numbers and the patient's orders."""

import datetime
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from accounts.models import CostCentre, Organisation, User
from catalog.selectors import visible_products
from ordering.errors import OrderError
from ordering.models import ApprovalRule, Order
from ordering.services.approvals import order_approve
from ordering.services.carts import cart_add, cart_for
from ordering.services.checkout import (
    DeliveryAddress,
    InstitutionalDetails,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from ordering.workflows import workflow_for
from pricing.engine import prices_for
from segments.resolver import resolve

RIVERSIDE = "Riverside University Hospitals NHS Foundation Trust"
RIVERSIDE_RULES = (
    ("Every requisition needs an approver", Decimal("0.00"), "approver", 1),
    ("Orders of £5,000 or more need the budget holder", Decimal("5000.00"), "budget_holder", 2),
)
HISTORY_POS = ("RUH-DEMO-0001", "RUH-DEMO-0002")


def build_approval_rules() -> list[ApprovalRule]:
    trust = Organisation.objects.get(name=RIVERSIDE)
    rules = []
    for name, min_total, role, position in RIVERSIDE_RULES:
        rule, _ = ApprovalRule.objects.update_or_create(
            organisation=trust, name=name,
            defaults={"min_total": min_total, "approver_role": role, "position": position,
                      "is_active": True},
        )
        rules.append(rule)
    return rules


def _priced_direct_products(buyer, count: int) -> list[int]:
    in_stock = visible_products(buyer).filter(stock__on_hand__gt=F("stock__reserved") + 10)
    candidates = list(in_stock.order_by("sku").values_list("pk", flat=True)[:40])
    prices = prices_for(buyer, candidates)
    return [pid for pid in candidates if pid in prices and prices[pid].min_order_qty == 1
            and prices[pid].order_multiple == 1][:count]


def _fill_cart(buyer, product_ids, quantity: int) -> None:
    cart_for(buyer=buyer).lines.all().delete()
    for product_id in product_ids:
        try:
            cart_add(buyer=buyer, product_id=product_id, quantity=quantity)
        except OrderError:
            continue


def build_order_history() -> list[Order]:
    """Two Riverside requisitions (one approved, one waiting) and one retail order."""
    placed = []
    requisitioner = User.objects.get(email="nhs.buyer@demo.test")
    trust = Organisation.objects.get(name=RIVERSIDE)
    cost_centre = CostCentre.objects.filter(organisation=trust, is_active=True).order_by("code")
    buyer = resolve(requisitioner, organisation=trust)
    for number, po in enumerate(HISTORY_POS):
        if Order.objects.filter(organisation=trust, po_number=po).exists():
            continue
        _fill_cart(buyer, _priced_direct_products(buyer, 2 + number), 2)
        if not checkout_review(buyer=buyer).lines:
            break
        details = InstitutionalDetails(
            po_number=po, cost_centre_id=cost_centre.first().pk,
            requested_delivery_date=timezone.localdate() + datetime.timedelta(days=7 + number),
        )
        orders = checkout_institutional(buyer=buyer, details=details,
                                        expected_token=checkout_review(buyer=buyer).price_token)
        placed.extend(orders)
        if number == 0:
            approver = resolve(User.objects.get(email="nhs.approver@demo.test"), organisation=trust)
            for order in orders:
                order_approve(order=order, actor_buyer=approver, comment="Approved for the demo")
    patient = User.objects.get(email="patient@demo.test")
    if not Order.objects.filter(placed_by=patient).exists():
        consumer = resolve(patient)
        _fill_cart(consumer, _priced_direct_products(consumer, 1), 1)
        if workflow_for(consumer).name == "retail" and checkout_review(buyer=consumer).lines:
            placed.append(checkout_retail(
                buyer=consumer, card_number="4242 4242 4242 4242",
                address=DeliveryAddress(patient.full_name, "14 Denmark Hill, London",
                                        patient.postcode),
                expected_token=checkout_review(buyer=consumer).price_token,
            ))
    return placed


def load_ordering() -> list[Order]:
    """Approval rules for Riverside, then the order history (each step idempotent)."""
    build_approval_rules()
    return build_order_history()
