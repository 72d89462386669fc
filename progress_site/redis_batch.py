"""Redis commands from several modules sent in one round trip.

After a statement write commits, the query cache bumps its tenant's generation and the
projector's nudge sets its mark: two modules that know nothing of each other, each with one
command. Sent one by one they cost a round trip each (about a tenth of a one-statement
POST); a ``RedisBatch`` collects them and sends them as one pipeline (not a MULTI
transaction: the commands are independent).

Each step queues exactly one command and gets its own result back in ``then``, or the error
in ``failed``; one step's failure never reaches another step, and ``run`` never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django_redis import get_redis_connection

logger = logging.getLogger(__name__)


def _ignore(_result: Any) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Step:
    queue: Callable[[Any], Any]
    then: Callable[[Any], None]
    failed: Callable[[BaseException], None]


class RedisBatch:
    """Steps to run against the ``default`` Redis connection in one round trip."""

    def __init__(self) -> None:
        self._steps: list[_Step] = []

    def add(
        self,
        queue: Callable[[Any], Any],
        *,
        then: Callable[[Any], None] = _ignore,
        failed: Callable[[BaseException], None],
    ) -> None:
        """``queue(pipeline)`` queues one command; ``then(result)`` or ``failed(error)``
        runs after the round trip."""
        self._steps.append(_Step(queue, then, failed))

    def run(self) -> None:
        """Send every step's command at once, then call back each step. Never raises."""
        steps, self._steps = self._steps, []
        if not steps:
            return
        try:
            pipeline = get_redis_connection("default").pipeline(transaction=False)
            for step in steps:
                step.queue(pipeline)
            results = pipeline.execute(raise_on_error=False)
        except Exception as exc:
            results = [exc] * len(steps)
        for step, result in zip(steps, results, strict=True):
            try:
                if isinstance(result, Exception):
                    step.failed(result)
                else:
                    step.then(result)
            except Exception:
                logger.exception("a Redis batch step's callback failed")
