"""Django admin for buying propensity: each training with how it did on its holdout (AUC against
the cadence baseline, Brier score, calibration, the verdict), and the scores a used model wrote.
Both are written by the analysis only, so both are read-only here."""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from accounts.admin_scoping import (
    CHANGE_ORGANISATION,
    VIEW_ORGANISATION,
    may_view,
    organisation_scope,
)

from .models import PropensityModel, PropensityScore


class ReadOnly:
    """Rows written by the analysis: never added or edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PropensityModel)
class PropensityModelAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("trained_at", "audience", "algorithm", "auc", "baseline_auc", "used",
                    "verdict")
    list_filter = ("audience", "used")
    date_hierarchy = "trained_at"
    fields = ("audience", "trained_at", "algorithm", "verdict", "used", "auc", "baseline_auc",
              "brier", "cutoff", "horizon_days", "train_rows", "holdout_rows", "positive_rate",
              "calibration_table", "feature_list", "run")
    readonly_fields = fields

    @admin.display(description="calibration on the holdout")
    def calibration_table(self, model: PropensityModel) -> str:
        if not model.calibration:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((row["bin"], _rate(row["predicted"]), _rate(row["observed"]), row["count"])
             for row in model.calibration),
        )
        return format_html(
            "<table><thead><tr><th>predicted probability</th><th>mean predicted</th>"
            "<th>observed rate</th><th>pairs</th></tr></thead><tbody>{}</tbody></table>", rows
        )

    @admin.display(description="features")
    def feature_list(self, model: PropensityModel) -> str:
        if not model.features:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><code>{}</code>: {}</li>",
            ((feature["name"], feature.get("meaning", "")) for feature in model.features),
        ))


def _rate(value) -> str:
    return "—" if value is None else f"{value:.1%}"


class ScoredFilter(admin.SimpleListFilter):
    title = "scored"
    parameter_name = "scored"

    def lookups(self, request, model_admin):
        return (("category", "a category"), ("product", "a product"))

    def queryset(self, request, queryset):
        if self.value() == "category":
            return queryset.filter(product__isnull=True)
        if self.value() == "product":
            return queryset.filter(category__isnull=True)
        return queryset


class LikelihoodFilter(admin.SimpleListFilter):
    title = "probability"
    parameter_name = "likelihood"
    BANDS = {"high": Q(probability__gte=0.7),
             "middle": Q(probability__gte=0.3, probability__lt=0.7),
             "low": Q(probability__lt=0.3)}

    def lookups(self, request, model_admin):
        return (("high", "70% or more"), ("middle", "30% to 70%"), ("low", "under 30%"))

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value())
        return queryset if band is None else queryset.filter(band)


@admin.register(PropensityScore)
class PropensityScoreAdmin(ReadOnly, admin.ModelAdmin):
    """An account manager sees the scores of their own organisations only; consumers' scores are
    for superusers."""

    list_display = ("buyer_name", "category", "product", "probability_shown", "model")
    list_filter = ("model__audience", ScoredFilter, LikelihoodFilter,
                   ("category", admin.RelatedOnlyFieldListFilter), "model")
    list_select_related = ("organisation", "user", "category", "product", "model")
    search_fields = ("organisation__name", "user__email")
    show_full_result_count = False
    fields = ("model", "organisation", "user", "category", "product", "probability")
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = organisation_scope(request, VIEW_ORGANISATION)
        if scope is None:
            return queryset
        scope = scope | organisation_scope(request, CHANGE_ORGANISATION)
        return queryset.filter(organisation__in=scope)

    def has_module_permission(self, request):
        return request.user.is_superuser or may_view(request)

    def has_view_permission(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return may_view(request)
        return obj.organisation_id is not None and may_view(request, obj.organisation_id)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="buyer")
    def buyer_name(self, score: PropensityScore) -> str:
        return str(score.buyer)

    @admin.display(description="probability", ordering="probability")
    def probability_shown(self, score: PropensityScore) -> str:
        return f"{score.probability:.0%}"
