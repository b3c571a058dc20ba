"""Django admin for segments: definitions, rule conditions, explicit members, and the staff page
that explains why a buyer is in each segment."""
from celery.result import EagerResult
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from .coverage import account_coverage_sync
from .models import (
    ComputedMembership,
    RunStatus,
    Segment,
    SegmentCondition,
    SegmentKind,
    SegmentMembership,
    SegmentMovement,
    SegmentRun,
)
from .resolver import resolve
from .selectors import buyer_analysis, inputs_in_words, segment_explanations
from .services import running_recompute
from .tasks import recompute_segments_task

INLINE_MEMBER_LIMIT = 50
RECOMPUTE_PERMISSION = "segments.recompute_segments"


class SegmentConditionInline(admin.TabularInline):
    model = SegmentCondition
    fields = ("field", "operator", "value")
    extra = 0


class SegmentMembershipInline(admin.TabularInline):
    model = SegmentMembership
    fields = ("organisation", "user", "note", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("organisation", "user")
    extra = 0


def _buyer_link(row) -> str:
    """The organisation or consumer of a per-buyer row, linked to its admin page."""
    if row.organisation_id:
        url = reverse("admin:accounts_organisation_change", args=[row.organisation_id])
        return format_html('<a href="{}">{}</a>', url, row.organisation)
    url = reverse("admin:accounts_user_change", args=[row.user_id])
    return format_html('<a href="{}">{}</a> (consumer)', url, row.user)


def _inputs_list(inputs: dict) -> str:
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>",
                                                       ((w,) for w in inputs_in_words(inputs))))


class BuyerInputsColumns:
    """The buyer, linked, and the stored inputs in words: for rows about one buyer in a
    computed segment (memberships and movements)."""

    @admin.display(description="buyer")
    def buyer(self, obj):
        return _buyer_link(obj)

    @admin.display(description="inputs")
    def inputs_in_words(self, obj):
        return _inputs_list(obj.inputs)


class ComputedMembershipInline(BuyerInputsColumns, admin.TabularInline):
    """The first members of a computed segment, read-only (the analysis writes them)."""

    model = ComputedMembership
    fields = ("buyer", "inputs_in_words", "computed_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = f"computed members (the first {INLINE_MEMBER_LIMIT})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _computed_total():
    counted = (
        ComputedMembership.objects.filter(segment=OuterRef("pk")).order_by()
        .values("segment").annotate(total=Count("pk")).values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "audience", "basis_text", "condition_count",
                    "member_count", "is_active")
    list_filter = ("kind", "audience", "basis", "is_active")
    search_fields = ("code", "name", "description")
    inlines = (SegmentConditionInline, SegmentMembershipInline)
    readonly_fields = ("computed_members",)

    def save_related(self, request, form, formsets, change):
        """Members and conditions saved: the account manager a segment gives follows."""
        super().save_related(request, form, formsets, change)
        account_coverage_sync()

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            condition_total=Count("conditions", distinct=True),
            member_total=Count("members", distinct=True),
            computed_total=_computed_total(),
        )

    @admin.display(description="conditions", ordering="condition_total")
    def condition_count(self, obj):
        return obj.condition_total

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj):
        if obj.kind == SegmentKind.COMPUTED:
            return obj.computed_total
        return "from rules" if obj.kind == SegmentKind.RULE else obj.member_total

    @admin.display(description="filled by", ordering="basis")
    def basis_text(self, obj):
        if obj.kind != SegmentKind.COMPUTED:
            return "—"
        return f"{obj.get_basis_display()} {obj.basis_value}".strip()

    @admin.display(description="computed members")
    def computed_members(self, obj):
        total = getattr(obj, "computed_total", None)
        if total is None:
            total = obj.computed_members.count()
        members = reverse("admin:segments_computedmembership_changelist")
        movements = reverse("admin:segments_segmentmovement_changelist")
        return format_html(
            '{} member{}. <a href="{}?segment__id__exact={}">See all</a> · '
            '<a href="{}?segment__id__exact={}">entries and exits</a>',
            total, "" if total == 1 else "s", members, obj.pk, movements, obj.pk,
        )

    def get_fields(self, request, obj=None):
        fields = ["code", "name", "kind", "audience", "description", "is_active", "basis",
                  "basis_value"]
        if obj is not None and obj.kind != SegmentKind.COMPUTED:
            fields = fields[:-2]  # only computed segments are filled by an analysis
        elif obj is not None:
            fields.append("computed_members")
        return fields

    def get_inlines(self, request, obj):
        # Rule segments take members from their conditions, static ones from staff's rows and
        # computed ones from the analysis (shown read-only).
        if obj is None:
            return self.inlines
        if obj.kind == SegmentKind.RULE:
            return (SegmentConditionInline,)
        if obj.kind == SegmentKind.COMPUTED:
            return (ComputedMembershipInline,)
        return (SegmentMembershipInline,)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ComputedMembershipInline):
            first = list(
                ComputedMembership.objects.filter(segment=obj).order_by("-computed_at", "id")
                .values_list("pk", flat=True)[:INLINE_MEMBER_LIMIT]
            )
            kwargs["queryset"] = (
                ComputedMembership.objects.filter(pk__in=first)
                .select_related("organisation", "user").order_by("-computed_at", "id")
            )
        return kwargs


