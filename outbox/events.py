"""The event types progress-service announces (docs/events.md).

Each type has a JSON Schema per schema version in ``outbox/schemas/`` (``<type>.v<n>.json``);
``SCHEMA_VERSIONS`` lists the versions this code can write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson

STATEMENT_STORED = "statement.stored"
ATTEMPT_STARTED = "attempt.started"
ATTEMPT_FINISHED = "attempt.finished"
COMPLETION_RECORDED = "completion.recorded"

EVENT_TYPES = (STATEMENT_STORED, ATTEMPT_STARTED, ATTEMPT_FINISHED, COMPLETION_RECORDED)
SCHEMA_VERSIONS: dict[str, tuple[int, ...]] = {event_type: (1,) for event_type in EVENT_TYPES}


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event to enqueue with ``outbox_enqueue_many``.

    ``aggregate_key`` orders events: the relay publishes the events of one key in the order
    they were enqueued, each only after the previous one was acked. ``event_id`` is the
    dedupe key end to end (table and JetStream ``Nats-Msg-Id``): pass a deterministic
    ``uuid5`` (a ``UUID`` or its text) so that recomputing the same fact enqueues nothing
    new; ``None`` draws a random one. ``payload`` is the ``data`` object, as a dict or as
    its JSON text in an ``orjson.Fragment`` (for emitters that have the database write it).
    """

    event_type: str
    tenant_id: int
    tenant_slug: str
    aggregate_key: str
    payload: dict | orjson.Fragment
    event_id: uuid.UUID | str | None = None
    schema_version: int = 1
