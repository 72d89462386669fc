"""Projecting statements into attempts and completions (ARCHITECTURE.md §6).

``projection_process_batch`` is the incremental path, run by the ``projection`` Celery
workers; ``projection_rebuild`` replays a tenant's log. Both end in ``groups_recompute``,
so rebuilt rows are the incremental ones by construction (and a test checks it).

One batch is one transaction:

1. Claim queue rows (``statement_projection_queue``, written by the statements write path in
   the statement's own transaction) in ``seq`` order with ``FOR UPDATE SKIP LOCKED``,
   deleting them in the same statement, so several workers take disjoint batches and a
   batch that rolls back leaves its rows for the next claim. That statement also writes
   the claimed statements' ``statement.stored`` outbox events (``events``).
2. Find the groups they touch: a statement's own (learner, Activity, registration), and for
   a voiding statement, its target's group (Data §2.3.2: the target stops counting).
3. Lock the learners of those groups with transaction-scoped advisory locks, *then* read
   every non-voided statement of each group (``groups_recompute``). A learner another
   worker is recomputing is not waited for: its claimed rows go back to the queue with
   their ``seq`` and are claimed again by a later batch. Waiting would hold the whole
   batch behind that worker's transaction, and two workers' batches share some learners
   almost always (measured: workers waiting on each other about half of the time with a
   large backlog). Only a batch that could lock none of its learners waits, for all of
   them in sorted order, holding none: no deadlocks, no spinning. Under READ
   COMMITTED the read sees everything committed before the lock was granted, so of two
   workers recomputing one group the later one always reads at least what the earlier one
   read: the last write is never the staler one.
4. Upsert the new rows (an unchanged row is not rewritten), delete the group's rows that no
   longer follow from the log, and write outbox events for what changed, with
   deterministic ids (a redelivered batch produces the same events, which the outbox
   stores once). A group's events are written only under its learner's lock, so their
   order in the outbox is their commit order. Commit.

A batch that fails rolls back whole: its queue rows stay and are claimed again. Only
statements whose Object is an Activity and whose Actor has an identifier (an anonymous
Group has none) are projected.
"""

from __future__ import annotations

# SQL here places only module constants (table and column lists) by f-string; every value
# is a bound parameter (ruff S608 cannot see that).
# ruff: noqa: S608
import datetime as dt
import hashlib
import logging
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, connections, transaction

from attempts import metrics
from attempts.events import (
    STATEMENT_STORED_EVENTS_SQL,
    STATEMENT_STORED_SQL,
    attempt_events,
    completion_events,
)
from attempts.nudge import projection_nudge
from attempts.projection import (
    Attempt,
    Completion,
    Fact,
    GroupKey,
    fact_from_statement,
    finishing_statement,
    project_group,
)
from attempts.selectors import outcomes_for_tenant, tenant_slug
from outbox.services import (
    OutboxEvent,
    outbox_enqueue_many,
    outbox_insert_sql,
    register_relay_nudge,
)
from statements.feed import QUEUE_TABLE
from statements.selectors import statement_stored_times
from statements.xapi.lookups import VOIDED

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Claimed:
    tenant_id: int
    statement_id: str
    # The columns below are None when the statement is gone (an archived month): the queue
    # row is consumed and nothing is projected.
    actor_ifi: str | None
    verb_id: str | None
    object_type: str | None
    activity_id: str | None
    registration: str | None
    statement_ref: str | None
    # The queue row's own columns, to put it back when its learner is busy (``stored`` as
    # PostgreSQL prints it: it only ever goes back to PostgreSQL).
    seq: int
    stored: str

    @property
    def group(self) -> GroupKey | None:
        if self.object_type != "Activity" or self.actor_ifi is None:
            return None
        return GroupKey(self.actor_ifi, self.activity_id, self.registration)


# Claiming deletes: the rows are gone for everyone else at once and come back if the
# transaction rolls back. It takes two statements. The first locks the batch's rows and
# returns, as one row, their ctids and the range of their ``stored`` times; the second
# deletes exactly those rows, found again by ``ctid`` (which cannot change while this
# transaction holds their locks; matching on ``seq = ANY(...)`` instead made PostgreSQL
# 15 probe the index once per row, about seven times slower at a batch of 1,000), joins
# them with their statements and writes their ``statement.stored`` events to the outbox
# (``events.STATEMENT_STORED_EVENTS_SQL``). The join carries the batch's earliest and
# latest ``stored`` as literals, so PostgreSQL plans it for the months the batch holds,
# not for every month attached: one statement that claimed and joined cost 20 ms of
# planning a batch with 20 months attached (8 tenant buckets each), against about 1 ms to
# plan the two.
_LOCK_SQL = f"""
    WITH locked AS (
        SELECT ctid, stored FROM {QUEUE_TABLE} ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED
    )
    SELECT array_agg(ctid)::text, min(stored), max(stored) FROM locked
"""

