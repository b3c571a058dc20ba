"""Django admin for pricing. Superusers manage everything; an account manager (staff, not
superuser) sees and edits only the contracts, quotes and price lists of the organisations assigned
to them (guardian `accounts.change_organisation`). Writes go through pricing.services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_scoping import ScopedRelatedFieldListFilter
from accounts.models import Organisation
from catalog.models import Product
from segments.admin_preview import BuyerPickerForm

from . import services
from .engine import price_explanations, prices_for
from .models import (
    Contract,
    PriceImport,
    PriceList,
    PriceListItem,
    PriceListKind,
)
from .resources import PriceListItemResource
from .selectors import (
    managed_organisation_ids,
    price_lists_editable_by,
)
from .tasks import price_import_run

INLINE_ITEM_LIMIT = 300


def _scope(request) -> frozenset[int] | None:
    cache = request.__dict__.setdefault("_pricing_scope", {})
    if "orgs" not in cache:
        cache["orgs"] = managed_organisation_ids(request.user)
    return cache["orgs"]


def _manages_any(request) -> bool:
    scope = _scope(request)
    return scope is None or bool(scope)


class OrganisationPricingAdmin(SimpleHistoryAdmin):
    """Rows that belong to one organisation (contracts, quotes): scoped to the manager's ones."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("organisation")
        scope = _scope(request)
        return queryset if scope is None else queryset.filter(organisation_id__in=scope)

    def _may(self, request, obj) -> bool:
        scope = _scope(request)
        if scope is None:
            return True
        return bool(scope) if obj is None else obj.organisation_id in scope

    def has_module_permission(self, request):
        return _manages_any(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return _manages_any(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = _scope(request)
        if scope is not None and db_field.related_model is Organisation:
            kwargs["queryset"] = Organisation.objects.filter(pk__in=scope)
        if scope is not None and db_field.related_model is PriceList:
            kwargs["queryset"] = price_lists_editable_by(request.user).filter(
                kind=PriceListKind.CONTRACT
            ) | PriceList.objects.filter(kind=PriceListKind.CONTRACT, contracts__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 1
    raw_id_fields = ["product"]
    fields = ["product", "min_quantity", "unit_price", "min_order_qty", "max_order_qty",
              "order_multiple"]


class PriceListForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = ["code", "name", "currency", "kind", "valid_from", "valid_to", "priority",
                  "is_active", "segments", "organisations", "territories", "note"]

    def clean(self):
        cleaned = super().clean()
        self.instance.kind = cleaned.get("kind", self.instance.kind)
        try:
            self.instance.clean_assignments(
                segments=list(cleaned.get("segments") or []),
                organisations=list(cleaned.get("organisations") or []),
                territories=list(cleaned.get("territories") or []),
            )
        except ValidationError as exc:
            self.add_error(None, exc)  # at the field it names, else above the form
        return cleaned


@admin.register(PriceList)
class PriceListAdmin(SimpleHistoryAdmin):
    form = PriceListForm
    list_display = ["code", "name", "kind", "currency", "valid_from", "valid_to", "priority",
                    "is_active", "item_count"]
    list_filter = ["kind", "currency", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["segments", "organisations", "territories"]
    change_form_template = "admin/pricing/pricelist/change_form.html"

    def get_queryset(self, request):
        return price_lists_editable_by(request.user).annotate(item_count=Count("items"))

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    def get_inlines(self, request, obj):
        if obj is not None and obj.items.count() > INLINE_ITEM_LIMIT:
            return []
        return [PriceListItemInline]

    def has_module_permission(self, request):
        return _manages_any(request)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return _manages_any(request)
        return price_lists_editable_by(request.user).filter(pk=obj.pk).exists()

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        services.price_list_save(price_list=obj)

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view),
                 name="pricing_preview"),
            path("<int:pk>/import-file/", self.admin_site.admin_view(self.import_file_view),
                 name="pricing_pricelist_import_file"),
            *super().get_urls(),
        ]

    def import_file_view(self, request, pk):
        """Upload a large price file: it is imported in the background with visible progress."""
        price_list = get_object_or_404(self.get_queryset(request), pk=pk)
        form = PriceFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            storage = FileSystemStorage()
            stored = storage.save(f"price-imports/{upload.name}", upload)
            record = PriceImport.objects.create(
                price_list=price_list, file_name=upload.name, file_path=storage.path(stored),
                created_by=request.user,
            )
            price_import_run.delay(record.pk)
            messages.info(request, f"{upload.name} is being imported into {price_list.code}.")
            return HttpResponseRedirect(
                reverse("admin:pricing_priceimport_change", args=[record.pk])
            )
        return TemplateResponse(request, "admin/pricing/import_file.html", {
            **self.admin_site.each_context(request), "form": form, "price_list": price_list,
            "opts": self.model._meta, "title": f"Import a price file into {price_list.code}",
        })

    def preview_view(self, request):
        """Preview as buyer: the resolved price and its explanation for chosen products."""
        form = PreviewForm(request.GET or None, scope=_scope(request))
        rows, buyer, problem = [], None, ""
        if request.GET and form.is_valid():
            buyer, problem = form.buyer()
            if buyer is not None:
                products = list(Product.objects.filter(sku__in=form.cleaned_data["skus"]))
                quantity = form.cleaned_data["quantity"]
                resolved = prices_for(buyer, products, quantity)
                explained = price_explanations(buyer, products, quantity)
                rows = [
                    {"product": p, "price": resolved.get(p.pk),
                     "explanation": explained.get(p.pk)}
                    for p in products
                ]
        return TemplateResponse(request, "admin/pricing/preview.html", {
            **self.admin_site.each_context(request), "form": form, "rows": rows, "buyer": buyer,
            "problem": problem, "opts": self.model._meta, "title": "Preview prices as a buyer",
        })


class PriceFileForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX with columns sku, unit_price and optionally "
                                     "min_quantity, currency, min_order_qty, max_order_qty, "
                                     "order_multiple.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        return upload


class PreviewForm(BuyerPickerForm):
    """The buyer to preview as, and the products and quantity to price for them."""

    skus = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="SKUs separated by spaces, commas or lines.")
    quantity = forms.IntegerField(min_value=1, initial=1)

    def clean_skus(self):
        text = self.cleaned_data["skus"].replace(",", " ")
        return [s.strip().upper() for s in text.split() if s.strip()]


