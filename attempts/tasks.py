"""Projection tasks (queue ``projection``): thin, idempotent, ``acks_late``."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from attempts.nudge import projection_nudge_clear
from attempts.services import projection_drain_run


@shared_task(name="attempts.tasks.projection_drain")
def projection_drain() -> int:
    """Drain the projection queue (nudged after statement writes commit)."""
    projection_nudge_clear()
    return projection_drain_run(budget_seconds=settings.PROGRESS_PROJECTION_DRAIN_SECONDS)


@shared_task(name="attempts.tasks.projection_sweep")
def projection_sweep() -> int:
    """Periodic: drain whatever lost nudges left behind, so progress never depends on them."""
    return projection_drain_run(budget_seconds=settings.PROGRESS_PROJECTION_DRAIN_SECONDS)
