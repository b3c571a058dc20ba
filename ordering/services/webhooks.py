"""Webhook endpoints and the delivery of outbox events to them.

Dispatch turns an event into one `WebhookDelivery` per active endpoint of its organisation. An
attempt first claims its delivery and commits (attempts + 1, `next_attempt_at` pushed out by a
lease), then POSTs the signed event, then records the answer. A worker that dies mid-attempt so
leaves a pending row that falls due again when the lease ends; the periodic sweep re-queues due
deliveries and dispatches events whose task was lost. Consumers may so receive an event more than
once — always with the same `Webhook-Id` — and never lose one."""

import ipaddress
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from storefront.celery import app

from ..models import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from ..models.outbox import new_webhook_secret
from ..signing import webhook_signature

DISPATCH_TASK = "ordering.tasks.outbox_dispatch"
DELIVER_TASK = "ordering.tasks.webhook_deliver"
USER_AGENT = "Storefront-Webhooks/1.0"
TEST_EVENT_TYPE = "webhook.test"
SWEEP_BATCH = 500


# Queueing ---------------------------------------------------------------------------------------

def webhook_task_after_commit(name: str, *args, countdown: float | None = None) -> None:
    """Queue a webhook task by name once the current transaction commits (at once outside one).
    `settings.WEBHOOK_QUEUE` routes webhook work to its own queue when set, so slow receivers
    never hold up order emails."""
    options = {}
    if settings.WEBHOOK_QUEUE:
        options["queue"] = settings.WEBHOOK_QUEUE
    if countdown:
        options["countdown"] = countdown
    signature = app.signature(name, args=args, **options)
    # Robust: with the broker unreachable the change stays committed and its events wait in the
    # outbox, where the sweep finds them.
    transaction.on_commit(signature.apply_async, robust=True)


# Endpoints --------------------------------------------------------------------------------------

def webhook_url_check(url: str) -> None:
    """Refuse an address events must not be sent to: anything but http(s), and — unless
    `settings.WEBHOOK_ALLOW_PRIVATE_URLS` — this machine or a private network, which an
    organisation admin must not be able to reach through us."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError({"url": "Enter an http:// or https:// address."})
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise ValidationError({"url": "Enter a public address: this one points at our server."})
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise ValidationError({"url": "Enter a public address, not a private network's."})


@transaction.atomic
def webhook_endpoint_save(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Create or change an endpoint; raises ValidationError (on `url` where it is the address)."""
    endpoint.url = endpoint.url.strip()
    webhook_url_check(endpoint.url)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_create(*, organisation=None, organisation_id: int | None = None,
                            url: str, description: str = "",
                            created_by=None) -> WebhookEndpoint:
    return webhook_endpoint_save(endpoint=WebhookEndpoint(
        organisation=organisation, organisation_id=organisation_id or organisation.pk,
        url=url, description=description, created_by=created_by,
    ))


def webhook_endpoint_change(*, endpoint: WebhookEndpoint, url: str | None = None,
                            description: str | None = None,
                            is_active: bool | None = None) -> WebhookEndpoint:
    """Change an endpoint's address, description or whether it receives events; what is not
    given stays. A refused address (ValidationError on `url`) changes nothing."""
    changed = WebhookEndpoint.objects.get(pk=endpoint.pk)
    for name, value in (("url", url), ("description", description), ("is_active", is_active)):
        if value is not None:
            setattr(changed, name, value)
    return webhook_endpoint_save(endpoint=changed)


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret. Deliveries from now on, retries of older events
    included, are signed with the new one: the receiver switches when it is shown the secret."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool) -> WebhookEndpoint:
    """Switch an endpoint on or off. An endpoint switched off receives nothing more: deliveries
    still pending for it are given up when they fall due."""
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint together with its deliveries; the events stay in the outbox."""
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a `webhook.test` event to this endpoint alone, signed like every other event."""
    now = timezone.now()
    event_id = uuid.uuid4()
    event = OutboxEvent.objects.create(
        id=event_id, organisation_id=endpoint.organisation_id, type=TEST_EVENT_TYPE,
        dispatched_at=now,
        payload={
            "id": str(event_id), "type": TEST_EVENT_TYPE, "created_at": now.isoformat(),
            "organisation": endpoint.organisation_id,
            "data": {"message": "A test event: your endpoint is reachable and the signature "
                                "verifies with its secret."},
        },
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now)
    webhook_task_after_commit(DELIVER_TASK, delivery.pk)
    return delivery


# Dispatch ---------------------------------------------------------------------------------------

def outbox_dispatch(*, event_ids) -> list[int]:
    """Create the deliveries of undispatched events to their organisations' active endpoints and
    queue them. Idempotent: an event already dispatched, or a delivery that exists, is left be.
    Returns the ids of the deliveries queued."""
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(event_ids), dispatched_at__isnull=True)
            .values_list("pk", "organisation_id")
        )
        if not events:
            return []
        endpoints = defaultdict(list)
        for endpoint_id, organisation_id in WebhookEndpoint.objects.filter(
            organisation_id__in={organisation_id for _, organisation_id in events},
            is_active=True,
        ).values_list("pk", "organisation_id"):
            endpoints[organisation_id].append(endpoint_id)
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event_id=event_id, endpoint_id=endpoint_id, next_attempt_at=now)
                for event_id, organisation_id in events
                for endpoint_id in endpoints[organisation_id]
            ],
            ignore_conflicts=True,
        )
        event_pks = [event_id for event_id, _ in events]
        OutboxEvent.objects.filter(pk__in=event_pks).update(dispatched_at=now)
        due = list(
            WebhookDelivery.objects.filter(
                event_id__in=event_pks, state=DeliveryState.PENDING, next_attempt_at__lte=now,
            ).values_list("pk", flat=True)
        )
        for delivery_id in due:
            webhook_task_after_commit(DELIVER_TASK, delivery_id)
    return due


