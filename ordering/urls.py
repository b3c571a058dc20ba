from django.urls import path

from . import views

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_line_view, name="cart_line"),
    path("cart/quick-order/", views.quick_order, name="quick_order"),
    path("checkout/", views.checkout_start, name="checkout"),
    path("checkout/retail/address/", views.retail_address, name="checkout_retail_address"),
    path("checkout/retail/relief/", views.retail_relief, name="checkout_retail_relief"),
    path("checkout/retail/payment/", views.retail_payment, name="checkout_retail_payment"),
    path("checkout/institutional/", views.institutional_checkout, name="checkout_institutional"),
    path("checkout/distributor/", views.distributor_checkout, name="checkout_distributor"),
    path("orders/", views.orders, name="orders"),
    path("orders/export.csv", views.orders_export, name="orders_export"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/<slug:action>/", views.order_action, name="order_action"),
    path("approvals/", views.approvals, name="approvals"),
    path("routed-orders/", views.routed_orders, name="routed_orders"),
    path("routed-orders/<str:number>/", views.routed_order, name="routed_order"),
]
