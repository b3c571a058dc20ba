from django.urls import path

from . import views

urlpatterns = [
    path("", views.catalogue_home, name="catalogue_home"),
    path("search/", views.product_search, name="product_search"),
    path("c/<slug:slug>/", views.category_browse, name="category_browse"),
    path("p/<slug:slug>/", views.product_detail, name="product_detail"),
]
