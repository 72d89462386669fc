"""Monthly + tenant-hash partitions of the statements table (ARCHITECTURE.md §4-5)."""

import datetime as dt
import re
import threading
import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections

from partitions import services
from partitions.services import (
    bucket_table,
    month_add,
    month_table,
    partition_ensure_month,
    partition_ensure_months,
    partition_list,
)

FAR = dt.date(2031, 5, 1)  # months no migration or other test creates


def relation_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def insert_statement(tenant_id: int, stored: dt.datetime) -> str:
    """Insert a minimal row; returns the name of the partition it landed in."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO statements (tenant_id, stored, statement_id, "timestamp", version,
                                    verb_id, object_type, payload)
            VALUES (%s, %s, %s, %s, '2.0.0', 'http://adlnet.gov/expapi/verbs/experienced',
                    'Activity', '{}')
            RETURNING tableoid::regclass::text
            """,
            [tenant_id, stored, uuid.uuid4(), stored],
        )
        return cursor.fetchone()[0]


def test_migrations_leave_the_current_and_next_month_ready(db):
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    months = {p.month for p in partition_list()}
    assert {this_month, month_add(this_month, 1)} <= months


def test_ensure_month_creates_the_month_with_its_hash_buckets(db, settings):
    settings.PROGRESS_STATEMENT_BUCKETS = 4
    assert partition_ensure_month(month=FAR) is True
    assert [bucket_table(FAR, r) for r in range(4)] == [
        name for name in (bucket_table(FAR, r) for r in range(5)) if relation_exists(name)
    ]
    created = next(p for p in partition_list() if p.month == FAR)
    assert (created.table, created.buckets) == ("statements_y2031m05", 4)


def test_ensure_month_is_idempotent_and_keeps_the_original_bucket_count(db, settings):
    assert partition_ensure_month(month=FAR, buckets=2) is True
    settings.PROGRESS_STATEMENT_BUCKETS = 16
    assert partition_ensure_month(month=FAR) is False
    assert partition_ensure_month(month=FAR.replace(day=17)) is False
    assert next(p for p in partition_list() if p.month == FAR).buckets == 2


def test_new_months_inherit_the_parents_indexes(db):
    partition_ensure_month(month=FAR, buckets=2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = %s", [bucket_table(FAR, 0)]
        )
        bucket_indexes = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'statements'")
        parent_indexes = cursor.fetchone()[0]
    # Every index of the parent, whatever later migrations add, exists on the new bucket.
    assert parent_indexes >= 8
    assert bucket_indexes == parent_indexes


def test_ensure_months_covers_the_horizon_and_reports_only_what_it_created(db):
    today = dt.date(2031, 11, 20)
    created = partition_ensure_months(months_ahead=3, today=today)
    assert created == [
        dt.date(2031, 11, 1),
        dt.date(2031, 12, 1),
        dt.date(2032, 1, 1),
        dt.date(2032, 2, 1),
    ]
    assert partition_ensure_months(months_ahead=3, today=today) == []


