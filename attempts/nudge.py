"""Nudging the projector after a statement write commits (``statements.feed`` listener).

A nudge only makes work start sooner: the queue rows are the durable hand-off, and the
sweeper (``projection_sweep``, every few seconds) drains whatever a lost nudge left. So a
nudge never fails a write, and it sends at most one drain task per in-flight drain: the
first nudge sets a Redis key with ``SET NX`` and sends the task; later nudges see the key
and send nothing; the task deletes the key when it starts, *before* it claims rows. Any
write that committed before a nudge that found the key is therefore seen by that task's
drain. The key expires (``PROGRESS_PROJECTION_NUDGE_MS``) in case a task is lost.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

_KEY = "progress:projection:nudge"


def projection_nudge(tenant_id: int | None = None) -> None:
    """After commit only. Never raises."""
    try:
        client = get_redis_connection("default")
        if client.set(_KEY, b"1", nx=True, px=settings.PROGRESS_PROJECTION_NUDGE_MS):
            from attempts.tasks import projection_drain

            projection_drain.apply_async()
    except Exception:
        logger.warning(
            "projection nudge not sent; the sweeper will pick the work up", exc_info=True
        )


def projection_nudge_clear() -> None:
    """Never raises: a mark left behind only delays nudges until it expires."""
    try:
        get_redis_connection("default").delete(_KEY)
    except Exception:
        logger.warning("projection nudge mark not cleared", exc_info=True)
