"""Pricing endpoints: price a basket, read the account's contracts and quotes, and (staff or an
import key) bulk-upsert a price list's items through the price importer, all or nothing."""

import csv
import io
from collections import defaultdict

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from catalog.api import MAX_QUANTITY, PriceSerializer
from catalog.selectors import visible_products
from pricing.engine import PricingError, check_quantity, line_total, prices_for
from pricing.models import Contract, Currency, QuoteStatus
from pricing.selectors import contracts_of, current_quotes_of, price_lists_editable_by, quotes_of
from pricing.services import price_import
from storefront.api.errors import DomainError
from storefront.api.filters import DateTimeFilter
from storefront.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from storefront.api.pagination import NewestFirstPagination
from storefront.api.permissions import CATALOGUE_READ, PRICES_IMPORT, staff_actor
from storefront.api.serializers import Money, StrictInput

MAX_BASKET_LINES = 200
MAX_UPSERT_ITEMS = 10_000

# Price a basket ----------------------------------------------------------------------------------


class BasketLineInput(StrictInput):
    """One line of a basket: a SKU and a quantity; nothing else may be sent."""

    sku = serializers.CharField(max_length=32, help_text="The product's SKU.")
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY,
        help_text="Units of sale to price; volume tiers apply to it.",
    )


class BasketInput(StrictInput):
    """The lines to price; the engine decides every price."""

    lines = serializers.ListField(
        child=BasketLineInput(), min_length=1, max_length=MAX_BASKET_LINES,
        help_text="The lines to price, one per SKU and quantity.",
    )


class MoneyTotalSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="ISO 4217 code of the amounts.")
    net = Money(help_text="Net total, ex VAT.")
    vat = Money(help_text="VAT total.")
    gross = Money(help_text="Gross total: net plus VAT.")


class BasketLineSerializer(serializers.Serializer):
    sku = serializers.CharField(help_text="The SKU as sent.")
    quantity = serializers.IntegerField(help_text="The quantity as sent.")
    price = PriceSerializer(allow_null=True, help_text="null: price on request.")
    total = MoneyTotalSerializer(
        allow_null=True,
        help_text="The line's totals; null when the price is on request.",
    )


class BasketSerializer(serializers.Serializer):
    lines = BasketLineSerializer(
        many=True,
        help_text="The lines in the order sent, each with its price.",
    )
    totals = MoneyTotalSerializer(many=True, help_text="One per currency of the priced lines.")
    complete = serializers.BooleanField(help_text="false when a line has no price (on request).")


def _basket_products(buyer, lines) -> dict[str, int]:
    """{sku: product id} of the basket's SKUs this buyer may see, in one query; a repeated or
    invisible SKU is an error of its line."""
    visible = dict(
        visible_products(buyer).filter(sku__in={line["sku"] for line in lines})
        .values_list("sku", "pk")
    )
    errors, first_line = {}, {}
    for index, line in enumerate(lines):
        sku = line["sku"]
        if sku not in visible:
            errors[f"lines.{index}.sku"] = ["No such product."]
        elif sku in first_line:
            errors[f"lines.{index}.sku"] = [f"Already on line {first_line[sku]}."]
        first_line.setdefault(sku, index)
    if errors:
        raise DomainError("basket_invalid", "Some lines cannot be priced.", errors)
    return visible


def price_basket(buyer, lines) -> dict:
    """Each line priced at its own quantity by the engine: one engine call per distinct quantity."""
    ids = _basket_products(buyer, lines)
    by_quantity = defaultdict(list)
    for line in lines:
        by_quantity[line["quantity"]].append(ids[line["sku"]])
    prices = {q: prices_for(buyer, product_ids, q) for q, product_ids in by_quantity.items()}
    priced, errors, totals = [], {}, {}
    for index, line in enumerate(lines):
        price = prices[line["quantity"]].get(ids[line["sku"]])
        total = None
        if price is not None:
            try:
                check_quantity(price, line["quantity"])
            except PricingError as refusal:
                errors[f"lines.{index}.quantity"] = [refusal.message]
                continue
            total = line_total(price, line["quantity"])
            net, vat, gross = totals.get(total.currency, (0, 0, 0))
            totals[total.currency] = (net + total.net, vat + total.vat, gross + total.gross)
        priced.append({**line, "price": price, "total": total})
    if errors:
        raise DomainError("basket_invalid", "Some lines cannot be priced.", errors)
    return {
        "lines": priced,
        "totals": [
            {"currency": c, "net": n, "vat": v, "gross": g}
            for c, (n, v, g) in sorted(totals.items())
        ],
        "complete": all(line["price"] is not None for line in priced),
    }


