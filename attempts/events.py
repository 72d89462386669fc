"""The outbox events the projection emits (payload schemas v1: docs/events.md).

Events announce *changes*: a recompute that leaves a row as it was emits nothing, so a
redelivered batch or a rebuild over up-to-date rows is silent. Event ids are uuid5 digests
of what changed (uuid3 for ``statement.stored``, which PostgreSQL computes: below), so the
same change always has the same id, which the outbox stores once and JetStream
deduplicates by ``Nats-Msg-Id``.

Aggregate keys are per group (``progress:<group id>``, the group being one learner's
statements about one Activity in one registration; its id is the completion id): the
outbox publishes one aggregate's events in the order they were written, and a group's
events are only ever written under its learner's lock (``services.learners_lock``), so
their write order is their commit order. A consumer therefore sees an attempt's start
before its finish, before the completion it led to. ``statement.stored`` events carry
``statement:<id>``: each is its own aggregate, with no order to keep.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping

from attempts.projection import (
    Attempt,
    Completion,
    GroupKey,
    Score,
    completion_id_for,
    uuid5_text,
)
from outbox.events import (
    ATTEMPT_FINISHED,
    ATTEMPT_STARTED,
    COMPLETION_RECORDED,
    STATEMENT_STORED,
)
from outbox.services import OutboxEvent
from statements.xapi.lookups import VOIDED

SCHEMA_VERSION = 1
_NAMESPACE = uuid.UUID("2f1d6a8e-93c4-5b07-8e21-d5f0c3a9b614")


def event_id(*parts: object) -> str:
    return uuid5_text(_NAMESPACE, "\x1f".join(str(part) for part in parts))


def _time(moment: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds, as ``STATEMENT_STORED_SQL`` writes them too."""
    if moment is None:
        return None
    # isoformat, not strftime: "%Y" does not pad years before 1000 to four digits.
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _score(score: Score | None) -> dict | None:
    return score.as_dict() if score is not None else None


def _aggregate(row: Attempt | Completion) -> str:
    if isinstance(row, Completion):
        return f"progress:{row.completion_id}"
    key = GroupKey(row.learner, row.activity_id, row.registration)
    return f"progress:{completion_id_for(row.tenant_id, key)}"


def attempt_events(
    slug: str, attempts: Iterable[Attempt], before: Mapping[str, tuple[str, str | None]]
) -> list[OutboxEvent]:
    """``attempt.started`` for attempts new since ``before`` ({attempt_id: (status,
    finishing statement)}), ``attempt.finished`` for those whose finished status or
    finishing statement changed."""
    events = []
    for a in attempts:
        old = before.get(a.attempt_id)
        if old is None:
            events.append(_event(ATTEMPT_STARTED, a, slug, event_id(a.attempt_id, "started"), {
                "attempt_id": a.attempt_id,
                "learner": a.learner,
                "activity_id": a.activity_id,
                "registration": a.registration,
                "session_id": a.session_id,
                "started_at": _time(a.started_at),
                "launch_mode": a.launch_mode,
                "statement_id": a.outcome_statements["started"],
            }))  # fmt: skip
        finisher = a.finishing_statement
        if a.finished and (old is None or old != (a.status, finisher)):
            eid = event_id(a.attempt_id, "finished", a.status, finisher)
            events.append(_event(ATTEMPT_FINISHED, a, slug, eid, {
                "attempt_id": a.attempt_id,
                "learner": a.learner,
                "activity_id": a.activity_id,
                "registration": a.registration,
                "session_id": a.session_id,
                "outcome": a.status,
                "started_at": _time(a.started_at),
                "finished_at": _time(a.finished_at),
                "score": _score(a.last_score),
                "duration_seconds": a.duration_seconds,
                "statement_id": finisher,
            }))  # fmt: skip
    return events


def completion_events(
    slug: str, completions: Iterable[Completion], before: Mapping[str, str]
) -> list[OutboxEvent]:
    """``completion.recorded`` for completions new since ``before`` ({completion_id:
    satisfying statement}) or now satisfied by another statement."""
    events = []
    for c in completions:
        if before.get(c.completion_id) == c.statement_id:
            continue
        eid = event_id(c.completion_id, "recorded", c.statement_id)
        events.append(_event(COMPLETION_RECORDED, c, slug, eid, {
            "completion_id": c.completion_id,
            "learner": c.learner,
            "activity_id": c.activity_id,
            "registration": c.registration,
            "satisfied_at": _time(c.satisfied_at),
            "basis": c.basis,
            "move_on": c.move_on,
            "score": _score(c.score),
            "statement_id": c.statement_id,
            "attempt_id": c.attempt_id,
        }))  # fmt: skip
    return events


