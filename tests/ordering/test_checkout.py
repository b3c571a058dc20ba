"""Checkout re-asks every rule at submission, reserves stock under a lock, backorders the rest
(or refuses, for retail), keeps the resolved price on the lines and takes card or account
payment."""

import datetime
from decimal import Decimal

import pytest

from ordering.errors import OrderError
from ordering.models import ApprovalStep, CartLine, Order, OrderEvent, ReliefDeclaration, Stock
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    Declaration,
    DeliveryAddress,
    InstitutionalDetails,
    checkout_distributor,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from pricing.models import PriceListItem
from territories.lookup import region_for_area
from tests.territories.conftest import distributor, grant

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "se5 9rs")


def _declaration(**changes):
    facts = {"full_name": "Pat Patient", "address": "12 Denmark Hill, London SE5 9RS",
             "condition": "Arthritis of both knees", "confirmed": True}
    return Declaration(**{**facts, **changes})


def test_a_retail_purchase_with_vat_relief_zero_rates_the_eligible_item(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=1)
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=2)
    declaration = _declaration(signed_on_behalf=True, signer_name="Carys Carer",
                               signer_relationship="daughter")
    token = checkout_review(buyer=patient, relief=True).price_token

    order = checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD,
                            expected_token=token, declaration=declaration)

    frame, dressing = order.lines.order_by("id")
    assert (frame.relief_applied, frame.vat_rate, frame.line_gross) == (True, 0, Decimal("50.00"))
    assert (dressing.relief_applied, dressing.line_gross) == (False, Decimal("36.00"))
    assert order.total_gross == Decimal("86.00")
    assert order.state == "allocated" and order.payment_reference.startswith("TEST-")
    record = ReliefDeclaration.objects.get(order=order)
    assert (record.signer_name, record.signer_relationship) == ("Carys Carer", "daughter")
    assert "Group 12" in record.eligible_items and "Foam dressing" not in record.eligible_items
    assert Stock.objects.get(product=world.frame).reserved == 1
    assert not CartLine.objects.exists()


def test_a_declaration_on_someones_behalf_must_name_the_signer(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=1)
    token = checkout_review(buyer=patient, relief=True).price_token

    with pytest.raises(OrderError) as refused:
        checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD, expected_token=token,
                        declaration=_declaration(signed_on_behalf=True))

    assert refused.value.code == "declaration_incomplete"
    assert not Order.objects.exists()


def test_a_declined_card_leaves_no_confirmed_order_and_no_reservation(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=2)
    token = checkout_review(buyer=patient).price_token

    with pytest.raises(OrderError) as refused:
        checkout_retail(buyer=patient, address=HOME, card_number=DECLINED_CARD,
                        expected_token=token)

    assert refused.value.code == "payment_declined"
    assert list(Order.objects.values_list("state", flat=True)) == ["payment_failed"]
    assert not OrderEvent.objects.exclude(to_state__in=["awaiting_payment", "payment_failed"])
    assert Stock.objects.get(product=world.dressing).reserved == 0
    assert CartLine.objects.count() == 1


def test_a_price_that_changed_since_review_must_be_confirmed(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=1)
    seen = checkout_review(buyer=patient).price_token
    PriceListItem.objects.filter(price_list=world.retail_list, product=world.dressing).update(
        unit_price=Decimal("16.00")
    )

    with pytest.raises(OrderError) as refused:
        checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD, expected_token=seen)

    assert refused.value.code == "price_changed"
    assert refused.value.review.gross == Decimal("19.20")
    assert not Order.objects.exists()
    order = checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD,
                            expected_token=refused.value.review.price_token)
    assert order.total_gross == Decimal("19.20")


def test_retail_cannot_buy_more_than_is_in_stock(world):
    Stock.objects.filter(product=world.dressing).update(on_hand=3)
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=5)

    with pytest.raises(OrderError) as refused:
        checkout_retail(buyer=patient, address=HOME, card_number=GOOD_CARD,
                        expected_token=checkout_review(buyer=patient).price_token)

    assert refused.value.code == "out_of_stock" and "Only 3" in refused.value.message
    assert Stock.objects.get(product=world.dressing).reserved == 0


def _details(world, **changes):
    facts = {"po_number": "PO-1001", "cost_centre_id": world.cost_centre.pk,
             "requested_delivery_date": datetime.date.today() + datetime.timedelta(days=5)}
    return InstitutionalDetails(**{**facts, **changes})


