"""The staff reports, inside the admin (each view wrapped in the admin's own sign-in check)."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns: list = [
    path("segments/", views.segments_view, name="segments"),
    path("segments/moved/<int:from_id>/<int:to_id>/", views.movement_view, name="movement"),
    path("sales/", views.sales_view, name="sales"),
]

def _busiest_move() -> dict:
    """The from/to segments of the last 30 days' most frequent move, over every buyer."""
    import datetime

    from django.utils import timezone

    from .selectors.dashboard import Period
    from .selectors.segment_dashboard import movements

    today = timezone.localdate()
    moves = movements(period=Period(today - datetime.timedelta(days=29), today), scope=None)
    if moves:
        return {"from_id": moves[0]["from_id"], "to_id": moves[0]["to_id"]}
    from segments.models import Segment, SegmentKind

    first, second = [*Segment.objects.filter(kind=SegmentKind.COMPUTED).order_by("pk")
                     .values_list("pk", flat=True)[:2], 0, 0][:2]
    return {"from_id": first, "to_id": second}


def _newest_monitor() -> dict:
    from .models import PricingMonitor

    monitor = PricingMonitor.objects.order_by("-pk").first()
    return {"object_id": monitor.pk if monitor else 0}


# The page variants the reports' benchmark times: (url name, url kwargs or a callable giving
# them, query): every dimension of the sales page, the longest presets, the movement list of the
# busiest move and the newest pricing monitor's page.
BENCH_PAGES: list[tuple] = [
    ("insights:segments", {}, {}),
    ("insights:segments", {}, {"preset": "last_12_months"}),
    *(("insights:sales", {}, {"dimension": code})
      for code in ("segment", "organisation", "rep", "price_list", "category", "area", "region")),
    ("insights:sales", {}, {"dimension": "segment", "preset": "last_12_months"}),
    ("insights:sales", {}, {"dimension": "organisation", "preset": "last_12_months"}),
    ("insights:sales", {}, {"dimension": "rep", "preset": "this_quarter"}),
    ("insights:movement", _busiest_move, {}),
    ("admin:insights_pricingmonitor_changelist", {}, {}),
    ("admin:insights_pricingmonitor_change", _newest_monitor, {}),
]
