from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("storefront.api.urls")),
    path("", include("storefront.site_urls")),
]

handler404 = "storefront.views.page_not_found"
handler500 = "storefront.views.server_error"