def test_a_requisition_to_two_wards_waits_for_approval_with_prices_kept(world):
    requisitioner = world.buyer("requisitioner")
    cart_add(buyer=requisitioner, product_id=world.dressing.pk, quantity=60)
    cart_add(buyer=requisitioner, product_id=world.gloves.pk, quantity=10)
    gloves_line = CartLine.objects.get(product=world.gloves)
    sites = {gloves_line.pk: world.ward_b.pk}
    token = checkout_review(buyer=requisitioner, line_sites=sites).price_token

    [order] = checkout_institutional(buyer=requisitioner,
                                     details=_details(world, line_sites=sites),
                                     expected_token=token)

    assert order.state == "pending_approval" and order.po_number == "PO-1001"
    dressing, gloves = order.lines.order_by("id")
    assert (dressing.unit_price, dressing.price_source) == (Decimal("11.0000"), "list")
    assert "50+ tier" in dressing.price_explanation
    assert (dressing.site_id, gloves.site_id) == (world.ward_a.pk, world.ward_b.pk)
    assert (dressing.allocated_quantity, dressing.backordered_quantity) == (40, 20)
    assert order.total_net == Decimal("710.00")
    assert list(ApprovalStep.objects.filter(order=order).values_list("rule_name", flat=True)) == [
        "Every requisition"
    ]


def test_a_po_number_is_unique_within_the_organisation(world):
    buyer = world.buyer("buyer")
    for _ in range(2):
        cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=1)
    checkout_institutional(buyer=buyer, details=_details(world),
                           expected_token=checkout_review(buyer=buyer).price_token)
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=1)

    with pytest.raises(OrderError) as refused:
        checkout_institutional(buyer=buyer, details=_details(world),
                               expected_token=checkout_review(buyer=buyer).price_token)

    assert refused.value.code == "po_used"
    assert Order.objects.count() == 1


def test_a_cost_centre_of_another_organisation_is_refused(world):
    from tests.factories import CostCentreFactory

    foreign = CostCentreFactory()
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=1)

    with pytest.raises(OrderError) as refused:
        checkout_institutional(buyer=buyer, details=_details(world, cost_centre_id=foreign.pk),
                               expected_token=checkout_review(buyer=buyer).price_token)

    assert refused.value.code == "bad_cost_centre"
    assert not Order.objects.exists()


def test_payment_on_account_stays_within_the_credit_limit(world):
    world.trust.credit_limit = Decimal("100.00")
    world.trust.save()
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=10)

    with pytest.raises(OrderError) as refused:
        checkout_institutional(buyer=buyer, details=_details(world),
                               expected_token=checkout_review(buyer=buyer).price_token)

    assert refused.value.code == "credit_limit"
    assert not Order.objects.exists()


def test_a_distributor_bulk_order_backorders_what_is_not_in_stock(world):
    buyer = world.buyer("distributor")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=100)

    [order] = checkout_distributor(buyer=buyer, details=InstitutionalDetails(po_number="PMS-77"),
                                   expected_token=checkout_review(buyer=buyer).price_token)

    line = order.lines.get()
    assert order.state == "partly_backordered"
    assert (line.allocated_quantity, line.backordered_quantity) == (40, 60)
    assert Stock.objects.get(product=world.dressing).reserved == 40
    assert list(order.events.values_list("action", "to_state")) == [
        ("place", "submitted"), ("backorder", "partly_backordered")
    ]


def test_a_line_under_another_distributors_exclusive_right_becomes_a_routed_order(world):
    solent = distributor("Solent Test Distribution", postcode="SO15 1AA")
    grant(solent, region_for_area("SE"), product=world.frame)
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=2)
    cart_add(buyer=buyer, product_id=world.frame.pk, quantity=1)

    direct, routed = checkout_institutional(
        buyer=buyer, details=_details(world, po_number="PO-ROUTE"),
        expected_token=checkout_review(buyer=buyer).price_token,
    )

    assert direct.fulfiller_id is None and routed.fulfiller_id == solent.pk
    assert [line.product_id for line in routed.lines.all()] == [world.frame.pk]
    assert routed.state == "pending_approval"
    assert Stock.objects.get(product=world.frame).reserved == 0


def test_checkout_runs_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    buyer = world.buyer("distributor")
    for product in (world.dressing, world.frame, world.gloves):
        cart_add(buyer=buyer, product_id=product.pk, quantity=10)
    token = checkout_review(buyer=buyer).price_token

    # 26: one of them asks, once the stock rows are locked, whether a product left sale (a
    # recall raised while this checkout waited for the locks).
    with django_assert_max_num_queries(26):
        checkout_distributor(buyer=buyer, details=InstitutionalDetails(po_number="Q-1"),
                             expected_token=token)