@extend_schema(
    request=BasketInput, responses=BasketSerializer, parameters=[IDEMPOTENCY_KEY_PARAMETER],
    tags=["pricing"],
)
class QuoteBasket(APIView):
    """Unit prices, tiers, explanations, VAT and line totals for a basket. Nothing is written, so
    an Idempotency-Key is accepted and has nothing to protect."""

    required_scopes = {"POST": CATALOGUE_READ}

    def post(self, request):
        basket = BasketInput(data=request.data)
        basket.is_valid(raise_exception=True)
        result = price_basket(request.buyer, basket.validated_data["lines"])
        return Response(BasketSerializer(result).data)


# Contracts and quotes ----------------------------------------------------------------------------


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]
        extra_kwargs = {
            "id": {"help_text": "The organisation's id."},
            "name": {"help_text": "The organisation's name."},
        }


class ContractSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(help_text="The holder: yours or a parent's.")
    price_list_code = serializers.CharField(
        source="price_list.code",
        help_text="The contract's price list: its prices show with source `contract`.",
    )
    currency = serializers.CharField(
        source="price_list.currency",
        help_text="ISO 4217 code of the contract's prices.",
    )

    class Meta:
        model = Contract
        fields = ["id", "reference", "lot", "status", "valid_from", "valid_to", "organisation",
                  "price_list_code", "currency", "updated_at"]
        extra_kwargs = {
            "id": {"help_text": "The contract's id: its address in the API and what an order's "
                   "`contract` names."},
            "reference": {"help_text": "The framework or agreement reference, e.g. NHS-2025-118."},
            "lot": {"help_text": "The lot of the framework the contract awards; empty when none."},
            "status": {"help_text": "draft, active, suspended or ended: only an active "
                       "contract prices orders."},
            "valid_from": {"help_text": "The first day the contract prices orders."},
            "valid_to": {"help_text": "The last day; null for open-ended."},
            "updated_at": {"help_text": "When the contract last changed (status, dates, "
                           "fulfillers, note); see `updated_since`."},
        }


class ContractFilter(django_filters.FilterSet):
    updated_since = DateTimeFilter(
        field_name="updated_at", lookup_expr="gte",
        help_text="Contracts changed at or after this time (status, dates, fulfillers, note).",
    )

    class Meta:
        model = Contract
        fields = ["updated_since"]


@extend_schema(tags=["pricing"])
class ContractList(generics.ListAPIView):
    """The contracts that price this account (its own and its parent organisations')."""

    required_scopes = {"GET": CATALOGUE_READ}
    serializer_class = ContractSerializer
    pagination_class = NewestFirstPagination
    filterset_class = ContractFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contract.objects.none()
        return contracts_of(buyer=self.request.buyer)


@extend_schema(tags=["pricing"])
class ContractDetail(generics.RetrieveAPIView):
    """One contract that prices this account (its own or a parent organisation's):
    reference, lot, status, validity and its price list. Any other contract answers 404."""

    required_scopes = {"GET": CATALOGUE_READ}
    serializer_class = ContractSerializer
    filter_backends = ()

    def get_queryset(self):
        return contracts_of(buyer=self.request.buyer)


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku", help_text="The product's SKU.")
    name = serializers.CharField(source="product.name", help_text="The product's name.")
    quantity = serializers.IntegerField(help_text="Units of sale the quote covers.")
    target_price = Money(
        allow_null=True,
        help_text="The net unit price you asked for; null when you named none.",
    )
    unit_price = Money(allow_null=True, help_text="Quoted net unit price, up to the quantity.")


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The quote's id: its address in the API.")
    number = serializers.CharField(help_text="The quote number, e.g. Q-2026-0142.")
    revision = serializers.IntegerField(
        help_text="The revision, from 1; each answer to a change request is a new revision.",
    )
    state = serializers.ChoiceField(
        source="status", choices=QuoteStatus.choices,
        help_text="requested, answered (quoted), accepted, rejected, expired or superseded.",
    )
    currency = serializers.ChoiceField(
        choices=Currency.choices,
        help_text="ISO 4217 code of the quote's prices.",
    )
    expires_on = serializers.DateField(
        allow_null=True,
        help_text="The last day it may be accepted; null before it is quoted.",
    )
    requested_at = serializers.DateTimeField(help_text="When it was requested.")
    answered_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When it was quoted; null before.",
    )
    accepted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When it was accepted; null before.",
    )
    note = serializers.CharField(help_text="What the buyer asked.")
    response_note = serializers.CharField(help_text="The account manager's answer.")
    lines = QuoteLineSerializer(many=True, source="lines.all", help_text="The quoted lines.")


class QuoteQuery(serializers.Serializer):
    state = serializers.ChoiceField(choices=QuoteStatus.choices, required=False)