def test_rows_land_in_their_month_and_their_tenants_hash_bucket(db):
    partition_ensure_month(month=FAR, buckets=8)
    partition_ensure_month(month=month_add(FAR, 1), buckets=8)
    stored = dt.datetime(2031, 5, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    for tenant_id in range(1, 40):
        landed = insert_statement(tenant_id, stored)
        with connection.cursor() as cursor:
            # PostgreSQL's own hash-partition routine says which bucket is right.
            cursor.execute(
                "SELECT r FROM generate_series(0, 7) r "
                "WHERE satisfies_hash_partition(%s::regclass, 8, r, %s::bigint)",
                [month_table(FAR), tenant_id],
            )
            (expected,) = cursor.fetchone()
        assert landed == bucket_table(FAR, expected)
    next_month = dt.datetime(2031, 6, 1, tzinfo=dt.UTC)
    assert insert_statement(1, next_month).startswith("statements_y2031m06_h")


def test_spread_of_tenants_over_buckets_is_not_degenerate(db):
    partition_ensure_month(month=FAR, buckets=8)
    stored = dt.datetime(2031, 5, 10, tzinfo=dt.UTC)
    buckets = {insert_statement(tenant_id, stored) for tenant_id in range(1, 65)}
    assert len(buckets) == 8


def test_a_statement_outside_every_month_is_refused_not_misfiled(db):
    with pytest.raises(DatabaseError, match="no partition"):
        insert_statement(1, dt.datetime(1999, 1, 1, tzinfo=dt.UTC))


BUCKET_RE = re.compile(r"statements_y\d{4}m\d{2}_h\d+")


def scanned_buckets(sql: str, params) -> set[str]:
    """The bucket tables a query's plan touches (index names start with their table's)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (COSTS OFF) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return set(BUCKET_RE.findall(plan))


RANGE_QUERY = (
    "SELECT statement_id FROM statements WHERE tenant_id = %s "
    "AND stored >= %s AND stored < %s ORDER BY stored DESC LIMIT 10"
)


def test_query_by_tenant_and_time_range_prunes_to_one_bucket_of_one_month(db):
    for month in (FAR, month_add(FAR, 1), month_add(FAR, 2)):
        partition_ensure_month(month=month, buckets=8)
    landed = insert_statement(42, dt.datetime(2031, 6, 15, tzinfo=dt.UTC))
    june = [dt.datetime(2031, 6, 1, tzinfo=dt.UTC), dt.datetime(2031, 7, 1, tzinfo=dt.UTC)]
    assert scanned_buckets(RANGE_QUERY, [42, *june]) == {landed}


def test_query_spanning_two_months_scans_the_tenants_bucket_in_each(db):
    for month in (FAR, month_add(FAR, 1), month_add(FAR, 2)):
        partition_ensure_month(month=month, buckets=8)
    may = insert_statement(7, dt.datetime(2031, 5, 25, tzinfo=dt.UTC))
    june = insert_statement(7, dt.datetime(2031, 6, 5, tzinfo=dt.UTC))
    window = [dt.datetime(2031, 5, 20, tzinfo=dt.UTC), dt.datetime(2031, 6, 10, tzinfo=dt.UTC)]
    assert scanned_buckets(RANGE_QUERY, [7, *window]) == {may, june}


def test_partition_ddl_is_atomic_when_a_step_fails(db):
    """A failure half-way (here a bucket name already taken) leaves no partial month."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {bucket_table(FAR, 3)} (x int)")
    with pytest.raises(DatabaseError):
        partition_ensure_month(month=FAR, buckets=8)
    assert not relation_exists(month_table(FAR))
    assert not relation_exists(bucket_table(FAR, 0))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {bucket_table(FAR, 3)}")
    assert partition_ensure_month(month=FAR, buckets=8) is True


def test_an_unattached_table_with_a_months_name_is_reported(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {month_table(FAR)} (x int)")
    with pytest.raises(services.PartitionError, match="not attached"):
        partition_ensure_month(month=FAR)


@pytest.mark.django_db(transaction=True)
def test_concurrent_ensures_of_one_month_create_it_once():
    """Two processes running partitions_ensure at once (beat overlap, a manual run):
    both succeed, exactly one creates, on two real connections."""
    results, errors = [], []
    barrier = threading.Barrier(2)

    def ensure():
        try:
            barrier.wait()
            results.append(partition_ensure_month(month=FAR, buckets=4))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ensure) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert sorted(results) == [False, True]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {month_table(FAR)}")


def test_partitions_ensure_command_lists_created_and_present_months(db, settings):
    from io import StringIO

    out = StringIO()
    call_command("partitions_ensure", "--months-ahead", "2", stdout=out)
    lines = out.getvalue().splitlines()
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    assert any(
        line.startswith(this_month.isoformat()[:7]) and line.endswith("present") for line in lines
    )
    two_ahead = month_add(this_month, 2).isoformat()[:7]
    assert any(line.startswith(two_ahead) and line.endswith("created") for line in lines), lines
    out = StringIO()
    call_command("partitions_ensure", "--months-ahead", "2", stdout=out)
    assert "created" not in out.getvalue()


def test_partitions_status_command_lists_months(db):
    from io import StringIO

    out = StringIO()
    call_command("partitions_status", stdout=out)
    this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
    assert month_table(this_month) in out.getvalue()
