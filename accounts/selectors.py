"""Reads of an organisation's own records, always scoped to the buyer's active organisation.

An id from a URL is looked up in these querysets only, so another organisation's row is never found.
"""

from django.db.models import Prefetch, QuerySet
from guardian.shortcuts import get_objects_for_user

from .keys import ApiKey
from .models import Budget, CostCentre, Membership, Organisation, Site

CHANGE_ORGANISATION = "accounts.change_organisation"


def organisation_members(*, buyer) -> QuerySet[Membership]:
    """Memberships of the buyer's active organisation, with each member's user."""
    if buyer.organisation_id is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(organisation_id=buyer.organisation_id)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def organisation_sites(*, buyer) -> QuerySet[Site]:
    """Delivery sites of the buyer's active organisation, active and inactive."""
    if buyer.organisation_id is None:
        return Site.objects.none()
    return Site.objects.filter(organisation_id=buyer.organisation_id).order_by("-is_active", "name")


def organisation_cost_centres(*, buyer) -> QuerySet[CostCentre]:
    """Cost centres of the buyer's active organisation with their budgets, newest period first."""
    if buyer.organisation_id is None:
        return CostCentre.objects.none()
    return (
        CostCentre.objects.filter(organisation_id=buyer.organisation_id)
        .prefetch_related(Prefetch("budgets", queryset=Budget.objects.order_by("-period_start")))
        .order_by("code")
    )


def managed_organisation_ids(user) -> frozenset[int] | None:
    """Organisations a staff member looks after (holds change rights on): None means all
    (superusers); a user who is not active staff looks after none."""
    if user.is_superuser:
        return None
    if not user.is_active or not user.is_staff:
        return frozenset()
    granted = get_objects_for_user(
        user, CHANGE_ORGANISATION, klass=Organisation, accept_global_perms=False
    )
    return frozenset(granted.values_list("pk", flat=True))


def organisation_api_keys(*, buyer) -> QuerySet[ApiKey]:
    """Keys of the buyer's active organisation, live ones first, newest first."""
    if buyer.organisation_id is None:
        return ApiKey.objects.none()
    return (
        ApiKey.objects.filter(organisation_id=buyer.organisation_id)
        .select_related("user", "created_by")
        .order_by("revoked_at", "-created_at")
    )
