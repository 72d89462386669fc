"""Monthly statement partitions, each split into tenant-hash buckets (ARCHITECTURE.md §5).

Layout::

    statements                      PARTITION BY RANGE (stored)
      statements_y2026m11           FOR VALUES FROM ('2026-11-01 UTC') TO ('2026-12-01 UTC')
                                    PARTITION BY HASH (tenant_id)
        statements_y2026m11_h0..hN  FOR VALUES WITH (MODULUS N+1, REMAINDER k)

A month is built as a table of its own (with its buckets) and then ``ATTACH``ed, because
``CREATE TABLE ... PARTITION OF statements`` would take an access-exclusive lock on the
parent, blocking every read and write, while ``ATTACH`` takes only a
share-update-exclusive one. There is no DEFAULT partition: it would forbid
``DETACH ... CONCURRENTLY`` when months are archived.

The month's columns come from the parent (``LIKE statements``) and its indexes are created
by ``ATTACH`` from the parent's partitioned indexes, so this code never repeats the schema
and stays right as the parent evolves. Months are in UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger(__name__)

PARENT = "statements"
# pg_advisory_xact_lock key: serializes partition DDL across processes and replicas.
_DDL_LOCK = 0x70726F67_70617274  # "progpart"


class PartitionError(RuntimeError):
    pass


@dataclass(frozen=True)
class MonthPartition:
    month: dt.date
    table: str
    buckets: int
    estimated_rows: int


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_add(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + (month.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_table(month: dt.date) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def bucket_table(month: dt.date, remainder: int) -> str:
    return f"{month_table(month)}_h{remainder}"


def _bound(month: dt.date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def partition_ensure_month(
    *, month: dt.date, buckets: int | None = None, using: str = "default"
) -> bool:
    """Create and attach ``month``'s partition with its hash buckets unless it exists.

    Returns True when it created the month. Idempotent and safe to run concurrently (an
    advisory lock serializes runs); atomic, because PostgreSQL DDL is transactional: a
    crash leaves either no trace or the attached month. ``buckets`` defaults to
    ``PROGRESS_STATEMENT_BUCKETS``; an existing month keeps the count it was created with.
    """
    month = month_start(month)
    buckets = buckets or settings.PROGRESS_STATEMENT_BUCKETS
    table = month_table(month)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DDL_LOCK])
        cursor.execute(
            """
            SELECT c.oid, i.inhparent IS NOT NULL
            FROM pg_class c
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = %s::regclass
            WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace
            """,
            [PARENT, table],
        )
        row = cursor.fetchone()
        if row is not None:
            if row[1]:
                return False
            raise PartitionError(f"{table} exists but is not attached to {PARENT}")
        # Fail fast rather than queue behind a long transaction and block others behind us.
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY HASH (tenant_id)"
        )
        for remainder in range(buckets):
            cursor.execute(
                f"CREATE TABLE {bucket_table(month, remainder)} PARTITION OF {table} "
                f"FOR VALUES WITH (MODULUS {buckets}, REMAINDER {remainder})"
            )
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {table} "
            f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(month_add(month, 1))}')"
        )
    logger.info("statement partition created", extra={"partition": table, "buckets": buckets})
    return True


def partition_ensure_months(
    *, months_ahead: int | None = None, today: dt.date | None = None, using: str = "default"
) -> list[dt.date]:
    """Ensure the current month and ``months_ahead`` following ones; returns those created."""
    if months_ahead is None:
        months_ahead = settings.PROGRESS_PARTITION_MONTHS_AHEAD
    first = month_start(today or dt.datetime.now(dt.UTC).date())
    created = []
    for offset in range(months_ahead + 1):
        month = month_add(first, offset)
        if partition_ensure_month(month=month, using=using):
            created.append(month)
    return created


def partition_list(*, using: str = "default") -> list[MonthPartition]:
    """Attached months, oldest first, with their bucket count and planner row estimate."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT m.relname,
                   count(b.inhrelid),
                   coalesce(sum(greatest(bc.reltuples, 0)), 0)::bigint
            FROM pg_inherits mi
            JOIN pg_class m ON m.oid = mi.inhrelid
            LEFT JOIN pg_inherits b ON b.inhparent = m.oid
            LEFT JOIN pg_class bc ON bc.oid = b.inhrelid
            WHERE mi.inhparent = %s::regclass
            GROUP BY m.relname
            ORDER BY m.relname
            """,
            [PARENT],
        )
        rows = cursor.fetchall()
    result = []
    for name, buckets, estimate in rows:
        stamp = name.removeprefix(f"{PARENT}_y")
        month = dt.date(int(stamp[:4]), int(stamp[5:7]), 1)
        result.append(MonthPartition(month, name, buckets, estimate))
    return result
