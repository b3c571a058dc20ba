"""Django admin for clusters: the current ones first, each with its profile as a table, a name of
staff's own, and an action that makes a computed segment of a cluster."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from .analysis.clusters import cluster_segment_create
from .models import Cluster

MEDIANS = (
    ("recency_days", "Days since the last order"),
    ("orders_12m", "Orders in 12 months"),
    ("revenue_12m", "Revenue in 12 months (£)"),
    ("average_order_value", "Average order value (£)"),
    ("cadence_days", "Days between orders"),
)


def _percent(share) -> str:
    return f"{float(share):.0%}"


def _mix_text(rows) -> str:
    return ", ".join(f"{row['label']} {_percent(row['share'])}" for row in rows) or "—"


def profile_rows(profile: dict) -> list[tuple[str, str]]:
    """The profile as (what, value) lines a person can read."""
    medians = profile.get("medians", {})
    rows = [("Buyers", f"{profile.get('size', 0):,} "
                       f"({_percent(profile.get('share_of_audience', 0))} of the clustered)")]
    rows += [(f"Median: {label.lower()}", "—" if medians.get(key) is None else str(medians[key]))
             for key, label in MEDIANS]
    top = profile.get("top_categories", [])
    rows.append(("Top categories by revenue",
                 ", ".join(f"{c['name']} {_percent(c['share'])}" for c in top) or "none"))
    if "kinds" in profile:
        rows.append(("Kinds", _mix_text(profile["kinds"])))
        rows.append(("Size bands", _mix_text(profile["size_bands"])))
    return rows


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("__str__", "generated_name", "audience", "number", "size", "segment",
                    "is_current", "computed_at")
    list_filter = ("is_current", "audience")
    list_select_related = ("segment",)
    search_fields = ("name", "generated_name")
    ordering = ("-is_current", "audience", "number", "-computed_at")
    fields = ("name", "generated_name", "audience", "number", "size", "profile_table", "segment",
              "is_current", "computed_at", "run")
    readonly_fields = tuple(f for f in fields if f != "name")
    actions = ("make_segment",)

    def has_add_permission(self, request):
        return False  # clusters come from a fit

    def has_delete_permission(self, request, obj=None):
        return False  # old clusters are the history of the fits

    def has_make_segment_permission(self, request):
        return request.user.has_perm("segments.add_segment")

    @admin.display(description="profile")
    def profile_table(self, obj):
        body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", profile_rows(obj.profile))
        return format_html('<table class="cluster-profile">{}</table>', body)

    @admin.action(description="Make a segment of this cluster", permissions=["make_segment"])
    def make_segment(self, request, queryset):
        for cluster in queryset.order_by("audience", "number"):
            try:
                segment = cluster_segment_create(cluster=cluster)
            except ValidationError as error:
                self.message_user(request, f"{cluster}: {' '.join(error.messages)}",
                                  messages.ERROR)
                continue
            self.message_user(request, f"{cluster}: made the computed segment {segment.code}.",
                              messages.SUCCESS)
