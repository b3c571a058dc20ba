from django.apps import AppConfig


class MerchandisingConfig(AppConfig):
    name = "merchandising"
    verbose_name = "Merchandising"

    def ready(self):
        from segments.versioning import watch

        from .models import ContentBlock

        # A block's content and targets are part of the cached front-page composition.
        watch(ContentBlock)
