"""Django admin for territories, their postcode areas, distributor rights (with the territory ×
category matrix and the list of conflicting rights), restrictions and distributor contacts.
Account managers see the rights and contacts of their own distributors only."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_forms import ServiceValidatedForm
from accounts.admin_scoping import (
    CHANGE_ORGANISATION,
    VIEW_ORGANISATION,
    ScopedRelatedFieldListFilter,
    may,
    may_view,
    organisation_scope,
)
from accounts.models import Organisation, OrganisationKind

from . import selectors, services
from .models import (
    DistributorProfile,
    PostcodeArea,
    Territory,
    TerritoryRestriction,
    TerritoryRight,
    validity_q,
)


@admin.register(PostcodeArea)
class PostcodeAreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("territories")

    @admin.display(description="region")
    def region(self, obj):
        regions = [t.name for t in obj.territories.all() if t.is_region]
        return ", ".join(regions) or "—"


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_region", "area_list")
    list_filter = ("is_region",)
    search_fields = ("code", "name", "areas__code")
    filter_horizontal = ("areas",)
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description="postcode areas")
    def area_list(self, obj):
        return ", ".join(area.code for area in obj.areas.all())


class ValidityFilter(admin.SimpleListFilter):
    """Rows by where today falls in their validity window."""

    title = "validity"
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return (("current", "Valid today"), ("future", "Starts later"), ("ended", "Ended"))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.filter(validity_q(today))
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        if self.value() == "ended":
            return queryset.filter(valid_to__lt=today)
        return queryset


@admin.display(description="validity")
def validity(obj) -> str:
    today = timezone.localdate()
    if obj.valid_from > today:
        return "starts later"
    if obj.valid_to is not None and obj.valid_to < today:
        return "ended"
    return "valid today"


def _day_asked(request):
    try:
        return parse_date(request.GET.get("day") or "")
    except ValueError:
        return None


class DistributorScopedAdmin(SimpleHistoryAdmin):
    """Rows owned by a distributor organisation. Superusers see all; an account manager (staff, not
    superuser) sees and edits only the rows of the distributors assigned to them."""

    form = ServiceValidatedForm
    distributor_lookup = "distributor"
    distributor_field = "distributor_id"

    def _scope(self, request, perm=CHANGE_ORGANISATION):
        return organisation_scope(request, perm)

    def _viewable(self, request):
        scope = organisation_scope(request, VIEW_ORGANISATION)
        return None if scope is None else scope | organisation_scope(request, CHANGE_ORGANISATION)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = self._viewable(request)
        if scope is None:
            return queryset
        return queryset.filter(**{f"{self.distributor_lookup}__in": scope})

    def _distributor_id(self, obj):
        return None if obj is None else getattr(obj, self.distributor_field)

    def has_module_permission(self, request):
        return request.user.is_superuser or may_view(request)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff and may_view(request, self._distributor_id(obj))

    def has_change_permission(self, request, obj=None):
        distributor_id = self._distributor_id(obj)
        return request.user.is_staff and may(request, CHANGE_ORGANISATION, distributor_id)

    def has_add_permission(self, request):
        return request.user.is_staff and may(request, CHANGE_ORGANISATION)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == self.distributor_lookup:
            distributors = Organisation.objects.filter(kind=OrganisationKind.DISTRIBUTOR)
            scope = self._scope(request)
            if scope is not None:
                distributors = distributors.filter(pk__in=scope)
            kwargs["queryset"] = distributors
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(TerritoryRight)
class TerritoryRightAdmin(DistributorScopedAdmin):
    list_display = (
        "distributor", "line", "territory", "exclusive", "valid_from", "valid_to", validity,
    )
    list_filter = (ValidityFilter, "exclusive", "territory",
                   ("distributor", ScopedRelatedFieldListFilter))
    search_fields = (
        "distributor__name", "territory__name", "product__sku", "product__name", "category__name",
        "agreement_reference",
    )
    list_select_related = ("distributor", "territory", "product", "category")
    fields = (
        "distributor", "territory", "product", "category", "exclusive", "valid_from", "valid_to",
        "agreement_reference",
    )
    change_list_template = "admin/territories/territoryright/change_list.html"

    def save_model(self, request, obj, form, change):
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        obj._history_user = request.user
        services.territory_right_save(right=obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("matrix/", wrap(self.matrix_view), name="territories_territoryright_matrix"),
            path(
                "conflicts/", wrap(self.conflicts_view),
                name="territories_territoryright_conflicts",
            ),
            *super().get_urls(),
        ]

    def _staff_scope(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._viewable(request)

    def matrix_view(self, request):
        """Territory × top-level category: who holds rights on the chosen day (today by default)."""
        scope = self._staff_scope(request)
        day = _day_asked(request) or timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Distributor rights by territory and category",
            "day": day,
            "matrix": selectors.rights_matrix(day=day, distributor_ids=scope),
        }
        return TemplateResponse(request, "admin/territories/territoryright/matrix.html", context)

    def conflicts_view(self, request):
        """Stored rights that break exclusivity, to be ended or corrected."""
        scope = self._staff_scope(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Conflicting territory rights",
            "conflicts": selectors.right_conflicts(distributor_ids=scope),
        }
        return TemplateResponse(
            request, "admin/territories/territoryright/conflicts.html", context
        )


@admin.register(TerritoryRestriction)
class TerritoryRestrictionAdmin(SimpleHistoryAdmin):
    list_display = ("line", "territory", "reason", "valid_from", "valid_to", validity)
    list_filter = (ValidityFilter, "territory")
    search_fields = ("product__sku", "product__name", "category__name", "reason")
    list_select_related = ("territory", "product", "category")
    fields = ("territory", "product", "category", "reason", "valid_from", "valid_to")
    form = ServiceValidatedForm

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        services.territory_restriction_save(restriction=obj)


@admin.register(DistributorProfile)
class DistributorProfileAdmin(DistributorScopedAdmin):
    list_display = ("organisation", "contact_name", "phone", "email")
    search_fields = ("organisation__name", "contact_name", "email")
    distributor_lookup = "organisation"
    distributor_field = "organisation_id"

    def save_model(self, request, obj, form, change):
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        obj._history_user = request.user
        services.distributor_profile_save(profile=obj)
