"""The pages: each workflow's checkout exists only for its buyers, orders are scoped to the
buyer's organisation, direct POSTs that skip a step change nothing, list pages do not grow in
queries with their length."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ordering.models import Order, OrderEvent
from ordering.services.carts import cart_add
from tests.factories import MembershipFactory

from .builders import make_order

INSTITUTIONAL = ["checkout_institutional"]
RETAIL = ["checkout_retail_address", "checkout_retail_relief", "checkout_retail_payment"]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", INSTITUTIONAL + ["checkout_distributor", "routed_orders"])
def test_a_retail_consumer_never_reaches_another_workflows_pages(world, name):
    response = _client(world.user("patient")).get(reverse(name))

    assert response.status_code == 404


@pytest.mark.parametrize("name", RETAIL + ["checkout_distributor", "routed_orders"])
def test_an_institutional_buyer_never_reaches_another_workflows_pages(world, name):
    response = _client(world.user("buyer")).get(reverse(name))

    assert response.status_code == 404


def test_two_buyers_of_different_segments_each_see_their_own_checkout(world):
    patient, buyer = _client(world.user("patient")), _client(world.user("buyer"))
    cart_add(buyer=world.buyer("patient"), product_id=world.dressing.pk, quantity=1)
    cart_add(buyer=world.buyer("buyer"), product_id=world.dressing.pk, quantity=1)

    assert patient.get(reverse("checkout")).url == reverse("checkout_retail_address")
    assert buyer.get(reverse("checkout")).url == reverse("checkout_institutional")
    page = buyer.get(reverse("checkout_institutional")).content.decode()
    assert "PO number" in page and "Every requisition" in page and "£12.50" in page
    retail = patient.get(reverse("checkout_retail_address")).content.decode()
    assert "PO number" not in retail and "Where should we deliver" in retail


def test_another_organisations_order_is_not_found(world):
    order = make_order(world, "submitted")
    outsider = MembershipFactory(is_buyer=True, is_approver=True, approval_limit=10**5)

    client = _client(outsider.user)

    assert client.get(reverse("order_detail", args=[order.number])).status_code == 404
    assert client.post(reverse("order_action", args=[order.number, "cancel"])).status_code == 404
    assert Order.objects.get(pk=order.pk).state == "submitted"


def test_a_requisitioner_sees_only_their_own_orders_and_an_approver_all(world):
    own = make_order(world, "submitted", placed_by="requisitioner")
    other = make_order(world, "submitted", placed_by="buyer")

    mine = _client(world.user("requisitioner")).get(reverse("orders")).content.decode()
    everyone = _client(world.user("approver")).get(reverse("orders")).content.decode()

    assert own.number in mine and other.number not in mine
    assert own.number in everyone and other.number in everyone


@pytest.mark.parametrize(("who", "state", "action"), [
    ("requisitioner", "pending_approval", "approve"),
    ("buyer", "pending_approval", "approve"),
    ("approver", "submitted", "approve"),
    ("org_admin", "pending_approval", "reject"),
    ("approver", "allocated", "cancel"),
])
def test_a_direct_post_that_skips_a_step_or_a_role_changes_nothing(world, who, state, action):
    order = make_order(world, state)
    events = OrderEvent.objects.count()

    response = _client(world.user(who)).post(
        reverse("order_action", args=[order.number, action]), {"comment": "Trying"}
    )

    assert response.status_code in {302, 404}
    assert Order.objects.get(pk=order.pk).state == state
    assert OrderEvent.objects.count() == events


def test_an_approver_approves_from_the_order_page(world):
    order = make_order(world, "pending_approval")
    client = _client(world.user("approver"))

    assert order.number in client.get(reverse("approvals")).content.decode()
    client.post(reverse("order_action", args=[order.number, "approve"]), {"comment": "OK"})

    assert Order.objects.get(pk=order.pk).state == "allocated"


def test_another_distributor_cannot_see_a_routed_order(world):
    from tests.territories.conftest import distributor

    order = make_order(world, "routed", fulfiller=world.distributor, allocated=0)
    rival = MembershipFactory(organisation=distributor("Solent Test", postcode="SO15 1AA"))

    own = _client(world.user("distributor")).get(reverse("routed_order", args=[order.number]))
    other = _client(rival.user).get(reverse("routed_order", args=[order.number]))

    assert own.status_code == 200 and other.status_code == 404


def test_the_orders_csv_export_holds_the_buyers_orders_only(world):
    own = make_order(world, "submitted", placed_by="requisitioner", po_number="PO-CSV-1")
    other = make_order(world, "submitted", placed_by="buyer")

    response = _client(world.user("requisitioner")).get(reverse("orders_export"))

    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert own.number in body and "PO-CSV-1" in body and other.number not in body


@pytest.mark.parametrize("name", ["orders", "approvals", "orders_export"])
def test_list_pages_run_the_same_queries_for_few_and_many_orders(world, name):
    client = _client(world.user("approver"))
    client.get(reverse(name))

    def count(n):
        for _ in range(n):
            make_order(world, "pending_approval")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return len(queries)

    assert count(3) == count(30)


def test_a_consumer_has_no_approval_queue(world):
    assert _client(world.user("patient")).get(reverse("approvals")).status_code == 404
    assert _client(world.user("approver")).get(reverse("approvals")).status_code == 200
