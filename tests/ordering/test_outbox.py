"""The outbox: every order change writes its events in the transaction that made the change — one
per organisation the order concerns — and asks for their dispatch only once that commits."""

import datetime
import uuid

import pytest
from django.db import transaction

from ordering.errors import OrderError
from ordering.models import Order, OrderEvent, OutboxEvent, PaymentMethod
from ordering.services.carts import cart_add
from ordering.services.checkout import (
    DeliveryAddress,
    InstitutionalDetails,
    checkout_distributor,
    checkout_institutional,
    checkout_retail,
    checkout_review,
)
from ordering.services.transitions import order_transition
from territories.lookup import region_for_area
from tests.ordering.builders import make_order
from tests.territories.conftest import distributor, grant

pytestmark = pytest.mark.django_db


def test_a_transition_writes_one_event_for_the_buyers_organisation(
    world, django_capture_on_commit_callbacks, settings
):
    order = make_order(world, "allocated", po_number="PO-77", erp_reference="ERP-9")

    with django_capture_on_commit_callbacks() as callbacks:
        order_transition(order=order, action="ship", actor_buyer=None, comment="DPD 123")

    event = OutboxEvent.objects.get()
    assert (event.organisation, event.order, event.type) == (world.trust, order, "order.ship")
    assert event.dispatched_at is None
    assert event.payload == {
        "id": str(event.id), "type": "order.ship", "created_at": event.payload["created_at"],
        "organisation": world.trust.pk,
        "data": {
            "order": {
                "number": order.number, "state": "shipped", "previous_state": "allocated",
                "workflow": "institutional", "po_number": "PO-77", "erp_reference": "ERP-9",
                "currency": "GBP", "total_net": "100.00", "total_vat": "0.00",
                "total_gross": "100.00", "fulfiller": None, "expected_delivery_date": None,
                "href": f"/api/v1/orders/{order.number}/",
            },
            "action": "ship", "comment": "DPD 123",
        },
    }
    assert datetime.datetime.fromisoformat(event.payload["created_at"]).tzinfo is not None
    # The dispatch, and the follow-ups of an order change (ORDER_CHANGED_TASKS: the reports'
    # refresh), queued for after commit.
    assert len(callbacks) == 1 + len(settings.ORDER_CHANGED_TASKS)


