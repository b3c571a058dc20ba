"""Django admin for ordering: stock; orders (read-only: they change through the storefront and
the API only); the outbox of order events, webhook deliveries ("Retry now") and endpoints.

Account managers (staff who are not superusers) see only the rows of the organisations assigned
to them (`accounts.admin_scoping`); a routed order is also seen by its distributor's manager, at
the prices the distributor sees unless the manager also manages the buyer (docs/ordering.md)."""

import csv
import json
from operator import attrgetter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_forms import ServiceValidatedForm
from accounts.admin_scoping import (
    CHANGE_ORGANISATION,
    VIEW_ORGANISATION,
    OrganisationScopedAdmin,
    ScopedRelatedFieldListFilter,
    may,
    may_view,
    organisation_scope,
)

from .models import (
    DeliveryState,
    Order,
    OrderEvent,
    OrderLine,
    OutboxEvent,
    ShipmentLot,
    Stock,
    WebhookDelivery,
    WebhookEndpoint,
)
from .selectors import routed_lines, with_routed_total
from .services.webhooks import (
    webhook_deliveries_retry,
    webhook_endpoint_save,
    webhook_url_check,
)


@admin.register(Stock)
class StockAdmin(SimpleHistoryAdmin):
    list_display = ["product", "on_hand", "reserved", "available", "updated_at"]
    list_select_related = ["product"]
    search_fields = ["product__sku", "product__name", "product__gtin"]
    list_filter = [("product__category", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["product"]
    readonly_fields = ["updated_at"]

    @admin.display(description="available")
    def available(self, stock: Stock) -> int:
        return stock.available


def _view_scope(request) -> frozenset[int] | None:
    """Organisations whose rows this staff member may see; None means every organisation."""
    scope = organisation_scope(request, VIEW_ORGANISATION)
    if scope is None:
        return None
    return scope | organisation_scope(request, CHANGE_ORGANISATION)


class UnversionedScopedAdmin(OrganisationScopedAdmin):
    """Scoped admin of a table without simple-history: the plain admin log is its history."""

    object_history_template = None

    def history_view(self, request, object_id, extra_context=None):
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, never edited here; seen by whoever may see the parent."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return self.parent_model_admin_may_view(request, obj)

    def parent_model_admin_may_view(self, request, obj) -> bool:
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)


# Orders -----------------------------------------------------------------------------------------

class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("product", "site", "quantity", "unit_price", "vat_rate", "line_net", "line_vat",
              "line_gross", "price_source", "allocated_quantity", "backordered_quantity",
              "shipped_quantity")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "site")


class RoutedOrderLineInline(ReadOnlyInline):
    """A routed order's lines for staff who see the order only through its distributor: at the
    prices the distributor sees (`ordering.selectors.routed_lines`), never the buyer's."""

    model = OrderLine
    verbose_name_plural = "lines (at the prices the distributor sees)"
    fields = ("product", "site", "quantity", "distributor_unit_price", "distributor_line_net",
              "price_basis_shown", "allocated_quantity", "backordered_quantity",
              "shipped_quantity")

    def get_queryset(self, request):
        return routed_lines().select_related("product", "site")

    @admin.display(description="unit price")
    def distributor_unit_price(self, line) -> str:
        return "—" if line.routed_unit_price is None else str(line.routed_unit_price)

    @admin.display(description="line net")
    def distributor_line_net(self, line) -> str:
        return "—" if line.routed_line_net is None else str(line.routed_line_net)

    @admin.display(description="price")
    def price_basis_shown(self, line) -> str:
        return line.routed_price_explanation or "No price of the distributor's"


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "action", "from_state", "to_state", "actor_label", "comment")


