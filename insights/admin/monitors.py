"""Pricing monitors in the admin: staff create one (the groups are frozen on save) and open it to
read whether the strategy worked. Its change page is the monitor's report; the monitor itself is
not edited once frozen.

Any staff member with a book (or the view permission) may open the monitors; the figures cover
only the accounts they may view (`accounts.admin_scoping.organisation_scope`), and the page says
so. Creating a monitor takes the add permission.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.admin_scoping import (
    CHANGE_ORGANISATION,
    VIEW_ORGANISATION,
    may_view,
    organisation_scope,
)

from ..models import MonitorGroup, PricingMonitor
from ..services.monitors import monitor_create
from ..tables import export_response
from ..tasks import warm_monitor
from .monitor_page import monitor_page


class PricingMonitorForm(forms.ModelForm):
    """The start defaults to the chosen price list's first day; the model checks the rest."""

    class Meta:
        model = PricingMonitor
        fields = ["name", "price_list", "change", "segment", "starts_on", "weeks_before",
                  "ends_on"]
        help_texts = {
            "starts_on": "The day the strategy started; empty: the price list's first day. The "
            "treated group is the segment's members on this day.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_on"].required = False

    def clean(self):
        cleaned = super().clean()
        price_list = cleaned.get("price_list")
        if not cleaned.get("starts_on") and "starts_on" not in self.errors:
            if price_list is not None and price_list.valid_from:
                cleaned["starts_on"] = price_list.valid_from
            else:
                self.add_error("starts_on", "Give the day the strategy started (this price list "
                               "has no first day)." if price_list else
                               "Give the day the change started.")
        return cleaned


def _may_open(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (
        user.is_superuser or user.has_perm("insights.view_pricingmonitor") or may_view(request)
    )


class PricingMonitorAdmin(admin.ModelAdmin):
    form = PricingMonitorForm
    list_display = ("name", "segment", "treatment", "starts_on", "ends_on", "treated_count",
                    "control_count")
    list_select_related = ("segment", "price_list")
    search_fields = ("name", "segment__name", "price_list__name", "change")
    date_hierarchy = "starts_on"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            treated=Count("accounts", filter=Q(accounts__group=MonitorGroup.TREATED)),
            control=Count("accounts", filter=Q(accounts__group=MonitorGroup.CONTROL)),
        )

    @admin.display(description="Treatment")
    def treatment(self, obj):
        return obj.price_list or obj.change

    @admin.display(description="Treated accounts", ordering="treated")
    def treated_count(self, obj):
        return obj.treated

    @admin.display(description="Control accounts", ordering="control")
    def control_count(self, obj):
        return obj.control

    def has_module_permission(self, request):
        return _may_open(request)

    def has_view_permission(self, request, obj=None):
        return _may_open(request)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_staff and (
            request.user.is_superuser or request.user.has_perm("insights.add_pricingmonitor")
        )

    def has_change_permission(self, request, obj=None):
        return False  # frozen when created; the change page is the report

    def save_model(self, request, obj, form, change):
        monitor_create(monitor=obj, created_by=request.user)
        transaction.on_commit(lambda: warm_monitor.delay(obj.pk))

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"The groups of “{obj}” are frozen.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:insights_pricingmonitor_change", args=[obj.pk])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The monitor's report (and its tables' exports)."""
        monitor = self.get_object(request, unquote(object_id))
        if monitor is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, monitor):
            raise PermissionDenied
        scope = figures_scope(request)
        page = monitor_page(monitor, scope, page_number=request.GET.get("page"),
                            every_account=request.GET.get("export") == "accounts")
        exported = export_response(request, page.tables)
        if exported is not None:
            return exported
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": str(monitor), "monitor": monitor, "page": page,
            "has_delete_permission": self.has_delete_permission(request, monitor),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/insights/monitor.html", context)

    def get_object(self, request, object_id, from_field=None):
        if not str(object_id).isdigit():
            return None
        return (PricingMonitor.objects.select_related("segment", "price_list")
                .filter(pk=int(object_id)).first())


def figures_scope(request) -> frozenset[int] | None:
    """The organisations whose figures this staff member may see (None: all), as the rest of
    the admin scopes them."""
    viewing = organisation_scope(request, VIEW_ORGANISATION)
    if viewing is None:
        return None
    return viewing | (organisation_scope(request, CHANGE_ORGANISATION) or frozenset())
