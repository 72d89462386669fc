"""Reads of the outbox: backlog figures for metrics and autoscaling, listings for operators."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from outbox.models import OutboxRecord


def outbox_backlog() -> int:
    """Events not yet sent, dead or discarded (the relay's scaling signal). Reads the
    partial index of pending rows only."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL AND dead_at IS NULL "
            "AND discarded_at IS NULL"
        )
        return cursor.fetchone()[0]


def outbox_dead_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL AND discarded_at IS NULL "
            "AND attempts > 0 AND dead_at IS NOT NULL"
        )
        return cursor.fetchone()[0]


def outbox_events_list(
    *, dead_only: bool = False, tenant_slug: str | None = None, limit: int = 50
) -> QuerySet[OutboxRecord]:
    """Unsent events (pending and dead; only dead ones with ``dead_only``), oldest first."""
    if dead_only:
        queryset = OutboxRecord.objects.filter(
            sent_at__isnull=True, discarded_at__isnull=True, dead_at__isnull=False, attempts__gt=0
        )
    else:
        queryset = OutboxRecord.objects.filter(sent_at__isnull=True, discarded_at__isnull=True)
    if tenant_slug:
        queryset = queryset.filter(tenant_slug=tenant_slug)
    return queryset.order_by("seq")[:limit]
