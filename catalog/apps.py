from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalogue"

    def ready(self):
        from segments.versioning import watch

        from .models import Catalog, Category, Manufacturer, Product

        watch(Category, Manufacturer, Product, Catalog)
