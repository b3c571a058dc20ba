"""`python manage.py rebuild_sales_aggregates`: rebuild the reporting aggregates from every
counted order line (`--incremental`: refresh only the buyer-days touched since the last refresh),
and say how many rows it wrote and how long it took."""

from django.core.management.base import BaseCommand

from insights.services.aggregates import rebuild, refresh


class Command(BaseCommand):
    help = "Rebuild the daily sales aggregates (or refresh them, with --incremental)."

    def add_arguments(self, parser):
        parser.add_argument("--incremental", action="store_true",
                            help="rewrite only the buyer-days touched since the last refresh")

    def handle(self, *args, **options):
        run = refresh() if options["incremental"] else rebuild()
        self.stdout.write(self.style.SUCCESS(
            f"Sales aggregates {'refreshed' if options['incremental'] else 'rebuilt'}: "
            f"{run.sales_rows:,} sales rows, {run.buyer_days:,} buyer-days, "
            f"{run.segment_sizes:,} segment sizes in {run.seconds:.2f} s."
        ))