# Delivery ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    number: int
    url: str
    secret: str
    event_id: str
    payload: dict


def _claim(delivery_id: int, now) -> Attempt | None:
    """Take a due pending delivery for one attempt and commit before anything is sent: the row
    says an attempt runs until `now + lease`. None when it is not due, done, or being attempted."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.is_active:
            delivery.state = DeliveryState.DEAD
            delivery.last_error = "The endpoint was switched off."
            delivery.save(update_fields=["state", "last_error"])
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return Attempt(
        delivery_id=delivery.pk, number=delivery.attempts, url=delivery.endpoint.url,
        secret=delivery.endpoint.secret, event_id=str(delivery.event_id),
        payload=delivery.event.payload,
    )


def webhook_request(*, secret: str, event_id: str, payload: dict,
                    timestamp: int | None = None) -> tuple[bytes, dict]:
    """The body and headers of one signed delivery."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": webhook_signature(secret=secret, timestamp=timestamp, body=body),
    }
    return body, headers


KNOWN_FAILURES = (
    "Connection refused", "Connection reset", "Name or service not known",
    "Temporary failure in name resolution", "No route to host", "Network is unreachable",
    "certificate verify failed",
)


def _failure(error: requests.RequestException) -> str:
    text = str(error)
    reason = next((known for known in KNOWN_FAILURES if known in text), text)
    return f"{type(error).__name__}: {reason}"[:300]


def _post(attempt: Attempt) -> tuple[int | None, str]:
    """POST the event; (status code, "") on an answer, (None, why) when there was none.
    Redirects are never followed: a 3xx is a failed attempt like any other non-2xx."""
    body, headers = webhook_request(secret=attempt.secret, event_id=attempt.event_id,
                                    payload=attempt.payload)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with requests.post(attempt.url, data=body, headers=headers, timeout=timeout,
                           allow_redirects=False, stream=True) as response:
            return response.status_code, f"HTTP {response.status_code} {response.reason or ''}"
    except requests.Timeout:
        return None, f"Timeout: no answer within {timeout:g} s"
    except requests.RequestException as error:
        return None, _failure(error)


def webhook_backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base · 2^(attempts-1), capped."""
    seconds = settings.WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def _record(attempt: Attempt, status: int | None, error: str) -> str:
    """Write the attempt's outcome. A failure is written only while this attempt is still the
    latest (another may have taken over after the lease); a success always counts."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(pk=attempt.delivery_id, state=DeliveryState.PENDING)
    if status is not None and 200 <= status < 300:
        pending.update(state=DeliveryState.DELIVERED, delivered_at=now,
                       last_status_code=status, last_error="")
        return DeliveryState.DELIVERED
    fields = {"last_status_code": status, "last_error": error.strip()}
    if attempt.number >= settings.WEBHOOK_MAX_ATTEMPTS:
        fields["state"] = outcome = DeliveryState.DEAD
        wait = None
    else:
        outcome = DeliveryState.PENDING
        wait = webhook_backoff(attempt.number)
        fields["next_attempt_at"] = now + wait
    if pending.filter(attempts=attempt.number).update(**fields) and wait is not None:
        webhook_task_after_commit(DELIVER_TASK, attempt.delivery_id,
                                  countdown=wait.total_seconds())
    return outcome


def webhook_delivery_attempt(*, delivery_id: int) -> str | None:
    """One attempt at a delivery, if it is due: its outcome (delivered, pending for a retry, or
    dead), or None when there was nothing to attempt. Call outside a transaction: the claim must
    commit before the request is sent."""
    attempt = _claim(delivery_id, timezone.now())
    if attempt is None:
        return None
    status, error = _post(attempt)
    return _record(attempt, status, error)


def webhook_deliveries_retry(*, delivery_ids) -> int:
    """Make pending or dead deliveries due now and queue them (staff's "Retry now"). Attempts
    are kept, so a dead delivery gets one more attempt. Returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update()
            .filter(pk__in=list(delivery_ids))
            .exclude(state=DeliveryState.DELIVERED)
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(
            state=DeliveryState.PENDING, next_attempt_at=now
        )
        for delivery_id in ids:
            webhook_task_after_commit(DELIVER_TASK, delivery_id)
    return len(ids)


# The sweep --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    events_dispatched: int
    deliveries_queued: int


def webhooks_sweep(*, now=None) -> Sweep:
    """Recover from lost tasks: queue every due pending delivery (a retry whose task is gone, an
    attempt whose worker died and whose lease ended), and dispatch events left undispatched for
    more than `WEBHOOK_DISPATCH_GRACE_SECONDS`."""
    now = timezone.now() if now is None else now
    due = list(
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        webhook_task_after_commit(DELIVER_TASK, delivery_id)
    cutoff = now - timedelta(seconds=settings.WEBHOOK_DISPATCH_GRACE_SECONDS)
    stale = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    queued = outbox_dispatch(event_ids=stale) if stale else []
    return Sweep(events_dispatched=len(stale), deliveries_queued=len(due) + len(queued))
