"""Reorder: a past order's products and quantities go back to the cart through the cart's checks,
every line or none, at today's prices — never the prices the order was placed at."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from ordering.errors import OrderError
from ordering.models import CartLine, Order, OrderLine, PaymentMethod
from ordering.services.carts import cart_for
from ordering.services.checkout import checkout_review
from ordering.services.lists import order_reorder
from tests.catalog.factories import ProductFactory
from tests.factories import MembershipFactory

from .builders import make_order


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _cart(buyer) -> dict[str, int]:
    return {line.product.sku: line.quantity for line in cart_for(buyer=buyer).lines.all()}


def _retail_order(world, *, product, quantity, unit_price) -> Order:
    total = Decimal(unit_price) * quantity
    order = Order.objects.create(
        number="R26-REORDER", workflow="retail", state="delivered",
        placed_by=world.user("patient"), currency="GBP", total_net=total,
        total_vat=Decimal("0.00"), total_gross=total, payment_method=PaymentMethod.CARD,
    )
    OrderLine.objects.create(
        order=order, product=product, quantity=quantity, unit_price=Decimal(unit_price),
        vat_rate=Decimal("0"), price_source="retail", line_net=total, line_vat=Decimal("0.00"),
        line_gross=total, allocated_quantity=quantity,
    )
    return order


def test_a_reorder_fills_the_cart_at_todays_prices_not_the_orders(world):
    old = make_order(world, "delivered", placed_by="buyer", total="800.00", quantity=8)
    second = OrderLine.objects.get(order=old)
    second.pk, second.product, second.site = None, world.dressing, world.ward_b
    second.save()  # the same product to a second ward: 16 units in all
    client = _client(world.user("buyer"))

    page = client.get(reverse("order_detail", args=[old.number])).content.decode()
    response = client.post(reverse("order_reorder", args=[old.number]))

    assert "today's prices" in page and "Reorder" in page
    assert response.url == reverse("cart")
    buyer = world.buyer("buyer")
    assert _cart(buyer) == {"WC-10001": 16}
    review = checkout_review(buyer=buyer)
    assert review.lines[0].price.unit_price == Decimal("12.50")  # list price today, not £100
    cart_page = client.get(reverse("cart")).content.decode()
    assert "at today&#x27;s prices" in cart_page and "£200.00" in cart_page


def test_two_buyers_of_different_segments_reorder_at_their_own_prices(world):
    trust_order = make_order(world, "allocated", placed_by="buyer", total="80.00", quantity=2,
                             allocated=2, product=world.frame)
    retail_order = _retail_order(world, product=world.frame, quantity=2, unit_price="10.00")

    order_reorder(buyer=world.buyer("buyer"), number=trust_order.number)
    order_reorder(buyer=world.buyer("patient"), number=retail_order.number)

    trust_review = checkout_review(buyer=world.buyer("buyer"))
    retail_review = checkout_review(buyer=world.buyer("patient"))
    assert trust_review.lines[0].price.unit_price == Decimal("40.00")
    assert (trust_review.lines[0].price.source, retail_review.lines[0].price.source) == (
        "list", "retail"
    )
    assert retail_review.lines[0].price.unit_price > Decimal("10.00")
    with pytest.raises(OrderError) as refused:
        order_reorder(buyer=world.buyer("patient"), number=trust_order.number)
    assert refused.value.code == "no_order"


def test_a_reorder_with_a_line_the_buyer_may_no_longer_buy_adds_nothing(world):
    withdrawn = ProductFactory(sku="WC-77777", category=world.dressing.category)
    old = make_order(world, "delivered", placed_by="buyer", product=world.dressing)
    for product, quantity in ((withdrawn, 3), (world.gloves, 7)):
        OrderLine.objects.create(
            order=old, product=product, quantity=quantity, unit_price=Decimal("1.00"),
            vat_rate=Decimal("0"), price_source="list", line_net=Decimal(quantity),
            line_vat=Decimal("0.00"), line_gross=Decimal(quantity), allocated_quantity=quantity,
        )
    withdrawn.is_active = False
    withdrawn.save()

    response = _client(world.user("buyer")).post(reverse("order_reorder", args=[old.number]))

    page = response.content.decode()
    assert response.status_code == 422
    assert "WC-77777: this product is no longer available to you." in page
    assert "multiples of 5" in page
    assert "nothing was added to your cart" in page
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("who", ["approver", "budget_holder", "org_admin"])
def test_a_role_that_may_see_but_not_order_cannot_reorder(world, who):
    old = make_order(world, "delivered", placed_by="buyer")
    client = _client(world.user(who))

    page = client.get(reverse("order_detail", args=[old.number])).content.decode()
    response = client.post(reverse("order_reorder", args=[old.number]))

    assert 'id="reorder"' not in page
    assert response.status_code == 302
    assert not CartLine.objects.exists()


def test_a_requisitioner_reorders_their_own_requisition(world):
    old = make_order(world, "rejected", placed_by="requisitioner", quantity=4, allocated=0,
                     total="50.00")

    order_reorder(buyer=world.buyer("requisitioner"), number=old.number)

    assert _cart(world.buyer("requisitioner")) == {"WC-10001": 4}


def test_another_organisations_or_colleagues_order_is_not_found(world):
    old = make_order(world, "delivered", placed_by="buyer")
    outsider = MembershipFactory(is_buyer=True)

    for user in (outsider.user, world.user("requisitioner"), world.user("distributor")):
        response = _client(user).post(reverse("order_reorder", args=[old.number]))
        assert response.status_code == 404
    assert not CartLine.objects.exists()
