"""Issuing and revoking API keys: one transaction each, validated before saving."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.keys import KEY_PREFIX_LENGTH, ApiKey, ApiKeyKind, ApiScope, secret_digest
from accounts.models import Membership, User

from .authentication import KEYWORD


def _new_prefix() -> str:
    while True:
        prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            return prefix


@transaction.atomic
def api_key_issue(
    *, key: ApiKey, created_by, allowed_scopes=tuple(ApiScope.values)
) -> tuple[ApiKey, str]:
    """Save a new key (kind, organisation, its person, API role, name, scopes, expiry set on
    `key`) and return it with its token, `<prefix>.<secret>`: the only time the secret exists in
    clear."""
    if key.pk is not None:
        raise ValidationError("An issued key cannot be issued again: revoke it and issue another.")
    beyond = sorted(set(key.scopes or []) - set(allowed_scopes))
    if beyond:
        raise ValidationError({"scopes": f"You may not grant: {', '.join(beyond)}."})
    _check_person(key)
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose an expiry in the future."})
    secret = secrets.token_urlsafe(32)
    key.prefix, key.secret_hash, key.created_by = _new_prefix(), secret_digest(secret), created_by
    key.full_clean()
    key.save()
    return key, f"{key.prefix}.{secret}"


def _check_person(key: ApiKey) -> None:
    """A staff key belongs to active staff; an organisation's key names an active member of it
    (the member a personal key acts as, the member responsible for an integration key)."""
    if key.kind == ApiKeyKind.STAFF:
        if key.user_id is None or not User.objects.filter(
            pk=key.user_id, is_active=True, is_staff=True
        ).exists():
            raise ValidationError({"user": "A staff key belongs to an active member of staff."})
        return
    if key.user_id is None or not Membership.objects.filter(
        user_id=key.user_id, organisation_id=key.organisation_id, is_active=True,
        user__is_active=True,
    ).exists():
        raise ValidationError({"user": "Choose an active member of the key's organisation."})


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Stop a key working at once; it stays on record. Revoking twice changes nothing."""
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    key.revoked_at = locked.revoked_at
    return key


def authorization_header(token: str) -> str:
    """The header value a client sends with a token."""
    return f"{KEYWORD} {token}"