class ComputedSegmentFilter(admin.RelatedFieldListFilter):
    """Offers computed segments only."""

    def field_choices(self, field, request, model_admin):
        return field.get_choices(include_blank=False, ordering=("code",),
                                 limit_choices_to={"kind": SegmentKind.COMPUTED})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the analysis writes: staff look, nobody edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComputedMembership)
class ComputedMembershipAdmin(BuyerInputsColumns, ReadOnlyAdmin):
    list_display = ("segment", "buyer", "inputs_in_words", "computed_at")
    list_filter = (("segment", ComputedSegmentFilter),)
    list_select_related = ("segment", "organisation", "user")
    search_fields = ("organisation__name", "user__email", "segment__code")
    fields = ("segment", "buyer", "inputs_in_words", "inputs", "computed_at")
    readonly_fields = fields
    list_per_page = 50


@admin.register(SegmentMovement)
class SegmentMovementAdmin(BuyerInputsColumns, ReadOnlyAdmin):
    list_display = ("at", "segment", "buyer", "direction", "inputs_in_words", "run")
    list_filter = (
        ("segment", ComputedSegmentFilter), "direction", ("at", admin.DateFieldListFilter),
    )
    list_select_related = ("segment", "organisation", "user", "run")
    search_fields = ("organisation__name", "user__email", "segment__code")
    date_hierarchy = "at"
    fields = ("segment", "buyer", "direction", "at", "inputs_in_words", "inputs", "run")
    readonly_fields = fields
    list_per_page = 50


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(SimpleHistoryAdmin):
    list_display = ("segment", "organisation", "user", "note", "created_at")
    list_filter = ("segment__kind", "segment")
    search_fields = ("segment__code", "organisation__name", "user__email", "note")
    list_select_related = ("segment", "organisation", "user")
    autocomplete_fields = ("segment", "organisation", "user")
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        account_coverage_sync(organisation_ids=[obj.organisation_id] if obj.organisation_id else [])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        account_coverage_sync(organisation_ids=[obj.organisation_id] if obj.organisation_id else [])


def _context_facts(buyer) -> list[tuple[str, str]]:
    limit = "—" if buyer.approval_limit is None else f"£{buyer.approval_limit:,}"
    territory = f"{buyer.territory_name} ({buyer.territory})" if buyer.territory else "none"
    return [
        ("Buying as", buyer.organisation_name or "retail consumer"),
        ("Organisation kind", buyer.organisation_kind or "—"),
        ("Customer tier", buyer.customer_tier or "—"),
        ("Roles", ", ".join(sorted(buyer.roles)) or "—"),
        ("Permissions", ", ".join(sorted(buyer.permissions)) or "—"),
        ("Approval limit", limit),
        ("Channel / workflow", f"{buyer.channel} / {buyer.workflow}"),
        ("Delivery site", buyer.site_name or "—"),
        ("Postcode (area)", f"{buyer.postcode or '—'} ({buyer.postcode_area or '—'})"),
        ("Territory", territory),
        ("Verified professional", "yes" if buyer.professional else "no"),
        ("Segments", ", ".join(sorted(buyer.segments)) or "none"),
        ("Service level", buyer.service_reason or "—"),
        ("Account manager", _manager_text(buyer.account_manager)),
        ("Cache key", buyer.cache_key),
    ]


def _manager_text(contact) -> str:
    if contact is None:
        return "none"
    phone = f", {contact.phone}" if contact.phone else ""
    return f"{contact.name} <{contact.email}>{phone} ({contact.why})"


def _explain_context(buyer, *, sites) -> dict:
    return {
        "buyer": buyer,
        "facts": _context_facts(buyer),
        "segments": segment_explanations(buyer=buyer),
        "analysis": buyer_analysis(buyer=buyer),
        "sites": [(site, ", ".join(sorted(site.segments)) or "none") for site in sites],
    }


def _explain_person(user, organisation_shown) -> dict:
    """The resolver's context for each organisation of `user` this staff member may see (with one
    context per delivery site), or the consumer context for someone without an organisation."""
    default = resolve(user)
    if not default.organisations:
        return {"user": user, "contexts": [_explain_context(default, sites=[])],
                "hidden_organisations": 0}
    shown = [pk for pk, _name in default.organisations if organisation_shown(pk)]
    contexts = []
    for organisation_id in shown:
        buyer = resolve(user, organisation=organisation_id)
        sites = [resolve(user, organisation=organisation_id, site=site_id)
                 for site_id, _name, _postcode in buyer.sites]
        contexts.append(_explain_context(buyer, sites=sites))
    hidden = len(default.organisations) - len(shown)
    return {"user": user, "contexts": contexts, "hidden_organisations": hidden}


