"""Django admin for front-page content: staff with the model permissions list, add and edit
blocks (saved through merchandising.services, errors at their fields), and preview the front
page's blocks exactly as a chosen buyer would see them."""

import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts.selectors import managed_organisation_ids
from segments.admin_preview import BuyerPickerForm

from . import services
from .models import ContentBlock
from .selectors import blocks_for, blocks_with_reach

TARGETS = ("segments", "products", "categories")


class ContentBlockForm(forms.ModelForm):
    class Meta:
        model = ContentBlock
        fields = ("title", "kind", "body", "is_active", "audience", "segments", "priority",
                  "valid_from", "valid_until", "image_path", "image_alt", "link_url", "link_label",
                  "categories", "products", "promotion")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for name in ("kind", "audience", "promotion"):
            setattr(self.instance, name, cleaned.get(name))
        try:
            self.instance.clean_targets(**{name: cleaned.get(name) or [] for name in TARGETS})
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field, messages)
        return cleaned


@admin.register(ContentBlock)
class ContentBlockAdmin(admin.ModelAdmin):
    form = ContentBlockForm
    list_display = ("title", "kind", "audience", "targets", "priority", "valid_from",
                    "valid_until", "is_active", "shown_count", "buyers_shown")
    list_filter = ("kind", "audience", "is_active", "segments__kind")
    search_fields = ("title", "body", "segments__name", "promotion__code")
    filter_horizontal = ("segments", "categories")
    autocomplete_fields = ("products",)
    raw_id_fields = ("promotion",)
    fieldsets = (
        (None, {"fields": ("title", "kind", "body", "is_active")}),
        ("Who sees it, and when", {"fields": ("audience", "segments", "priority", "valid_from",
                                              "valid_until")}),
        ("Image and link", {"fields": ("image_path", "image_alt", "link_url", "link_label")}),
        ("Featured and offered", {"fields": ("categories", "products", "promotion")}),
    )

    def get_queryset(self, request):
        return blocks_with_reach(super().get_queryset(request)).prefetch_related("segments")

    @admin.display(description="Targets")
    def targets(self, block):
        names = [s.name for s in block.segments.all()]
        return ", ".join(names) or block.get_audience_display()

    @admin.display(description="Times shown", ordering="shown_count")
    def shown_count(self, block):
        return block.shown_count

    @admin.display(description="Buyers shown", ordering="buyers_shown")
    def buyers_shown(self, block):
        return block.buyers_shown

    def save_model(self, request, obj, form, change):
        services.content_block_save(
            block=obj, **{name: form.cleaned_data.get(name) or [] for name in TARGETS}
        )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view),
                 name="merchandising_contentblock_preview"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"preview_url": reverse("admin:merchandising_contentblock_preview")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def preview_view(self, request):
        """Preview as buyer: the front page's blocks exactly as the chosen buyer sees them."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = BlockPreviewForm(request.GET or None,
                               scope=managed_organisation_ids(request.user))
        buyer, problem, blocks = None, "", []
        if request.GET and form.is_valid():
            buyer, problem = form.buyer()
            if buyer is not None:
                blocks = blocks_for(buyer, form.moment())
        return TemplateResponse(request, "admin/merchandising/preview.html", {
            **self.admin_site.each_context(request), "form": form, "buyer": buyer,
            "problem": problem, "blocks": blocks, "opts": self.model._meta,
            "title": "Preview the front page as a buyer",
        })


class BlockPreviewForm(BuyerPickerForm):
    """The buyer to preview as, and the moment to see their front page at."""

    at = forms.DateTimeField(
        required=False, label="At", help_text="Leave empty for now (YYYY-MM-DD HH:MM).",
    )

    def moment(self) -> datetime.datetime:
        return self.cleaned_data.get("at") or timezone.now()

