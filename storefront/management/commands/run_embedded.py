"""`manage.py run_embedded [addrport]`: the development server with the embedded scheduler, so the
set-up without a broker (`make run`) runs every scheduled job too (storefront/scheduler.py)."""

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand

from storefront.scheduler import EmbeddedScheduler


class Command(RunserverCommand):
    help = "Serve with the development server and run Celery beat's schedule in-process."

    def inner_run(self, *args, **options):
        # inner_run runs in the serving process (the autoreloader's child), once per reload.
        if settings.CELERY_TASK_ALWAYS_EAGER:
            scheduler = EmbeddedScheduler()
            scheduler.start()
            names = ", ".join(entry.name for entry in scheduler.entries)
            self.stdout.write(f"Scheduled jobs run in this process: {names}")
        else:
            self.stdout.write("Tasks go to the broker: run `celery -A storefront worker -B`.")
        super().inner_run(*args, **options)
