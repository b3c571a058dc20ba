"""Cursor pagination: stable pages while rows are added, and no COUNT over a large catalogue."""

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "sku"

    def get_paginated_response_schema(self, schema):
        """DRF's page schema, with what `next`, `previous` and `results` are."""
        page = super().get_paginated_response_schema(schema)
        properties = page["properties"]
        properties["next"].update(
            description="The next page's address (an opaque cursor); null on the last page.",
            example="https://shop.example.org/api/v1/orders/?cursor=cD0yMDI2LTA0LTEz",
        )
        properties["previous"].update(
            description="The previous page's address; null on the first page.", example=None,
        )
        properties["results"]["description"] = (
            f"Up to `page_size` rows (default {self.page_size}, at most {self.max_page_size}).")
        return page


class NewestFirstPagination(ApiCursorPagination):
    ordering = "-id"