@admin.register(Order)
class OrderAdmin(UnversionedScopedAdmin):
    """Orders to look at: state, money and lines are changed by the order's own services only."""

    list_display = ("number", "organisation", "state", "workflow", "total", "placed_at")
    list_filter = ("state", "workflow", ("organisation", ScopedRelatedFieldListFilter),
                   ("fulfiller", ScopedRelatedFieldListFilter),
                   ("contract", ScopedRelatedFieldListFilter))
    search_fields = ("number", "po_number")
    list_select_related = ("organisation",)
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline, OrderEventInline)
    fieldsets = (
        (None, {"fields": ("number", "state", "workflow", "organisation", "placed_by", "api_key",
                           "fulfiller", "po_number", "erp_reference", "placed_at", "updated_at")}),
        ("Money", {"fields": ("currency", "total_net", "total_vat", "total_gross",
                              "payment_method", "payment_reference", "contract")}),
        ("Delivery", {"fields": ("site", "delivery_name", "delivery_address", "delivery_postcode",
                                 "delivery_option", "requested_delivery_date",
                                 "expected_delivery_date", "decline_reason")}),
        ("Budget", {"fields": ("cost_centre", "budget", "customer_tier", "service_tier")}),
    )

    # Staff who see an order only through the distributor it is routed to (not through the buyer)
    # see it as that distributor does: its money at the distributor's prices.
    distributor_fieldsets = (
        fieldsets[0],
        ("Money at the distributor's prices", {"fields": ("currency", "distributor_total",
                                                          "payment_method")}),
        *fieldsets[2:],
    )

    def get_queryset(self, request):
        queryset = with_routed_total(admin.ModelAdmin.get_queryset(self, request))
        scope = _view_scope(request)
        if scope is None:
            return queryset.annotate(buyer_money_visible=Value(True))
        return queryset.filter(Q(organisation__in=scope) | Q(fulfiller__in=scope)).annotate(
            buyer_money_visible=ExpressionWrapper(Q(organisation__in=scope),
                                                  output_field=BooleanField()),
        )

    def sees_buyer_prices(self, request, obj) -> bool:
        if request.user.is_superuser or obj is None:
            return True
        return obj.organisation_id is not None and may_view(request, obj.organisation_id)

    def get_fieldsets(self, request, obj=None):
        if self.sees_buyer_prices(request, obj):
            return self.fieldsets
        return self.distributor_fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ("distributor_total",)

    def get_inlines(self, request, obj):
        if self.sees_buyer_prices(request, obj):
            return self.inlines
        return (RoutedOrderLineInline, OrderEventInline)

    @admin.display(description="total ex VAT at the distributor's prices")
    def distributor_total(self, order: Order) -> str:
        return f"{order.currency} {order.routed_total_net}"

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return may_view(request)
        return any(may_view(request, organisation_id)
                   for organisation_id in (obj.organisation_id, obj.fulfiller_id)
                   if organisation_id is not None) or request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="total")
    def total(self, order: Order) -> str:
        if order.buyer_money_visible:
            return f"{order.currency} {order.total_gross} inc VAT"
        return f"{order.currency} {order.routed_total_net} ex VAT, distributor's prices"


