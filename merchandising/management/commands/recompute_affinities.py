"""`python manage.py recompute_affinities`: rebuild the complementary products (pairs ordered
together and peer favourites, per scope) from the order history now. Every segment recompute does
the same as its last phase."""
import time

from django.core.management.base import BaseCommand

from merchandising.services import recompute_affinities


class Command(BaseCommand):
    help = "Recompute the complementary products from the order history."

    def handle(self, *args, **options):
        started = time.monotonic()
        counts = recompute_affinities()
        self.stdout.write(self.style.SUCCESS(
            f"{counts['pairs']} pairs and {counts['favourites']} peer favourites in "
            f"{counts['scopes']} scopes, {time.monotonic() - started:.2f} s."
        ))
