"""What the service tier changes in ordering: concierge accounts are served first in a shortage
under the tier policy, and only they may choose priority next-day delivery."""

import datetime

from django.test import Client
from django.urls import reverse

from ordering.allocation import Backorder, allocation_plan
from ordering.models import Allocation, Order, OrderLine, Stock
from ordering.services.carts import cart_add
from ordering.tasks import stock_arrived
from tests.factories import OrganisationFactory
from tests.factories.segment_runs import buyer_facts
from tests.factories.service_levels import contract_promising

from .builders import make_order

T0 = datetime.datetime(2026, 11, 1, 9, 0)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_tier_policy_serves_concierge_before_a_better_customer_tier_and_keeps_a_b_c():
    backorders = [
        Backorder(1, 10, T0, tier="A", service_tier="standard"),
        Backorder(2, 10, T0 + datetime.timedelta(hours=1), tier="C", service_tier="concierge"),
        Backorder(3, 10, T0 + datetime.timedelta(hours=2), tier="B", service_tier="standard"),
        Backorder(4, 10, T0, tier="A", service_tier="self_service"),
    ]

    grants = allocation_plan("tier_priority", 25, backorders)

    assert {g.line_id: g.quantity for g in grants} == {2: 10, 1: 10, 3: 5}
    assert "concierge service" in grants[0].reason


def test_a_concierge_account_is_served_first_from_an_arrival(world):
    Stock.objects.filter(product=world.dressing).update(on_hand=0)
    first = make_order(world, "partly_backordered", allocated=0, backordered=8)
    clinic = OrganisationFactory(name="Concierge Clinic", customer_tier="C")
    buyer_facts(organisation=clinic, value_tier="concierge", revenue_12m="90000.00")
    later = make_order(world, "partly_backordered", allocated=0, backordered=8)
    Order.objects.filter(pk=later.pk).update(organisation=clinic, customer_tier="C")

    stock_arrived.delay(world.dressing.pk, 8, "tier_priority").get()

    assert OrderLine.objects.get(order=later).backordered_quantity == 0
    assert OrderLine.objects.get(order=first).backordered_quantity == 8
    assert Order.objects.get(pk=later.pk).state == "allocated"
    assert "concierge" in Allocation.objects.get(line__order=later).reason


def _checkout(client, world, option):
    page = client.get(reverse("checkout_institutional"))
    token = page.context["token"]
    return client.post(reverse("checkout_institutional"), {
        "po_number": f"PO-{option}", "cost_centre": world.cost_centre.pk,
        "delivery_option": option, "token": token, "place": "1",
        "requested_delivery_date": (datetime.date.today() + datetime.timedelta(days=7)).isoformat(),
        f"site-{page.context['review'].lines[0].cart_line_id}": world.ward_a.pk,
    })


def test_a_standard_account_posting_priority_delivery_gets_a_field_error_and_no_order(world):
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=1)
    client = _client(world.user("buyer"))

    response = _checkout(client, world, "priority_next_day")

    assert response.status_code == 200
    assert "delivery_option" in response.context["form"].errors
    assert not Order.objects.filter(organisation=world.trust).exists()
    assert "Priority next-day" not in client.get(reverse("checkout_institutional")).content.decode()


def test_a_concierge_account_chooses_priority_delivery_and_the_order_keeps_it(world):
    contract_promising(world.trust, "concierge")
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=1)
    client = _client(world.user("buyer"))
    assert "Priority next-day" in client.get(reverse("checkout_institutional")).content.decode()

    response = _checkout(client, world, "priority_next_day")

    order = Order.objects.get(organisation=world.trust)
    assert response.status_code == 302
    assert (order.delivery_option, order.service_tier) == ("priority_next_day", "concierge")
    detail = client.get(reverse("order_detail", args=[order.number])).content.decode()
    assert "Priority next-day" in detail


def _pay(client, option):
    client.post(reverse("checkout_retail_address"), {
        "name": "Pat Patient", "address": "12 Denmark Hill, London", "postcode": "SE5 9RS",
    })
    page = client.get(reverse("checkout_retail_payment"))
    return page, client.post(reverse("checkout_retail_payment"), {
        "delivery_option": option, "card_number": "4242 4242 4242 4242",
        "token": page.context["form"].initial["token"],
    })


def test_a_concierge_consumer_chooses_priority_delivery_at_payment(world):
    buyer_facts(user=world.user("patient"), value_tier="concierge", revenue_12m="2400.00")
    cart_add(buyer=world.buyer("patient"), product_id=world.frame.pk, quantity=1)

    page, paid = _pay(_client(world.user("patient")), "priority_next_day")

    order = Order.objects.get(placed_by=world.user("patient"))
    assert "Priority next-day" in page.content.decode()
    assert paid.status_code == 302
    assert (order.delivery_option, order.service_tier) == ("priority_next_day", "concierge")


def test_a_standard_consumer_posting_priority_delivery_gets_a_field_error_and_no_order(world):
    cart_add(buyer=world.buyer("patient"), product_id=world.frame.pk, quantity=1)

    page, refused = _pay(_client(world.user("patient")), "priority_next_day")

    assert "Priority next-day" not in page.content.decode()
    assert refused.status_code == 200
    assert "delivery_option" in refused.context["form"].errors
    assert not Order.objects.filter(placed_by=world.user("patient")).exists()
