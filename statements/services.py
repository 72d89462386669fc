"""Writing statements: the one write path used by the HTTP API and by ingest.

``statements_store`` takes statements already validated by ``statements.xapi.validate`` and
stores them in one transaction:

1. The transaction marks itself as a writer and takes ``stored`` (``consistency``).
2. The LRS sets what it owns (Data §2.4): ``id`` when absent, ``stored``, ``authority`` (from
   the credential), ``version``, and ``timestamp`` = ``stored`` when absent.
3. Ids are claimed in the id registry with ``INSERT ... ON CONFLICT DO NOTHING``, in sorted
   order so that concurrent batches sharing ids queue instead of deadlocking; the same
   statement reports which new ids an earlier voiding statement already targets. An id
   already there is compared with the stored statement under the equivalence rules (Data
   §2.3.1): the same statement is a no-op (Communication §2.1.1-2: nothing changes), a
   different one a ``Conflict`` that rolls the whole batch back. Re-sent ids are rare, so
   the comparison reads the stored statement back rather than every write paying for a
   fingerprint. Two writers racing on one id are ordered by the registry's primary key: the
   second waits for the first to commit, then sees the id as known.
4. Voiding (Data §2.3.2): targets are recorded in ``statement_voids`` and flagged ``voided``;
   a voiding statement cannot be voided; a target that arrives after its voiding statement is
   stored voided.
5. Rows go in with binary COPY, the fastest path PostgreSQL has (ARCHITECTURE.md §4). A
   small batch without voiding or attachments instead claims its ids and inserts its rows
   in one statement: COPY costs two round trips of its own, which dominate a batch of one.
6. In the same transaction, the Activity definitions and Agent names the new statements
   carry are merged into what the Activities and Agents resources serve (``facts``),
   skipped when this process already wrote them.
7. Each new statement gets its ``statement_projection_queue`` row in the same statement
   or transaction as its own row (``statements.feed``): the projector's durable hand-off.
8. After commit: the tenant's query cache generation is bumped and the feed's listeners
   are nudged, in one Redis round trip (``RedisBatch``), and, with replicas, the
   credential's write position remembered for read-your-writes.
"""

from __future__ import annotations

# SQL here places only module constants (column lists) by f-string; every value is a bound
# parameter (ruff S608 cannot see that).
# ruff: noqa: S608
import datetime as dt
import logging
import struct
import uuid
from dataclasses import dataclass
from uuid import UUID

import orjson
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from lrs.errors import BadRequest, Conflict
from progress_site.redis_batch import RedisBatch
from statements.cache import query_cache_invalidate
from statements.consistency import (
    WRITER_APPLICATION_NAME,
    credential_write_mark,
    credential_wrote,
    format_timestamp,
    writer_begin,
)
from statements.facts import facts_applied, facts_sql
from statements.feed import QUEUE_TABLE, feed_notify
from statements.xapi.equivalence import equivalent
from statements.xapi.lookups import Lookups, extract_lookups
from statements.xapi.multipart import AttachmentPart
from statements.xapi.serialize import json_bytes
from tenants.auth import Principal

logger = logging.getLogger(__name__)

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"

