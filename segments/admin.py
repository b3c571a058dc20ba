"""Django admin for segments: definitions, rule conditions, explicit members, and the staff page
that explains why a buyer is in each segment."""
from django.contrib import admin
from django.db.models import Count
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from .models import Segment, SegmentCondition, SegmentKind, SegmentMembership
from .resolver import resolve
from .selectors import segment_explanations


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


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "audience", "condition_count", "member_count",
                    "is_active")
    list_filter = ("kind", "audience", "is_active")
    search_fields = ("code", "name", "description")
    inlines = (SegmentConditionInline, SegmentMembershipInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            condition_total=Count("conditions", distinct=True),
            member_total=Count("members", distinct=True),
        )

    @admin.display(description="conditions", ordering="condition_total")
    def condition_count(self, obj):
        return obj.condition_total

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj):
        return "from rules" if obj.kind == SegmentKind.RULE else obj.member_total

    def get_inlines(self, request, obj):
        # Rule segments take members from their conditions; static and computed from rows.
        if obj is None:
            return self.inlines
        if obj.kind == SegmentKind.RULE:
            return (SegmentConditionInline,)
        return (SegmentMembershipInline,)


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(SimpleHistoryAdmin):
    list_display = ("segment", "organisation", "user", "note", "created_at")
    list_filter = ("segment__kind", "segment")
    search_fields = ("segment__code", "organisation__name", "user__email", "note")
    list_select_related = ("segment", "organisation", "user")
    autocomplete_fields = ("segment", "organisation", "user")
    readonly_fields = ("created_at",)


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
        ("Cache key", buyer.cache_key),
    ]


def _explain_context(buyer, *, sites) -> dict:
    return {
        "buyer": buyer,
        "facts": _context_facts(buyer),
        "segments": segment_explanations(buyer=buyer),
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

# The analysis pages register themselves with the admin site.
from . import admin_clusters, admin_propensity  # noqa: E402, F401
