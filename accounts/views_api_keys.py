"""Organisation self-service for API keys: issue (the token is shown once), list and revoke.

Organisation admins issue keys that act as themselves, with the self-service scopes; importing
prices is granted by staff in the admin only."""

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
from .keys import SELF_SERVICE_SCOPES, ApiKey
from .mixins import OrganisationAdminRequiredMixin
from .selectors import organisation_api_keys


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the key is for, e.g. 'Oracle ERP'.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope.value, scope.label) for scope in SELF_SERVICE_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_on = forms.DateField(
        required=False,
        widget=IsoDateInput(),
        help_text="Leave empty for a key that works until it is revoked.",
    )

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on <= timezone.localdate():
            raise ValidationError("Choose a date after today.")
        return expires_on

    def key_for(self, *, organisation, user) -> ApiKey:
        expires_on = self.cleaned_data["expires_on"]
        expires_at = None
        if expires_on is not None:
            expires_at = timezone.make_aware(datetime.datetime.combine(expires_on, datetime.time()))
        return ApiKey(
            organisation=organisation,
            user=user,
            name=self.cleaned_data["name"],
            scopes=self.cleaned_data["scopes"],
            expires_at=expires_at,
        )


class ApiKeyListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        keys = organisation_api_keys(buyer=request.buyer)
        return render(request, "accounts/api_key_list.html", {"keys": keys})


@method_decorator(never_cache, name="dispatch")
class ApiKeyIssueView(OrganisationAdminRequiredMixin, View):
    template_name = "accounts/api_key_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ApiKeyForm()})

    def post(self, request):
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                key, token = api_key_issue(
                    key=form.key_for(organisation=self.organisation, user=request.user),
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
