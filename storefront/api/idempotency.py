"""`Idempotency-Key` for POST endpoints that write.

The first response to a key is stored in the same transaction as the write it reports, so either
both exist or neither. A repeat with the same key and the same request gets the stored response
again (header `Idempotent-Replayed: true`); the same key with a different request is refused (422).
Keys belong to the caller's organisation (to the staff member for a caller without one) and last
24 hours. Concurrent repeats wait on the unique index: one writes, the others replay.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.keys import IDEMPOTENCY_HOURS
from accounts.models import IdempotencyRecord

from .errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID is best) to make a retry of this request safe for "
    f"{IDEMPOTENCY_HOURS} hours: a repeat returns the first response.",
)


def _valid_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters."]}
        )
    return key


def request_fingerprint(request) -> str:
    """What makes two requests the same: method, path and the body's content (key order aside)."""
    data = request.data
    if hasattr(data, "lists"):
        data = {name: values for name, values in data.lists()}
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _owner(request) -> dict:
    organisation_id = request.buyer.organisation_id
    if organisation_id is not None:
        return {"organisation_id": organisation_id}
    return {"organisation_id": None, "user_id": request.user.pk}


def _claim(owner: dict, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """The record of this key, and whether this request is the first (and so must run)."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(**owner, key=key, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                **owner, key=key, request_hash=fingerprint, created_at=now,
                expires_at=now + timedelta(hours=IDEMPOTENCY_HOURS),
            )
    except IntegrityError:
        return IdempotencyRecord.objects.get(**owner, key=key), False
    return record, True


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        )
    response = Response(json.loads(record.response_body), status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def _rendered(data) -> str:
    """The response body as JSON text, keys in the order they were sent."""
    return JSONRenderer().render(data).decode()


def idempotent(post):
    """Decorate an APIView's `post`: run it once per Idempotency-Key, replay it afterwards."""

    @wraps(post)
    def wrapper(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            with transaction.atomic():
                return post(view, request, *args, **kwargs)
        key, fingerprint = _valid_key(raw), request_fingerprint(request)
        with transaction.atomic():
            record, first = _claim(_owner(request), key, fingerprint)
            if not first:
                return _replay(record, fingerprint)
            response = post(view, request, *args, **kwargs)
            record.response_status = response.status_code
            record.response_body = _rendered(response.data)
            record.save(update_fields=["response_status", "response_body"])
        response["Idempotent-Replayed"] = "false"
        return response

    return wrapper


def idempotency_records_purge() -> int:
    """Delete records past their 24 hours; returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
