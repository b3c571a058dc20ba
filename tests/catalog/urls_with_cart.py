"""The site's URLs plus an add-to-cart endpoint, for testing how rows render once ordering lands."""

from django.http import HttpResponse
from django.urls import path

from storefront.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    *site_urlpatterns,
    path("test-cart/add/", lambda request: HttpResponse(status=204), name="cart_add"),
]
