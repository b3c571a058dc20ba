"""The journey docs/api.md describes, end to end: an ERP places an idempotent order with its key,
the trust approves it in the storefront, the manufacturer's ERP ships it with lots and reports the
delivery, and the trust's webhook receiver hears every step, signed, once per event id."""

import datetime
import json

import pytest
from django.utils import timezone

from accounts.keys import ApiScope
from ordering.models import Order, OutboxEvent
from ordering.services.webhooks import webhook_endpoint_create
from ordering.signing import webhook_signature_verify
from tests.api.conftest import issue_key, issue_staff_key, key_client, session_client
from tests.factories import UserFactory
from tests.ordering.conftest import build_world
from tests.ordering.webhook_receiver import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.mark.django_db
def test_an_erp_places_an_order_follows_it_to_delivery_and_hears_every_step(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver listens on 127.0.0.1
    world = build_world()
    staff = UserFactory(is_staff=True, is_superuser=True)
    endpoint = webhook_endpoint_create(organisation=world.trust, url=receiver.url,
                                       created_by=world.user("org_admin"))
    erp = key_client(issue_key(world.trust, world.user("buyer"), name="Oracle ERP",
                               scopes=[ApiScope.CATALOGUE_READ, ApiScope.ORDERS_WRITE]))
    maker_erp = key_client(issue_staff_key(staff, scopes=[ApiScope.ORDERS_FULFIL]))
    body = {
        "lines": [{"sku": "WC-10001", "quantity": 20, "expected_unit_price": "12.5000"}],
        "po_number": "PO-2026-0413", "cost_centre": "W7210",
        "requested_delivery_date": str(timezone.localdate() + datetime.timedelta(days=5)),
    }

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    catalogue = erp.get("/api/v1/products/").json()["results"]
    placed = run(lambda: erp.post("/api/v1/orders/", body, format="json",
                                  HTTP_IDEMPOTENCY_KEY="7c1e9b52-order-1"))
    replayed = run(lambda: erp.post("/api/v1/orders/", body, format="json",
                                    HTTP_IDEMPOTENCY_KEY="7c1e9b52-order-1"))
    number = placed.json()["orders"][0]["number"]
    approver = session_client(world.user("approver"))
    run(lambda: approver.post(f"/orders/{number}/approve/", {"comment": "ok"}))
    line = Order.objects.get(number=number).lines.get()
    base = f"/api/v1/fulfilment/orders/{number}"
    run(lambda: maker_erp.post(f"{base}/acknowledge/", {"erp_reference": "SAP-1"}, format="json"))
    shipped = run(lambda: maker_erp.post(f"{base}/shipments/", {
        "tracking_number": "JD0002210", "carrier": "DPD",
        "lots": [{"line": line.pk, "lot_number": "L24-117", "quantity": 20,
                  "expiry_date": str(timezone.localdate() + datetime.timedelta(days=700))}],
    }, format="json"))
    delivered = run(lambda: maker_erp.post(f"{base}/delivery/", {}, format="json"))
    followed = erp.get(f"/api/v1/orders/{number}/").json()

    assert {row["sku"] for row in catalogue} >= {"WC-10001"}
    assert placed.status_code == 201 and replayed.content == placed.content
    assert Order.objects.count() == 1
    assert shipped.status_code == delivered.status_code == 200
    assert followed["state"] == "delivered"
    assert followed["lines"][0]["lots"] == [
        {"lot_number": "L24-117", "quantity": 20,
         "expiry_date": str(timezone.localdate() + datetime.timedelta(days=700))}]
    assert followed["shipments"][0]["tracking_number"] == "JD0002210"

    assert receiver.wait_for(OutboxEvent.objects.filter(organisation=world.trust).count())
    events = []
    for request in receiver.requests:
        assert webhook_signature_verify(
            secret=endpoint.secret, timestamp=request.headers["Webhook-Timestamp"],
            body=request.body, signature=request.headers["Webhook-Signature"],
        )
        payload = json.loads(request.body)
        assert payload["id"] == request.headers["Webhook-Id"]
        events.append(payload)
    assert len({e["id"] for e in events}) == len(events)
    assert [e["type"] for e in events] == [
        "order.place", "order.approve", "order.submit", "order.allocate", "order.acknowledge",
        "order.ship", "order.deliver",
    ]
    assert events[-1]["data"]["order"]["state"] == "delivered"
    assert events[-1]["data"]["order"]["href"] == f"/api/v1/orders/{number}/"
