"""What the write path tells downstream consumers, without knowing who they are.

Data flows one way (ARCHITECTURE.md §2): ``statements`` imports no downstream app. The write
path writes a ``statement_projection_queue`` row per new statement in its own transaction
(the durable hand-off), and after commit calls the listeners registered here (a nudge to
start work sooner). A listener registers itself from its app's ``ready()``.

Listeners run after the commit: the write stands whatever they do, so a failing listener is
logged and never fails the write, and a lost nudge must be harmless to the listener (its
own sweeper finds the rows anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

QUEUE_TABLE = "statement_projection_queue"

_listeners: list[Callable[[int], None]] = []


def feed_subscribe(listener: Callable[[int], None]) -> None:
    """Call ``listener(tenant_id)`` after every commit that stored new statements.
    Idempotent per listener."""
    if listener not in _listeners:
        _listeners.append(listener)


def feed_notify(tenant_id: int) -> None:
    """After commit only. Never raises."""
    for listener in _listeners:
        try:
            listener(tenant_id)
        except Exception:
            logger.warning("statement feed listener failed", exc_info=True)