_COLUMNS = (
    "tenant_id, stored, statement_id, timestamp, version, actor_ifi, verb_id, object_type, "
    "activity_id, statement_ref, registration, agents, related_agents, related_activities, "
    "authority_ifi, voided, attachment_sha2, payload, raw"
)
# The text[] columns travel pre-encoded (``_text_array``) and are declared ``bytea`` here so
# that psycopg passes the bytes through: binary COPY sends each field as length and bytes,
# which PostgreSQL reads as the column's own type.
_COPY_TYPES = (
    "int8", "timestamptz", "uuid", "timestamptz", "text", "text", "text", "text",
    "text", "uuid", "uuid", "bytea", "bytea", "bytea",
    "text", "bool", "bytea", "text", "text",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    statement_id: str
    stored: dt.datetime
    statement: dict
    payload: str
    raw: str | None
    lookups: Lookups
    timestamp: dt.datetime
    version: str


def statement_prepare(
    statement: dict,
    *,
    principal: Principal,
    stored: dt.datetime,
    v2: bool,
    received: dict | None = None,
    stored_text: str | None = None,
    authority: dict | None = None,
) -> PreparedStatement:
    """Complete a validated statement with the properties the LRS sets (Data §2.4).

    ``statement`` is the validator's normalised copy, left unchanged (a write retried on
    another path prepares it again); ``received`` the document as it arrived, kept as
    ``raw`` when normalisation changed it.
    ``stored_text`` (``format_timestamp(stored)``) and ``authority`` (the principal's) are
    passed in when a batch shares them.
    """
    statement = dict(statement)
    stored_text = stored_text or format_timestamp(stored)
    statement_id = str(statement.get("id") or uuid.uuid4()).lower()
    statement["id"] = statement_id
    statement["stored"] = stored_text
    # Data §2.4.9: the LRS SHOULD overwrite the authority from the credentials; it MAY keep a
    # submitted one where a strong trust relationship exists: an allowlisted peer LRS.
    if not (principal.kind == "peer" and "authority" in statement):
        statement["authority"] = authority or principal.authority
    # Data §2.4.10: a statement keeps the version it was accepted with; a 1.0.x one without
    # a version gets 1.0.0. Under 2.0 it is 2.0.0.
    if "version" not in statement:
        statement["version"] = "2.0.0" if v2 else "1.0.0"
    # Data §2.4.7: timestamp SHOULD* be set to stored when absent.
    if "timestamp" not in statement:
        statement["timestamp"] = stored_text
    # json_bytes: extension values may nest deeper than orjson writes (Data §4.1.s3.b2).
    payload = json_bytes(statement).decode()
    raw = None
    if received is not None and _normalised(received, statement):
        raw = json_bytes(received).decode()
    lookups = extract_lookups(statement)
    _check_indexable(lookups, has_nul="\\u0000" in payload)
    return PreparedStatement(
        statement_id=statement_id,
        stored=stored,
        statement=statement,
        payload=payload,
        raw=raw,
        lookups=lookups,
        timestamp=_parse_timestamp(statement["timestamp"], stored),
        version=statement["version"],
    )


# PostgreSQL refuses a b-tree entry over about 2,700 bytes (a third of a page), and GIN
# entries are limited alike. An identifier the filters index must fit, or the statement
# could not be stored: refuse it with a 400 that names it instead of failing in the
# database. No real IRI or account name comes near this.
MAX_INDEXED_BYTES = 2000


def _check_indexable(lookups: Lookups, *, has_nul: bool) -> None:
    """``has_nul``: whether the statement holds U+0000 anywhere (its JSON has the escape),
    so that only then are its identifiers searched for it."""
    singles = (
        (lookups.actor_ifi, "actor"),
        (lookups.verb_id, "verb.id"),
        (lookups.activity_id, "object.id"),
        (lookups.authority_ifi, "authority"),
    )
    for value, path in singles:
        if value is not None:
            _check_identifier(value, path, has_nul)
    for values in (lookups.related_agents, lookups.related_activities):
        for value in values:
            _check_identifier(value, None, has_nul)


def _check_identifier(value: str, path: str | None, has_nul: bool) -> None:
    if _too_long(value):
        raise BadRequest(_TOO_LONG + _which(value, path), path=path)
    if has_nul and "\x00" in value:
        # PostgreSQL text cannot hold U+0000 at all.
        raise BadRequest(
            "an identifier cannot contain the character U+0000" + _which(value, path), path=path
        )


def _which(value: str, path: str | None) -> str:
    """Names an identifier that has no path of its own (a related Agent or Activity). Only
    built for an error: formatting it for every identifier of every statement cost more
    than the checks themselves."""
    return "" if path else f": {value[:60]!r}..."


_TOO_LONG = f"an identifier longer than {MAX_INDEXED_BYTES} bytes cannot be indexed"


def _too_long(value: str) -> bool:
    # A str of n characters is at most 4n bytes in UTF-8: most need no encoding.
    return len(value) * 4 > MAX_INDEXED_BYTES and len(value.encode()) > MAX_INDEXED_BYTES


def _normalised(received: dict, statement: dict) -> bool:
    """Whether validation rewrote the statement: it only touches context activities (single
    objects become arrays) and, under 2.0, timestamps (to UTC), here or in a SubStatement."""
    if _differ(received.get("context"), statement.get("context")):
        return True
    if "timestamp" in received and received["timestamp"] != statement["timestamp"]:
        return True
    obj = received.get("object")
    return (
        isinstance(obj, dict)
        and obj.get("objectType") == "SubStatement"
        and _differ(obj, statement["object"])
    )


def _differ(sent: object, validated: object) -> bool:
    """``sent != validated`` for JSON values, however deep: Python's comparison recurses
    and extension values may nest past its limit (Data §4.1.s3.b2). Validation keeps the
    order of keys and every number as sent, so the two serialise alike when equal."""
    try:
        return sent != validated
    except RecursionError:
        return json_bytes(sent) != json_bytes(validated)


def _parse_timestamp(value: str, fallback: dt.datetime) -> dt.datetime:
    """The ``timestamp`` column: the statement's instant, or ``fallback`` (its ``stored``)
    where Python cannot read it or it has no UTC time in years 1-9999 (1.0.x keeps
    ``0001-01-01T00:00:00+01:00`` as sent, which is in year 0 in UTC: PostgreSQL would
    store it BC and every read of the column would fail). Only the column's precision is
    lost; the statement keeps its text. Returned in UTC: 1.0.x keeps an offset as sent,
    up to 23:59, and PostgreSQL refuses one past 15:59."""
    try:
        moment = dt.datetime.fromisoformat(value)
        # OverflowError past the ends of the calendar.
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return fallback


class StoredIds(list):
    """The ids of a stored batch, in order; ``new`` counts the statements this write
    stored (the others were stored before, with equivalent content, and are unchanged)."""

    __slots__ = ("new",)

    def __init__(self, ids: list[str], new: int):
        super().__init__(ids)
        self.new = new


def statements_store(
    *,
    principal: Principal,
    statements: list[dict],
    v2: bool,
    received: list[dict] | None = None,
    attachments: dict[str, AttachmentPart] | None = None,
) -> StoredIds:
    """Store a validated batch atomically; returns the statement ids in order.

    Raises ``Conflict`` (409) when an id is stored with different content and
    ``BadRequest`` (400) when a statement voids a voiding statement; either way nothing
    of the batch is stored.
    """
    if _small(statements, attachments) and not connection.in_atomic_block:
        ids = _store_in_two_round_trips(principal, statements, v2, received)
        if ids is not None:
            return ids
    return _store_in_transaction(principal, statements, v2, received, attachments)


def _prepare_all(principal, statements, v2, received, stored) -> list[PreparedStatement]:
    stored_text = format_timestamp(stored)
    authority = principal.authority
    return [
        statement_prepare(
            statement,
            principal=principal,
            stored=stored,
            stored_text=stored_text,
            authority=authority,
            v2=v2,
            received=received[index] if received is not None else None,
        )
        for index, statement in enumerate(statements)
    ]


def _store_in_transaction(principal, statements, v2, received, attachments) -> StoredIds:
    tenant_id = principal.tenant_id
    with transaction.atomic(), connection.cursor() as cursor:
        stored = writer_begin(cursor)
        prepared = _prepare_all(principal, statements, v2, received, stored)
        if _small(statements, attachments) and not _has_nul(prepared):
            fresh = _claim_and_insert(cursor, tenant_id, stored, prepared)
        else:
            fresh, voided_earlier = _claim_ids(cursor, tenant_id, stored, prepared)
            if fresh:
                voided = _apply_voiding(cursor, tenant_id, fresh, voided_earlier)
                statements_copy(cursor.cursor, tenant_id=tenant_id, rows=fresh, voided=voided)
                statement_refs_record(cursor, tenant_id=tenant_id, rows=fresh)
                if attachments:
                    _store_attachments(cursor, tenant_id, fresh, attachments)
        if fresh:
            queries, marks = facts_sql(principal, (p.statement for p in fresh))
            for sql, params in queries:
                cursor.execute(sql, params)
            transaction.on_commit(lambda: _after_write(principal, marks))
    return StoredIds([p.statement_id for p in prepared], len(fresh))


class _KnownId(Exception):
    """A claimed id was already registered: the batch needs the transactional path."""


def _store_in_two_round_trips(principal, statements, v2, received) -> StoredIds | None:
    """The common write (a few new statements, no voiding, no attachments) in two round
    trips: ``BEGIN`` with the writer mark and stored time, then the claim and insert with
    ``COMMIT``. When any id is already registered the insert raises instead, nothing is
    committed, and None sends the batch to the transactional path, which compares re-sent
    statements. Only outside an enclosing transaction: it issues BEGIN and COMMIT itself.
    """
    tenant_id = principal.tenant_id
    with connection.cursor() as cursor:
        raw = cursor.cursor
        try:
            raw.execute(
                "BEGIN; SELECT set_config('application_name', "
                f"'{WRITER_APPLICATION_NAME}', true), clock_timestamp()"
            )
            raw.nextset()
            stored = raw.fetchone()[1]
            prepared = _prepare_all(principal, statements, v2, received, stored)
            if _has_nul(prepared):
                raw.execute("ROLLBACK")
                return None
            queries, marks = facts_sql(principal, (p.statement for p in prepared))
            try:
                _claim_and_insert(cursor, tenant_id, stored, prepared, commit=True, then=queries)
            except _KnownId:
                raw.execute("ROLLBACK")
                return None
        except BaseException:
            if connection.connection.info.transaction_status != 0:  # not idle: roll back
                raw.execute("ROLLBACK")
            raise
    _after_write(principal, marks)
    return StoredIds([p.statement_id for p in prepared], len(prepared))


SMALL_BATCH = 16


def _has_nul(prepared: list[PreparedStatement]) -> bool:
    """Whether a statement holds the character U+0000, which JSON allows and jsonb does
    not: the one-statement insert passes rows through jsonb, so such a batch takes the
    COPY path, where the statement is text and keeps the escape as written."""
    return any("\\u0000" in p.payload or (p.raw and "\\u0000" in p.raw) for p in prepared)


def _small(statements: list[dict], attachments) -> bool:
    """Few statements, none voiding (voiding needs its own steps), no attachment bodies."""
    return (
        len(statements) <= SMALL_BATCH
        and not attachments
        and not any(s["verb"]["id"] == VOIDED_VERB for s in statements)
    )


def _claim_and_insert(
    cursor,
    tenant_id: int,
    stored,
    prepared: list[PreparedStatement],
    *,
    commit: bool = False,
    then: list[tuple[str, list]] = (),
):
    """One statement: claim the ids (sorted), insert the rows of those claimed, voided when
    an earlier voiding statement targets them; returns the statements inserted. Known ids
    are then checked as usual.

    With ``commit`` the same round trip runs the ``then`` statements and commits, and an id
    already registered raises ``_KnownId`` instead (the raise aborts the transaction before
    the rest is reached).
    """
    records = orjson.dumps(
        [
            {
                "statement_id": p.statement_id,
                "timestamp": p.timestamp.isoformat(),
                "version": p.version,
                "actor_ifi": p.lookups.actor_ifi,
                "verb_id": p.lookups.verb_id,
                "object_type": p.lookups.object_type,
                "activity_id": p.lookups.activity_id,
                "statement_ref": p.lookups.statement_ref,
                "registration": p.lookups.registration,
                "agents": p.lookups.agents,
                "related_agents": p.lookups.related_agents,
                "related_activities": p.lookups.related_activities,
                "authority_ifi": p.lookups.authority_ifi,
                "attachment_sha2": p.lookups.attachment_sha2,
                "payload": p.payload,
                "raw": p.raw,
            }
            for p in sorted(prepared, key=lambda p: p.statement_id)
        ]
    ).decode()
    # statements_insert_small (migration 0008): the same claim, insert and queueing as
    # the COPY path, in a PL/pgSQL function so that PostgreSQL plans it once per
    # connection instead of on every request.
    if commit:
        sql = "SELECT statements_insert_small(%s, %s, %s::jsonb, true);"
        params = [tenant_id, stored, records]
        for then_sql, then_params in then:
            sql += then_sql + ";"
            params.extend(then_params)
        try:
            cursor.execute(sql + " COMMIT", params)
        except DatabaseError as exc:
            if _KNOWN_ID_MESSAGE in str(exc):
                raise _KnownId from None
            raise
        return prepared
    cursor.execute(
        "SELECT statements_insert_small(%s, %s, %s::jsonb, false)", [tenant_id, stored, records]
    )
    new = {str(row[0]) for row in cursor.fetchall()}
    known = [p for p in prepared if p.statement_id not in new]
    if known:
        _check_known(cursor, tenant_id, known)
    return [p for p in prepared if p.statement_id in new]


_KNOWN_ID_MESSAGE = "statement id already registered"


def _claim_ids(cursor, tenant_id: int, stored, prepared: list[PreparedStatement]):
    """Register new ids and queue them for projection; return the statements to insert,
    and which of their ids earlier voiding statements target. Known ids must hold an
    equivalent statement."""
    by_id = {p.statement_id: p for p in prepared}
    ordered = sorted(by_id)
    # The queue rows go in with the claim: they need only the ids, and the transaction that
    # copies the statements commits or rolls back both.
    cursor.execute(
        f"""
        WITH claimed AS (
            INSERT INTO statement_ids (tenant_id, statement_id, stored)
            SELECT %s, u.id, %s FROM unnest(%s::uuid[]) AS u(id) ORDER BY u.id
            ON CONFLICT DO NOTHING
            RETURNING statement_id
        ), queued AS (
            INSERT INTO {QUEUE_TABLE} (tenant_id, statement_id, stored)
            SELECT %s, statement_id, %s FROM claimed
        )
        SELECT c.statement_id, v.statement_id IS NOT NULL
        FROM claimed c
        LEFT JOIN statement_voids v ON v.tenant_id = %s AND v.statement_id = c.statement_id
        """,
        [tenant_id, stored, _uuid_array(ordered), tenant_id, stored, tenant_id],
    )
    new, voided_earlier = set(), set()
    for statement_id, is_voided in cursor.fetchall():
        new.add(str(statement_id))
        if is_voided:
            voided_earlier.add(str(statement_id))
    known = [i for i in ordered if i not in new]
    if known:
        _check_known(cursor, tenant_id, [by_id[i] for i in known])
    return [p for p in prepared if p.statement_id in new], voided_earlier


def _stored_times(cursor, tenant_id: int, statement_ids: list[str]) -> list[dt.datetime]:
    """The distinct ``stored`` times of registered ids, from the registry alone.

    A read of those statements then names the times as literals, so PostgreSQL plans it for
    the months that hold them: joined with the registry instead, it was planned for every
    attached month (docs/storage.md, "Planning over many months"). Ids are unique per
    tenant, so ``stored = ANY(...) AND statement_id = ANY(...)`` finds the same rows.
    """
    cursor.execute(
        "SELECT DISTINCT stored FROM statement_ids "
        "WHERE tenant_id = %s AND statement_id = ANY(%s::uuid[])",
        [tenant_id, statement_ids],
    )
    return [row[0] for row in cursor.fetchall()]


def _check_known(cursor, tenant_id: int, known: list[PreparedStatement]) -> None:
    """Re-sent ids: equivalent to the stored statement, or ``Conflict``.

    A registered id whose statement is no longer in the table (archived) cannot be compared;
    it is treated as the same statement, so nothing changes either way.
    """
    months = _stored_times(cursor, tenant_id, [p.statement_id for p in known])
    stored = {}
    if months:
        cursor.execute(
            "SELECT s.statement_id, s.payload FROM statements s "
            "WHERE s.tenant_id = %s AND s.stored = ANY(%s::timestamptz[]) "
            "AND s.statement_id = ANY(%s::uuid[])",
            [tenant_id, months, [p.statement_id for p in known]],
        )
        stored = {str(row[0]): row[1] for row in cursor.fetchall()}
    for p in known:
        payload = stored.get(p.statement_id)
        if payload is not None and not equivalent(orjson.loads(payload), p.statement):
            raise Conflict(
                f"statement {p.statement_id} is already stored with different content",
                path="id",
            )


def _apply_voiding(
    cursor, tenant_id: int, fresh: list[PreparedStatement], voided_earlier: set[str]
) -> set[str]:
    """Record and apply voiding; return ids of ``fresh`` statements to insert as voided:
    those earlier voiding statements target, and those voided within this batch."""
    by_id = {p.statement_id: p for p in fresh}
    voiding = sorted((p for p in fresh if p.lookups.voids), key=lambda p: p.statement_id)
    voided = set(voided_earlier)
    if voiding:
        targets = sorted({p.lookups.voids for p in voiding})
        for target in targets:
            if target in by_id and by_id[target].lookups.voids:
                raise BadRequest("a voiding statement cannot be voided", path="object.id")
        months = _stored_times(cursor, tenant_id, targets)
        if months:
            cursor.execute(
                "SELECT 1 FROM statements s WHERE s.tenant_id = %s "
                "AND s.stored = ANY(%s::timestamptz[]) AND s.statement_id = ANY(%s::uuid[]) "
                "AND s.verb_id = %s",
                [tenant_id, months, targets, VOIDED_VERB],
            )
            if cursor.fetchone() is not None:
                raise BadRequest("a voiding statement cannot be voided", path="object.id")
        first_voider = {}
        for p in voiding:
            first_voider.setdefault(p.lookups.voids, p.statement_id)
        # Several voiding statements may name one target (a re-sent voiding under a new
        # id, say): the first recorded stays its voider, and the target is voided either
        # way.
        cursor.execute(
            """
            INSERT INTO statement_voids (tenant_id, statement_id, voiding_id)
            SELECT %s, u.target, u.voider FROM unnest(%s::uuid[], %s::uuid[]) AS u(target, voider)
            ORDER BY u.target
            ON CONFLICT DO NOTHING
            """,
            [tenant_id, targets, [first_voider[t] for t in targets]],
        )
        if months:
            cursor.execute(
                "UPDATE statements s SET voided = true WHERE s.tenant_id = %s "
                "AND s.stored = ANY(%s::timestamptz[]) AND s.statement_id = ANY(%s::uuid[]) "
                "AND NOT s.voided",
                [tenant_id, months, targets],
            )
        voided.update(target for target in targets if target in by_id)
    # A voiding statement itself is never voided (Data §2.3.2, "if and only if").
    return {i for i in voided if not by_id[i].lookups.voids}


def statements_copy(
    raw_cursor,
    *,
    tenant_id: int,
    rows: list[PreparedStatement],
    voided: set[str] = frozenset(),
    table: str = "statements",
) -> None:
    """Binary COPY of prepared statements into ``table`` (a psycopg cursor, inside the
    caller's transaction). Writes rows only: the registry, voiding and ``statement_refs``
    (``statement_refs_record``) are the caller's."""
    with raw_cursor.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_COPY_TYPES)
        for p in rows:
            lookups = p.lookups
            copy.write_row(
                (
                    tenant_id,
                    p.stored,
                    UUID(p.statement_id),
                    p.timestamp,
                    p.version,
                    lookups.actor_ifi,
                    lookups.verb_id,
                    lookups.object_type,
                    lookups.activity_id,
                    _uuid_or_none(lookups.statement_ref),
                    _uuid_or_none(lookups.registration),
                    _text_array(lookups.agents),
                    _text_array(lookups.related_agents),
                    _text_array(lookups.related_activities),
                    lookups.authority_ifi,
                    p.statement_id in voided,
                    _text_array(lookups.attachment_sha2),
                    p.payload,
                    p.raw,
                )
            )