_CLAIM_SQL = f"""
    WITH claimed AS (
        DELETE FROM {QUEUE_TABLE} q
        WHERE q.ctid = ANY (%s::tid[])
        RETURNING q.tenant_id, q.seq, q.statement_id, q.stored
    ), found AS MATERIALIZED (
        SELECT c.tenant_id, c.seq, c.statement_id, c.stored, s.actor_ifi, s.verb_id,
               s.object_type,
               s.activity_id, s.registration, s.statement_ref,
               CASE WHEN s.statement_id IS NOT NULL THEN {STATEMENT_STORED_SQL} END
                   AS stored_event
        FROM claimed c
        LEFT JOIN statements s ON s.tenant_id = c.tenant_id AND s.stored = c.stored
                              AND s.statement_id = c.statement_id
                              AND s.stored >= %s AND s.stored <= %s
    ), announced AS (
        {outbox_insert_sql(STATEMENT_STORED_EVENTS_SQL)}
    )
    SELECT tenant_id, statement_id::text, actor_ifi, verb_id, object_type, activity_id,
           registration::text, statement_ref::text, seq, stored::text
    FROM found
    ORDER BY seq
"""


def projection_process_batch(*, limit: int | None = None) -> int:
    """Project one claimed batch of queue rows; returns how many rows it projected (0 when
    none was free). Rows whose learner another transaction holds go back to the queue
    and are not counted; should that be every row, 0 is returned too, and the drain of
    the worker holding them, still running, takes them next. Idempotent: re-projecting a
    statement rewrites the same rows."""
    limit = limit or settings.PROGRESS_PROJECTION_BATCH
    with transaction.atomic(), connection.cursor() as cursor:
        _without_jit(cursor)
        claimed = _claim(cursor, limit)
        if not claimed:
            return 0
        if any(row.object_type is not None for row in claimed):
            register_relay_nudge()  # the claim wrote their statement.stored events
        by_tenant: dict[int, list[_Claimed]] = defaultdict(list)
        for row in claimed:
            by_tenant[row.tenant_id].append(row)
        # Per tenant and claimed row: the groups that row makes this batch recompute.
        touched: dict[int, list[tuple[_Claimed, list[GroupKey]]]] = {}
        for tenant_id, rows in sorted(by_tenant.items()):
            if tenant_slug(tenant_id) is None:
                logger.warning("projection rows of deleted tenant %s dropped", tenant_id)
                continue
            voided = _voided_groups(cursor, tenant_id, rows)
            touched[tenant_id] = [(row, _groups_of(row, voided)) for row in rows]
        busy = _learners_try_lock(cursor, touched)
        deferred: list[_Claimed] = []
        events: list[OutboxEvent] = []
        for tenant_id, entries in touched.items():
            groups: set[GroupKey] = set()
            for row, row_groups in entries:
                if any((tenant_id, group.learner) in busy for group in row_groups):
                    deferred.append(row)
                else:
                    groups.update(row_groups)
            events += groups_recompute(
                cursor, tenant_id=tenant_id, groups=groups, learners_locked=True
            )
        if deferred:
            _requeue(cursor, deferred)
        if events:
            outbox_enqueue_many(events)
    return len(claimed) - len(deferred)


def _claim(cursor, limit: int) -> list[_Claimed]:
    """Up to ``limit`` queue rows no other transaction holds, oldest first, removed from
    the queue, with their statements' lookup columns (``_CLAIM_SQL``)."""
    # One row back: the locked rows' ctids as a tid[] literal and their stored range.
    # Fetching a row per queue row cost a timestamp parse each in Python.
    cursor.execute(_LOCK_SQL, [limit])
    tids, earliest, latest = cursor.fetchone()
    if tids is None:
        return []
    cursor.execute(_CLAIM_SQL, [tids, earliest, latest, settings.PROGRESS_OUTBOX_SHARDS])
    return [_Claimed(*row) for row in cursor.fetchall()]


def _without_jit(cursor) -> None:
    """No JIT compilation for the rest of this transaction.

    The projector's queries are index probes for a few hundred keys, but PostgreSQL
    compiles a query once its estimated cost passes ``jit_above_cost``, and a join over
    ``jsonb_to_recordset`` (assumed 100 rows) on statistics that lag the tables' size
    passes it easily: 13 ms of compilation for a 3 ms read of a batch's groups, measured.
    ``SET LOCAL`` keeps it to this transaction, which is what a pooler in transaction
    mode allows.
    """
    cursor.execute("SET LOCAL jit = off")


