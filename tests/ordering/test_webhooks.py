"""Webhook dispatch and delivery against a real HTTP receiver on 127.0.0.1: signed requests,
retries with back-off, dead after the last attempt, timeouts and refused connections counted,
redirects not followed, nothing delivered twice, and the sweep that makes up for lost tasks.
Celery runs eagerly here; tests/ordering/test_webhook_worker.py runs a real worker."""

import datetime
import hashlib
import hmac
import json
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ordering.models import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from ordering.services.transitions import order_transition
from ordering.services.webhooks import (
    outbox_dispatch,
    webhook_backoff,
    webhook_deliveries_retry,
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhooks_sweep,
)
from ordering.signing import webhook_signature, webhook_signature_verify
from tests.factories import OrganisationFactory
from tests.ordering.builders import make_order
from tests.ordering.webhook_receiver import closed_port_url, running_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def endpoint(world, receiver):
    return WebhookEndpoint.objects.create(organisation=world.trust, url=receiver.url)


def _event(world) -> OutboxEvent:
    order = make_order(world, "allocated")
    order_transition(order=order, action="ship", actor_buyer=None)
    return OutboxEvent.objects.get(order=order)


def _dispatch(event, capture) -> WebhookDelivery | None:
    with capture(execute=True):
        outbox_dispatch(event_ids=[event.pk])
    return WebhookDelivery.objects.filter(event=event).first()


