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
