"""Catalogue endpoints: the products this account may see, with its own prices and availability.

They ask catalog.selectors, pricing.engine and territories.rules with `request.buyer`, exactly as
the catalogue pages do; a product the caller may not see does not exist for them (404, never 403).
"""

from dataclasses import dataclass

import django_filters
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from catalog.models import Category, DeviceClass, Product
from catalog.selectors import in_category, search_products, visible_products, with_availability
from pricing.engine import ResolvedPrice, prices_for
from pricing.models import PriceListItem
from storefront.api.filters import DateTimeFilter, ManyChoiceFilter, TextInFilter
from storefront.api.pagination import ApiCursorPagination
from storefront.api.permissions import CATALOGUE_READ
from storefront.api.serializers import Money
from territories.rules import Availability, availability_for

MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class ProductRow:
    """A product as the API shows it to one buyer: the row, its price (None: price on request)
    and how the buyer may obtain it."""

    product: Product
    price: ResolvedPrice | None
    availability: Availability | None


def product_rows(buyer, products: list[Product], quantity: int = 1) -> list[ProductRow]:
    """Price and place a page of products in a fixed number of queries."""
    prices = prices_for(buyer, products, quantity)
    places = availability_for(buyer, products)
    return [ProductRow(p, prices.get(p.pk), places.get(p.pk)) for p in products]


class TierSerializer(serializers.Serializer):
    min_quantity = serializers.IntegerField()
    unit_price = Money(help_text="As shown to this buyer (net for B2B, gross for B2C).")

    def to_representation(self, tier):
        min_quantity, unit_price = tier
        return super().to_representation({"min_quantity": min_quantity, "unit_price": unit_price})


class PriceSerializer(serializers.Serializer):
    currency = serializers.CharField()
    unit_price = Money(help_text="Net (ex VAT) per unit of sale at the requested quantity.")
    vat_rate = Money()
    unit_price_gross = Money()
    shown = Money(help_text="What this buyer is shown: net for B2B, gross for B2C.")
    shown_label = serializers.CharField()
    source = serializers.CharField(help_text="quote, contract, segment, territory, promotion, "
                                   "list or retail.")
    tier_min_quantity = serializers.IntegerField()
    explanation = serializers.CharField()
    price_list_code = serializers.CharField()
    tiers = TierSerializer(many=True)
    min_order_qty = serializers.IntegerField()
    max_order_qty = serializers.IntegerField(allow_null=True)
    order_multiple = serializers.IntegerField()


class DistributorContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["direct", "via_distributor", "unavailable"])
    distributor_name = serializers.CharField()
    distributor_contact = DistributorContactSerializer(allow_null=True)
    reason = serializers.CharField()


class NamedSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ProductSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    description = serializers.CharField(source="product.description")
    plain_description = serializers.CharField(source="product.plain_description")
    category = NamedSerializer(source="product.category")
    manufacturer = NamedSerializer(source="product.manufacturer")
    gtin = serializers.CharField(source="product.gtin")
    device_class = serializers.ChoiceField(source="product.device_class",
                                           choices=DeviceClass.choices)
    gmdn_code = serializers.CharField(source="product.gmdn_code")
    gmdn_term = serializers.CharField(source="product.gmdn_term")
    sterile = serializers.BooleanField(source="product.sterile")
    single_use = serializers.BooleanField(source="product.single_use")
    contains_latex = serializers.BooleanField(source="product.contains_latex")
    pack_size = serializers.IntegerField(source="product.pack_size")
    unit_of_measure = serializers.CharField(source="product.unit_of_measure")
    regulatory_status = serializers.CharField(source="product.regulatory_status")
    vat_category = serializers.CharField(source="product.vat_category")
    professional_only = serializers.BooleanField(source="product.professional_only")
    in_stock = serializers.BooleanField(source="product.in_stock")
    price = PriceSerializer(allow_null=True, help_text="null: price on request.")
    availability = AvailabilitySerializer(allow_null=True)
    updated_at = serializers.DateTimeField(
        source="product.changed_at",
        help_text="When the product's record or any of its price rows last changed: the "
        "largest one you saw is your next `updated_since`, and the answer's `Last-Modified`.",
    )


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        method="in_category", help_text="A category slug; its subcategories are included."
    )
    manufacturer = TextInFilter(
        field_name="manufacturer__slug",
        help_text="Manufacturer slugs, the parameter repeated or the slugs comma-separated."
    )
    device_class = ManyChoiceFilter(
        choices=DeviceClass.choices, help_text="Device classes, repeated or comma-separated."
    )
    sterile = django_filters.BooleanFilter()
    in_stock = django_filters.BooleanFilter()
    updated_since = DateTimeFilter(
        method="changed_since",
        help_text="Products whose record or any of whose price rows changed at or after this "
        "time. A product that left your catalogue is not listed: compare a full sync for that.",
    )
    search = django_filters.CharFilter(
        method="matching", max_length=200,
        help_text="Words, a SKU or a GTIN (full-text search on PostgreSQL).",
    )

    class Meta:
        model = Product
        fields = ["category", "manufacturer", "device_class", "sterile", "in_stock", "search",
                  "updated_since"]

    def changed_since(self, queryset, name, value):
        prices = PriceListItem.objects.filter(product=OuterRef("pk"), updated_at__gte=value)
        return queryset.filter(Q(updated_at__gte=value) | Exists(prices))

    def in_category(self, queryset, name, value):
        path = Category.objects.filter(slug=value).values_list("path", flat=True).first()
        return in_category(queryset, path) if path else queryset.none()

    def matching(self, queryset, name, value):
        found = search_products(self.request.buyer, value)
        return queryset.filter(pk__in=found.values("pk"))


class QuantityQuery(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


QUANTITY_PARAMETER = OpenApiParameter(
    "quantity", int, description="Price at this quantity (volume tiers); 1 when absent."
)


def _requested_quantity(request) -> int:
    query = QuantityQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["quantity"]


def with_changed_at(products):
    """Annotate `changed_at`: the latest of the product's own `updated_at` and its price rows',
    in the same query (a subquery per row fetched)."""
    newest_price = (
        PriceListItem.objects.filter(product=OuterRef("pk")).values("product")
        .annotate(newest=Max("updated_at")).values("newest")
    )
    return products.annotate(
        changed_at=Greatest(F("updated_at"), Coalesce(Subquery(newest_price), F("updated_at")))
    )


def buyer_products(buyer):
    products = with_availability(visible_products(buyer)).select_related("manufacturer", "category")
    return with_changed_at(products)


@extend_schema(parameters=[QUANTITY_PARAMETER], tags=["catalogue"])
class ProductList(generics.ListAPIView):
    """Products this account may see, with its resolved prices, tiers and availability."""

    required_scopes = {"GET": CATALOGUE_READ}
    query_parameters = ("quantity",)
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    pagination_class = ApiCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        return buyer_products(self.request.buyer)

    def list(self, request, *args, **kwargs):
        quantity = _requested_quantity(request)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = product_rows(request.buyer, page, quantity)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


@extend_schema(parameters=[QUANTITY_PARAMETER], tags=["catalogue"])
class ProductDetail(generics.RetrieveAPIView):
    """One product by SKU; a product this account may not see answers 404."""

    required_scopes = {"GET": CATALOGUE_READ}
    query_parameters = ("quantity",)
    serializer_class = ProductSerializer
    filter_backends = ()

    def get_queryset(self):
        return buyer_products(self.request.buyer)

    def get_object(self):
        sku = self.kwargs["sku"]
        product = None if "\x00" in sku else self.get_queryset().filter(sku=sku).first()
        if product is None:
            raise Http404("No such product.")
        return product_rows(self.request.buyer, [product], _requested_quantity(self.request))[0]
