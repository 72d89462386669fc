"""What the write path tells downstream consumers, without knowing who they are.

Data flows one way (ARCHITECTURE.md §2): ``statements`` imports no downstream app. The write
path writes a ``statement_projection_queue`` row per new statement in its own transaction
(the durable hand-off), and after commit calls the listeners registered here (a nudge to
start work sooner). A listener registers itself from its app's ``ready()``.

A listener is called as ``listener(tenant_id, batch)``: ``batch`` is the write's
``RedisBatch``, which also carries the query cache's bump, so a listener whose nudge is a
Redis command queues it there and the write pays one Redis round trip for all of them.

Listeners run after the commit: the write stands whatever they do, so a failing listener is
logged and never fails the write, and a lost nudge must be harmless to the listener (its
own sweeper finds the rows anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from progress_site.redis_batch import RedisBatch

logger = logging.getLogger(__name__)

QUEUE_TABLE = "statement_projection_queue"

_listeners: list[Callable[[int, RedisBatch], None]] = []


def feed_subscribe(listener: Callable[[int, RedisBatch], None]) -> None:
    """Call ``listener(tenant_id, batch)`` after every commit that stored new statements.
    Idempotent per listener."""
    if listener not in _listeners:
        _listeners.append(listener)


def feed_notify(tenant_id: int, batch: RedisBatch) -> None:
    """After commit only; the caller runs ``batch`` afterwards. Never raises."""
    for listener in _listeners:
        try:
            listener(tenant_id, batch)
        except Exception:
            logger.warning("statement feed listener failed", exc_info=True)
