"""The staff reports, inside the admin (each view wrapped in the admin's own sign-in check)."""

from django.urls import path  # noqa: F401

app_name = "insights"

urlpatterns: list = []