# The statement.stored payload, built by PostgreSQL in the projector's claim query (``s`` the
# statement, ``c`` its queue row): the firehose carries one event per statement, and having
# the database write its JSON keeps that cost off the projector's Python.
_RFC3339 = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
STATEMENT_STORED_SQL = f"""json_build_object(
    'statement_id', s.statement_id, 'stored', {_RFC3339.format("c.stored")},
    'timestamp', {_RFC3339.format("s.timestamp")}, 'actor', s.actor_ifi,
    'verb', s.verb_id, 'object_type', s.object_type, 'activity_id', s.activity_id,
    'registration', s.registration,
    'voids', CASE WHEN s.verb_id = '{VOIDED}' THEN s.statement_ref END)::text"""


# ``statement.stored`` events are written by PostgreSQL, in the projector's claim statement
# (``services._CLAIM_SQL``), from the rows it joins there: the firehose is most of what the
# projector writes (one event a statement), and building it in the database keeps each
# event's payload, id and shard off Python and off the wire (about 9 % more statements a
# second in one process, docs/benchmarks.md). PostgreSQL has MD5 but not SHA-1
# built in, so these ids are uuid3 (RFC 4122's MD5 name-based UUID) where the other
# events' are uuid5: still a pure function of (tenant, statement). The event is the only
# one of its aggregate key (``statement:<id>``), so no order ties it to a shard: it takes
# the first two bytes of its id modulo the shard count, where keys of several events take
# their CRC-32 (``outbox.services.shard_of``).
def statement_stored_event_id(tenant_id: int, statement_id: str) -> uuid.UUID:
    """The id ``STATEMENT_STORED_EVENTS_SQL`` gives the statement.stored event of a
    statement (``statement_id`` lowercase, as PostgreSQL prints a uuid)."""
    return uuid.uuid3(_NAMESPACE, f"{tenant_id}\x1fstored\x1f{statement_id}")


def statement_stored_shard(event_id: uuid.UUID, shards: int) -> int:
    """The relay shard ``STATEMENT_STORED_EVENTS_SQL`` gives a statement.stored event."""
    return int.from_bytes(event_id.bytes[:2], "big") % shards


# The outbox rows (``outbox.services.OUTBOX_COLUMNS``) of the statement.stored events of the
# claimed rows in ``found`` (tenant_id, seq, statement_id, stored_event: the payload, null
# when the statement is gone); ``%s`` is the shard count. A deleted tenant's rows announce
# nothing. ``d`` is the MD5 digest of the uuid3 name; setting the version (3) and variant
# bits makes it the id. (Only module constants are placed by the f-string.)
STATEMENT_STORED_EVENTS_SQL = f"""
SELECT encode(set_byte(set_byte(h.d, 6, (get_byte(h.d, 6) & 15) | 48),
                       8, (get_byte(h.d, 8) & 63) | 128), 'hex')::uuid,
       '{STATEMENT_STORED}', {SCHEMA_VERSION}, f.tenant_id, t.slug,
       'statement:' || f.statement_id, ((get_byte(h.d, 0) * 256 + get_byte(h.d, 1)) %% %s),
       f.stored_event
FROM found f
JOIN tenants_tenant t ON t.id = f.tenant_id
CROSS JOIN LATERAL (
    SELECT decode(md5('\\x{_NAMESPACE.hex}'::bytea || convert_to(
        f.tenant_id::text || chr(31) || 'stored' || chr(31) || f.statement_id::text, 'UTF8'
    )), 'hex') AS d
) h
WHERE f.stored_event IS NOT NULL
ORDER BY f.seq"""  # noqa: S608


def _event(event_type: str, row: Attempt | Completion, slug: str, eid, data: dict):
    return OutboxEvent(
        event_type=event_type,
        tenant_id=row.tenant_id,
        tenant_slug=slug,
        aggregate_key=_aggregate(row),
        payload=data,
        event_id=eid,
        schema_version=SCHEMA_VERSION,
    )
