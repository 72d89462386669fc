from celery import shared_task

from partitions.services import partition_ensure_months


@shared_task(name="partitions.tasks.partitions_ensure")
def partitions_ensure() -> list[str]:
    """Beat, daily: create missing statement months up to the configured horizon."""
    return [month.isoformat() for month in partition_ensure_months()]
