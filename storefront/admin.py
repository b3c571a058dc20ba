"""The offer report: for each offer block, who was shown it and who ordered at its promotion's
price. It reads merchandising (impressions) and ordering (order lines priced from the promotion),
so it lives here, above both. Staff need the view permission of "offer report"."""

from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse

from merchandising.models import BlockKind, OfferReport
from merchandising.selectors import blocks_with_reach, impressions_of
from ordering.selectors import promotion_orders, promotion_usage

BUYERS_LISTED = 200


@admin.register(OfferReport)
class OfferReportAdmin(admin.ModelAdmin):
    list_display = ("title", "promotion", "valid_from", "valid_until", "shown_count",
                    "buyers_shown", "orders", "buyers_ordering", "revenue")
    list_select_related = ("promotion",)

    def get_queryset(self, request):
        return blocks_with_reach(
            super().get_queryset(request).filter(kind=BlockKind.OFFER)
        ).select_related("promotion")

    def changelist_view(self, request, extra_context=None):
        """The page's offers with their use, read in one query for the whole page and kept on
        each row (the admin object serves every request at once: nothing is kept on it)."""
        response = super().changelist_view(request, extra_context)
        rows = getattr(response, "context_data", {}).get("cl")
        if rows is not None:
            usage = promotion_usage([b.promotion.code for b in rows.result_list
                                     if b.promotion_id])
            for block in rows.result_list:
                block.usage = usage.get(block.promotion.code if block.promotion_id else "")
        return response

    @staticmethod
    def _used(block) -> dict:
        return getattr(block, "usage", None) or {"orders": 0, "buyers": 0, "revenue": 0}

    @admin.display(description="Times shown (buyer-days)")
    def shown_count(self, block):
        return block.shown_count

    @admin.display(description="Buyers shown")
    def buyers_shown(self, block):
        return block.buyers_shown

    @admin.display(description="Orders at the offer price")
    def orders(self, block):
        return self._used(block)["orders"]

    @admin.display(description="Buyers ordering")
    def buyers_ordering(self, block):
        return self._used(block)["buyers"]

    @admin.display(description="Revenue at the offer price (net)")
    def revenue(self, block):
        return f"£{self._used(block)['revenue']:,.2f}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        block = self.get_queryset(request).filter(pk=object_id).first()
        if block is None or not self.has_view_permission(request, block):
            raise Http404("No such offer.")
        code = block.promotion.code if block.promotion_id else ""
        orders = list(promotion_orders(code)[:BUYERS_LISTED]) if code else []
        return TemplateResponse(request, "admin/merchandising/offer_report.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"Offer report: {block.title}", "block": block,
            "usage": promotion_usage([code]).get(code) if code else None,
            "impressions": list(impressions_of(block)[:BUYERS_LISTED]), "orders": orders,
        })
