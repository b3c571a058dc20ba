"""Account-manager scoping for the admin: a staff user who is not a superuser sees and edits only
the organisations assigned to them (guardian object permissions), and saves go through services."""

from operator import attrgetter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from guardian.shortcuts import get_objects_for_user

from . import services
from .admin_forms import ServiceValidatedForm
from .admin_history import HistoryAdmin
from .models import (
    CostCentre,
    Membership,
    Organisation,
    Site,
)

VIEW_ORGANISATION = "accounts.view_organisation"
CHANGE_ORGANISATION = "accounts.change_organisation"


def organisation_scope(request, perm: str) -> frozenset[int] | None:
    """Ids of the organisations this staff member holds `perm` on; None means every organisation.

    A visitor who is not signed-in active staff (the admin's sign-in page asks too) holds none."""
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return frozenset()
    scopes = request.__dict__.setdefault("_organisation_scope", {})
    if perm not in scopes:
        granted = get_objects_for_user(
            user, perm, klass=Organisation, accept_global_perms=False
        )
        scopes[perm] = frozenset(granted.values_list("pk", flat=True))
    return scopes[perm]


def forget_organisation_scope(request) -> None:
    request.__dict__.pop("_organisation_scope", None)


def may(request, perm: str, organisation_id: int | None = None) -> bool:
    """May this staff member use `perm` on that organisation (with no id: on any organisation)?"""
    scope = organisation_scope(request, perm)
    if scope is None:
        return True
    return bool(scope) if organisation_id is None else organisation_id in scope


def may_view(request, organisation_id: int | None = None) -> bool:
    return may(request, VIEW_ORGANISATION, organisation_id) or may(
        request, CHANGE_ORGANISATION, organisation_id
    )


def save_through_service(obj) -> None:
    if isinstance(obj, Organisation):
        services.organisation_save(organisation=obj)
    elif isinstance(obj, Membership):
        services.membership_save(membership=obj)
    elif isinstance(obj, Site):
        services.site_save(site=obj)
    elif isinstance(obj, CostCentre):
        services.cost_centre_save(cost_centre=obj)
    else:
        services.budget_save(budget=obj)


def delete_through_service(obj) -> None:
    if isinstance(obj, Membership):
        services.membership_remove(membership=obj)
    else:
        obj.delete()


def promotions_first(obj) -> bool:
    """Sort key: memberships that are (or become) active org admins are saved before the others,
    so handing the admin role from one person to another is never refused halfway."""
    return not (isinstance(obj, Membership) and obj.is_org_admin and obj.is_active)


class OrganisationScopedAdmin(HistoryAdmin):
    """A model admin whose rows belong to an organisation (`organisation_lookup` reaches it)."""

    form = ServiceValidatedForm
    organisation_lookup = "organisation"
    organisation_id_of = attrgetter("organisation_id")
    managers_may_delete = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = organisation_scope(request, VIEW_ORGANISATION)
        if scope is None:
            return queryset
        scope = scope | organisation_scope(request, CHANGE_ORGANISATION)
        return queryset.filter(**{f"{self.organisation_lookup}__in": scope})

    def _organisation_id(self, obj):
        return None if obj is None else self.organisation_id_of(obj)

    def has_module_permission(self, request):
        return request.user.is_superuser or may_view(request)

    def has_view_permission(self, request, obj=None):
        return may_view(request, self._organisation_id(obj))

    def has_change_permission(self, request, obj=None):
        return may(request, CHANGE_ORGANISATION, self._organisation_id(obj))

    def has_add_permission(self, request):
        return may(request, CHANGE_ORGANISATION)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return self.managers_may_delete and self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = organisation_scope(request, CHANGE_ORGANISATION)
        if scope is not None and db_field.related_model is Organisation:
            kwargs["queryset"] = Organisation.objects.filter(pk__in=scope)
        elif scope is not None and db_field.related_model is CostCentre:
            kwargs["queryset"] = CostCentre.objects.filter(organisation__in=scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        obj._history_user = request.user
        save_through_service(obj)

    def delete_model(self, request, obj):
        delete_through_service(obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in sorted(instances, key=promotions_first):
            obj._history_user = request.user
            save_through_service(obj)
        for obj in formset.deleted_objects:
            delete_through_service(obj)
        formset.save_m2m()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            return self._refused(request, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as refusal:
            return self._refused(request, refusal)

    def _refused(self, request, refusal: ValidationError):
        """A rule a service enforces across rows (the last org admin, say) refused the save after
        the form was valid: the transaction has rolled back, so say why and show the page again."""
        self.message_user(request, " ".join(refusal.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


class OrganisationScopedInline:
    """An inline under a parent that belongs to an organisation; permissions follow the parent's."""

    form = ServiceValidatedForm
    extra = 0
    parent_organisation_id = attrgetter("pk")
    managers_may_delete = False

    def _organisation_id(self, parent):
        return None if parent is None else self.parent_organisation_id(parent)

    def has_view_permission(self, request, obj=None):
        return may_view(request, self._organisation_id(obj))

    def has_change_permission(self, request, obj=None):
        return may(request, CHANGE_ORGANISATION, self._organisation_id(obj))

    def has_add_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        return self.managers_may_delete and self.has_change_permission(request, obj)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A filter sidebar on a related organisation, or on a row that belongs to one (a contract, a
    site, a cost centre), that lists for an account manager only the choices within their
    scope — never the names of every other organisation or contract. Superusers see all.
    Subclasses may widen `scope_q` for other related models."""

    def field_choices(self, field, request, model_admin):
        limit = self.scope_q(field.related_model, request)
        if limit is None:
            return super().field_choices(field, request, model_admin)
        own = field.get_limit_choices_to()
        if own:
            limit &= own if isinstance(own, Q) else Q(**own)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)

    def scope_q(self, model, request) -> Q | None:
        """The related rows this staff member may choose from; None for all of them."""
        scope = organisation_scope(request, VIEW_ORGANISATION)
        if scope is None:
            return None
        scope = scope | organisation_scope(request, CHANGE_ORGANISATION)
        if model is Organisation:
            return Q(pk__in=scope)
        if any(f.name == "organisation" for f in model._meta.get_fields()):
            return Q(organisation__in=scope)
        return Q(pk__in=[])
