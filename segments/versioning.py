"""The rules version: a token that changes whenever a fact behind visibility or price changes.

Cached buyer contexts and cached fragments are keyed by it, so a change shows on the next request.
Each app registers the models whose writes must bump it (`watch`). If the cache is unavailable the
version reads as None and callers skip caching rather than serve something stale.
"""

import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

_KEY = "rules-version"


def rules_version() -> str | None:
    version = cache.get(_KEY)
    if version is None:
        cache.add(_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(_KEY)
    return version


def bump_rules_version() -> None:
    cache.set(_KEY, uuid.uuid4().hex, timeout=None)


def _buyer_key(user_id: int) -> str:
    return f"buyer-version:{user_id}"


def versions_for(user_id: int | None) -> tuple[str | None, str | None]:
    """The rules version and this user's own version, in one cache round trip. The user's version
    changes when an analysis moves them (or an organisation of theirs) into or out of a computed
    segment, so only their cached context is computed again. (None, None) when the cache is down."""
    if user_id is None:
        return rules_version(), ""
    found = cache.get_many([_KEY, _buyer_key(user_id)])
    version = found.get(_KEY) or rules_version()
    own = found.get(_buyer_key(user_id))
    if own is None:
        cache.add(_buyer_key(user_id), uuid.uuid4().hex, timeout=None)
        own = cache.get(_buyer_key(user_id))
    return version, own


def bump_buyers(*, organisation_ids=(), user_ids=()) -> int:
    """Give each named consumer, and every member of each named organisation, a new own version:
    their cached contexts are computed again on their next request; nobody else's are.
    Returns how many users were bumped."""
    from accounts.models import Membership

    users = set(user_ids)
    organisation_ids = list(organisation_ids)
    for start in range(0, len(organisation_ids), 5000):
        users.update(
            Membership.objects.filter(organisation_id__in=organisation_ids[start:start + 5000])
            .values_list("user_id", flat=True)
        )
    if not users:
        return 0

    def bump():
        ordered = sorted(users)
        for start in range(0, len(ordered), 1000):
            cache.set_many(
                {_buyer_key(pk): uuid.uuid4().hex for pk in ordered[start:start + 1000]},
                timeout=None,
            )

    bump()
    transaction.on_commit(bump)
    return len(users)


def _bump(**kwargs) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= {"last_login"}:
        return
    bump_rules_version()
    # Also after commit: a concurrent request may have cached the pre-commit state meanwhile.
    transaction.on_commit(bump_rules_version)


def watch(*models) -> None:
    """Bump the rules version on every save, delete or many-to-many change of these models."""
    for model in models:
        post_save.connect(
            _bump, sender=model, dispatch_uid=f"rules-version-save-{model._meta.label}"
        )
        post_delete.connect(
            _bump, sender=model, dispatch_uid=f"rules-version-delete-{model._meta.label}"
        )
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _bump,
                sender=field.remote_field.through,
                dispatch_uid=f"rules-version-m2m-{model._meta.label}-{field.name}",
            )


def connect_default_senders() -> None:
    from accounts.models import Membership, Organisation, Site, User
    from territories.models import PostcodeArea, Territory

    from .models import Segment, SegmentCondition, SegmentMembership

    watch(User, Organisation, Membership, Site, Segment, SegmentCondition, SegmentMembership)
    watch(Territory, PostcodeArea)
