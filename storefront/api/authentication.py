"""Who is calling the API: a key (`Authorization: Api-Key <prefix>.<secret>`) or a signed-in
browser session. Either way `request.buyer` is the resolver's BuyerContext: for a personal key,
the member it acts as; for an integration key, the organisation's service identity with the key's
role; for a staff key, the staff member with no buyer rights."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, Membership
from segments.resolver import as_integration, resolve, through_key, without_rights
from storefront.lockout import api_key_allowed, api_key_failed, lockout_message, lockout_seconds

KEYWORD = "Api-Key"
LAST_USED_EVERY = timedelta(minutes=1)


def _parse(header: str) -> tuple[str, str]:
    parts = header.split()
    if len(parts) != 2 or parts[0] != KEYWORD or "." not in parts[1]:
        raise exceptions.AuthenticationFailed(
            f"Send the key as 'Authorization: {KEYWORD} <prefix>.<secret>'."
        )
    prefix, _, secret = parts[1].partition(".")
    return prefix, secret


def _is_active_member(key: ApiKey) -> bool:
    return (
        key.user.is_active
        and key.organisation.is_active
        and Membership.objects.filter(
            user_id=key.user_id, organisation_id=key.organisation_id, is_active=True
        ).exists()
    )


def _refusal_of_person(key: ApiKey) -> str:
    """Why the person behind a live key no longer lets it work, or "" when they do."""
    if key.is_staff_key:
        if key.user.is_active and key.user.is_staff:
            return ""
        return "The staff member this key belongs to is no longer staff."
    if _is_active_member(key):
        return ""
    if key.is_integration:
        return ("The member responsible for this integration key no longer belongs to the "
                "organisation: an organisation admin must issue a new key.")
    return "The member this key acts as no longer belongs to the organisation."


def _buyer_of(key: ApiKey):
    """The BuyerContext a live key's requests act with."""
    if key.is_staff_key:
        return without_rights(resolve(key.user))
    buyer = resolve(key.user, organisation=key.organisation_id)
    if buyer.organisation_id != key.organisation_id:
        raise exceptions.AuthenticationFailed("This key's organisation is not available.")
    if key.is_integration:
        return as_integration(
            buyer, role=key.role, key_id=key.pk, key_name=key.name,
            skips_approval_rules=key.organisation.integration_orders_skip_approval,
        )
    return through_key(buyer, key_id=key.pk, key_name=key.name)


class KeyLockedOut(exceptions.Throttled):
    """429 with `Retry-After`; the message already says how long, so DRF's suffix is left off."""

    default_code = "locked_out"

    def __init__(self, request):
        super().__init__(detail=lockout_message(request))
        self.wait = lockout_seconds(request)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A live key, acting as its organisation's member, its organisation's service identity or
    its staff member (by kind), with its scopes.

    A revoked or expired key, one whose member (or responsible member) has left the organisation,
    or a staff key whose owner is no longer staff, is refused (401).
    Each refusal counts towards django-axes' lockout of that key from the caller's address, which
    then answers 429 until the cool-off has passed."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(KEYWORD):
            return None
        prefix, secret = _parse(header)
        http_request = request._request
        if not api_key_allowed(http_request, prefix):
            raise KeyLockedOut(http_request)
        try:
            key, buyer = self._live_key(prefix, secret)
        except exceptions.AuthenticationFailed:
            api_key_failed(http_request, prefix)
            raise
        http_request.buyer = buyer
        self._note_use(key)
        return key.user, key

    @staticmethod
    def _live_key(prefix: str, secret: str):
        key = (
            ApiKey.objects.select_related("organisation", "user", "created_by")
            .filter(prefix=prefix)
            .first()
        )
        if key is None or not key.matches(secret):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if key.is_revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if key.is_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        refusal = _refusal_of_person(key)
        if refusal:
            raise exceptions.AuthenticationFailed(refusal)
        return key, _buyer_of(key)

    def authenticate_header(self, request):
        return KEYWORD

    @staticmethod
    def _note_use(key: ApiKey) -> None:
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_EVERY:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser: the buyer middleware has already set `request.buyer`."""


def api_key_of(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"'{KEYWORD} <prefix>.<secret>', as shown once when the key is issued. "
            "An integration key acts for its organisation with its own API role; a personal key "
            "as one member; a staff key (orders:fulfil, prices:import) for a member of staff.",
        }


class BrowserSessionScheme(SessionScheme):
    target_class = BrowserSessionAuthentication
