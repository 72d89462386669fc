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

from progress_site.redis_batch import RedisBatch

logger = logging.getLogger(__name__)

_KEY = "progress:projection:nudge"


def projection_nudge(tenant_id: int | None = None, batch: RedisBatch | None = None) -> None:
    """After commit only. Never raises. With ``batch`` the mark's ``SET NX`` is queued
    there (``statements.feed`` passes the write's batch) and the task is sent when the batch
    has run."""
    own = batch is None
    batch = RedisBatch() if own else batch
    batch.add(
        lambda pipeline: pipeline.set(
            _KEY, b"1", nx=True, px=settings.PROGRESS_PROJECTION_NUDGE_MS
        ),
        then=_send_drain,
        failed=_not_sent,
    )
    if own:
        batch.run()


def _send_drain(mark_set) -> None:
    if not mark_set:
        return
    from attempts.tasks import projection_drain

    try:
        projection_drain.apply_async()
    except Exception as exc:
        _not_sent(exc)


def _not_sent(error: BaseException) -> None:
    logger.warning("projection nudge not sent; the sweeper will pick the work up", exc_info=error)


def projection_nudge_clear() -> None:
    """Never raises: a mark left behind only delays nudges until it expires."""
    try:
        get_redis_connection("default").delete(_KEY)
    except Exception:
        logger.warning("projection nudge mark not cleared", exc_info=True)
