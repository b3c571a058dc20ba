"""A detail the checkout refuses (a missing PO number or cost centre, a past delivery date) is shown
at its field on the checkout page, and nothing is ordered."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from ordering.forms import InstitutionalForm
from ordering.models import Order
from ordering.services.carts import cart_add
from ordering.services.checkout import checkout_review

from .conftest import build_world


@pytest.fixture
def world(db):
    return build_world(budget_amount="1000.00")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cost_centre", "", "Choose the cost centre to charge."),
    ("po_number", "", "Enter your purchase order (PO) number."),
    ("requested_delivery_date", "2020-01-01",
     "The requested delivery date cannot be in the past."),
])
def test_the_checkout_page_shows_a_refused_detail_at_its_field(world, field, value, message):
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=10)
    client = Client()
    client.force_login(world.user("buyer"))
    posted = {
        "po_number": "PO-PAGE", "cost_centre": world.cost_centre.pk,
        "requested_delivery_date": (datetime.date.today()
                                    + datetime.timedelta(days=5)).isoformat(),
        "token": checkout_review(buyer=buyer).price_token, "place": "1",
    }
    posted[field] = value

    response = client.post(reverse("checkout_institutional"), posted)

    form = response.context["form"]
    assert isinstance(form, InstitutionalForm)
    assert form.errors == {field: [message]}
    assert not Order.objects.exists()
