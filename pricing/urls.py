from django.urls import path

from . import views

urlpatterns = [
    path("", views.quote_list, name="quote_list"),
    path("request/", views.quote_request, name="quote_request"),
    path("<int:pk>/", views.quote_detail, name="quote_detail"),
    path("<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("<int:pk>/reject/", views.quote_reject, name="quote_reject"),
    path("<int:pk>/revise/", views.quote_revise, name="quote_revise"),
]
