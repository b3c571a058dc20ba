"""Writes to territories: one transaction each, validated before saving. Saving a right, a
restriction or a distributor's contact details bumps the rules version (territories/apps.py), so
listings, product pages and carts answer with the change on the next request."""

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from segments.versioning import bump_rules_version

from .models import DistributorProfile, Territory, TerritoryRestriction, TerritoryRight


def _lock_territories_sharing_areas(territory: Territory) -> None:
    """Serialise writes of rights whose territories share a postcode area, so two concurrent saves
    cannot both pass the overlap check. Rows are locked in primary-key order to avoid deadlocks."""
    sharing = Territory.objects.filter(Q(pk=territory.pk) | Q(areas__in=territory.areas.all()))
    list(
        Territory.objects.select_for_update()
        .filter(pk__in=sharing.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def territory_right_save(*, right: TerritoryRight) -> TerritoryRight:
    """Create or update a distributor's right; refused when it would overlap an exclusive right."""
    if right.territory_id:
        _lock_territories_sharing_areas(right.territory)
    right.full_clean()
    right.save()
    return right


@transaction.atomic
def territory_restriction_save(*, restriction: TerritoryRestriction) -> TerritoryRestriction:
    restriction.full_clean()
    restriction.save()
    return restriction


@transaction.atomic
def distributor_profile_save(*, profile: DistributorProfile) -> DistributorProfile:
    profile.full_clean()
    profile.save()
    return profile


_DAY_KEY = "territories:rules-day"


def territory_day_start(*, today=None) -> bool:
    """Rights and restrictions start and end with the day: on the first call of a new day, bump the
    rules version so cached pages drop yesterday's answers. True when it bumped."""
    today = today or timezone.localdate()
    if cache.get(_DAY_KEY) == today.isoformat():
        return False
    bump_rules_version()
    cache.set(_DAY_KEY, today.isoformat(), timeout=2 * 24 * 60 * 60)
    return True
