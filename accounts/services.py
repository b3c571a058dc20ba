"""Writes to accounts: one transaction each, validated before saving, object permissions in step."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.module_loading import import_string
from guardian.shortcuts import assign_perm, remove_perm

from .models import Budget, CostCentre, Membership, Organisation, Site, User
from .permissions import ACCOUNT_MANAGER_OBJECT_PERMS, MANAGE_ORGANISATION_OBJECT_PERM


def _sync_org_admin_permission(membership: Membership) -> None:
    codename = MANAGE_ORGANISATION_OBJECT_PERM
    if membership.is_active and membership.is_org_admin:
        assign_perm(codename, membership.user, membership.organisation)
    else:
        remove_perm(codename, membership.user, membership.organisation)


def _sync_account_manager_permissions(organisation: Organisation, previous: User | None) -> None:
    if previous is not None and previous != organisation.account_manager:
        for codename in ACCOUNT_MANAGER_OBJECT_PERMS:
            remove_perm(codename, previous, organisation)
    if organisation.account_manager is not None:
        for codename in ACCOUNT_MANAGER_OBJECT_PERMS:
            assign_perm(codename, organisation.account_manager, organisation)


@transaction.atomic
def organisation_save(*, organisation: Organisation) -> Organisation:
    """Create or update an organisation; its account manager gets object permissions on it."""
    previous = None
    if organisation.pk:
        previous = (
            Organisation.objects.select_related("account_manager")
            .get(pk=organisation.pk)
            .account_manager
        )
    organisation.full_clean()
    organisation.save()
    _sync_account_manager_permissions(organisation, previous)
    _follow_up_organisation_saved([organisation.pk])
    return organisation


@transaction.atomic
def organisation_integration_approval_set(*, organisation: Organisation, skip: bool) -> None:
    """Whether orders placed through the organisation's integration keys skip its approval rules
    (the organisation admin's choice; off by default)."""
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    locked.integration_orders_skip_approval = skip
    locked.save(update_fields=["integration_orders_skip_approval"])
    organisation.integration_orders_skip_approval = skip


def _follow_up_organisation_saved(organisation_ids) -> None:
    """Run the follow-ups higher apps register for a saved organisation (the account coverage
    of customer groups: ORGANISATION_SAVED_FOLLOW_UPS), inside the same transaction."""
    for path in getattr(settings, "ORGANISATION_SAVED_FOLLOW_UPS", ()):
        import_string(path)(organisation_ids=organisation_ids)


def _refuse_last_admin_leaving(membership: Membership, *, removing: bool) -> None:
    """An organisation keeps an active org admin: the last one cannot step down or leave."""
    if membership.pk is None:
        return
    stored = Membership.objects.select_for_update().get(pk=membership.pk)
    still_admin = not removing and membership.is_active and membership.is_org_admin
    if not stored.is_org_admin or not stored.is_active or still_admin:
        return
    other_admins = Membership.objects.filter(
        organisation_id=membership.organisation_id, is_org_admin=True, is_active=True
    ).exclude(pk=membership.pk)
    if not other_admins.exists():
        raise ValidationError(
            "This is the organisation's only administrator: appoint another one first.",
            code="last_org_admin",
        )


@transaction.atomic
def membership_save(*, membership: Membership) -> Membership:
    """Create or update a membership; org admins get the manage permission on that organisation."""
    if membership.pk is not None:
        stored = Membership.objects.values("user_id", "organisation_id").get(pk=membership.pk)
        if (stored["user_id"], stored["organisation_id"]) != (
            membership.user_id,
            membership.organisation_id,
        ):
            raise ValidationError(
                "A membership cannot move to another person or organisation: "
                "remove it and add a new one."
            )
    _refuse_last_admin_leaving(membership, removing=False)
    membership.full_clean()
    membership.save()
    _sync_org_admin_permission(membership)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _refuse_last_admin_leaving(membership, removing=True)
    remove_perm(MANAGE_ORGANISATION_OBJECT_PERM, membership.user, membership.organisation)
    membership.delete()


@transaction.atomic
def site_save(*, site: Site) -> Site:
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def cost_centre_save(*, cost_centre: CostCentre) -> CostCentre:
    cost_centre.full_clean()
    cost_centre.save()
    return cost_centre


@transaction.atomic
def member_invite(
    *, organisation: Organisation, email: str, full_name: str, membership: Membership
) -> Membership:
    """Add a person to an organisation by email, creating their account (no password yet) if new.

    `membership` carries the roles and approval limit; its user and organisation are set here.
    """
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, full_name=full_name)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    membership.user, membership.organisation = user, organisation
    return membership_save(membership=membership)


@transaction.atomic
def budget_save(*, budget: Budget) -> Budget:
    budget.full_clean()
    budget.save()
    return budget
