from django.core.management.base import BaseCommand

from partitions.services import partition_list


class Command(BaseCommand):
    help = "List attached monthly statement partitions with bucket counts and row estimates."

    def handle(self, *args, **options):
        partitions = partition_list()
        if not partitions:
            self.stdout.write("no statement partitions: run partitions_ensure")
        for partition in partitions:
            self.stdout.write(
                f"{partition.month.isoformat()[:7]} {partition.table} "
                f"buckets={partition.buckets} rows~{partition.estimated_rows}"
            )
