from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = "Ordering"

    def ready(self):
        # Register the Celery tasks that services queue by name (notifications).
        from . import tasks  # noqa: F401
