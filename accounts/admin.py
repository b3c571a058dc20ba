"""Django admin for accounts. Superusers see everything; account managers (staff, not superusers)
see and edit only the organisations assigned to them, and only those organisations' members, sites,
cost centres and budgets. Every save goes through accounts.services."""
from operator import attrgetter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.http import Http404, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user
from simple_history.admin import SimpleHistoryAdmin

from segments.admin import render_buyer_explanations
from territories.postcodes import normalise_postcode

from . import services
from .models import (
    Budget,
    CostCentre,
    Membership,
    Organisation,
    Site,
    User,
    VerificationStatus,
)

VIEW_ORGANISATION = "accounts.view_organisation"
CHANGE_ORGANISATION = "accounts.change_organisation"


def organisation_scope(request, perm: str) -> frozenset[int] | None:
    """Ids of the organisations this staff member holds `perm` on; None means every organisation."""
    if request.user.is_superuser:
        return None
    scopes = request.__dict__.setdefault("_organisation_scope", {})
    if perm not in scopes:
        granted = get_objects_for_user(
            request.user, perm, klass=Organisation, accept_global_perms=False
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


class ServiceValidatedForm(forms.ModelForm):
    """Validates the whole row exactly as the write service will (`full_clean` with no field left
    out), so anything the service would refuse shows on the form instead of failing after it."""

    def _post_clean(self):
        super()._post_clean()
        if self._errors:
            return
        unsaved_parent = {
            name for name, field in self.fields.items()
            if isinstance(field, InlineForeignKeyField)
            and getattr(self.instance, f"{name}_id") is None
        }
        try:
            self.instance.full_clean(exclude=unsaved_parent or None)
        except ValidationError as exc:
            self._add_model_errors(exc)

    def clean_postcode(self):
        """The model reports a bad postcode for the whole row; here it shows on its field."""
        postcode = self.cleaned_data["postcode"]
        return normalise_postcode(postcode) if postcode else postcode

    def _add_model_errors(self, exc: ValidationError) -> None:
        for name, errors in exc.update_error_dict({}).items():
            if name in self.fields:
                self.add_error(name, errors)
            elif name == NON_FIELD_ERRORS:
                self.add_error(None, errors)
            else:
                label = self.instance._meta.get_field(name).verbose_name
                messages_ = ValidationError(errors).messages
                self.add_error(None, [f"{label.capitalize()}: {m}" for m in messages_])


class MembershipForm(ServiceValidatedForm):
    """Reports a duplicate membership on the person chosen, where staff look for the mistake."""

    def _post_clean(self):
        super()._post_clean()
        general = self._errors.get(NON_FIELD_ERRORS)
        if not general or "user" not in self.fields:
            return
        duplicate = next(
            c.violation_error_message for c in Membership._meta.constraints
            if c.name == "membership_one_per_user_and_organisation"
        )
        remaining = [e for e in general.data if duplicate not in e.messages]
        if len(remaining) == len(general.data):
            return
        if remaining:
            general.data = remaining
        else:
            del self._errors[NON_FIELD_ERRORS]
        self.add_error("user", duplicate)


class RowsTogetherFormSet(BaseInlineFormSet):
    """Checks rows of one submission against each other: each row alone validates only against
    what is already saved, so two new rows could clash and fail when the second is saved."""

    def kept_forms(self):
        return [
            form for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
            if hasattr(form, "cleaned_data")
        ]


class SiteFormSet(RowsTogetherFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.kept_forms():
            gln = form.cleaned_data.get("gln")
            if gln and gln in seen:
                form.add_error("gln", "Another site in this form has the same GLN.")
            seen.add(gln)


class BudgetFormSet(RowsTogetherFormSet):
    def clean(self):
        super().clean()
        periods = []
        for form in self.kept_forms():
            start, end = form.cleaned_data.get("period_start"), form.cleaned_data.get("period_end")
            if not (start and end):
                continue
            if any(start < other_end and end > other_start for other_start, other_end in periods):
                form.add_error(None, "This period overlaps another budget in this form.")
            periods.append((start, end))


def _save_through_service(obj) -> None:
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


def _delete_through_service(obj) -> None:
    if isinstance(obj, Membership):
        services.membership_remove(membership=obj)
    else:
        obj.delete()


def _promotions_first(obj) -> bool:
    """Sort key: memberships that are (or become) active org admins are saved before the others,
    so handing the admin role from one person to another is never refused halfway."""
    return not (isinstance(obj, Membership) and obj.is_org_admin and obj.is_active)


class OrganisationScopedAdmin(SimpleHistoryAdmin):
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
        _save_through_service(obj)

    def delete_model(self, request, obj):
        _delete_through_service(obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in sorted(instances, key=_promotions_first):
            obj._history_user = request.user
            _save_through_service(obj)
        for obj in formset.deleted_objects:
            _delete_through_service(obj)
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


class MembershipInline(OrganisationScopedInline, admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = (
        "user", "is_buyer", "is_requisitioner", "is_approver", "is_budget_holder",
        "is_org_admin", "approval_limit", "is_active",
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
        "name", "kind", "parent", "ods_code", "customer_tier", "size_band",
        "professional_status", "account_manager", "is_active",
    )
    list_filter = (
        "kind", "customer_tier", "size_band", "professional_status", "is_active",
        "account_manager",
    )
    search_fields = ("name", "ods_code", "gln")
    list_select_related = ("parent", "account_manager")
    autocomplete_fields = ("parent", "account_manager")
    inlines = (MembershipInline, SiteInline, CostCentreInline)
    fieldsets = (
        (None, {"fields": ("name", "kind", "parent", "is_active")}),
        ("Identifiers", {"fields": ("ods_code", "gln", "industry", "size_band")}),
        ("Account", {"fields": (
            "customer_tier", "account_manager", "credit_limit", "payment_terms_days",
            "professional_status",
        )}),
        ("Registered address", {"fields": ("address_line1", "town", "postcode")}),
    )

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        # The hierarchy decides inherited contracts and the manager decides who sees the row:
        # only superusers move an organisation or hand it to another manager.
        return ("parent", "account_manager")

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
        "is_active", "is_buyer", "is_requisitioner", "is_approver", "is_budget_holder",
        "is_org_admin", "organisation__kind",
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
                    _delete_through_service(membership)
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
    list_display = ("cost_centre", "organisation", "period_start", "period_end", "amount",
                    "committed", "remaining")
    list_filter = ("period_start",)
    search_fields = ("cost_centre__code", "cost_centre__name", "cost_centre__organisation__name")
    list_select_related = ("cost_centre__organisation",)
    readonly_fields = ("committed",)

    @admin.display(description="organisation")
    def organisation(self, obj):
        return obj.cost_centre.organisation


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserProfileForm(UserChangeForm):
    """Staff edit a person's details and professional registration; verifying stamps the date."""

    class Meta:
        model = User
        fields = "__all__"

    clean_postcode = ServiceValidatedForm.clean_postcode

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("registration_status")
        if status and status != VerificationStatus.VERIFIED:
            cleaned["registration_verified_at"] = None
        elif status == VerificationStatus.VERIFIED:
            newly_verified = "registration_status" in self.changed_data
            date_typed = "registration_verified_at" in self.changed_data
            if (newly_verified and not date_typed) or not cleaned.get("registration_verified_at"):
                cleaned["registration_verified_at"] = timezone.now()
        return cleaned


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
        "email", "full_name", "regulator", "registration_status", "is_staff", "is_active",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "registration_status", "regulator")
    search_fields = ("email", "full_name", "registration_number")
    actions = ("explain_buyer",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name", "postcode")}),
        ("Professional registration", {"fields": (
            "regulator", "registration_number", "registration_status", "registration_verified_at",
        )}),
        ("Permissions", {"fields": (
            "is_active", "is_staff", "is_superuser", "groups", "user_permissions",
        )}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": (
            "email", "full_name", "usable_password", "password1", "password2",
        )}),
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
            request, users, admin_site=self.admin_site, opts=self.model._meta,
            organisation_shown=lambda organisation_id: may_view(request, organisation_id),
        )