def _groups_of(row: _Claimed, voided: dict[str, GroupKey]) -> list[GroupKey]:
    """The groups a claimed row has recomputed: its own, and a voiding statement's
    target's."""
    group = row.group
    groups = [group] if group is not None else []
    if row.verb_id == VOIDED and row.statement_ref in voided:
        groups.append(voided[row.statement_ref])
    return groups


def _learners_try_lock(cursor, touched) -> set[tuple[int, str]]:
    """Lock the learners of every touched group without waiting; returns the (tenant,
    learner) pairs another transaction holds. When none could be locked at all, waits
    for all of them instead (holding none, in sorted order) and returns nothing."""
    wanted: dict[int, tuple[int, str]] = {}
    for tenant_id, entries in touched.items():
        for _, groups in entries:
            for group in groups:
                wanted[_lock_id(tenant_id, group.learner)] = (tenant_id, group.learner)
    if not wanted:
        return set()
    locks = sorted(wanted)
    cursor.execute(
        "SELECT array_agg(k) FILTER (WHERE NOT pg_try_advisory_xact_lock(k)) "
        "FROM unnest(%s::bigint[]) AS k",
        [locks],
    )
    refused = cursor.fetchone()[0] or []
    if len(refused) == len(locks):
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [locks]
        )
        return set()
    metrics.LEARNERS_DEFERRED.inc(len(refused))
    return {wanted[k] for k in refused}


def _requeue(cursor, rows: list[_Claimed]) -> None:
    """Put claimed rows back with their own ``seq``: they are claimed again, first."""
    cursor.execute(
        f"""
        INSERT INTO {QUEUE_TABLE} (tenant_id, seq, statement_id, stored) OVERRIDING SYSTEM VALUE
        SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::uuid[], %s::timestamptz[])
        """,
        [
            [row.tenant_id for row in rows],
            [row.seq for row in rows],
            [row.statement_id for row in rows],
            [row.stored for row in rows],
        ],
    )


def _voided_groups(cursor, tenant_id: int, rows: list[_Claimed]) -> dict[str, GroupKey]:
    """The group of each voided target (by its id, lowercase) that has one."""
    targets = [r.statement_ref for r in rows if r.verb_id == VOIDED and r.statement_ref]
    if not targets:
        return {}
    # The targets' months first, so the read below is planned for those months only.
    times = statement_stored_times(cursor, tenant_id=tenant_id, statement_ids=targets)
    if not times:
        return {}
    cursor.execute(
        """
        SELECT s.statement_id::text, s.actor_ifi, s.activity_id, s.registration::text
        FROM statements s
        WHERE s.tenant_id = %s AND s.stored = ANY(%s::timestamptz[])
          AND s.statement_id = ANY(%s::uuid[])
          AND s.object_type = 'Activity' AND s.actor_ifi IS NOT NULL
        """,
        [tenant_id, times, targets],
    )
    return {target: GroupKey(*group) for target, *group in cursor.fetchall()}


# --- recomputing groups --------------------------------------------------------------------


def groups_recompute(
    cursor,
    *,
    tenant_id: int,
    groups: Iterable[GroupKey],
    facts: dict[GroupKey, list[Fact]] | None = None,
    existing: tuple[dict, dict] | None = None,
    learners_locked: bool = False,
) -> list[OutboxEvent]:
    """Recompute the attempts and completion of each group from its statements and write
    them; returns the outbox events for what changed (the caller enqueues them).

    Must run inside a transaction: the advisory locks taken here last until its end. Given
    ``facts`` (and ``existing``, as ``_existing`` returns it), the caller has already locked
    the groups' learners (``learners_lock``) and read them after that: the rebuild reads
    whole learners at once. ``learners_locked`` says the caller holds those locks already
    (the incremental path takes them in ``_learners_try_lock``), so only the read is left.
    """
    keys = sorted(set(groups), key=lambda g: (g.learner, g.activity_id, g.registration or ""))
    if not keys:
        return []
    if facts is None:
        if not learners_locked:
            learners_lock(cursor, tenant_id, {key.learner for key in keys})
        facts = facts_load(cursor, tenant_id, keys)
    attempts: list[Attempt] = []
    completions: list[Completion] = []
    for key in keys:
        group_attempts, completion = project_group(tenant_id, key, facts.get(key, ()))
        attempts += group_attempts
        if completion is not None:
            completions.append(completion)
    if existing is None:
        existing = _existing(cursor, tenant_id, _keys_document(keys))
    old_attempts, old_completions = existing
    _write(cursor, tenant_id, attempts, completions, old_attempts, old_completions)
    slug = tenant_slug(tenant_id)
    return [
        *attempt_events(slug, attempts, old_attempts),
        *completion_events(slug, completions, old_completions),
    ]


