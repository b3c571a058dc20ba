"""Organisation self-service for API keys: issue (the token is shown once), list and revoke, and
whether orders placed through integration keys skip the approval rules.

An organisation admin issues integration keys (a service identity of the organisation with an API
role of its own and a member responsible for it) and personal keys (acting as the admin), with the
organisation's scopes only; the staff scopes are on staff keys, issued in the admin."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from storefront.api.services import api_key_issue, api_key_revoke

from .forms import IsoDateInput, add_validation_errors
from .keys import SELF_SERVICE_SCOPES, ApiKey, ApiKeyKind, ApiRole
from .mixins import OrganisationAdminRequiredMixin
from .models import Membership
from .selectors import organisation_api_keys, organisation_members
from .services import organisation_integration_approval_set

ISSUABLE_KINDS = [
    (ApiKeyKind.INTEGRATION.value, "Integration key: a system of the organisation, with its own "
     "role (for an ERP that orders)"),
    (ApiKeyKind.PERSONAL.value, "Personal key: acts as you, with your roles"),
]


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj.user)


class ApiKeyForm(forms.Form):
    kind = forms.ChoiceField(choices=ISSUABLE_KINDS, initial=ApiKeyKind.INTEGRATION,
                             widget=forms.RadioSelect, label="Kind of key")
    name = forms.CharField(max_length=80, help_text="What the key is for, e.g. 'Oracle ERP'.")
    role = forms.ChoiceField(
        choices=[("", "—"), *ApiRole.choices], required=False, label="API role",
        help_text="Integration keys: what the key may do. A requisitioner's orders always wait "
        "for an approver; a buyer's go through your approval rules.",
    )
    responsible = MemberChoiceField(
        queryset=None, required=False, label="Responsible member",
        help_text="Integration keys: the member accountable for the key's orders (they are "
        "shown as placed by them). The key stops working if they leave.",
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope.value, scope.label) for scope in SELF_SERVICE_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_on = forms.DateField(
        required=False,
        widget=IsoDateInput(),
        help_text="Leave empty for a key that works until it is revoked.",
    )

    def __init__(self, *args, members=None, issuer=None, **kwargs):
        """`members`: the active memberships a responsible member is chosen from; `issuer`: the
        org admin issuing the key (the default responsible member)."""
        super().__init__(*args, **kwargs)
        members = members if members is not None else Membership.objects.none()
        self.fields["responsible"].queryset = members
        if issuer is not None:
            self.fields["responsible"].initial = members.filter(user=issuer).first()
        self.issuer = issuer

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= timezone.localdate():
            raise ValidationError("Choose a date after today.")
        return expires_on

    def _person(self):
        """Who the key acts as (personal) or who is responsible for it (integration; the issuer
        unless another member is chosen)."""
        chosen = self.cleaned_data.get("responsible")
        if self.cleaned_data["kind"] == ApiKeyKind.INTEGRATION and chosen is not None:
            return chosen.user
        return self.issuer

    def key_for(self, *, organisation) -> ApiKey:
        expires_on = self.cleaned_data["expires_on"]
        expires_at = None
        if expires_on is not None:
            expires_at = timezone.make_aware(datetime.datetime.combine(expires_on, datetime.time()))
        kind = self.cleaned_data["kind"]
        return ApiKey(
            kind=kind,
            organisation=organisation,
            user=self._person(),
            role=self.cleaned_data["role"] if kind == ApiKeyKind.INTEGRATION else "",
            name=self.cleaned_data["name"],
            scopes=self.cleaned_data["scopes"],
            expires_at=expires_at,
        )


class IntegrationApprovalForm(forms.Form):
    skip = forms.BooleanField(
        required=False, label="Orders placed through integration keys skip our approval rules",
        help_text="Off: they go through the approval rules as a member of the key's role would "
        "(a requisitioner key's orders always wait for an approver). An order over its cost "
        "centre's budget still goes to the budget holder.",
    )


class ApiKeyListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        keys = organisation_api_keys(buyer=request.buyer)
        approval = IntegrationApprovalForm(
            initial={"skip": self.organisation.integration_orders_skip_approval}
        )
        return render(request, "accounts/api_key_list.html",
                      {"keys": keys, "approval_form": approval})


class IntegrationApprovalView(OrganisationAdminRequiredMixin, View):
    def post(self, request):
        form = IntegrationApprovalForm(request.POST)
        form.is_valid()
        skip = form.cleaned_data.get("skip", False)
        organisation_integration_approval_set(organisation=self.organisation, skip=skip)
        messages.success(request, "Orders through integration keys now skip the approval rules."
                         if skip else "Orders through integration keys now go through the "
                         "approval rules.")
        return redirect("api_key_list")


@method_decorator(never_cache, name="dispatch")
class ApiKeyIssueView(OrganisationAdminRequiredMixin, View):
    template_name = "accounts/api_key_form.html"

    def _form(self, data=None) -> ApiKeyForm:
        members = organisation_members(buyer=self.request.buyer).filter(
            is_active=True, user__is_active=True
        )
        return ApiKeyForm(data, members=members, issuer=self.request.user)

    def get(self, request):
        return render(request, self.template_name, {"form": self._form()})

    def post(self, request):
        form = self._form(request.POST)
        if form.is_valid():
            try:
                key, token = api_key_issue(
                    key=form.key_for(organisation=self.organisation),
                    created_by=request.user,
                    allowed_scopes=SELF_SERVICE_SCOPES,
                )
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                return render(request, "accounts/api_key_issued.html", {"key": key, "token": token})
        return render(request, self.template_name, {"form": form}, status=400)


class ApiKeyRevokeView(OrganisationAdminRequiredMixin, View):
    def post(self, request, pk):
        key = get_object_or_404(organisation_api_keys(buyer=request.buyer), pk=pk)
        api_key_revoke(key=key)
        messages.success(request, f"The key {key.name} no longer works.")
        return redirect("api_key_list")