def test_a_transition_rolled_back_leaves_no_event_and_queues_nothing(
    world, django_capture_on_commit_callbacks
):
    order = make_order(world, "allocated")

    with (django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        order_transition(order=order, action="ship", actor_buyer=None)
        assert OutboxEvent.objects.count() == 1  # written inside the transaction…
        raise RuntimeError("the caller fails after the transition")

    assert not OutboxEvent.objects.exists()  # …and gone with it
    assert Order.objects.get(pk=order.pk).state == "allocated"
    assert callbacks == []


def test_a_refused_transition_writes_no_event(world):
    order = make_order(world, "allocated")

    with pytest.raises(OrderError):
        order_transition(order=order, action="approve", actor_buyer=world.buyer("approver"))

    assert not OutboxEvent.objects.exists()
    assert not OrderEvent.objects.exists()


def test_a_routed_order_tells_the_buyer_and_the_distributor(world):
    order = make_order(world, "routed", fulfiller=world.distributor)

    order_transition(order=order, action="accept", actor_buyer=world.buyer("distributor"))

    events = list(OutboxEvent.objects.order_by("organisation_id"))
    assert {e.organisation for e in events} == {world.trust, world.distributor}
    assert {e.type for e in events} == {"order.accept"}
    assert len({e.id for e in events}) == 2
    assert [e.payload["organisation"] for e in events] == [e.organisation_id for e in events]
    by_organisation = {e.organisation_id: e.payload["data"]["order"] for e in events}
    assert by_organisation[world.trust.pk]["href"] == f"/api/v1/orders/{order.number}/"
    assert by_organisation[world.distributor.pk]["href"] == (
        f"/api/v1/routed-orders/{order.number}/"
    )
    money = {"href", "total_net", "total_vat", "total_gross"}
    assert {k: v for k, v in by_organisation[world.trust.pk].items() if k not in money} == {
        k: v for k, v in by_organisation[world.distributor.pk].items() if k not in money}
    # The buyer's totals are the buyer's: the distributor reads the order at its own prices
    # (none here: the line was not priced for it).
    assert by_organisation[world.trust.pk]["total_net"] == "100.00"
    assert by_organisation[world.distributor.pk]["total_net"] == "0.00"
    assert "total_gross" not in by_organisation[world.distributor.pk]
    assert events[0].payload["data"]["order"]["fulfiller"] == world.distributor.name
    assert events[0].payload["data"]["order"]["state"] == "accepted_by_distributor"


def test_a_retail_order_writes_no_event(world):
    order = Order.objects.create(
        number=f"R-{uuid.uuid4().hex[:8]}", workflow="retail", state="allocated",
        placed_by=world.user("patient"), organisation=None, currency="GBP",
        payment_method=PaymentMethod.CARD,
    )

    order_transition(order=order, action="ship", actor_buyer=None)

    assert order.events.count() == 1
    assert not OutboxEvent.objects.exists()


def test_a_consumers_routed_order_tells_the_distributor(world):
    order = Order.objects.create(
        number=f"R-{uuid.uuid4().hex[:8]}", workflow="retail", state="routed",
        placed_by=world.user("patient"), organisation=None, fulfiller=world.distributor,
        currency="GBP", payment_method=PaymentMethod.CARD,
    )

    order_transition(order=order, action="accept", actor_buyer=world.buyer("distributor"))

    (event,) = OutboxEvent.objects.all()
    assert event.organisation == world.distributor
    assert event.payload["data"]["order"]["href"] == f"/api/v1/routed-orders/{order.number}/"


def test_a_retail_checkout_writes_no_event(world):
    patient = world.buyer("patient")
    cart_add(buyer=patient, product_id=world.dressing.pk, quantity=1)

    token = checkout_review(buyer=patient).price_token
    checkout_retail(
        buyer=patient, address=DeliveryAddress("Pat Patient", "12 Denmark Hill", "se5 9rs"),
        card_number="4242 4242 4242 4242", expected_token=token,
    )

    assert OrderEvent.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_a_distributor_checkout_writes_the_placement_and_the_allocation(world):
    buyer = world.buyer("distributor")
    cart_add(buyer=buyer, product_id=world.gloves.pk, quantity=10)

    [order] = checkout_distributor(buyer=buyer, details=InstitutionalDetails(po_number="Q-9"),
                                   expected_token=checkout_review(buyer=buyer).price_token)

    events = list(OutboxEvent.objects.order_by("created_at"))
    assert [(e.type, e.organisation_id) for e in events] == [
        ("order.place", world.distributor.pk), ("order.allocate", world.distributor.pk),
    ]
    assert [e.payload["data"]["order"]["state"] for e in events] == ["submitted", "allocated"]
    assert events[0].payload["data"]["order"]["previous_state"] is None
    assert {e.payload["data"]["order"]["number"] for e in events} == {order.number}


def test_a_checkout_with_a_routed_line_tells_the_distributor_of_its_order_only(world):
    solent = distributor("Solent Test Distribution", postcode="SO15 1AA")
    grant(solent, region_for_area("SE"), product=world.frame)
    buyer = world.buyer("buyer")
    cart_add(buyer=buyer, product_id=world.dressing.pk, quantity=2)
    cart_add(buyer=buyer, product_id=world.frame.pk, quantity=1)

    direct, routed = checkout_institutional(
        buyer=buyer,
        details=InstitutionalDetails(
            po_number="PO-ROUTE", cost_centre_id=world.cost_centre.pk,
            requested_delivery_date=datetime.date.today() + datetime.timedelta(days=5),
        ),
        expected_token=checkout_review(buyer=buyer).price_token,
    )

    placed = {(e.order_id, e.organisation_id) for e in OutboxEvent.objects.filter(
        type="order.place")}
    assert placed == {(direct.pk, world.trust.pk), (routed.pk, world.trust.pk),
                      (routed.pk, solent.pk)}
