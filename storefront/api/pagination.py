"""Cursor pagination: stable pages while rows are added, and no COUNT over a large catalogue."""

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "sku"


class NewestFirstPagination(ApiCursorPagination):
    ordering = "-id"
