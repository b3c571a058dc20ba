from django.contrib import admin
from django.urls import include, path

from pricing.admin_book import rep_book_view

urlpatterns = [
    path("admin/book/", admin.site.admin_view(rep_book_view), name="rep_book"),
    path("admin/insights/", include("insights.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("storefront.api.urls")),
    path("", include("storefront.site_urls")),
]

handler404 = "storefront.views.page_not_found"
handler500 = "storefront.views.server_error"
