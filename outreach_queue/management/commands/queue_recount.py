"""Rebuild the queue's running status counts from the rows (see `services.status_counts_rebuild`)."""

from django.core.management.base import BaseCommand

from outreach_queue.services import status_counts_rebuild


class Command(BaseCommand):
    help = "Count every company's queue rows per status again (after a data-only restore or loaddata)."

    def handle(self, *args, **options):
        counted = status_counts_rebuild()
        self.stdout.write(f"counted {counted} queue rows")
