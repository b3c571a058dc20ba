from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", include("accounts.urls")),
    path("account/webhooks/", include("ordering.webhook_urls")),
    path("quotes/", include("pricing.urls")),
    path("catalogue/", include("catalog.urls")),
    path("", include("ordering.urls")),
]
