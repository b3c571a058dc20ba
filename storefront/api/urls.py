"""/api/v1/ endpoints, the OpenAPI schema at /api/schema/ and its documentation at /api/docs/."""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny

from catalog import api as catalog
from ordering import api as orders
from ordering import webhook_api as webhooks
from pricing import api as pricing

from . import me


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([AllowAny])
def no_such_endpoint(request, *args, **kwargs):
    """Any other path under /api/ answers 404 in the API's error format."""
    raise NotFound("No such endpoint.")


v1 = [
    path("me/", me.Me.as_view(), name="api_me"),
    path("products/", catalog.ProductList.as_view(), name="api_product_list"),
    path("products/<str:sku>/", catalog.ProductDetail.as_view(), name="api_product_detail"),
    path("prices/quote-basket/", pricing.QuoteBasket.as_view(), name="api_quote_basket"),
    path("contracts/", pricing.ContractList.as_view(), name="api_contract_list"),
    path("contracts/<int:pk>/", pricing.ContractDetail.as_view(), name="api_contract_detail"),
    path("quotes/", pricing.QuoteList.as_view(), name="api_quote_list"),
    path("quotes/<int:pk>/", pricing.QuoteDetail.as_view(), name="api_quote_detail"),
    path(
        "price-lists/<slug:code>/items/bulk-upsert/",
        pricing.PriceListBulkUpsert.as_view(),
        name="api_price_list_bulk_upsert",
    ),
    path("orders/", orders.OrderListCreate.as_view(), name="api_order_list"),
    path("orders/<str:number>/", orders.OrderDetail.as_view(), name="api_order_detail"),
    path("orders/<str:number>/cancel/", orders.OrderCancel.as_view(), name="api_order_cancel"),
    path("backorders/", orders.BackorderList.as_view(), name="api_backorder_list"),
    path("routed-orders/", orders.RoutedOrderList.as_view(), name="api_routed_order_list"),
    path("routed-orders/<str:number>/", orders.RoutedOrderDetail.as_view(),
         name="api_routed_order_detail"),
    path("routed-orders/<str:number>/accept/", orders.RoutedOrderAccept.as_view(),
         name="api_routed_order_accept"),
    path("routed-orders/<str:number>/decline/", orders.RoutedOrderDecline.as_view(),
         name="api_routed_order_decline"),
    path("routed-orders/<str:number>/acknowledge/", orders.RoutedOrderAcknowledge.as_view(),
         name="api_routed_order_acknowledge"),
    path("routed-orders/<str:number>/shipments/", orders.RoutedOrderShipment.as_view(),
         name="api_routed_order_shipment"),
    path("routed-orders/<str:number>/delivery/", orders.RoutedOrderDelivery.as_view(),
         name="api_routed_order_delivery"),
    path("fulfilment/orders/", orders.FulfilmentOrderList.as_view(),
         name="api_fulfilment_order_list"),
    path("fulfilment/orders/<str:number>/", orders.FulfilmentOrderDetail.as_view(),
         name="api_fulfilment_order_detail"),
    path("fulfilment/orders/<str:number>/acknowledge/", orders.FulfilmentAcknowledge.as_view(),
         name="api_fulfilment_acknowledge"),
    path("fulfilment/orders/<str:number>/shipments/", orders.FulfilmentShipment.as_view(),
         name="api_fulfilment_shipment"),
    path("fulfilment/orders/<str:number>/delivery/", orders.FulfilmentDelivery.as_view(),
         name="api_fulfilment_delivery"),
    path("webhooks/", webhooks.WebhookEndpointList.as_view(), name="api_webhook_list"),
    path("webhooks/<int:pk>/", webhooks.WebhookEndpointDetail.as_view(),
         name="api_webhook_detail"),
    path("webhooks/<int:pk>/rotate-secret/", webhooks.WebhookEndpointRotateSecret.as_view(),
         name="api_webhook_rotate_secret"),
    path("webhooks/<int:pk>/test/", webhooks.WebhookEndpointTest.as_view(),
         name="api_webhook_test"),
    path("webhooks/<int:pk>/deliveries/", webhooks.WebhookDeliveryList.as_view(),
         name="api_webhook_deliveries"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script from a URL (`?script`), not inline.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api/docs.html"),
        name="api_docs",
    ),
    re_path(r"^.*$", no_such_endpoint, name="api_not_found"),
]
