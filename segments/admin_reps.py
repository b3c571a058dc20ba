"""Admin for sales reps by customer group: assignments to a segment or a territory (saved through
the coverage service, so the admin permissions follow at once), the resulting coverage, and the
membership changes made here that move an organisation from one group to another."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .coverage import rep_assignment_remove, rep_assignment_save
from .models import AccountCoverage, RepAssignment


@admin.register(RepAssignment)
class RepAssignmentAdmin(admin.ModelAdmin):
    list_display = ("account_manager", "segment", "territory", "created_at", "book")
    list_select_related = ("account_manager", "segment", "territory")
    fields = ("account_manager", "segment", "territory")

    @admin.display(description="book")
    def book(self, obj):
        return format_html('<a href="{}?manager={}">Book</a>', reverse("rep_book"),
                           obj.account_manager_id)

    def save_model(self, request, obj, form, change):
        rep_assignment_save(assignment=obj)

    def delete_model(self, request, obj):
        rep_assignment_remove(assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            rep_assignment_remove(assignment=assignment)


@admin.register(AccountCoverage)
class AccountCoverageAdmin(admin.ModelAdmin):
    list_display = ("organisation", "account_manager", "source", "via", "granted_to", "synced_at")
    list_select_related = ("organisation", "account_manager", "granted_to")
    list_filter = ("source",)
    search_fields = ("organisation__name", "account_manager__email", "via")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