def statement_refs_record(cursor, *, tenant_id: int, rows: list[PreparedStatement]) -> None:
    """Record the rows whose object is a StatementRef in ``statement_refs`` (migration
    0011), in the caller's transaction: the StatementRef filter rule walks reference chains
    there instead of over every partition. Every path that inserts statements rows calls
    this or writes the same rows (``statements_insert_small``)."""
    referring = [p for p in rows if p.lookups.statement_ref]
    if referring:
        cursor.execute(
            "INSERT INTO statement_refs (tenant_id, statement_id, stored, target_id) "
            "SELECT %s, u.id, u.stored, u.target "
            "FROM unnest(%s::uuid[], %s::timestamptz[], %s::uuid[]) AS u(id, stored, target)",
            [
                tenant_id,
                _uuid_array([p.statement_id for p in referring]),
                [p.stored for p in referring],
                _uuid_array([p.lookups.statement_ref for p in referring]),
            ],
        )


_TEXT_OID = 25
_EMPTY_TEXT_ARRAY = struct.pack("!iiI", 0, 0, _TEXT_OID)
_ARRAY_HEADER = struct.Struct("!iiIii").pack
_LENGTH = struct.Struct("!i").pack


def _text_array(values: tuple[str, ...]) -> bytes:
    """A one-dimensional text[] without NULLs in PostgreSQL's binary format (array_send):
    dimensions, no-null flag, element type, then each element's length and UTF-8 bytes.
    The same bytes as psycopg's list dumper; with it a statement's row encodes in about
    6 µs instead of 10 on the 2-core machine (docs/benchmarks.md)."""
    if not values:
        return _EMPTY_TEXT_ARRAY
    parts = [_ARRAY_HEADER(1, 0, _TEXT_OID, len(values), 1)]
    for value in values:
        data = value.encode()
        parts.append(_LENGTH(len(data)))
        parts.append(data)
    return b"".join(parts)


