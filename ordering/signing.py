"""Webhook signatures: HMAC-SHA256 of `"{timestamp}.{body}"` with the endpoint's secret, sent as
`Webhook-Signature: v1=<hex>`. Pure functions, so a consumer's verification can be tested against
exactly what the sender does."""

import hashlib
import hmac
import time

SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` header value for this body sent at `timestamp` (unix seconds)."""
    message = str(int(timestamp)).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def webhook_signature_verify(
    *, secret: str, timestamp: str | int, body: bytes, signature: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None,
) -> bool:
    """True when `signature` (one or more space- or comma-separated `v1=<hex>` values) signs
    `body` at `timestamp` with `secret`, and the timestamp is within `tolerance` seconds of now —
    an old, replayed delivery is refused."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=sent_at, body=body)
    candidates = signature.replace(",", " ").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
