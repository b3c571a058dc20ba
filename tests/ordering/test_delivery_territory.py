"""Where the goods go decides the territory: the demo consumers who deliver into a distributor's
exclusive area, through the real checkout pages, get a routed order to that distributor (named on
the payment page before they pay), never a direct one; a line restricted at the delivery address
is refused at the address step and at payment, with nothing written."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation, User
from catalog.models import Product
from ordering.models import CartLine, Order, OrderLine, Stock
from ordering.models.outbox import OutboxEvent

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242 4242 4242 4242"
PENNINE = "Pennine Medical Supplies"
SOLENT = "Solent Healthcare Distribution"


@pytest.fixture
def demo(demo_world):
    return demo_world


def _signed_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _to_payment(client: Client, sku: str, postcode: str):
    """Put one unit of `sku` in the cart, give the delivery address, decline VAT relief where
    it is offered; the payment page's response."""
    product = Product.objects.get(sku=sku)
    client.post(reverse("cart_add"), {"product": product.pk, "quantity": 1})
    response = client.post(reverse("checkout_retail_address"), {
        "name": "Delivery Person", "address": "1 Test Street", "postcode": postcode,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    if response.url == reverse("checkout_retail_relief"):
        response = client.post(reverse("checkout_retail_relief"), {"claim": "no"})
    assert response.url == reverse("checkout_retail_payment")
    return client.get(reverse("checkout_retail_payment"))


def _pay(client: Client, page):
    return client.post(reverse("checkout_retail_payment"), {
        "card_number": GOOD_CARD, "token": page.context["review"].price_token,
    })


def _written():
    return (Order.objects.count(), OrderLine.objects.count(), OutboxEvent.objects.count(),
            sorted(Stock.objects.values_list("product_id", "reserved")))


@pytest.mark.parametrize(("email", "sku", "postcode", "holder"), [
    ("patient@demo.test", "CT-1003", "LS9 6TA", PENNINE),
    ("carer@demo.test", "CT-1003", "M20 2LS", PENNINE),
    ("patient@demo.test", "OR-1001", "PO3 5LZ", SOLENT),
])
def test_a_consumer_delivering_into_an_exclusive_area_gets_a_routed_order(
    demo, email, sku, postcode, holder
):
    client = _signed_in(email)

    page = _to_payment(client, sku, postcode)
    response = _pay(client, page)

    assert response.status_code == 302
    order = Order.objects.filter(placed_by__email=email).latest("placed_at")
    assert order.fulfiller == Organisation.objects.get(name=holder)
    assert order.state == "routed"
    assert f"Through {holder}" in page.content.decode()
    assert order.delivery_postcode == postcode
    assert list(order.lines.values_list("product__sku", flat=True)) == [sku]


def test_a_line_restricted_at_the_delivery_address_is_refused_with_nothing_written(demo):
    client = _signed_in("patient@demo.test")
    test = Product.objects.get(sku="DX-1016")  # rapid tests are not sold in Scotland
    client.post(reverse("cart_add"), {"product": test.pk, "quantity": 1})
    cart = list(CartLine.objects.filter(cart__user__email="patient@demo.test")
                .values_list("product_id", "quantity"))
    before = _written()

    at_address = client.post(reverse("checkout_retail_address"), {
        "name": "Margaret Ellis", "address": "4 Morningside Road", "postcode": "EH10 4BF",
    })

    assert at_address.status_code == 422
    assert "Not registered for sale in Scotland" in at_address.content.decode()
    assert "Home pregnancy test" in at_address.content.decode()
    assert _written() == before
    assert list(CartLine.objects.filter(cart__user__email="patient@demo.test")
                .values_list("product_id", "quantity")) == cart


def test_an_address_changed_after_review_is_judged_again_and_must_be_confirmed(demo):
    client = _signed_in("patient@demo.test")
    page = _to_payment(client, "CT-1003", "SE22 8EF")  # at home: sold directly
    assert "Through" not in page.content.decode()
    client.post(reverse("checkout_retail_address"), {
        "name": "Margaret Ellis", "address": "9 Harehills Lane, Leeds", "postcode": "LS9 6TA",
    })
    before = _written()

    refused = _pay(client, page)

    assert refused.status_code == 200
    assert "changed since you reviewed" in refused.content.decode()
    assert f"Through {PENNINE}" in refused.content.decode()
    assert _written() == before
    confirmed = _pay(client, refused)
    assert confirmed.status_code == 302
    order = Order.objects.filter(placed_by__email="patient@demo.test").latest("placed_at")
    assert order.fulfiller.name == PENNINE


def test_once_a_delivery_address_is_given_the_cart_is_judged_for_it(demo):
    client = _signed_in("patient@demo.test")
    brief = Product.objects.get(sku="CT-1003")
    test = Product.objects.get(sku="DX-1016")
    client.post(reverse("checkout_retail_address"), {
        "name": "Margaret Ellis", "address": "9 Harehills Lane, Leeds", "postcode": "ls96ta"})

    client.post(reverse("cart_add"), {"product": brief.pk, "quantity": 1})
    in_leeds = client.get(reverse("cart")).content.decode()
    client.post(reverse("checkout_retail_address"), {
        "name": "Margaret Ellis", "address": "4 Morningside Road", "postcode": "EH10 4BF"})
    refused = client.post(reverse("cart_add"), {"product": test.pk, "quantity": 1}, follow=True)

    assert f"Through {PENNINE}" in in_leeds
    assert "Not registered for sale in Scotland" in refused.content.decode()
    assert list(CartLine.objects.filter(cart__user__email="patient@demo.test")
                .values_list("product_id", flat=True)) == [brief.pk]
