"""Scope checks, declared per view as data and enforced in one permission class.

A view says which scope each HTTP method needs (`required_scopes = {"GET": CATALOGUE_READ}`).
A key passes when it holds the scope and its role (the member's it acts as, or an integration
key's own) holds a role permission the scope stands for; a browser session passes on the role
permission alone. Importing prices and reporting the fulfilment of direct orders are staff
matters: a session must be staff, a key must be a staff key whose owner still is staff.
"""

from rest_framework import exceptions, mixins, permissions

from accounts.keys import ApiScope
from accounts.permissions import Perm

from .authentication import api_key_of

CATALOGUE_READ = ApiScope.CATALOGUE_READ
ORDERS_WRITE = ApiScope.ORDERS_WRITE
PRICES_IMPORT = ApiScope.PRICES_IMPORT
ORDERS_FULFIL = ApiScope.ORDERS_FULFIL
WEBHOOKS_MANAGE = ApiScope.WEBHOOKS_MANAGE

# The role permissions (accounts.permissions) a scope stands for, any of which will do; None:
# staff only. Placing orders and raising requisitions (which wait for an approver) both order.
SCOPE_PERMISSIONS: dict[str, tuple[str, ...] | None] = {
    CATALOGUE_READ: (Perm.BROWSE,),
    ORDERS_WRITE: (Perm.PLACE_ORDER, Perm.RAISE_REQUISITION),
    PRICES_IMPORT: None,
    ORDERS_FULFIL: None,
    WEBHOOKS_MANAGE: (Perm.MANAGE_ORGANISATION,),
}


def staff_actor(request):
    """The staff member on whose authority prices are imported or fulfilment is reported (the
    session's user, or the owner of a staff key, while they are staff), or None. An
    organisation's key never has one."""
    key = api_key_of(request)
    if key is not None and not key.is_staff_key:
        return None
    actor = request.user if key is None else key.user
    if actor is None or not actor.is_active or not actor.is_staff:
        return None
    return actor


def scope_granted(request, scope: str) -> bool:
    key = api_key_of(request)
    if key is not None and not key.has_scope(scope):
        return False
    permissions = SCOPE_PERMISSIONS[scope]
    if permissions is None:
        return staff_actor(request) is not None
    return any(request.buyer.can(permission) for permission in permissions)


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


def known_query_parameters(view, method: str = "GET") -> frozenset[str]:
    """The query parameters a view reads for `method`: for reads, its filters, its pagination's
    and those it declares (`query_parameters`); writes read none. `view` is a view or its class.
    The schema documents exactly these (tests/api/test_query_parameters.py)."""
    if method.upper() not in ("GET", "HEAD", "OPTIONS"):
        return frozenset()
    view_class = view if isinstance(view, type) else type(view)
    names = set(getattr(view_class, "query_parameters", ()))
    filterset_class = getattr(view_class, "filterset_class", None)
    if filterset_class is not None and getattr(view_class, "filter_backends", None) != ():
        names.update(filterset_class.base_filters)
    pagination_class = getattr(view_class, "pagination_class", None)
    if pagination_class is not None and issubclass(view_class, mixins.ListModelMixin):
        for attribute in ("cursor_query_param", "page_size_query_param"):
            if getattr(pagination_class, attribute, None):
                names.add(getattr(pagination_class, attribute))
    return frozenset(names)


class KnownQueryParameters(permissions.BasePermission):
    """A query parameter the endpoint does not read is refused (400 naming it), so that a
    misspelt filter never silently answers with everything."""

    def has_permission(self, request, view):
        if not _handles(view, request.method):
            return True  # DRF answers 405 with `Allow`
        unknown = sorted(set(request.query_params) - known_query_parameters(view, request.method))
        if unknown:
            raise exceptions.ValidationError(
                {name: ["Unknown query parameter for this endpoint."] for name in unknown}
            )
        return True