@admin.register(ShipmentLot)
class ShipmentLotAdmin(UnversionedScopedAdmin):
    """Every unit shipped, by lot: search a lot number to find who received it (a recall)."""

    list_display = ("lot_number", "product", "expiry_date", "quantity", "order", "organisation",
                    "site", "shipped_at")
    list_filter = ("expiry_date",)
    search_fields = ("lot_number", "product__sku", "shipment__order__number")
    list_select_related = ("product", "shipment__order__organisation", "order_line__site")
    organisation_lookup = "shipment__order__organisation"
    organisation_id_of = attrgetter("shipment.order.organisation_id")
    fields = ("lot_number", "product", "expiry_date", "quantity", "order", "organisation",
              "site", "shipped_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="order", ordering="shipment__order__number")
    def order(self, lot: ShipmentLot) -> str:
        return lot.shipment.order.number

    @admin.display(description="organisation")
    def organisation(self, lot: ShipmentLot) -> str:
        return str(lot.shipment.order.organisation or "consumer")

    @admin.display(description="delivered to")
    def site(self, lot: ShipmentLot) -> str:
        return str(lot.order_line.site or lot.shipment.order.delivery_postcode or "—")

    @admin.display(description="shipped", ordering="shipment__shipped_at")
    def shipped_at(self, lot: ShipmentLot):
        return lot.shipment.shipped_at


# Outbox and webhooks ----------------------------------------------------------------------------

class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fields = ("endpoint", "state", "attempts", "next_attempt_at", "last_status_code",
              "last_error", "delivered_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("endpoint")


@admin.register(OutboxEvent)
class OutboxEventAdmin(UnversionedScopedAdmin):
    """Every order event as it was written, and where it was delivered."""

    list_display = ("type", "organisation", "order", "created_at", "dispatched_at")
    list_filter = ("type", ("organisation", ScopedRelatedFieldListFilter))
    search_fields = ("order__number", "type")
    list_select_related = ("organisation", "order")
    date_hierarchy = "created_at"
    fields = ("id", "type", "organisation", "order", "created_at", "dispatched_at",
              "payload_pretty")
    readonly_fields = fields
    inlines = (DeliveryInline,)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="payload")
    def payload_pretty(self, event: OutboxEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(UnversionedScopedAdmin):
    """Each event's delivery to each endpoint; a pending or dead one can be retried now."""

    organisation_lookup = "endpoint__organisation"
    organisation_id_of = attrgetter("endpoint.organisation_id")
    list_display = ("event_type", "endpoint", "organisation", "state", "attempts",
                    "next_attempt_at", "last_status_code", "last_error", "delivered_at")
    list_filter = ("state",)
    search_fields = ("endpoint__url", "event__order__number", "event__type")
    list_select_related = ("event", "endpoint__organisation")
    fields = ("event", "endpoint", "state", "attempts", "next_attempt_at", "last_attempt_at",
              "last_status_code", "last_error", "delivered_at", "created_at")
    readonly_fields = fields
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return may(request, CHANGE_ORGANISATION)

    @admin.display(description="event", ordering="event__type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type

    @admin.display(description="organisation", ordering="endpoint__organisation__name")
    def organisation(self, delivery: WebhookDelivery):
        return delivery.endpoint.organisation

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        scope = organisation_scope(request, CHANGE_ORGANISATION)
        if scope is not None:
            queryset = queryset.filter(endpoint__organisation__in=scope)
        queued = webhook_deliveries_retry(delivery_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.filter(state=DeliveryState.DELIVERED).count()
        note = f" ({skipped} already delivered left as they are)" if skipped else ""
        self.message_user(request, f"Queued {queued} deliveries to be sent now{note}.",
                          messages.SUCCESS)


class WebhookEndpointAdminForm(ServiceValidatedForm):
    url = forms.URLField(label="URL", max_length=300, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("organisation", "url", "description", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        try:
            webhook_url_check(url)
        except ValidationError as refusal:
            raise ValidationError(refusal.message_dict["url"]) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(UnversionedScopedAdmin):
    """Addresses an organisation's events are sent to. The secret is made on creation and shown
    read-only; switch an endpoint off rather than delete it to keep its delivery history."""

    form = WebhookEndpointAdminForm
    list_display = ("url", "organisation", "description", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    managers_may_delete = True

    def get_fields(self, request, obj=None):
        fields = ("organisation", "url", "description", "is_active")
        return fields if obj is None else (*fields, "secret", "created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("organisation", "secret", "created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        if not change:
            obj.created_by = request.user
        webhook_endpoint_save(endpoint=obj)


# Recalls ----------------------------------------------------------------------------------------
# A recall is a catalogue record, but raising one holds order lines and its trace reads shipments
# and orders: its screens live with ordering, whose services and selectors they call.

from django.http import Http404, HttpResponse, HttpResponseNotAllowed  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.urls import path  # noqa: E402

from catalog.models import Recall  # noqa: E402

from .errors import OrderError  # noqa: E402
from .selectors import (  # noqa: E402
    OPEN_HEADER,
    SHIPPED_HEADER,
    recall_open_lines,
    recall_shipped_lots,
)
from .services.recalls import recall_lift, recall_raise  # noqa: E402

RECALL_FIELDS = ("product", "kind", "lot_numbers", "reason", "reference", "effective_date")
TRACES = {
    "shipped": ("Shipped lots: who received them", SHIPPED_HEADER, recall_shipped_lots),
    "open": ("Open orders holding the product", OPEN_HEADER, recall_open_lines),
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class RecallAdminForm(forms.ModelForm):
    class Meta:
        model = Recall
        fields = RECALL_FIELDS


@admin.register(Recall)
class RecallAdmin(admin.ModelAdmin):
    """Raise a recall or withdrawal (the product leaves sale and its open lines are held), lift
    it, and trace it: the shipped lots' recipients and the open orders of the product, each as a
    table and a CSV file. Raising and lifting need the recall permissions; account managers see
    the trace of their own organisations only."""

    form = RecallAdminForm
    list_display = ("reference", "product", "kind", "lots_recalled", "effective_date",
                    "raised_by", "raised_at", "active")
    list_filter = ("kind", "effective_date")
    search_fields = ("reference", "product__sku", "product__name", "lot_numbers")
    list_select_related = ("product", "raised_by")
    autocomplete_fields = ("product",)
    change_form_template = "admin/catalog/recall/change_form.html"

    def _full_trace(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm("catalog.change_recall")

    def trace_scope(self, request):
        """Organisations whose rows this staff member sees; None: every row."""
        return None if self._full_trace(request) else _view_scope(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return (self._full_trace(request) or request.user.has_perm("catalog.view_recall")
                or may_view(request))

    def has_add_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("catalog.add_recall")

    def has_change_permission(self, request, obj=None):
        return False  # raised and lifted through their services, never edited

    def has_lift_permission(self, request) -> bool:
        return self._full_trace(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*RECALL_FIELDS, "raised_by", "raised_at", "lifted_by", "lifted_at",
                "lift_reason")

    def get_fields(self, request, obj=None):
        return RECALL_FIELDS if obj is None else self.get_readonly_fields(request, obj)

    @admin.display(description="lots")
    def lots_recalled(self, recall: Recall) -> str:
        return ", ".join(recall.lots) or "every lot"

    @admin.display(description="active", boolean=True)
    def active(self, recall: Recall) -> bool:
        return recall.is_active

    def save_model(self, request, obj, form, change):
        raised = recall_raise(
            product=obj.product, kind=obj.kind, reason=obj.reason, reference=obj.reference,
            effective_date=obj.effective_date, raised_by=request.user,
            lot_numbers=obj.lot_numbers,
        )
        obj.pk, obj.raised_by, obj.raised_at = raised.pk, raised.raised_by, raised.raised_at

    def traces(self, request, recall: Recall) -> list[dict]:
        scope = self.trace_scope(request)
        return [
            {"name": name, "title": title, "header": header,
             "rows": rows(recall=recall, organisation_ids=scope)}
            for name, (title, header, rows) in TRACES.items()
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        recall = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if recall is not None and self.has_view_permission(request, recall):
            extra_context["traces"] = self.traces(request, recall)
            extra_context["may_lift"] = recall.is_active and self.has_lift_permission(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("<path:object_id>/trace/<str:name>.csv",
                 self.admin_site.admin_view(self.trace_csv_view), name="catalog_recall_trace"),
            path("<path:object_id>/lift/", self.admin_site.admin_view(self.lift_view),
                 name="catalog_recall_lift"),
            *super().get_urls(),
        ]

    def trace_csv_view(self, request, object_id, name):
        recall = self.get_object(request, unquote(object_id))
        if recall is None or name not in TRACES or not self.has_view_permission(request, recall):
            raise Http404
        _title, header, rows = TRACES[name]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="recall-{recall.pk}-{name}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(header)
        for row in rows(recall=recall, organisation_ids=self.trace_scope(request)):
            writer.writerow([_csv_cell(cell) for cell in row])
        return response

    def lift_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        recall = self.get_object(request, unquote(object_id))
        if recall is None:
            raise Http404
        if not self.has_lift_permission(request):
            raise PermissionDenied
        try:
            recall_lift(recall=recall, lifted_by=request.user,
                        reason=request.POST.get("lift_reason", "").strip())
        except OrderError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, f"{recall.reference} lifted: {recall.product} is on sale "
                              "again. Lines it held stay held.", messages.SUCCESS)
        return redirect("admin:catalog_recall_change", recall.pk)
