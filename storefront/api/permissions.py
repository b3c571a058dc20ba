"""Scope checks, declared per view as data and enforced in one permission class.

A view says which scope each HTTP method needs (`required_scopes = {"GET": CATALOGUE_READ}`).
A key passes when it holds the scope and the member it acts as holds the role permission the
scope stands for; a browser session passes on the role permission alone. Importing prices and
reporting the fulfilment of direct orders are staff matters: a session must be staff, a key must
have been issued by a member of staff who still is.
"""

from rest_framework import permissions

from accounts.keys import ApiScope
from accounts.permissions import Perm

from .authentication import api_key_of

CATALOGUE_READ = ApiScope.CATALOGUE_READ
ORDERS_WRITE = ApiScope.ORDERS_WRITE
PRICES_IMPORT = ApiScope.PRICES_IMPORT
ORDERS_FULFIL = ApiScope.ORDERS_FULFIL
WEBHOOKS_MANAGE = ApiScope.WEBHOOKS_MANAGE

# The role permission (accounts.permissions) a scope stands for; None: staff only.
SCOPE_PERMISSIONS: dict[str, str | None] = {
    CATALOGUE_READ: Perm.BROWSE,
    ORDERS_WRITE: Perm.PLACE_ORDER,
    PRICES_IMPORT: None,
    ORDERS_FULFIL: None,
    WEBHOOKS_MANAGE: Perm.MANAGE_ORGANISATION,
}


def staff_actor(request):
    """The staff member on whose authority prices are imported or fulfilment is reported (the
    session's user, or whoever issued the key, while they are staff), or None."""
    key = api_key_of(request)
    actor = request.user if key is None else key.created_by
    if actor is None or not actor.is_active or not actor.is_staff:
        return None
    return actor


def scope_granted(request, scope: str) -> bool:
    key = api_key_of(request)
    if key is not None and not key.has_scope(scope):
        return False
    permission = SCOPE_PERMISSIONS[scope]
    if permission is None:
        return staff_actor(request) is not None
    return request.buyer.can(permission)


def _handles(view, method: str) -> bool:
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


class HasScope(permissions.BasePermission):
    """The caller is authenticated and holds the scope the view declares for this method; a
    method the view declares no scope for is refused; OPTIONS describes the endpoint to a caller
    holding any scope it declares. A method the view has no handler for is
    let through to DRF, which answers 405 with `Allow` (an anonymous caller still gets 401)."""

    message = "This key or account may not do that."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if not _handles(view, request.method):
            return True
        scopes = getattr(view, "required_scopes", {})
        if request.method == "OPTIONS":  # describing an endpoint needs any scope it declares
            return any(scope_granted(request, scope) for scope in set(scopes.values()))
        method = "GET" if request.method == "HEAD" else request.method
        scope = scopes.get(method)
        return scope is not None and scope_granted(request, scope)
