"""Roles as data: what each organisation role may do. Checked in one place (`buyer_can`)."""

from .models import Role


class Perm:
    BROWSE = "browse"
    PLACE_ORDER = "place_order"
    RAISE_REQUISITION = "raise_requisition"
    VIEW_ALL_ORDERS = "view_all_orders"
    APPROVE_ORDER = "approve_order"
    APPROVE_OVER_BUDGET = "approve_over_budget"
    MANAGE_ORGANISATION = "manage_organisation"


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.BUYER: frozenset({Perm.BROWSE, Perm.PLACE_ORDER, Perm.RAISE_REQUISITION}),
    Role.REQUISITIONER: frozenset({Perm.BROWSE, Perm.RAISE_REQUISITION}),
    Role.APPROVER: frozenset({Perm.BROWSE, Perm.APPROVE_ORDER, Perm.VIEW_ALL_ORDERS}),
    Role.BUDGET_HOLDER: frozenset({Perm.BROWSE, Perm.APPROVE_OVER_BUDGET, Perm.VIEW_ALL_ORDERS}),
    Role.ORG_ADMIN: frozenset({Perm.BROWSE, Perm.MANAGE_ORGANISATION, Perm.VIEW_ALL_ORDERS}),
}

# Retail consumers have no organisation: they browse and order for themselves.
CONSUMER_PERMISSIONS = frozenset({Perm.BROWSE, Perm.PLACE_ORDER})

# Object permission (django-guardian) that mirrors the org admin role on the Organisation row.
MANAGE_ORGANISATION_OBJECT_PERM = "accounts.manage_organisation"
# Object permissions an account manager holds on each organisation assigned to them.
ACCOUNT_MANAGER_OBJECT_PERMS = ("accounts.view_organisation", "accounts.change_organisation")


def permissions_for_roles(roles) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