def learners_lock(cursor, tenant_id: int, learners: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on learners, taken in sorted order (no deadlock).

    A learner's groups are recomputed under their learner's lock, by the incremental path
    and the rebuild alike. A learner is the unit because the rebuild discovers a learner's
    groups only by reading its statements, which it must do under the lock; a collision of
    two learners' lock ids only serialises them.
    """
    locks = sorted({_lock_id(tenant_id, learner) for learner in learners})
    cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [locks])


def _lock_id(tenant_id: int, learner: str) -> int:
    digest = hashlib.blake2b(f"{tenant_id}\x1f{learner}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# ``timestamp`` travels as integer microseconds since the epoch (exact: ``extract`` is
# numeric): Django's timestamptz loader parses text in Python, about 7 µs a row, a tenth of
# what the rebuild spends per statement; the integer converts in a fraction of that.
_FACT_COLUMNS = "s.actor_ifi, s.activity_id, s.registration::text, s.statement_id::text, "
_FACT_COLUMNS += "(extract(epoch FROM s.timestamp) * 1000000)::int8, s.payload"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def facts_load(cursor, tenant_id: int, keys: list[GroupKey]) -> dict[GroupKey, list[Fact]]:
    """Every non-voided statement of each group, as facts, read through the indexes that
    lead to one learner's statements: registration (a cmi5 registration holds one
    learner's course) when the key has one, actor otherwise.

    The learner too is compared with ``IS NOT DISTINCT FROM`` when there is a
    registration, so that the actor index cannot serve that read: a learner's statements
    are all of their courses' (810 rows a key against 11 by registration, on a log of
    2.6 million statements), and with statistics that lagged the log the planner took the
    actor index, 151 ms against 3 ms for 113 keys.

    The Activity is compared with ``IS NOT DISTINCT FROM`` (equal here: a group's Activity
    is never null) so that no index on ``activity_id`` can serve the read: an Activity's
    statements are every learner's, and on a partition whose statistics lagged its size
    the planner took that index, reading the Activity's whole history for each key (370 ms
    for 150 keys at 200,000 statements, and growing with the log)."""
    outcomes = outcomes_for_tenant(tenant_id)
    with_registration = [k for k in keys if k.registration is not None]
    without = [k for k in keys if k.registration is None]
    rows: list[tuple] = []
    if with_registration:
        cursor.execute(_FACTS_WITH_REGISTRATION, [_keys_document(with_registration), tenant_id])
        rows += cursor.fetchall()
    if without:
        cursor.execute(_FACTS_WITHOUT_REGISTRATION, [_keys_document(without), tenant_id])
        rows += cursor.fetchall()
    return _facts_by_group(rows, outcomes)


def _facts_by_group(rows, outcomes) -> dict[GroupKey, list[Fact]]:
    facts: dict[GroupKey, list[Fact]] = defaultdict(list)
    for learner, activity_id, registration, statement_id, micros, payload in rows:
        key = GroupKey(learner, activity_id, registration)
        try:
            fact = fact_from_statement(
                orjson.loads(payload),
                statement_id=statement_id,
                timestamp=_EPOCH + micros * _MICROSECOND,
                outcomes=outcomes,
            )
        except Exception:
            # Stored statements were validated; one that cannot be read or reduced anyway
            # (an integer beyond 64 bits for orjson, say) is left out of its group, the same
            # way by every recompute and rebuild, rather than making the group unprojectable.
            metrics.UNREADABLE.inc()
            logger.exception("statement %s left out of the projection: unreadable", statement_id)
            continue
        facts[key].append(fact)
    return facts


# Group keys travel as one JSON document: psycopg quotes text arrays element by element in
# Python, which costs more than the queries themselves at hundreds of keys a batch.
_KEYS = "jsonb_to_recordset(%s::jsonb) AS k(learner text, activity_id text, reg uuid)"


def _keys_document(keys: list[GroupKey]) -> str:
    return orjson.dumps(
        [{"learner": k.learner, "activity_id": k.activity_id, "reg": k.registration} for k in keys]
    ).decode()


# ``facts_load``'s reads (why the learner and the Activity are compared the way they
# are: there). Each key is its own probe: the subquery cannot be flattened (``OFFSET 0``),
# so the planner cannot turn it into a hash join over the tenant's whole table, which it
# chose for the plain join once its one usable equality was the registration's.
_FACTS_WITH_REGISTRATION = f"""
    SELECT f.* FROM {_KEYS} CROSS JOIN LATERAL (
        SELECT {_FACT_COLUMNS} FROM statements s
        WHERE s.tenant_id = %s AND s.registration = k.reg
          AND s.actor_ifi IS NOT DISTINCT FROM k.learner
          AND s.activity_id IS NOT DISTINCT FROM k.activity_id AND NOT s.voided
        OFFSET 0
    ) f
