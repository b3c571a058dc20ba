from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Pricing"

    def ready(self):
        from segments.versioning import watch

        from .models import Contract, PriceList, PriceListItem, Quote, QuoteLine

        watch(PriceList, PriceListItem, Contract, Quote, QuoteLine)