def render_buyer_explanations(request, users, *, admin_site, opts, organisation_shown):
    """The "explain this buyer" page for staff; `organisation_shown(id)` hides organisations the
    staff member does not manage."""
    context = {
        **admin_site.each_context(request),
        "title": "Explain buyer",
        "opts": opts,
        "people": [_explain_person(user, organisation_shown) for user in users],
    }
    return TemplateResponse(request, "admin/accounts/user/explain_buyer.html", context)


# Recomputes: the runs, their progress, and starting one -------------------------------------------

def may_recompute(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(RECOMPUTE_PERMISSION)


@admin.register(SegmentRun)
class SegmentRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "kind", "status", "progress_bar", "duration", "timings_text",
                    "counts_text", "requested_by")
    list_filter = ("status", "full")
    list_select_related = ("requested_by",)
    fields = ("kind", "status", "progress_bar", "started_at", "finished_at", "duration",
              "requested_by", "timings_table", "counts_table", "error")
    readonly_fields = fields
    change_form_template = "admin/segments/segmentrun/change_form.html"
    change_list_template = "admin/segments/segmentrun/change_list.html"

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or may_recompute(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or may_recompute(request.user)

    @admin.display(description="kind", ordering="full")
    def kind(self, obj):
        return "full" if obj.full else "incremental"

    @admin.display(description="progress")
    def progress_bar(self, obj):
        return format_html('<progress value="{}" max="100">{}%</progress> {}% {}',
                           obj.progress, obj.progress, obj.progress, obj.phase)

    @admin.display(description="duration")
    def duration(self, obj):
        if obj.finished_at is None:
            return "—"
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    @admin.display(description="seconds per phase")
    def timings_text(self, obj):
        return ", ".join(f"{name} {seconds:.2f}" for name, seconds in obj.timings.items()) or "—"

    @admin.display(description="counts")
    def counts_text(self, obj):
        return "; ".join(f"{phase}: {_counts_words(counts)}"
                         for phase, counts in obj.counts.items()) or "—"

    @admin.display(description="seconds per phase")
    def timings_table(self, obj):
        return _table(("phase", "seconds"), ((name, f"{seconds:.3f}")
                                             for name, seconds in obj.timings.items()))

    @admin.display(description="counts")
    def counts_table(self, obj):
        return _table(("phase", "counts"), ((phase, _counts_words(counts))
                                            for phase, counts in obj.counts.items()))

    def changelist_view(self, request, extra_context=None):
        extra = {"may_recompute": may_recompute(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def get_urls(self):
        return [
            path("recompute/", self.admin_site.admin_view(self.recompute_view),
                 name="segments_segmentrun_recompute"),
            *super().get_urls(),
        ]

    def recompute_view(self, request):
        """Start a recompute (POST, `full=1` for a full one): queued for a worker, or run at once
        where tasks run eagerly; then show the run."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not may_recompute(request.user):
            raise PermissionDenied
        changelist = reverse("admin:segments_segmentrun_changelist")
        running = running_recompute()
        if running is not None:
            messages.error(request, "A recompute is already running: wait until it has finished.")
            return HttpResponseRedirect(reverse("admin:segments_segmentrun_change",
                                                args=[running.pk]))
        full = request.POST.get("full") == "1"
        result = recompute_segments_task.delay(full=full, requested_by_id=request.user.pk)
        if not isinstance(result, EagerResult):
            messages.info(request, f"The {'full' if full else 'incremental'} recompute is queued; "
                          "it appears here when a worker starts it.")
            return HttpResponseRedirect(changelist)
        outcome = result.result or {}
        if outcome.get("run") is None:
            messages.error(request, outcome.get("message", "The recompute did not start."))
            return HttpResponseRedirect(changelist)
        if outcome.get("status") == RunStatus.DONE:
            messages.success(request, "The recompute has finished.")
        else:
            messages.error(request, f"The recompute failed: {outcome.get('error')}")
        return HttpResponseRedirect(reverse("admin:segments_segmentrun_change",
                                            args=[outcome["run"]]))


def _counts_words(counts) -> str:
    if isinstance(counts, dict):
        return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
    return str(counts)


def _table(headings, rows) -> str:
    body = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows)
    if not body:
        return "—"
    return format_html("<table><tr><th>{}</th><th>{}</th></tr>{}</table>", *headings, body)


# The analysis pages register themselves with the admin site.
from . import admin_clusters, admin_propensity, admin_reps  # noqa: E402, F401
