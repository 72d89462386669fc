"""``stored`` times, ``X-Experience-API-Consistent-Through``, and where reads may go.

Communication §2.1.3: the header carries "the timestamp for which all Statements that have or
will have a stored property before that time are known with reasonable certainty to be
available for retrieval". With concurrent writers a timestamp taken at write time can be
older than a statement that commits later, so the header is derived from the writers that
are still in flight:

1. A writing transaction first marks itself (``SET LOCAL application_name``), which
   PostgreSQL publishes in ``pg_stat_activity`` at once, and only then reads the clock for
   its ``stored`` time (``writer_begin``).
2. A reader takes the earliest ``xact_start`` among marked transactions, or the clock when
   there are none (``consistent_through``), before it runs its query.

Every statement not yet visible to that query belongs to a writer that was either marked
(so its ``stored`` is after its ``xact_start``, which is at or after the value returned) or
not yet marked (so its ``stored`` is after the moment the reader looked). The value may
lag a little behind the clock; it is never too late. A value computed earlier is still
true later, so it may be cached briefly.

Reading the watermark is a round trip and about 0.1 ms of PostgreSQL's CPU (it gathers every
backend's status; ``pg_stat_get_activity`` is called directly because planning the
``pg_stat_activity`` view's joins took another 0.2 ms on every call), so a process reuses
one for a tenth of a second: an older value is still true, only lower. A credential
reading right after its own write is the exception: a reused value could be older than the
write it just made, and a client that checks its statement against the header would see
its own write beyond the watermark. So each write leaves a mark for its credential in
Redis (``credential_write_mark``, in the write's after-commit batch) and a query by that
credential takes a fresh watermark the first time it sees a new mark: read after the mark
was set, so after the write committed. A single-statement read needs no mark: when the
statement it found is newer than the reused watermark, it takes a fresh one afterwards
(it answers for no page a client would go on from, so a value read after its query is as
honest).

Replicas: a reader may use a replica only when it has replayed past the primary's WAL
position recorded with the watermark (and past the caller's own last write), otherwise
statements the watermark promises could be missing there.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django_redis import get_redis_connection

from progress_site.redis_batch import RedisBatch

logger = logging.getLogger(__name__)

WRITER_APPLICATION_NAME = "progress-statement-writer"
_WATERMARK_SECONDS = 0.1


def writer_begin(cursor) -> dt.datetime:
    """Mark the open transaction as a statement writer and return its ``stored`` time.

    Must run inside a transaction (the mark is ``SET LOCAL``), before any statement row
    is written.
    """
    # One round trip; set_config is evaluated before clock_timestamp (left to right in the
    # target list), so the mark is published before the time is read.
    cursor.execute(
        "SELECT set_config('application_name', %s, true), clock_timestamp()",
        [WRITER_APPLICATION_NAME],
    )
    return cursor.fetchone()[1]


@dataclass(frozen=True, slots=True)
class Watermark:
    consistent_through: dt.datetime
    lsn: str


_lock = threading.Lock()
_cached: tuple[float, Watermark] | None = None
# Credential id -> the write mark last seen by a read that took a fresh watermark.
_marks_seen: dict[int, bytes] = {}
_MARKS_SEEN_MAX = 10_000


def watermark_read(using: str = "default") -> Watermark:
    """Consistent-through and the WAL position, read on the primary now."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT least(clock_timestamp(), min(s.xact_start)), pg_current_wal_lsn()::text
            FROM pg_stat_get_activity(NULL) s
            WHERE s.application_name = %s AND s.xact_start IS NOT NULL
              AND s.pid <> pg_backend_pid()
              -- The view covers the whole server; writers of another database (another
              -- deployment's, a scratch one) do not write these statements.
              AND s.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """,
            [WRITER_APPLICATION_NAME],
        )
        value, lsn = cursor.fetchone()
    return Watermark(value, lsn)


#: ``write_mark`` not read yet: ``watermark`` reads it.
UNKNOWN = object()


def watermark(
    *, credential_id: int | None = None, write_mark=UNKNOWN, fresh: bool = False
) -> Watermark:
    """``watermark_read`` cached per process for a tenth of a second (older is still true).

    With ``credential_id`` (a read), a write by that credential that this process has not
    yet seen a fresh watermark for forces one, so the value is not older than that write.
    ``write_mark`` is the credential's mark when the caller read it already (the value of
    ``write_mark_key``, None for no mark); otherwise it is read here. ``fresh`` reads a
    new value whatever is cached (and caches it).
    """
    global _cached
    now = time.monotonic()
    mark = None
    if credential_id is not None:
        mark = _write_mark(credential_id) if write_mark is UNKNOWN else write_mark
    with _lock:
        fresh_enough = not fresh and (mark is None or _marks_seen.get(credential_id) == mark)
        if fresh_enough and _cached is not None and now - _cached[0] < _WATERMARK_SECONDS:
            return _cached[1]
    value = watermark_read()
    with _lock:
        # Of two reads in flight at once, the one that started later stays cached: an
        # earlier one may predate a write whose mark the later one was taken for.
        if _cached is None or now >= _cached[0]:
            _cached = (now, value)
        if mark is not None:
            if len(_marks_seen) >= _MARKS_SEEN_MAX:
                _marks_seen.clear()
            _marks_seen[credential_id] = mark
    return value


def watermark_forget() -> None:
    global _cached
    with _lock:
        _cached = None
        _marks_seen.clear()


def write_mark_key(credential_id: int) -> str:
    """The Redis key of a credential's write mark."""
    return f"progress:statements:wrote:{credential_id}"


