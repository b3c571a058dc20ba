"""Each order line keeps, from the moment of submission, the product's cost price and the base
list price it would have had (B2B list or retail list, by channel), so margins and discounts
against list are reported from the lines as they were sold."""

import datetime
from decimal import Decimal

from catalog.models import Product
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    DeliveryAddress,
    InstitutionalDetails,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from pricing.models import PriceListKind
from tests.pricing.conftest import make_list, price

HOME = DeliveryAddress("Pat Patient", "12 Denmark Hill, London", "se5 9rs")


def _with_cost(product, cost: str | None) -> None:
    Product.objects.filter(pk=product.pk).update(cost_price=None if cost is None else Decimal(cost))


def _requisition(world):
    requisitioner = world.buyer("requisitioner")
    cart_add(buyer=requisitioner, product_id=world.dressing.pk, quantity=60)
    cart_add(buyer=requisitioner, product_id=world.gloves.pk, quantity=10)
    token = checkout_review(buyer=requisitioner).price_token
    details = InstitutionalDetails(
        po_number="PO-2001", cost_centre_id=world.cost_centre.pk,
        requested_delivery_date=datetime.date.today() + datetime.timedelta(days=5),
    )
    [order] = checkout_institutional(buyer=requisitioner, details=details, expected_token=token)
    return order.lines.order_by("id")


def test_a_line_at_list_price_keeps_the_list_price_of_its_tier_and_the_cost_then(world):
    _with_cost(world.dressing, "6.2500")
    _with_cost(world.gloves, None)

    dressing, gloves = _requisition(world)

    assert (dressing.unit_price, dressing.list_unit_price) == (Decimal("11.0000"),
                                                               Decimal("11.0000"))
    assert dressing.unit_cost == Decimal("6.2500")
    assert (gloves.list_unit_price, gloves.unit_cost) == (Decimal("5.0000"), None)


def test_a_line_below_list_keeps_the_list_price_it_was_measured_against(world):
    deal = make_list("trust-deal", PriceListKind.SEGMENT, organisations=[world.trust])
    price(deal, world.dressing, "9.00")
    price(deal, world.dressing, "8.50", min_quantity=50)
    _with_cost(world.dressing, "6.00")

    dressing, _gloves = _requisition(world)

    assert (dressing.unit_price, dressing.price_source) == (Decimal("8.5000"), "segment")
    assert dressing.list_unit_price == Decimal("11.0000")
    assert dressing.unit_cost == Decimal("6.0000")


def test_a_retail_line_is_measured_against_the_retail_list(world):
    patient = world.buyer("patient")
    _with_cost(world.frame, "21.00")
    cart_add(buyer=patient, product_id=world.frame.pk, quantity=1)
    token = checkout_review(buyer=patient).price_token

    order = checkout_retail(buyer=patient, address=HOME, card_number="4242 4242 4242 4242",
                            expected_token=token)

    [frame] = order.lines.all()
    assert (frame.price_source, frame.list_unit_price) == ("retail", Decimal("50.0000"))
    assert frame.unit_cost == Decimal("21.0000")
