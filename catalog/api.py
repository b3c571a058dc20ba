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
    min_quantity = serializers.IntegerField(
        help_text="The tier applies from this quantity (units of sale) up.",
    )
    unit_price = Money(help_text="As shown to this buyer (net for B2B, gross for B2C).")

    def to_representation(self, tier):
        min_quantity, unit_price = tier
        return super().to_representation({"min_quantity": min_quantity, "unit_price": unit_price})


class PriceSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="ISO 4217 code of every amount, e.g. GBP.")
    unit_price = Money(help_text="Net (ex VAT) per unit of sale at the requested quantity.")
    vat_rate = Money(
        help_text="The VAT rate that applies to this buyer, e.g. 0.20 (0 where relieved or "
        "zero-rated).",
    )
    unit_price_gross = Money(help_text="Gross per unit: net plus VAT.")
    shown = Money(help_text="What this buyer is shown: net for B2B, gross for B2C.")
    shown_label = serializers.CharField(
        help_text="How the price is labelled to this buyer: \"ex VAT\" or \"inc VAT\".",
    )
    source = serializers.CharField(help_text="quote, contract, segment, territory, promotion, "
                                   "list or retail.")
    tier_min_quantity = serializers.IntegerField(
        help_text="The minimum quantity of the tier applied.",
    )
    explanation = serializers.CharField(
        help_text="The price in words, e.g. \"NHS framework NHS-2025-118, 10+ tier\".",
    )
    price_list_code = serializers.CharField(help_text="The price list the price came from.")
    tiers = TierSerializer(
        many=True,
        help_text="Every volume tier of that price list for this product, lowest quantity "
        "first.",
    )
    min_order_qty = serializers.IntegerField(help_text="The least quantity that may be ordered.")
    max_order_qty = serializers.IntegerField(
        allow_null=True,
        help_text="The most that may be ordered in one line; null for no limit.",
    )
    order_multiple = serializers.IntegerField(help_text="Quantities must be a multiple of this.")


class DistributorContactSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The distributor's sales contact.")
    phone = serializers.CharField(help_text="Their telephone number.")
    email = serializers.CharField(help_text="Their email address.")


class AvailabilitySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["direct", "via_distributor", "unavailable"],
        help_text="direct: order it here; via_distributor: only through the named distributor; "
        "unavailable: not in your territory.",
    )
    distributor_name = serializers.CharField(
        help_text="The authorised distributor for your territory; empty unless via_distributor.",
    )
    distributor_contact = DistributorContactSerializer(
        allow_null=True,
        help_text="How to reach that distributor; null unless via_distributor.",
    )
    reason = serializers.CharField(
        help_text="Why, in words, e.g. \"Pennine Medical Supplies holds the rights in North East"
        " & Yorkshire\".",
    )


class NamedSerializer(serializers.Serializer):
    slug = serializers.CharField(
        help_text="Its identifier in filters (`?category=`, `?manufacturer=`).",
    )
    name = serializers.CharField(help_text="Its name.")


class ProductSerializer(serializers.Serializer):
    sku = serializers.CharField(
        source="product.sku",
        help_text="The stock-keeping unit: the product's identifier in the API and in orders.",
    )
    name = serializers.CharField(source="product.name", help_text="The product's name.")
    description = serializers.CharField(
        source="product.description",
        help_text="The product's description (Markdown).",
    )
    plain_description = serializers.CharField(
        source="product.plain_description",
        help_text="The description as plain text.",
    )
    category = NamedSerializer(source="product.category", help_text="The product's category.")
    manufacturer = NamedSerializer(
        source="product.manufacturer",
        help_text="Who makes the product.",
    )
    gtin = serializers.CharField(
        source="product.gtin",
        help_text="GS1 Global Trade Item Number of the unit of sale (barcode).",
    )
    device_class = serializers.ChoiceField(
        source="product.device_class", choices=DeviceClass.choices,
        help_text="The device class under UK MDR (I, Is, Im, IIa, IIb, III), AIMD or IVD.",
    )
    gmdn_code = serializers.CharField(
        source="product.gmdn_code",
        help_text="Global Medical Device Nomenclature code.",
    )
    gmdn_term = serializers.CharField(
        source="product.gmdn_term",
        help_text="The GMDN term for the code.",
    )
    sterile = serializers.BooleanField(source="product.sterile", help_text="Supplied sterile.")
    single_use = serializers.BooleanField(
        source="product.single_use",
        help_text="For single use only.",
    )
    contains_latex = serializers.BooleanField(
        source="product.contains_latex",
        help_text="Contains natural rubber latex.",
    )
    pack_size = serializers.IntegerField(
        source="product.pack_size",
        help_text="Units in one unit of sale (one pack).",
    )
    unit_of_measure = serializers.CharField(
        source="product.unit_of_measure",
        help_text="What the unit of sale is: each, pack or box.",
    )
    regulatory_status = serializers.CharField(
        source="product.regulatory_status",
        help_text="on_market, fsca (a field safety corrective action in progress), recalled or "
        "withdrawn.",
    )
    vat_category = serializers.CharField(
        source="product.vat_category",
        help_text="standard, reduced, zero, or relief: standard rate, zero-rated for eligible "
        "disabled people.",
    )
    professional_only = serializers.BooleanField(
        source="product.professional_only",
        help_text="Sold only to verified healthcare professionals and organisations.",
    )
    in_stock = serializers.BooleanField(
        source="product.in_stock",
        help_text="Units are on hand beyond those reserved for orders.",
    )
    price = PriceSerializer(allow_null=True, help_text="null: price on request.")
    availability = AvailabilitySerializer(
        allow_null=True,
        help_text="Whether and through whom you may buy it in your territory.",
    )
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