def credential_write_mark(credential_id: int | None, batch: RedisBatch) -> None:
    """After a commit that stored statements: a new mark for the credential, queued in the
    write's batch. Unique per write (process and clock), kept as long as read-your-writes
    lasts."""
    if credential_id is None:
        return
    token = f"{os.getpid()}:{time.monotonic_ns()}"
    batch.add(
        lambda pipeline: pipeline.set(
            write_mark_key(credential_id), token, ex=settings.PROGRESS_READ_YOUR_WRITES_SECONDS
        ),
        failed=_mark_not_set,
    )


def _mark_not_set(error: BaseException) -> None:
    # The credential's next read may reuse a watermark from before its write: lower than
    # it could be, never untrue.
    logger.warning("statement write mark not set", exc_info=error)


def _write_mark(credential_id: int) -> bytes | None:
    try:
        return get_redis_connection().get(write_mark_key(credential_id))
    except Exception:
        logger.warning("statement write mark unavailable", exc_info=True)
        return None


def format_timestamp(value: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: how ``stored`` and headers are written."""
    # isoformat, not strftime: "%Y" does not pad years before 1000 to four digits.
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- read-your-writes -----------------------------------------------------------------------


def _written_key(credential_id: int) -> str:
    return f"statements:written:{credential_id}"


def credential_wrote(credential_id: int, lsn: str) -> None:
    """Remember the primary's WAL position after a credential's write, for a while."""
    cache.set(_written_key(credential_id), lsn, settings.PROGRESS_READ_YOUR_WRITES_SECONDS)


def read_alias(*, credential_id: int | None, floor_lsn: str) -> str:
    """The database alias a statements read may use.

    A replica qualifies once it has replayed past ``floor_lsn`` (the watermark's) and past
    the credential's last write; otherwise, or with no replicas configured, the primary.
    """
    replicas = settings.READ_REPLICA_ALIASES
    if not replicas:
        return "default"
    needed = [floor_lsn]
    if credential_id is not None:
        written = cache.get(_written_key(credential_id))
        if written:
            needed.append(written)
    for alias in replicas:
        if _replayed_past(alias, needed):
            return alias
    return "default"


def _replayed_past(alias: str, lsns: list[str]) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT NOT pg_is_in_recovery() "
                "OR pg_last_wal_replay_lsn() >= (SELECT max(l) FROM unnest(%s::pg_lsn[]) l)",
                [lsns],
            )
            return bool(cursor.fetchone()[0])
    except Exception:
        # An unreachable replica is skipped, never an error for the reader.
        return False
