"""Celery tasks of progress-outbox-relay (queue ``outbox``, routed by module in
``progress_site.celery``). Thin: each calls one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from outbox.relay import refresh_gauges, relay_drain
from outbox.services import outbox_delete_expired


@shared_task(acks_late=True, ignore_result=True)
def outbox_relay() -> int:
    """Publish every due event (the on-commit nudge). Idempotent: a redundant run finds
    nothing due and returns."""
    return relay_drain().published


@shared_task(acks_late=True, ignore_result=True)
def outbox_sweep() -> int:
    """The periodic guarantee: delete sent events past retention, refresh the backlog
    gauges, and drain, so an event whose nudge was lost is published within one interval."""
    outbox_delete_expired(retention_seconds=settings.PROGRESS_OUTBOX_RETENTION)
    refresh_gauges()
    return relay_drain().published
