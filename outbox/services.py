"""Writes to the outbox: enqueueing events in the caller's transaction, nudging the relay
after commit, and the operators' retry and discard.

Enqueueing does not validate payloads against their schemas (``outbox.schemas``): that costs
about 200 µs an event, out of the write path's budget (ARCHITECTURE.md §10). Emitters check
their payloads against the schemas in their tests.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
import zlib
from collections.abc import Iterable

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from outbox.events import SCHEMA_VERSIONS, OutboxEvent

logger = logging.getLogger(__name__)

# The advisory lock class of relay shards (the other half of the two-int key is the shard).
SHARD_LOCK_CLASS = 0x6F627800  # "obx\0"

# A tenant slug is one NATS subject token; an aggregate key travels in a header.
_SUBJECT_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

OUTBOX_COLUMNS = (
    "event_id, event_type, schema_version, tenant_id, tenant_slug, aggregate_key, shard, payload"
)


def outbox_insert_sql(select_sql: str) -> str:
    """An INSERT of the events ``select_sql`` yields (its columns in ``OUTBOX_COLUMNS``
    order, ``payload`` the event's ``data`` as JSON text), idempotent on the event id.

    For emitters whose events are cheapest built by PostgreSQL from rows it already has.
    They take on what ``outbox_enqueue_many`` checks and does: a known type and schema
    version, a tenant slug that is a NATS subject token, a non-empty aggregate key without
    control characters, the shard of that key, and ``register_relay_nudge()`` in the same
    transaction.
    """
    return (
        f"INSERT INTO outbox_events ({OUTBOX_COLUMNS})\n{select_sql}\n"
        "ON CONFLICT (event_id) DO NOTHING"
    )


# The events travel as one JSON document (each payload a JSON string inside it): psycopg
# quotes text arrays element by element in Python, which cost more than the insert itself
# at hundreds of events a batch. Rows are ordered by ``ordinality``, so ``seq`` follows the
# order of the caller's list: that is the order the relay keeps for events of one key.
_INSERT_SQL = outbox_insert_sql(
    """SELECT e.event_id, e.event_type, e.schema_version, e.tenant_id, e.tenant_slug,
       e.aggregate_key, e.shard, e.payload
FROM ROWS FROM (jsonb_to_recordset(%s::jsonb)
         AS (event_id uuid, event_type text, schema_version smallint, tenant_id bigint,
             tenant_slug text, aggregate_key text, shard smallint, payload text))
     WITH ORDINALITY AS e(event_id, event_type, schema_version, tenant_id, tenant_slug,
                          aggregate_key, shard, payload, ordinality)
ORDER BY e.ordinality"""
)


class OutboxError(ValueError):
    """An event that cannot be enqueued or an operation that does not apply."""


def shard_of(aggregate_key: str, shards: int | None = None) -> int:
    """The relay shard of an aggregate key: stable across processes and releases (CRC-32,
    not Python's salted ``hash``), so every event of a key lands in the same shard."""
    count = settings.PROGRESS_OUTBOX_SHARDS if shards is None else shards
    return zlib.crc32(aggregate_key.encode()) % count


def outbox_enqueue(
    *,
    event_type: str,
    tenant_id: int,
    tenant_slug: str,
    aggregate_key: str,
    payload: dict,
    event_id: uuid.UUID | None = None,
    schema_version: int = 1,
) -> uuid.UUID:
    """Write one event in the caller's transaction; returns its id.

    Must run inside ``transaction.atomic`` (raises ``TransactionManagementError`` otherwise):
    the event is published if and only if the caller's transaction commits. Idempotent on
    ``event_id``: enqueueing an id that is already in the table writes nothing.

    Events of one aggregate key are published in the order they were enqueued. Callers that
    write events of the same key from concurrent transactions must serialize those
    transactions (the projector holds the aggregate's row lock), since ``seq`` is taken at
    insert time, not at commit.
    """
    event = OutboxEvent(
        event_type=event_type,
        tenant_id=tenant_id,
        tenant_slug=tenant_slug,
        aggregate_key=aggregate_key,
        payload=payload,
        event_id=event_id or uuid.uuid4(),
        schema_version=schema_version,
    )
    outbox_enqueue_many([event])
    return event.event_id  # type: ignore[return-value]


def outbox_enqueue_many(events: Iterable[OutboxEvent]) -> None:
    """Write many events with one INSERT, in the caller's transaction and in the given order.

    Same contract as ``outbox_enqueue``: must run inside ``transaction.atomic``, idempotent
    on each event id (duplicates within the list too), and registers at most one relay
    nudge per transaction, sent after commit.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "outbox events must be enqueued inside transaction.atomic(), in the transaction "
            "of the change they announce"
        )
    shards = settings.PROGRESS_OUTBOX_SHARDS
    rows = []
    for event in events:
        _check(event)
        key = event.aggregate_key
        rows.append(
            {
                "event_id": str(event.event_id or uuid.uuid4()),
                "event_type": event.event_type,
                "schema_version": event.schema_version,
                "tenant_id": event.tenant_id,
                "tenant_slug": event.tenant_slug,
                "aggregate_key": key,
                "shard": zlib.crc32(key.encode()) % shards,
                "payload": orjson.dumps(event.payload, option=orjson.OPT_UTC_Z).decode(),
            }
        )
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, [orjson.dumps(rows).decode()])
    register_relay_nudge()


def _check(event: OutboxEvent) -> None:
    if event.schema_version not in SCHEMA_VERSIONS.get(event.event_type, ()):
        raise OutboxError(
            f"unknown event type or schema version: {event.event_type!r} v{event.schema_version}"
        )
    if not _SUBJECT_TOKEN.match(event.tenant_slug):
        raise OutboxError(f"tenant slug {event.tenant_slug!r} is not a NATS subject token")
    if not event.aggregate_key or _HEADER_UNSAFE.search(event.aggregate_key):
        raise OutboxError(
            f"aggregate key {event.aggregate_key!r} must be non-empty, without control characters"
        )
    if not isinstance(event.payload, dict | orjson.Fragment):
        raise OutboxError("an event payload is a JSON object (a dict, or its JSON text)")


# --- nudging the relay -------------------------------------------------------------------

_nudge_lock = threading.Lock()
_last_nudge = -float("inf")


def register_relay_nudge() -> None:
    """One ``on_commit`` nudge per transaction, however many enqueues it makes.

    Django drops the callbacks of a rolled-back transaction (or savepoint), so looking for
    ours among the pending ones is exact: a later enqueue after a rollback registers anew.
    """
    if any(func is relay_nudge for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(relay_nudge)


def relay_nudge() -> None:
    """Ask a relay worker to drain, at most once per ``PROGRESS_OUTBOX_NUDGE_DEBOUNCE`` per
    process.

    Best effort by design: a nudge dropped by the debounce is covered by the relay task
    already sent (it drains until nothing is due, then looks once more), and a nudge lost to
    a broker outage by the periodic sweep. Never raises: the caller's transaction has
    committed and must not look failed.
    """
    global _last_nudge
    now = time.monotonic()
    with _nudge_lock:
        if now - _last_nudge < settings.PROGRESS_OUTBOX_NUDGE_DEBOUNCE:
            return
        _last_nudge = now
    try:
        from outbox.tasks import outbox_relay

        # No publish retries: a nudge that cannot be sent now is not worth waiting for.
        outbox_relay.apply_async(retry=False)
    except Exception:
        logger.warning("outbox relay nudge not sent; the sweep will relay", exc_info=True)


def relay_nudge_reset() -> None:
    """Forget the last nudge time (tests, and a freshly forked process)."""
    global _last_nudge
    with _nudge_lock:
        _last_nudge = -float("inf")


# --- operations ----------------------------------------------------------------------------


def _lock_shard_of(event_id: uuid.UUID, cursor) -> tuple | None:
    """Lock the event's shard against the relay (waiting for a batch in flight), then the
    row; returns (seq, sent_at, dead_at, discarded_at) or None."""
    cursor.execute("SELECT shard FROM outbox_events WHERE event_id = %s", [event_id])
    row = cursor.fetchone()
    if row is None:
        return None
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SHARD_LOCK_CLASS, row[0]])
    cursor.execute(
        "SELECT seq, sent_at, dead_at, discarded_at FROM outbox_events WHERE event_id = %s "
        "FOR UPDATE",
        [event_id],
    )
    return cursor.fetchone()


def outbox_retry(*, event_id: uuid.UUID) -> None:
    """Make a dead (or backing-off) event due now, with a fresh attempt count.

    Takes the event's shard lock, so it never races the relay's batch. Raises
    ``OutboxError`` for an unknown, sent or discarded event.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        row = _lock_shard_of(event_id, cursor)
        if row is None:
            raise OutboxError(f"no outbox event {event_id}")
        _, sent_at, _, discarded_at = row
        if sent_at is not None:
            raise OutboxError(f"event {event_id} was already sent")
        if discarded_at is not None:
            raise OutboxError(f"event {event_id} was discarded")
        cursor.execute(
            "UPDATE outbox_events SET dead_at = NULL, next_try_at = NULL, attempts = 0 "
            "WHERE event_id = %s",
            [event_id],
        )
    relay_nudge()


def outbox_retry_all_dead() -> int:
    """``outbox_retry`` for every dead event; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id FROM outbox_events WHERE dead_at IS NOT NULL AND sent_at IS NULL "
            "AND discarded_at IS NULL AND attempts > 0 ORDER BY seq"
        )
        event_ids = [row[0] for row in cursor.fetchall()]
    for event_id in event_ids:
        outbox_retry(event_id=event_id)
    return len(event_ids)


def outbox_discard(*, event_id: uuid.UUID) -> None:
    """Give up a dead event: it is never published, and the later events of its aggregate
    key flow again. Only dead events can be discarded (``OutboxError`` otherwise)."""
    with transaction.atomic(), connection.cursor() as cursor:
        row = _lock_shard_of(event_id, cursor)
        if row is None:
            raise OutboxError(f"no outbox event {event_id}")
        _, sent_at, dead_at, discarded_at = row
        if sent_at is not None or discarded_at is not None or dead_at is None:
            state = "sent" if sent_at else "discarded" if discarded_at else "pending"
            raise OutboxError(f"only dead events can be discarded; event {event_id} is {state}")
        cursor.execute(
            "UPDATE outbox_events SET discarded_at = clock_timestamp() WHERE event_id = %s",
            [event_id],
        )
    relay_nudge()


def outbox_delete_expired(*, retention_seconds: float, chunk: int = 10_000) -> int:
    """Delete sent and discarded events older than the retention window, in chunks (each its
    own short statement, so a large backlog of old rows never holds locks for long).
    Idempotent; returns how many rows went."""
    deleted = 0
    for column in ("sent_at", "discarded_at"):
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM outbox_events WHERE seq IN (SELECT seq FROM outbox_events "  # noqa: S608 - fixed column names
                    f"WHERE {column} < clock_timestamp() - make_interval(secs => %s) LIMIT %s)",
                    [retention_seconds, chunk],
                )
                count = cursor.rowcount
            deleted += count
            if count < chunk:
                break
    return deleted
