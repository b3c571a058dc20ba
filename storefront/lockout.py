"""What a lockout (django-axes, docs/security.md) says, and how API keys take part in it."""

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth.signals import user_login_failed

API_KEY_ACCOUNT = "api-key:{prefix}"


def lockout_seconds(request) -> int:
    return int(get_cool_off(request).total_seconds())


def lockout_minutes(request) -> int:
    return max(1, round(lockout_seconds(request) / 60))


def lockout_message(request) -> str:
    return (
        "Too many failed sign-in attempts from this address. "
        f"Try again in {lockout_minutes(request)} minutes."
    )


def client_username(request, credentials=None) -> str | None:
    """The account a sign-in names, whatever the form calls the field and however it is cased, so
    `Nhs.Buyer@…` and `nhs.buyer@…` share one count."""
    value = (credentials or {}).get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username")
    if value is None:
        return None
    return str(value).strip().lower() or None


def api_key_credentials(prefix: str) -> dict:
    """A key's prefix stands for the account: a wrong secret or a revoked key repeated from one
    address locks that key there, as wrong passwords lock an account."""
    return {"username": API_KEY_ACCOUNT.format(prefix=prefix[:40])}


def api_key_allowed(request, prefix: str) -> bool:
    return AxesProxyHandler.is_allowed(request, api_key_credentials(prefix))


def api_key_failed(request, prefix: str) -> None:
    user_login_failed.send(
        sender=__name__, credentials=api_key_credentials(prefix), request=request
    )