def _make_due(delivery) -> None:
    """Time passes: the retry falls due."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def _oracle_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                            hashlib.sha256).hexdigest()


def test_an_event_is_posted_signed_with_the_endpoints_secret(
    world, receiver, endpoint, django_capture_on_commit_callbacks
):
    event = _event(world)

    delivery = _dispatch(event, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Storefront-Webhooks/")
    assert headers["Webhook-Id"] == str(event.id)
    assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 30
    assert headers["Webhook-Signature"] == _oracle_signature(
        endpoint.secret, headers["Webhook-Timestamp"], request.body
    )
    assert webhook_signature_verify(secret=endpoint.secret, timestamp=headers["Webhook-Timestamp"],
                                    body=request.body, signature=headers["Webhook-Signature"])
    assert json.loads(request.body) == event.payload
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED, 1, 200
    )
    assert delivery.delivered_at is not None
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_dispatch_reaches_every_active_endpoint_of_the_organisation_once(
    world, receiver, endpoint, django_capture_on_commit_callbacks
):
    second = WebhookEndpoint.objects.create(organisation=world.trust, url=receiver.url + "/2")
    WebhookEndpoint.objects.create(organisation=world.trust, url=receiver.url + "/off",
                                   is_active=False)
    WebhookEndpoint.objects.create(organisation=world.distributor, url=receiver.url + "/other")
    event = _event(world)

    with django_capture_on_commit_callbacks(execute=True):
        outbox_dispatch(event_ids=[event.pk])
        outbox_dispatch(event_ids=[event.pk])  # a duplicate task changes nothing

    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {
        endpoint.pk, second.pk
    }
    assert sorted(r.path for r in receiver.requests) == ["/hooks", "/hooks/2"]


def test_a_failing_endpoint_is_retried_with_back_off_then_dead(
    world, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    receiver.default_status = 500
    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)
    waits = []

    for _ in range(2):
        delivery.refresh_from_db()
        assert delivery.state == DeliveryState.PENDING
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # not due yet
        _make_due(delivery)
        webhook_delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert [round(w.total_seconds()) for w in waits] == [30, 60]
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DEAD, 3, 500
    )
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert len(receiver.requests) == 3
    assert {r.headers["Webhook-Id"] for r in receiver.requests} == {str(delivery.event_id)}
    _make_due(delivery)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # dead stays dead
    assert len(receiver.requests) == 3


def test_back_off_doubles_from_the_base_up_to_the_cap(settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 3600

    waits = [webhook_backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)]

    assert waits == [30, 60, 120, 1920, 3600, 3600]


def test_a_timeout_counts_as_a_failed_attempt(
    world, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 3

    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)

    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.PENDING, 1, None
    )
    assert delivery.last_error.startswith("Timeout")
    assert delivery.next_attempt_at > timezone.now()


def test_a_refused_connection_counts_as_a_failed_attempt(
    world, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(organisation=world.trust, url=closed_port_url())

    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)

    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.PENDING, 1, None
    )
    assert "Connection refused" in delivery.last_error
    assert len(delivery.last_error) <= 300


def test_a_redirect_is_not_followed(world, receiver, endpoint, django_capture_on_commit_callbacks):
    receiver.statuses = [302]

    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)

    assert [r.path for r in receiver.requests] == ["/hooks"]
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.PENDING, 302)


def test_a_delivered_event_is_not_sent_again(
    world, receiver, endpoint, django_capture_on_commit_callbacks
):
    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(hours=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        again = webhook_delivery_attempt(delivery_id=delivery.pk)
        swept = webhooks_sweep()
        outbox_dispatch(event_ids=[delivery.event_id])

    assert again is None and swept.deliveries_queued == 0
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)


def test_the_sweep_requeues_due_deliveries_and_dispatches_lost_events(
    world, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISPATCH_GRACE_SECONDS = 10
    receiver.statuses = [503]
    failed = _dispatch(_event(world), django_capture_on_commit_callbacks)  # retry pending
    lost = _event(world)  # its dispatch task never ran (no commit callbacks executed)
    OutboxEvent.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    fresh = _event(world)  # within the grace period: its own task may still be on its way

    with django_capture_on_commit_callbacks(execute=True):
        early = webhooks_sweep()  # the failed delivery is not due yet
    _make_due(failed)
    with django_capture_on_commit_callbacks(execute=True):
        sweep = webhooks_sweep()

    assert (early.events_dispatched, early.deliveries_queued) == (1, 1)  # the lost event
    assert (sweep.events_dispatched, sweep.deliveries_queued) == (0, 1)  # the retry
    delivered = WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED)
    assert set(delivered.values_list("event_id", flat=True)) == {failed.event_id, lost.pk}
    assert not WebhookDelivery.objects.filter(event=fresh).exists()
    assert [r.headers["Webhook-Id"] for r in receiver.requests].count(str(failed.event_id)) == 2


def test_retry_now_gives_a_dead_delivery_one_more_attempt(
    world, receiver, endpoint, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500, 500]
    delivery = _dispatch(_event(world), django_capture_on_commit_callbacks)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DEAD, 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_retry(delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DEAD, 2)  # failed once more

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_retry(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_retry(delivery_ids=[delivery.pk]) == 0
    assert len(receiver.requests) == 3


def test_a_switched_off_endpoint_receives_nothing_more(
    world, receiver, endpoint, django_capture_on_commit_callbacks
):
    event = _event(world)
    with django_capture_on_commit_callbacks():  # dispatched, delivery task not run yet
        outbox_dispatch(event_ids=[event.pk])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    outcome = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)

    assert outcome is None and receiver.requests == []
    assert WebhookDelivery.objects.get().state == DeliveryState.DEAD


@pytest.mark.parametrize("url", [
    "ftp://erp.example.com/hooks", "file:///etc/passwd", "javascript:alert(1)",
    "https://", "http://localhost:8000/hooks", "http://127.0.0.1/hooks",
    "http://10.1.2.3/hooks", "http://169.254.169.254/latest/meta-data", "http://[::1]/hooks",
])
def test_an_endpoint_must_be_a_public_http_address(world, url):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(organisation=world.trust, url=url)

    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_private_addresses_are_allowed_when_the_setting_says_so(world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True

    endpoint = webhook_endpoint_create(organisation=world.trust, url=" http://10.1.2.3/hooks ")

    assert endpoint.url == "http://10.1.2.3/hooks"
    with pytest.raises(ValidationError):
        webhook_endpoint_create(organisation=world.trust, url="ftp://10.1.2.3/hooks")


def test_an_organisation_registers_an_address_once(world):
    webhook_endpoint_create(organisation=world.trust, url="https://erp.example.com/hooks")

    with pytest.raises(ValidationError):
        webhook_endpoint_create(organisation=world.trust, url="https://erp.example.com/hooks")
    other = webhook_endpoint_create(organisation=OrganisationFactory(),
                                    url="https://erp.example.com/hooks")

    assert other.secret.startswith("whsec_")
    assert WebhookEndpoint.objects.count() == 2


def test_a_signature_fails_for_another_body_secret_or_an_old_timestamp():
    body, now = b'{"id":"evt"}', 1_700_000_000
    signature = webhook_signature(secret="whsec_a", timestamp=now, body=body)

    def verify(**changes):
        facts = {"secret": "whsec_a", "timestamp": str(now), "body": body,
                 "signature": signature, "now": now + 10}
        return webhook_signature_verify(**{**facts, **changes})

    assert verify()
    assert verify(signature=f"v1=deadbeef {signature}")  # one of several (secret rotation)
    assert not verify(body=b'{"id":"evu"}')
    assert not verify(secret="whsec_b")
    assert not verify(now=now + 3600)
    assert not verify(timestamp="yesterday")
