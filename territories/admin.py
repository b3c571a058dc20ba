"""Django admin for territories and the postcode areas they are made of."""
from django.contrib import admin

from .models import PostcodeArea, Territory


@admin.register(PostcodeArea)
class PostcodeAreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    search_fields = ("code", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("territories")

    @admin.display(description="region")
    def region(self, obj):
        regions = [t.name for t in obj.territories.all() if t.is_region]
        return ", ".join(regions) or "—"


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_region", "area_list")
    list_filter = ("is_region",)
    search_fields = ("code", "name", "areas__code")
    filter_horizontal = ("areas",)
    prepopulated_fields = {"code": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("areas")

    @admin.display(description="postcode areas")
    def area_list(self, obj):
        return ", ".join(area.code for area in obj.areas.all())
