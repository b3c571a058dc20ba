from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"
    verbose_name = "Territories"

    def ready(self):
        from segments.versioning import watch

        from .models import DistributorProfile, TerritoryRestriction, TerritoryRight

        watch(TerritoryRight, TerritoryRestriction, DistributorProfile)
