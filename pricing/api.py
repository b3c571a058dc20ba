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

    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class BasketInput(StrictInput):
    """The lines to price; the engine decides every price."""

    lines = serializers.ListField(
        child=BasketLineInput(), min_length=1, max_length=MAX_BASKET_LINES
    )


class MoneyTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    net = Money()
    vat = Money()
    gross = Money()


class BasketLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    price = PriceSerializer(allow_null=True, help_text="null: price on request.")
    total = MoneyTotalSerializer(allow_null=True)


class BasketSerializer(serializers.Serializer):
    lines = BasketLineSerializer(many=True)
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


class ContractSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(help_text="The holder: yours or a parent's.")
    price_list_code = serializers.CharField(source="price_list.code")
    currency = serializers.CharField(source="price_list.currency")

    class Meta:
        model = Contract
        fields = ["id", "reference", "lot", "status", "valid_from", "valid_to", "organisation",
                  "price_list_code", "currency", "updated_at"]


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
    required_scopes = {"GET": CATALOGUE_READ}
    serializer_class = ContractSerializer
    filter_backends = ()

    def get_queryset(self):
        return contracts_of(buyer=self.request.buyer)


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    target_price = Money(allow_null=True)
    unit_price = Money(allow_null=True, help_text="Quoted net unit price, up to the quantity.")


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    revision = serializers.IntegerField()
    state = serializers.ChoiceField(source="status", choices=QuoteStatus.choices)
    currency = serializers.ChoiceField(choices=Currency.choices)
    expires_on = serializers.DateField(allow_null=True)
    requested_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
    response_note = serializers.CharField()
    lines = QuoteLineSerializer(many=True, source="lines.all")


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

    sku = serializers.CharField(max_length=32)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    min_quantity = serializers.IntegerField(min_value=1, required=False)
    min_order_qty = serializers.IntegerField(min_value=1, required=False)
    max_order_qty = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    order_multiple = serializers.IntegerField(min_value=1, required=False)
    currency = serializers.ChoiceField(choices=Currency.choices, required=False)


class BulkUpsertInput(StrictInput):
    """Items for the price list named in the URL; a row never chooses another list."""

    items = serializers.ListField(
        child=PriceItemInput(), min_length=1, max_length=MAX_UPSERT_ITEMS
    )


class BulkUpsertResult(serializers.Serializer):
    price_list = serializers.CharField()
    rows = serializers.IntegerField()
    written = serializers.IntegerField()


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