@extend_schema(
    parameters=[OpenApiParameter("state", str, enum=QuoteStatus.values)], tags=["pricing"]
)
class QuoteList(generics.ListAPIView):
    """This organisation's quotes (latest revision of each); `?state=accepted` for the ones that
    price orders now."""

    required_scopes = {"GET": CATALOGUE_READ}
    query_parameters = ("state",)
    serializer_class = QuoteSerializer
    pagination_class = NewestFirstPagination
    filter_backends = ()

    def get_queryset(self):
        query = QuoteQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        quotes = current_quotes_of(buyer=self.request.buyer)
        state = query.validated_data.get("state")
        return quotes.filter(status=state) if state else quotes


@extend_schema(tags=["pricing"])
class QuoteDetail(generics.RetrieveAPIView):
    """One quote of this organisation (its latest revision): the quoted lines and
    prices, its state and the last day it may be accepted."""

    required_scopes = {"GET": CATALOGUE_READ}
    serializer_class = QuoteSerializer
    filter_backends = ()

    def get_queryset(self):
        return quotes_of(buyer=self.request.buyer)


# Price list bulk upsert --------------------------------------------------------------------------

UPSERT_COLUMNS = ("sku", "unit_price", "min_quantity", "min_order_qty", "max_order_qty",
                  "order_multiple", "currency")


class PriceItemInput(StrictInput):
    """One price: a SKU's net unit price from a minimum quantity, with its order rules."""

    sku = serializers.CharField(max_length=32, help_text="The product's SKU.")
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=4,
        help_text="Net unit price (ex VAT) from `min_quantity` up, up to 4 decimals.",
    )
    min_quantity = serializers.IntegerField(
        min_value=1, required=False,
        help_text="The tier starts at this quantity; 1 when absent.",
    )
    min_order_qty = serializers.IntegerField(
        min_value=1, required=False,
        help_text="The least quantity a buyer may order at this price list.",
    )
    max_order_qty = serializers.IntegerField(
        min_value=1, required=False, allow_null=True,
        help_text="The most a buyer may order in one line; null for no limit.",
    )
    order_multiple = serializers.IntegerField(
        min_value=1, required=False,
        help_text="Quantities must be a multiple of this.",
    )
    currency = serializers.ChoiceField(
        choices=Currency.choices, required=False,
        help_text="ISO 4217 code; the price list's currency when absent.",
    )


class BulkUpsertInput(StrictInput):
    """Items for the price list named in the URL; a row never chooses another list."""

    items = serializers.ListField(
        child=PriceItemInput(), min_length=1, max_length=MAX_UPSERT_ITEMS,
        help_text="The prices to create or change; rows not named stay as they are.",
    )


class BulkUpsertResult(serializers.Serializer):
    price_list = serializers.CharField(help_text="The code of the price list written.")
    rows = serializers.IntegerField(help_text="Rows read from the request.")
    written = serializers.IntegerField(
        help_text="Rows created or changed (an unchanged row is not written).",
    )


def _as_csv(items) -> io.StringIO:
    """The items as a price file for the importer (the list comes from the URL, never a row)."""
    file = io.StringIO()
    writer = csv.writer(file)
    writer.writerow(UPSERT_COLUMNS)
    for item in items:
        writer.writerow(["" if item.get(c) is None else item[c] for c in UPSERT_COLUMNS])
    file.seek(0)
    return file


@extend_schema(
    request=BulkUpsertInput, responses=BulkUpsertResult, parameters=[IDEMPOTENCY_KEY_PARAMETER],
    tags=["pricing"],
)
class PriceListBulkUpsert(APIView):
    """Insert or update a price list's items in one transaction: every row is checked first and a
    single bad row writes nothing (422, errors per row as `items.<index>.<field>`)."""

    required_scopes = {"POST": PRICES_IMPORT}

    @idempotent
    def post(self, request, code):
        actor = staff_actor(request)
        price_list = price_lists_editable_by(actor).filter(code=code).first()
        if price_list is None:
            raise Http404("No such price list.")
        upsert = BulkUpsertInput(data=request.data)
        upsert.is_valid(raise_exception=True)
        items = upsert.validated_data["items"]
        report = price_import(file=_as_csv(items), price_list=price_list, actor=actor,
                              name="api-bulk-upsert.csv")
        if not report.ok:
            fields = defaultdict(list)
            for error in report.errors:
                fields[f"items.{error['row'] - 2}.{error['column']}"].append(error["message"])
            raise DomainError(
                "import_rejected",
                f"Nothing was imported: {report.error_count} errors in the items.",
                dict(fields),
            )
        result = {"price_list": price_list.code, "rows": report.rows, "written": report.written}
        return Response(BulkUpsertResult(result).data, status=status.HTTP_200_OK)