"""
_FACTS_WITHOUT_REGISTRATION = f"""
    SELECT f.* FROM {_KEYS} CROSS JOIN LATERAL (
        SELECT {_FACT_COLUMNS} FROM statements s
        WHERE s.tenant_id = %s AND s.actor_ifi = k.learner
          AND s.activity_id IS NOT DISTINCT FROM k.activity_id AND s.registration IS NULL
          AND NOT s.voided
        OFFSET 0
    ) f
"""


# One index probe per key, whatever the planner estimates. It takes ``jsonb_to_recordset``
# for 100 rows whatever its size: as a plain join with ``IS NOT DISTINCT FROM`` on the
# registration it chose, on tables whose statistics lagged their size, a hash join over
# the tenant's whole table, so a batch cost O(the tenant's rows). A registration or none
# are two probes, of which the key's own runs; ``OFFSET 0`` keeps the subquery from being
# flattened into a join again. The Activity is compared so that no index on
# ``activity_id`` can serve the probe (as in ``facts_load``): each probe then follows one
# learner (the group index) or one registration, never an Activity's every learner.
_BY_KEYS = (
    "FROM "
    + _KEYS
    + """
    CROSS JOIN LATERAL (
        (SELECT * FROM {table} r
         WHERE r.tenant_id = %s AND r.learner = k.learner
           AND r.activity_id IS NOT DISTINCT FROM k.activity_id AND r.registration = k.reg
         UNION ALL
         SELECT * FROM {table} r
         WHERE k.reg IS NULL AND r.tenant_id = %s AND r.learner = k.learner
           AND r.activity_id IS NOT DISTINCT FROM k.activity_id AND r.registration IS NULL)
        OFFSET 0
    ) t
"""
)
_BY_LEARNERS = "FROM {table} t WHERE t.tenant_id = %s AND t.learner = ANY(%s)"
_EXISTING = """
    SELECT 'a', t.attempt_id::text, t.status, t.outcome_statements::text,
           t.learner, t.activity_id, t.registration::text {attempts}
    UNION ALL
    SELECT 'c', t.completion_id::text, t.statement_id::text, NULL,
           t.learner, t.activity_id, t.registration::text {completions}
