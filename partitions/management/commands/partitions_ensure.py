from django.conf import settings
from django.core.management.base import BaseCommand

from partitions.services import partition_ensure_months, partition_list


class Command(BaseCommand):
    help = (
        "Create missing monthly statement partitions (with their tenant-hash buckets) for "
        "the current month and the next N. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months-ahead",
            type=int,
            default=settings.PROGRESS_PARTITION_MONTHS_AHEAD,
            help="months after the current one to have ready (default: %(default)s)",
        )

    def handle(self, *args, months_ahead, **options):
        created = {
            month.isoformat()[:7] for month in partition_ensure_months(months_ahead=months_ahead)
        }
        for partition in partition_list():
            label = partition.month.isoformat()[:7]
            state = "created" if label in created else "present"
            self.stdout.write(f"{label} {partition.table} buckets={partition.buckets} {state}")
