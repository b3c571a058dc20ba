"""The admin's history page for every model: django-simple-history's record where the model keeps
one, Django's own change log (LogEntry) where it does not."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin


def keeps_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin for models with or without `HistoricalRecords`."""

    def history_view(self, request, object_id, extra_context=None):
        if keeps_history(self.model):
            return super().history_view(request, object_id, extra_context)
        self.object_history_template = None  # Django's template, not simple-history's
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
