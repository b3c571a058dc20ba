"""The staff reports, inside the admin (each view wrapped in the admin's own sign-in check)."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns: list = [
    path("segments/", views.segments_view, name="segments"),
    path("segments/moved/<int:from_id>/<int:to_id>/", views.movement_view, name="movement"),
    path("sales/", views.sales_view, name="sales"),
]

# The page variants the dashboard benchmark times: (url name, query), every dimension of the
# sales page and the longest preset.
BENCH_PAGES: list[tuple[str, dict]] = [
    ("insights:segments", {}),
    ("insights:segments", {"preset": "last_12_months"}),
    *(("insights:sales", {"dimension": code})
      for code in ("segment", "organisation", "rep", "price_list", "category", "area", "region")),
    ("insights:sales", {"dimension": "segment", "preset": "last_12_months"}),
    ("insights:sales", {"dimension": "organisation", "preset": "last_12_months"}),
    ("insights:sales", {"dimension": "rep", "preset": "this_quarter"}),
]
