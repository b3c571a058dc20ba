from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Stock


@admin.register(Stock)
class StockAdmin(SimpleHistoryAdmin):
    list_display = ["product", "on_hand", "reserved", "available", "updated_at"]
    list_select_related = ["product"]
    search_fields = ["product__sku", "product__name", "product__gtin"]
    list_filter = [("product__category", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["product"]
    readonly_fields = ["updated_at"]

    @admin.display(description="available")
    def available(self, stock: Stock) -> int:
        return stock.available
