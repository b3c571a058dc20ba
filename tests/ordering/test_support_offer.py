"""The self-service tier is offered a paid support plan (a catalogue item of kind service) in
the cart and at checkout, added through the cart service; no other tier is offered one."""

from django.test import Client
from django.urls import reverse

from ordering.models import CartLine, Stock
from ordering.services.carts import cart_add
from tests.catalog.factories import ProductFactory
from tests.factories.segment_runs import buyer_facts
from tests.pricing.conftest import price

PLAN = "Priority support plan, 12 months"


def _plan(world):
    plan = ProductFactory(sku="SV-90001", name=PLAN, kind="service",
                          category=world.dressing.category)
    price(world.retail_list, plan, "49.00")
    price(world.b2b_list, plan, "40.00")
    Stock.objects.create(product=plan, on_hand=1000)
    return plan


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_self_service_consumer_is_offered_the_plan_and_a_standard_buyer_is_not(world):
    plan = _plan(world)
    buyer_facts(user=world.user("patient"), value_tier="self_service", revenue_12m="20.00")
    cart_add(buyer=world.buyer("patient"), product_id=world.dressing.pk, quantity=1)
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=1)

    patient_cart = _client(world.user("patient")).get(reverse("cart")).content.decode()
    trust_cart = _client(world.user("buyer")).get(reverse("cart")).content.decode()
    trust_checkout = _client(world.user("buyer")).get(
        reverse("checkout_institutional")).content.decode()

    assert PLAN in patient_cart and "£58.80" in patient_cart  # £49.00 + VAT, the retail price
    assert f'data-sku="{plan.sku}"' in patient_cart
    assert PLAN not in trust_cart and PLAN not in trust_checkout


def test_a_self_service_organisation_sees_it_at_checkout_and_adds_it_through_the_cart(world):
    plan = _plan(world)
    buyer_facts(organisation=world.trust, value_tier="self_service", revenue_12m="90.00")
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=1)
    client = _client(world.user("buyer"))
    assert PLAN in client.get(reverse("checkout_institutional")).content.decode()

    client.post(reverse("cart_add"), {"product": plan.pk, "quantity": 1, "next": "/cart/"})

    assert CartLine.objects.filter(cart__organisation=world.trust, product=plan).exists()
    assert "support-offer" not in client.get(reverse("cart")).content.decode()  # in cart now
