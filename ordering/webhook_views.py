"""Organisation self-service for webhooks: list the endpoints with their recent deliveries, add one
(its signing secret is shown on its page), send a test event, rotate the secret, switch off or
delete.

Only admins of the buyer's active organisation get here (`OrganisationAdminRequiredMixin`);
endpoints are found through the organisation, so another organisation's endpoint is a 404."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.forms import add_validation_errors
from accounts.mixins import OrganisationAdminRequiredMixin

from .selectors import organisation_webhook_endpoints, recent_webhook_deliveries
from .services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_set_active,
)


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL", max_length=300, assume_scheme="https",
        help_text="The HTTPS address your system receives the events at.",
    )
    description = forms.CharField(
        max_length=120, required=False, help_text="What receives them, e.g. 'Oracle ERP (test)'."
    )


class WebhookListView(OrganisationAdminRequiredMixin, View):
    def get(self, request):
        return render(request, "ordering/webhooks/list.html", {
            "endpoints": organisation_webhook_endpoints(buyer=request.buyer),
            "deliveries": recent_webhook_deliveries(buyer=request.buyer),
        })


@method_decorator(never_cache, name="dispatch")
class WebhookAddView(OrganisationAdminRequiredMixin, View):
    template_name = "ordering/webhooks/form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": WebhookEndpointForm()})

    def post(self, request):
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = webhook_endpoint_create(
                    organisation=self.organisation, url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"], created_by=request.user,
                )
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, "The endpoint was added. Verify every delivery with "
                                          "its signing secret, shown below.")
                return redirect("webhook_detail", pk=endpoint.pk)
        return render(request, self.template_name, {"form": form}, status=400)


@method_decorator(never_cache, name="dispatch")
class WebhookDetailView(OrganisationAdminRequiredMixin, View):
    def get(self, request, pk):
        endpoint = get_object_or_404(organisation_webhook_endpoints(buyer=request.buyer), pk=pk)
        return render(request, "ordering/webhooks/detail.html", {
            "endpoint": endpoint,
            "deliveries": recent_webhook_deliveries(buyer=request.buyer, endpoint=endpoint),
        })


class WebhookSetActiveView(OrganisationAdminRequiredMixin, View):
    active = False

    def post(self, request, pk):
        endpoint = get_object_or_404(organisation_webhook_endpoints(buyer=request.buyer), pk=pk)
        webhook_endpoint_set_active(endpoint=endpoint, active=self.active)
        if self.active:
            messages.success(request, f"{endpoint.url} receives events again.")
        else:
            messages.success(request, f"{endpoint.url} receives no more events.")
        return redirect("webhook_detail", pk=endpoint.pk)


class WebhookDeleteView(OrganisationAdminRequiredMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(organisation_webhook_endpoints(buyer=request.buyer), pk=pk)
        webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, f"{endpoint.url} was deleted with its delivery history.")
        return redirect("webhook_list")


class WebhookPingView(OrganisationAdminRequiredMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(
            organisation_webhook_endpoints(buyer=request.buyer).filter(is_active=True), pk=pk
        )
        webhook_endpoint_ping(endpoint=endpoint)
        messages.success(request, "A test event is on its way; its delivery shows below.")
        return redirect("webhook_detail", pk=endpoint.pk)


class WebhookRotateSecretView(OrganisationAdminRequiredMixin, View):
    def post(self, request, pk):
        endpoint = get_object_or_404(organisation_webhook_endpoints(buyer=request.buyer), pk=pk)
        webhook_endpoint_rotate_secret(endpoint=endpoint)
        messages.success(request, "The endpoint has a new signing secret, shown below; "
                                  "deliveries from now on are signed with it.")
        return redirect("webhook_detail", pk=endpoint.pk)