"""
_EXISTING_BY_KEYS = _EXISTING.format(
    attempts=_BY_KEYS.format(table="attempts"), completions=_BY_KEYS.format(table="completions")
)
_EXISTING_BY_LEARNERS = _EXISTING.format(
    attempts=_BY_LEARNERS.format(table="attempts"),
    completions=_BY_LEARNERS.format(table="completions"),
)


def _existing(cursor, tenant_id: int, keys_document: str):
    """What the groups' rows hold now, for the events to emit and the rows to remove:
    ``{attempt_id: (status, finishing statement)}`` and ``{completion_id: statement_id}``."""
    cursor.execute(_EXISTING_BY_KEYS, _existing_by_keys_params(tenant_id, keys_document))
    attempts, completions, _ = _existing_rows(cursor.fetchall())
    return attempts, completions


def _existing_by_keys_params(tenant_id: int, keys_document: str) -> list:
    return [keys_document, tenant_id, tenant_id] * 2


def _existing_of_learners(cursor, tenant_id: int, learners: list[str]):
    """As ``_existing``, for every projected row of these learners, with their groups
    (whose statements may all be voided or gone now: the recompute removes such rows)."""
    cursor.execute(_EXISTING_BY_LEARNERS, [tenant_id, learners] * 2)
    return _existing_rows(cursor.fetchall())


def _existing_rows(rows):
    attempts, completions, groups = {}, {}, set()
    for kind, row_id, value, outcome_statements, learner, activity_id, registration in rows:
        groups.add(GroupKey(learner, activity_id, registration))
        if kind == "a":
            finisher = finishing_statement(value, orjson.loads(outcome_statements))
            attempts[row_id] = (value, finisher)
        else:
            completions[row_id] = value
    return attempts, completions, groups


_ATTEMPT_RECORD = (
    "attempt_id uuid, learner text, activity_id text, registration uuid, session_id text, "
    "status text, completion boolean, success boolean, launch_mode text, move_on text, "
    "started_at timestamptz, last_activity_at timestamptz, ended_at timestamptz, "
    "finished_at timestamptz, "
    "best_scaled float8, best_raw float8, best_min float8, best_max float8, "
    "last_scaled float8, last_raw float8, last_min float8, last_max float8, "
    "duration_seconds float8, statement_count int, outcome_statements jsonb, parents text[]"
)
_ATTEMPT_COLUMNS = [c.split()[0] for c in _ATTEMPT_RECORD.split(", ")]
_COMPLETION_RECORD = (
    "completion_id uuid, learner text, activity_id text, registration uuid, "
    "satisfied_at timestamptz, basis text, move_on text, score_scaled float8, "
    "score_raw float8, score_min float8, score_max float8, statement_id uuid, "
    "attempt_id uuid, parents text[]"
)
_COMPLETION_COLUMNS = [c.split()[0] for c in _COMPLETION_RECORD.split(", ")]


def _upsert_sql(table: str, key: str, record: str, columns: list[str]) -> str:
    data = [c for c in columns if c != key]
    return f"""
        INSERT INTO {table} (tenant_id, {", ".join(columns)})
        SELECT %s, {", ".join("r." + c for c in columns)}
        FROM jsonb_to_recordset(%s::jsonb) AS r({record})
        ON CONFLICT (tenant_id, {key}) DO UPDATE SET
            {", ".join(f"{c} = EXCLUDED.{c}" for c in data)}, projected_at = now()
        WHERE ({", ".join(f"{table}.{c}" for c in data)})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in data)})
    """


_UPSERT_ATTEMPTS = _upsert_sql("attempts", "attempt_id", _ATTEMPT_RECORD, _ATTEMPT_COLUMNS)
_UPSERT_COMPLETIONS = _upsert_sql(
    "completions", "completion_id", _COMPLETION_RECORD, _COMPLETION_COLUMNS
)


def _score_fields(prefix: str, score) -> dict:
    if score is None:
        return {f"{prefix}_{part}": None for part in ("scaled", "raw", "min", "max")}
    return {f"{prefix}_{part}": value for part, value in score.as_dict().items()}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _attempt_record(a: Attempt) -> dict:
    return {
        "attempt_id": a.attempt_id,
        "learner": a.learner,
        "activity_id": a.activity_id,
        "registration": a.registration,
        "session_id": a.session_id,
        "status": a.status,
        "completion": a.completion,
        "success": a.success,
        "launch_mode": a.launch_mode,
        "move_on": a.move_on,
        "started_at": a.started_at.isoformat(),
        "last_activity_at": a.last_activity_at.isoformat(),
        "ended_at": _iso(a.ended_at),
        "finished_at": _iso(a.finished_at),
        **_score_fields("best", a.best_score),
        **_score_fields("last", a.last_score),
        "duration_seconds": a.duration_seconds,
        "statement_count": a.statement_count,
        "outcome_statements": a.outcome_statements,
        "parents": list(a.parents),
    }


def _completion_record(c: Completion) -> dict:
    return {
        "completion_id": c.completion_id,
        "learner": c.learner,
        "activity_id": c.activity_id,
        "registration": c.registration,
        "satisfied_at": c.satisfied_at.isoformat(),
        "basis": c.basis,
        "move_on": c.move_on,
        **_score_fields("score", c.score),
        "statement_id": c.statement_id,
        "attempt_id": c.attempt_id,
        "parents": list(c.parents),
    }


def _write(cursor, tenant_id: int, attempts, completions, old_attempts, old_completions):
    """Upsert the groups' new rows (unchanged rows are left alone) and delete the rows the
    log no longer supports (a session or completion whose statements were voided)."""
    if attempts:
        records = orjson.dumps([_attempt_record(a) for a in attempts]).decode()
        cursor.execute(_UPSERT_ATTEMPTS, [tenant_id, records])
    if completions:
        records = orjson.dumps([_completion_record(c) for c in completions]).decode()
        cursor.execute(_UPSERT_COMPLETIONS, [tenant_id, records])
    stale_attempts = sorted(set(old_attempts) - {a.attempt_id for a in attempts})
    if stale_attempts:
        cursor.execute(
            "DELETE FROM attempts WHERE tenant_id = %s AND attempt_id = ANY(%s::uuid[])",
            [tenant_id, stale_attempts],
        )
    stale_completions = sorted(set(old_completions) - {c.completion_id for c in completions})
    if stale_completions:
        cursor.execute(
            "DELETE FROM completions WHERE tenant_id = %s AND completion_id = ANY(%s::uuid[])",
            [tenant_id, stale_completions],
        )


# --- rebuild -------------------------------------------------------------------------------


@dataclass(slots=True)
class RebuildProgress:
    learners: int = 0
    groups: int = 0
    statements: int = 0
    seconds: float = 0.0

    @property
    def statements_per_second(self) -> float:
        return self.statements / self.seconds if self.seconds else 0.0


def projection_rebuild(
    *,
    tenant_id: int,
    learners_per_batch: int | None = None,
    part: tuple[int, int] = (0, 1),
    on_batch: Callable[[RebuildProgress], None] | None = None,
) -> RebuildProgress:
    """Recompute every group of a tenant from its statements, online.

    Learners are walked in keyset order, a batch of them per transaction; each batch locks
    its learners (the incremental path's locks), reads all their statements, and
    recomputes every group found there or in the projected rows (so rows whose statements
    are all gone are removed too) with the incremental path's code. Incremental
    projection keeps running meanwhile and neither side can overwrite the other with
    staler rows. Idempotent; safe to interrupt and rerun.

    ``part`` ``(index, count)`` takes only the learners whose identifier hashes to
    ``index`` modulo ``count``, so ``count`` processes can rebuild one tenant side by side
    (``rebuild_projections --processes``); the parts are disjoint and cover every learner.
    """
    batch = learners_per_batch or settings.PROGRESS_PROJECTION_REBUILD_LEARNERS
    if not 0 <= part[0] < part[1]:
        raise ValueError("part must be (index, count) with 0 <= index < count")
    progress = RebuildProgress()
    started = time.perf_counter()
    after = ""
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            _without_jit(cursor)
            learners = _learners_after(cursor, tenant_id, after, batch, part)
            if not learners:
                break
            after = learners[-1]
            learners_lock(cursor, tenant_id, learners)
            facts, read = learners_facts_load(cursor, tenant_id, learners)
            old_attempts, old_completions, projected = _existing_of_learners(
                cursor, tenant_id, learners
            )
            keys = set(facts) | projected
            events = groups_recompute(
                cursor,
                tenant_id=tenant_id,
                groups=keys,
                facts=facts,
                existing=(old_attempts, old_completions),
            )
            if events:
                outbox_enqueue_many(events)
        progress.learners += len(learners)
        progress.groups += len(keys)
        progress.statements += read
        progress.seconds = time.perf_counter() - started
        if on_batch is not None:
            on_batch(progress)
    progress.seconds = time.perf_counter() - started
    return progress


def _rebuild_part(tenant_id: int, learners: int | None, part: tuple[int, int]):
    progress = projection_rebuild(tenant_id=tenant_id, learners_per_batch=learners, part=part)
    connections.close_all()
    return progress.learners, progress.groups, progress.statements


def projection_rebuild_parallel(
    *, tenant_id: int, learners_per_batch: int | None = None, processes: int = 1
) -> RebuildProgress:
    """``projection_rebuild`` of one tenant, its learners split between ``processes``
    forked processes, each with its own database connection. Not inside a transaction."""
    learners = learners_per_batch
    if processes == 1:
        return projection_rebuild(tenant_id=tenant_id, learners_per_batch=learners)
    started = time.perf_counter()
    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.starmap(
            _rebuild_part, [(tenant_id, learners, (i, processes)) for i in range(processes)]
        )
    total = RebuildProgress(seconds=time.perf_counter() - started)
    for part_learners, groups, statements in parts:
        total.learners += part_learners
        total.groups += groups
        total.statements += statements
    return total


# The next learners of a rebuild, from the log and from the projected rows (so that rows
# whose statements are all gone are found too). Each table is walked as a skip scan: one
# index descent finds the learner after the previous one, so a batch costs a few
# descents per learner instead of a read of every index entry of its learners. It also
# does not depend on the visibility map: with ``SELECT DISTINCT`` over the actor index,
# every entry of a table not yet vacuumed needed a heap fetch: 26.8 of the 71 seconds a
# rebuild of a freshly written 900,000-statement log took. The walks stop once the outer
# ``LIMIT`` has its rows.
def _skip_scan(name: str, table: str, column: str) -> str:
    """A recursive walk of ``table``'s distinct ``column`` values after ``%(after)s``, in
    order, one index descent each."""
    return f"""
    {name}(learner) AS (
        (SELECT {column} FROM {table}
         WHERE tenant_id = %(tenant)s AND {column} > %(after)s ORDER BY {column} LIMIT 1)
        UNION ALL
        SELECT (SELECT t.{column} FROM {table} t
                WHERE t.tenant_id = %(tenant)s AND t.{column} > w.learner
                ORDER BY t.{column} LIMIT 1)
        FROM {name} w WHERE w.learner IS NOT NULL
    )"""


def _in_part(walk: str) -> str:
    return f"""
        (SELECT learner FROM {walk}
         WHERE learner IS NOT NULL AND (hashtext(learner) & 2147483647) %% %(count)s = %(index)s
         LIMIT %(limit)s)"""


_LEARNERS_AFTER = f"""
    WITH RECURSIVE {_skip_scan("logged", "statements", "actor_ifi")},
    {_skip_scan("projected", "attempts", "learner")}
    SELECT learner FROM ({_in_part("logged")} UNION {_in_part("projected")}) l
    ORDER BY learner LIMIT %(limit)s
"""


def _learners_after(cursor, tenant_id: int, after: str, limit: int, part) -> list[str]:
    """Up to ``limit`` learners after ``after``, in order, of those in ``part``."""
    index, count = part
    cursor.execute(
        _LEARNERS_AFTER,
        {"tenant": tenant_id, "after": after, "count": count, "index": index, "limit": limit},
    )
    return [row[0] for row in cursor.fetchall()]


def learners_facts_load(
    cursor, tenant_id: int, learners: list[str]
) -> tuple[dict[GroupKey, list[Fact]], int]:
    """The facts of every group of these learners, read as whole learners (one index range
    per learner); also returns how many statements were read. Under ``learners_lock``."""
    cursor.execute(
        f"""
        SELECT {_FACT_COLUMNS} FROM statements s
        WHERE s.tenant_id = %s AND s.actor_ifi = ANY(%s) AND s.object_type = 'Activity'
          AND NOT s.voided
        """,
        [tenant_id, learners],
    )
    rows = cursor.fetchall()
    return _facts_by_group(rows, outcomes_for_tenant(tenant_id)), len(rows)


def projection_drain_run(*, budget_seconds: float) -> int:
    """Project batches until the queue has nothing free to claim or the budget is spent;
    returns the statements projected. Work left when the budget runs out is handed to a
    fresh task (a nudge), so one long drain does not hold a worker forever. A drain that
    finds a backlog (a batch at least half full) nudges once more at its first such
    batch, so that every idle worker joins in, one drain after another.

    A batch that fails for any reason but an unreachable database is retried with half as
    many rows, down to one: a row that fails alone is moved to ``projection_failures``
    (``projection_quarantine_head``) so that one bad statement cannot stall the queue
    behind it. An unreachable database raises: the task fails, the sweeper tries again.
    So does a run of ``_MAX_QUARANTINED_IN_A_ROW`` rows that each fail alone (more than a
    group's worth): that is a fault of the projector or its database, not of the rows, and
    quarantining on would empty the queue into the table.
    """
    deadline = time.monotonic() + budget_seconds
    total = 0
    limit = settings.PROGRESS_PROJECTION_BATCH
    quarantined_in_a_row = 0
    help_asked = False
    while True:
        started = time.perf_counter()
        try:
            count = projection_process_batch(limit=limit)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            if limit > 1:
                limit //= 2
                continue
            if quarantined_in_a_row == _MAX_QUARANTINED_IN_A_ROW:
                raise
            projection_quarantine_head(exc)
            quarantined_in_a_row += 1
            limit = settings.PROGRESS_PROJECTION_BATCH
            continue
        quarantined_in_a_row = 0
        if count == 0:
            return total
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        metrics.PROJECTED.inc(count)
        total += count
        if not help_asked and count * 2 >= settings.PROGRESS_PROJECTION_BATCH:
            # At least half a batch: a backlog. Another drain is asked for, so that an
            # idle worker joins in; the drain it starts does the same, until batches come
            # back small. At most one drain is ever pending (the nudge mark), so this
            # never floods the queue. Without it a backlog that no new writes nudge about
            # (a projector restarted after an outage) was drained by one worker while
            # the others sat idle.
            projection_nudge()
            help_asked = True
        limit = min(limit * 2, settings.PROGRESS_PROJECTION_BATCH)
        if time.monotonic() >= deadline:
            projection_nudge()
            return total


_MAX_QUARANTINED_IN_A_ROW = 20


def projection_quarantine_head(error: BaseException) -> None:
    """Move the first claimable queue row, which failed on its own, to
    ``projection_failures`` with the error, in one transaction. ``projection_failures
    --retry`` queues such rows again once the cause is fixed."""
    logger.error("statement left out of the projection after failing alone", exc_info=error)
    metrics.QUARANTINED.inc()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimed AS (
                DELETE FROM {QUEUE_TABLE} q
                WHERE q.ctid = ANY (ARRAY(
                    SELECT ctid FROM {QUEUE_TABLE} ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
                ))
                RETURNING q.tenant_id, q.statement_id, q.stored
            )
            INSERT INTO projection_failures (tenant_id, statement_id, stored, error)
            SELECT tenant_id, statement_id, stored, %s FROM claimed
            ON CONFLICT (tenant_id, statement_id) DO UPDATE
                SET error = EXCLUDED.error, failed_at = now()
            """,
            [f"{type(error).__name__}: {error}"[:2000]],
        )


def projection_failures_retry() -> int:
    """Queue every quarantined statement again (after the cause was fixed); returns how
    many. Idempotent: projecting a statement twice rewrites the same rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH retried AS (DELETE FROM projection_failures RETURNING *)
            INSERT INTO {QUEUE_TABLE} (tenant_id, statement_id, stored)
            SELECT tenant_id, statement_id, stored FROM retried ORDER BY failed_at
            """
        )
        count = cursor.rowcount
    if count:
        transaction.on_commit(projection_nudge)
    return count