def _uuid_array(ids: list[str]) -> str:
    """A ``uuid[]`` literal of validated, canonical UUID strings (nothing in them needs
    quoting). psycopg would quote a list element by element in Python: at a hundred ids,
    twenty times longer than joining them."""
    return "{" + ",".join(ids) + "}"


def _uuid_or_none(value: str | None) -> UUID | None:
    return UUID(value) if value else None


def _store_attachments(cursor, tenant_id, fresh, attachments: dict[str, AttachmentPart]):
    used = sorted({sha2 for p in fresh for sha2 in p.lookups.attachment_sha2} & set(attachments))
    for sha2 in used:
        part = attachments[sha2]
        cursor.execute(
            "INSERT INTO statement_attachments (tenant_id, sha2, content_type, length, content) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [tenant_id, sha2, part.content_type, len(part.data), part.data],
        )


def _after_write(principal: Principal, marks=()) -> None:
    """After commit; the write stands whatever happens here, so nothing here may fail it."""
    facts_applied(marks)
    batch = RedisBatch()
    query_cache_invalidate(principal.tenant_id, batch)
    credential_write_mark(principal.credential_id, batch)
    feed_notify(principal.tenant_id, batch)
    batch.run()
    if settings.READ_REPLICA_ALIASES:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                credential_wrote(principal.credential_id, cursor.fetchone()[0])
        except Exception:
            # Without the mark, this credential's next reads may use a replica that has
            # not replayed its write yet: degraded, never wrong about what was stored.
            logger.warning("read-your-writes position not recorded", exc_info=True)
