"""Staff screens for the catalogue. Every save goes through catalog.services, so paths, validation
and the rules version stay right whichever screen made the change."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_history import HistoryAdmin
from segments.models import refuse_computed

from . import services
from .models import Catalog, Category, Manufacturer, Product, RegulatoryStatus


@admin.register(Category)
class CategoryAdmin(HistoryAdmin):
    list_display = ["indented_name", "slug", "parent", "position", "depth"]
    search_fields = ["name", "slug"]
    list_filter = ["depth"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]

    @admin.display(description="name", ordering="path")
    def indented_name(self, category: Category) -> str:
        return f"{'— ' * category.depth}{category.name}"

    def save_model(self, request, obj, form, change):
        services.category_save(category=obj)


@admin.register(Manufacturer)
class ManufacturerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        services.manufacturer_save(manufacturer=obj)


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = [
        "sku", "name", "gtin", "category", "manufacturer", "device_class", "regulatory_status",
        "professional_only", "is_active",
    ]
    list_select_related = ["category", "manufacturer"]
    search_fields = ["sku", "name", "gtin", "gmdn_code", "gmdn_term"]
    list_filter = [
        "regulatory_status", "device_class", "professional_only", "sterile", "single_use",
        "contains_latex", "vat_category", "is_active",
        ("manufacturer", admin.RelatedOnlyFieldListFilter),
        ("category", admin.RelatedOnlyFieldListFilter),
    ]
    autocomplete_fields = ["category", "manufacturer"]
    prepopulated_fields = {"slug": ["name", "sku"]}
    actions = ["field_safety_action", "return_to_market"]
    readonly_fields = ["regulatory_status"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "category", "manufacturer", "is_active"]}),
        ("Descriptions", {"fields": ["description", "plain_description", "image", "attributes"]}),
        ("Regulatory", {"fields": [
            "gtin", "device_class", "gmdn_code", "gmdn_term", "sterile", "single_use",
            "contains_latex", "regulatory_status", "professional_only",
        ]}),
        ("Pack and tax", {"fields": [
            "pack_size", "unit_of_measure", "vat_category", "vat_relief_item",
        ]}),
        ("Cost", {"fields": ["cost_price"]}),
    ]

    def save_model(self, request, obj, form, change):
        services.product_save(product=obj)

    def _set_status(self, request, queryset, status: str, verb: str):
        """All or nothing: a product under an active recall is refused (lift the recall)."""
        try:
            with transaction.atomic():
                for product in queryset:
                    services.product_set_regulatory_status(
                        product=product, status=status, reason=f"{verb} by {request.user}"
                    )
        except ValidationError as refusal:
            messages.error(request, " ".join(refusal.messages))
            return
        messages.success(request, f"{queryset.count()} product(s) {verb.lower()}.")

    # Recalls and withdrawals are raised on the Recalls screen, which holds the product's open
    # order lines as it takes the product off sale; a status alone would not.

    @admin.action(description="Mark a field safety corrective action in progress (stays on sale)")
    def field_safety_action(self, request, queryset):
        self._set_status(request, queryset, RegulatoryStatus.FIELD_SAFETY_ACTION,
                         "Marked under field safety action")

    @admin.action(description="Return selected products to the market")
    def return_to_market(self, request, queryset):
        self._set_status(request, queryset, RegulatoryStatus.ON_MARKET, "Returned to market")


ASSORTMENT_AND_ASSIGNMENTS = (
    "categories", "products", "excluded_categories", "excluded_products", "segments",
    "organisations",
)


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name", "code", "description", "is_active", *ASSORTMENT_AND_ASSIGNMENTS]

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("products") or ()) & set(cleaned.get("excluded_products") or ())
        if both:
            names = ", ".join(sorted(p.sku for p in both))
            raise forms.ValidationError(f"Included and excluded at once: {names}.")
        try:
            refuse_computed(cleaned.get("segments") or (), "a catalogue")
        except ValidationError as exc:
            self.add_error("segments", exc.messages)
        return cleaned


@admin.register(Catalog)
class CatalogAdmin(SimpleHistoryAdmin):
    form = CatalogForm
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}
    filter_horizontal = list(ASSORTMENT_AND_ASSIGNMENTS)
    fieldsets = [
        (None, {"fields": ["name", "code", "description", "is_active"]}),
        ("Assortment", {"fields": [
            "categories", "products", "excluded_categories", "excluded_products",
        ]}),
        ("Assigned to", {"fields": ["segments", "organisations"]}),
    ]

    def save_model(self, request, obj, form, change):
        services.catalog_save(catalog=obj)

    def save_related(self, request, form, formsets, change):
        services.catalog_save(
            catalog=form.instance,
            **{name: form.cleaned_data[name] for name in ASSORTMENT_AND_ASSIGNMENTS},
        )
