"""Django admin for accounts. Superusers see everything; account managers (staff, not superusers)
see and edit only the organisations assigned to them, and only those organisations' members, sites,
cost centres and budgets. Every save goes through accounts.services."""

from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import path

from segments.admin import render_buyer_explanations

from . import services
from .admin_forms import (
    BudgetFormSet,
    MembershipForm,
    SiteFormSet,
    UserCreationForm,
    UserProfileForm,
)
from .admin_scoping import (
    CHANGE_ORGANISATION,
    VIEW_ORGANISATION,
    OrganisationScopedAdmin,
    OrganisationScopedInline,
    delete_through_service,
    forget_organisation_scope,
    may_view,
    organisation_scope,
)
from .models import (
    Budget,
    CostCentre,
    Membership,
    Organisation,
    Site,
    User,
)


class MembershipInline(OrganisationScopedInline, admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = (
        "user",
        "is_buyer",
        "is_requisitioner",
        "is_approver",
        "is_budget_holder",
        "is_org_admin",
        "approval_limit",
        "is_active",
    )
    autocomplete_fields = ("user",)
    managers_may_delete = True


class SiteInline(OrganisationScopedInline, admin.TabularInline):
    model = Site
    formset = SiteFormSet
    fields = ("name", "kind", "address_line1", "town", "postcode", "gln", "is_active")


class CostCentreInline(OrganisationScopedInline, admin.TabularInline):
    model = CostCentre
    fields = ("code", "name", "is_active")
    show_change_link = True


class BudgetInline(OrganisationScopedInline, admin.TabularInline):
    model = Budget
    formset = BudgetFormSet
    fields = ("period_start", "period_end", "amount", "committed")
    readonly_fields = ("committed",)
    parent_organisation_id = attrgetter("organisation_id")


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_lookup = "pk"
    organisation_id_of = attrgetter("pk")
    list_display = (
        "name",
        "kind",
        "parent",
        "ods_code",
        "customer_tier",
        "size_band",
        "professional_status",
        "account_manager",
        "is_active",
    )
    list_filter = (
        "kind",
        "customer_tier",
        "size_band",
        "professional_status",
        "is_active",
        "account_manager",
    )
    search_fields = ("name", "ods_code", "gln")
    list_select_related = ("parent", "account_manager")
    autocomplete_fields = ("parent", "account_manager")
    inlines = (MembershipInline, SiteInline, CostCentreInline)
    fieldsets = (
        (None, {"fields": ("name", "kind", "parent", "is_active")}),
        ("Identifiers", {"fields": ("ods_code", "gln", "industry", "size_band")}),
        (
            "Account",
            {
                "fields": (
                    "customer_tier",
                    "service_tier",
                    "contract_service_text",
                    "account_manager",
                    "credit_limit",
                    "payment_terms_days",
                    "professional_status",
                )
            },
        ),
        ("Registered address", {"fields": ("address_line1", "town", "postcode")}),
    )

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("contract_service_text",)
        # The hierarchy decides inherited contracts and the manager decides who sees the row:
        # only superusers move an organisation or hand it to another manager.
        return ("parent", "account_manager", "contract_service_text")

    @admin.display(description="service tier on contract")
    def contract_service_text(self, obj):
        if obj is None or not obj.contract_service_tier:
            return "none: no contract that applies today sets one"
        tier = obj.get_contract_service_tier_display()
        return f"{tier} (contract {obj.contract_service_reference})"

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return self.list_filter
        return tuple(f for f in self.list_filter if f != "account_manager")

    def has_add_permission(self, request):
        return request.user.has_perm("accounts.add_organisation")

    def save_model(self, request, obj, form, change):
        if change and not self.has_change_permission(request, obj):
            raise PermissionDenied
        if not request.user.is_superuser and change:
            current = Organisation.objects.get(pk=obj.pk)
            obj.parent_id, obj.account_manager_id = current.parent_id, current.account_manager_id
        elif not request.user.is_superuser:
            obj.account_manager = request.user  # whoever adds an organisation manages it
        obj._history_user = request.user
        services.organisation_save(organisation=obj)
        forget_organisation_scope(request)


@admin.register(Membership)
class MembershipAdmin(OrganisationScopedAdmin):
    form = MembershipForm
    list_display = ("user", "organisation", "role_list", "approval_limit", "is_active")
    list_filter = (
        "is_active",
        "is_buyer",
        "is_requisitioner",
        "is_approver",
        "is_budget_holder",
        "is_org_admin",
        "organisation__kind",
    )
    search_fields = ("user__email", "user__full_name", "organisation__name")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")
    managers_may_delete = True
    actions = ("remove_memberships",)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Remove the selected memberships", permissions=["delete"])
    def remove_memberships(self, request, queryset):
        memberships = list(queryset.select_related("user", "organisation"))
        try:
            with transaction.atomic():
                for membership in memberships:
                    delete_through_service(membership)
        except ValidationError as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            return
        self.message_user(request, f"Removed {len(memberships)} memberships.", messages.SUCCESS)

    @admin.display(description="roles")
    def role_list(self, obj):
        return ", ".join(sorted(obj.roles))

    def get_readonly_fields(self, request, obj=None):
        # A membership is one person in one organisation: to move someone, remove and add.
        return ("user", "organisation") if obj is not None else ()


@admin.register(Site)
class SiteAdmin(OrganisationScopedAdmin):
    list_display = ("name", "organisation", "kind", "town", "postcode", "gln", "is_active")
    list_filter = ("kind", "is_active", "postcode_area")
    search_fields = ("name", "organisation__name", "postcode", "gln", "town")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    readonly_fields = ("postcode_area",)


@admin.register(CostCentre)
class CostCentreAdmin(OrganisationScopedAdmin):
    list_display = ("code", "name", "organisation", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    inlines = (BudgetInline,)


@admin.register(Budget)
class BudgetAdmin(OrganisationScopedAdmin):
    organisation_lookup = "cost_centre__organisation"
    organisation_id_of = attrgetter("cost_centre.organisation_id")
    list_display = (
        "cost_centre",
        "organisation",
        "period_start",
        "period_end",
        "amount",
        "committed",
        "remaining",
    )
    list_filter = ("period_start",)
    search_fields = ("cost_centre__code", "cost_centre__name", "cost_centre__organisation__name")
    list_select_related = ("cost_centre__organisation",)
    readonly_fields = ("committed",)

    @admin.display(description="organisation")
    def organisation(self, obj):
        return obj.cost_centre.organisation


def _is_member_lookup(request) -> bool:
    """The autocomplete that picks the person for a new membership."""
    match = request.resolver_match
    return (
        match is not None
        and match.url_name == "autocomplete"
        and request.GET.get("app_label") == "accounts"
        and request.GET.get("model_name") == "membership"
        and request.GET.get("field_name") == "user"
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserProfileForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "regulator",
        "registration_status",
        "is_staff",
        "is_active",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "registration_status", "regulator")
    search_fields = ("email", "full_name", "registration_number")
    actions = ("explain_buyer",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name", "postcode", "direct_phone")}),
        (
            "Professional registration",
            {
                "fields": (
                    "regulator",
                    "registration_number",
                    "registration_status",
                    "registration_verified_at",
                )
            },
        ),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if _is_member_lookup(request):
            return queryset.filter(is_active=True)
        scope = organisation_scope(request, VIEW_ORGANISATION) | organisation_scope(
            request, CHANGE_ORGANISATION
        )
        members = Membership.objects.filter(organisation_id__in=scope).values("user_id")
        return queryset.filter(pk__in=members)

    def get_search_results(self, request, queryset, search_term):
        if not request.user.is_superuser and _is_member_lookup(request):
            # Account managers add a person by their exact email; they cannot browse everyone.
            term = search_term.strip()
            return (queryset.filter(email__iexact=term) if term else queryset.none()), False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        return ("is_staff", "is_superuser", "groups", "user_permissions")

    def has_module_permission(self, request):
        return request.user.is_superuser or may_view(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return may_view(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not request.user.has_perm("accounts.change_user"):
            return False
        return obj is None or self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_urls(self):
        explain = path(
            "<path:object_id>/explain/",
            self.admin_site.admin_view(self.explain_view),
            name="accounts_user_explain",
        )
        return [explain, *super().get_urls()]

    def explain_view(self, request, object_id):
        user = self.get_object(request, unquote(object_id))
        if user is None or not self.has_view_permission(request, user):
            raise Http404
        return self._render_explanations(request, [user])

    @admin.action(description="Explain this buyer: context and why each segment applies")
    def explain_buyer(self, request, queryset):
        return self._render_explanations(request, list(queryset))

    def _render_explanations(self, request, users):
        return render_buyer_explanations(
            request,
            users,
            admin_site=self.admin_site,
            opts=self.model._meta,
            organisation_shown=lambda organisation_id: may_view(request, organisation_id),
        )


# API keys: staff issue the keys of the organisations they manage, and staff keys -----------

from django import forms  # noqa: E402
from django.template.response import TemplateResponse  # noqa: E402

from storefront.api.services import api_key_issue, api_key_revoke  # noqa: E402

from .keys import ApiKey, ApiKeyKind, ApiScope  # noqa: E402


class ApiKeyAdminForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple,
        help_text="A staff key carries only orders:fulfil and prices:import; an organisation's "
        "key never does.",
    )

    class Meta:
        model = ApiKey
        fields = ("kind", "organisation", "user", "role", "name", "scopes", "expires_at")


@admin.register(ApiKey)
class ApiKeyAdmin(OrganisationScopedAdmin):
    """Issue (the token is shown once, on the page after saving), inspect and revoke keys. An issued
    key is never edited: revoke it and issue another. A staff key belongs to a member of staff and
    no organisation: a superuser issues one for any active staff member, other staff for
    themselves."""

    form = ApiKeyAdminForm
    list_display = (
        "name", "kind", "prefix", "organisation", "user", "role", "scopes", "last_used_at",
        "revoked_at",
    )
    list_filter = ("kind", "revoked_at")
    search_fields = ("name", "prefix", "organisation__name", "user__email")
    list_select_related = ("organisation", "user")
    autocomplete_fields = ("organisation", "user")
    actions = ("revoke_keys",)

    def get_queryset(self, request):
        scope = organisation_scope(request, VIEW_ORGANISATION)
        queryset = super(OrganisationScopedAdmin, self).get_queryset(request)
        if scope is None:
            return queryset
        scope = scope | organisation_scope(request, CHANGE_ORGANISATION)
        return queryset.filter(
            Q(organisation__in=scope) | Q(kind=ApiKeyKind.STAFF, user_id=request.user.pk)
        )

    @staticmethod
    def _own_staff_key(request, obj) -> bool:
        return request.user.is_superuser or obj.user_id == request.user.pk

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.kind == ApiKeyKind.STAFF:
            return self._own_staff_key(request, obj)
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.kind == ApiKeyKind.STAFF:
            return self._own_staff_key(request, obj)
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("kind", "organisation", "user", "role", "name", "scopes", "expires_at", "prefix",
                "created_by", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request, obj, form, change):
        if change:
            return
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        _, request._issued_api_token = api_key_issue(key=obj, created_by=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(request, "accounts/api_key_issued.html", {
            "key": obj, "token": request._issued_api_token, "in_admin": True,
        })

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        keys = list(queryset)
        for key in keys:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} keys.", messages.SUCCESS)
