"""Webhook self-service pages, mounted at /account/webhooks/."""

from django.urls import path

from . import webhook_views as views

urlpatterns = [
    path("", views.WebhookListView.as_view(), name="webhook_list"),
    path("add/", views.WebhookAddView.as_view(), name="webhook_add"),
    path("<int:pk>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
    path("<int:pk>/test/", views.WebhookPingView.as_view(), name="webhook_ping"),
    path(
        "<int:pk>/deactivate/",
        views.WebhookSetActiveView.as_view(active=False),
        name="webhook_deactivate",
    ),
    path(
        "<int:pk>/activate/",
        views.WebhookSetActiveView.as_view(active=True),
        name="webhook_activate",
    ),
    path("<int:pk>/rotate-secret/", views.WebhookRotateSecretView.as_view(),
         name="webhook_rotate_secret"),
    path("<int:pk>/delete/", views.WebhookDeleteView.as_view(), name="webhook_delete"),
]
