"""The staff quote queue in admin: quotes in the order staff answer them (waiting requests first,
concierge accounts' first among them), answering with prices and opening a revision."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.forms import IsoDateInput

from . import services
from .admin import OrganisationPricingAdmin
from .models import Quote, QuoteLine, QuoteStatus
from .selectors import SERVICE_RANK_LABELS, quote_queue, quote_queue_ordering


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    fields = ["product", "quantity", "target_price", "unit_price"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Quote)
class QuoteAdmin(OrganisationPricingAdmin):
    """The staff queue: requests waiting for an answer first, concierge accounts' first among
    them (`quote_queue`), then the oldest."""

    list_display = ["number", "revision", "organisation", "service", "status", "requested_at",
                    "expires_on"]

    def get_queryset(self, request):
        return quote_queue(super().get_queryset(request))

    def get_ordering(self, request):
        return quote_queue_ordering()

    @admin.display(description="service", ordering="service_rank")
    def service(self, obj):
        return SERVICE_RANK_LABELS.get(obj.service_rank, "")
    list_filter = ["status"]
    search_fields = ["number", "organisation__name"]
    inlines = [QuoteLineInline]
    readonly_fields = ["organisation", "number", "revision", "status", "currency", "requested_by",
                       "answered_by", "note", "response_note", "expires_on", "requested_at",
                       "answered_at", "accepted_at", "actions_links"]
    fields = readonly_fields
    change_form_template = "admin/pricing/quote/change_form.html"

    def has_add_permission(self, request):
        return False

    @admin.display(description="actions")
    def actions_links(self, obj):
        if obj.status == QuoteStatus.REQUESTED:
            return format_html('<a href="{}">Answer with prices</a>',
                               reverse("admin:pricing_quote_answer", args=[obj.pk]))
        return "—"

    def get_urls(self):
        return [
            path("<int:pk>/answer/", self.admin_site.admin_view(self.answer_view),
                 name="pricing_quote_answer"),
            path("<int:pk>/revise/", self.admin_site.admin_view(self.revise_view),
                 name="pricing_quote_revise"),
            *super().get_urls(),
        ]

    def answer_view(self, request, pk):
        quote = get_object_or_404(self.get_queryset(request), pk=pk)
        lines = list(quote.lines.select_related("product"))
        form = QuoteAnswerForm(request.POST or None, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                services.quote_answer(
                    quote=quote, actor=request.user, prices=form.prices(),
                    expires_on=form.cleaned_data["expires_on"],
                    response_note=form.cleaned_data["response_note"],
                )
            except services.QuoteError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Quote {quote} answered.")
                return HttpResponseRedirect(reverse("admin:pricing_quote_change", args=[pk]))
        return TemplateResponse(request, "admin/pricing/quote/answer.html", {
            **self.admin_site.each_context(request), "form": form, "quote": quote,
            "opts": self.model._meta, "title": f"Answer quote {quote}",
        })

    def revise_view(self, request, pk):
        quote = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:pricing_quote_change", args=[pk]))
        try:
            revision = services.quote_revise(quote=quote, actor=request.user)
        except services.QuoteError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:pricing_quote_change", args=[pk]))
        messages.success(request, f"Revision {revision.revision} opened; {quote} is kept.")
        return HttpResponseRedirect(reverse("admin:pricing_quote_change", args=[revision.pk]))


class QuoteAnswerForm(forms.Form):
    expires_on = forms.DateField(widget=IsoDateInput())
    response_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"price_{line.product_id}"] = forms.DecimalField(
                label=f"{line.product} × {line.quantity}", min_value=Decimal("0.0001"),
                max_digits=12, decimal_places=4, initial=line.target_price,
            )

    def prices(self) -> dict[int, Decimal]:
        try:
            return {ln.product_id: self.cleaned_data[f"price_{ln.product_id}"] for ln in self.lines}
        except (KeyError, InvalidOperation) as exc:
            raise forms.ValidationError("Give a price for every line.") from exc