class EditablePriceListFilter(ScopedRelatedFieldListFilter):
    """Lists only the price lists this staff member may edit (a contract list names a contract)."""

    def scope_q(self, model, request):
        if request.user.is_superuser:
            return None
        return Q(pk__in=price_lists_editable_by(request.user).values("pk"))


@admin.register(PriceListItem)
class PriceListItemAdmin(ImportExportMixin, SimpleHistoryAdmin):
    resource_classes = [PriceListItemResource]
    list_display = ["price_list", "product", "min_quantity", "unit_price", "min_order_qty",
                    "max_order_qty", "order_multiple"]
    list_filter = ["price_list__kind", ("price_list", EditablePriceListFilter)]
    search_fields = ["product__sku", "price_list__code"]
    raw_id_fields = ["product"]
    list_select_related = ["price_list", "product"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            price_list__in=price_lists_editable_by(request.user)
        )

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is PriceList:
            kwargs["queryset"] = price_lists_editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return _manages_any(request)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return _manages_any(request)
        return price_lists_editable_by(request.user).filter(pk=obj.price_list_id).exists()

    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def has_add_permission(self, request):
        return _manages_any(request)

    def has_import_permission(self, request):
        return _manages_any(request)

    def has_export_permission(self, request):
        return _manages_any(request)

    def save_model(self, request, obj, form, change):
        if not price_lists_editable_by(request.user).filter(pk=obj.price_list_id).exists():
            raise PermissionDenied
        obj._history_user = request.user
        services.price_list_item_save(item=obj)


@admin.register(Contract)
class ContractAdmin(OrganisationPricingAdmin):
    list_display = ["reference", "lot", "organisation", "status", "valid_from", "valid_to",
                    "price_list", "service_tier"]
    list_filter = ["status", ("organisation", ScopedRelatedFieldListFilter)]
    search_fields = ["reference", "organisation__name"]
    autocomplete_fields = []
    filter_horizontal = ["authorised_fulfillers"]

    def save_model(self, request, obj, form, change):
        if not self._may(request, obj):
            raise PermissionDenied
        obj._history_user = request.user
        services.contract_save(contract=obj)


@admin.register(PriceImport)
class PriceImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "price_list", "source", "status", "progress_text", "created_by",
                    "created_at", "finished_at"]
    list_filter = ["status", "source"]
    readonly_fields = ["price_list", "file_name", "file_path", "source", "status", "rows_total",
                       "rows_done", "progress_text", "error_table", "created_by", "created_at",
                       "finished_at"]
    exclude = ["errors"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            price_list__in=price_lists_editable_by(request.user)
        ).select_related("price_list", "created_by")

    @admin.display(description="progress")
    def progress_text(self, obj):
        return f"{obj.rows_done:,} of {obj.rows_total:,} rows ({obj.progress}%)"

    @admin.display(description="errors")
    def error_table(self, obj):
        if not obj.errors:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.get("row"), e.get("column"), e.get("message")) for e in obj.errors[:200]),
        )
        return format_html(
            "<table><tr><th>row</th><th>column</th><th>problem</th></tr>{}</table>", rows
        )

    def has_module_permission(self, request):
        return _manages_any(request)

    def has_view_permission(self, request, obj=None):
        return _manages_any(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


from . import admin_quotes  # noqa: E402, F401
