"""Every migration applies forward and backward: forward, back to zero, forward again.

Runs ``manage.py`` in subprocesses against a scratch database, so the test database and
its connections are left alone.
"""

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]

ZERO_ALL = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
labels = sorted({app for app, _ in MigrationLoader(connection).graph.leaf_nodes()})
for label in labels:
    call_command("migrate", label, "zero", verbosity=0)
"""


def scratch_url(name: str) -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{name}"


def admin_connection():
    s = connection.settings_dict
    return psycopg.connect(
        dbname="postgres",
        user=s["USER"],
        password=s["PASSWORD"],
        host=s["HOST"],
        port=s["PORT"],
        autocommit=True,
    )


def tables(name: str) -> set[str]:
    s = connection.settings_dict
    with psycopg.connect(
        dbname=name, user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"]
    ) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def manage(url: str, *args: str, code: str | None = None) -> None:
    command = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    env = os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "progress_site.settings"}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.django_db
def test_migrations_apply_forward_back_to_zero_and_forward_again():
    name = f"progress_migcheck_{uuid.uuid4().hex[:8]}"
    url = scratch_url(name)
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        manage(url, "migrate", "--noinput")
        forward = tables(name)
        assert {"statements", "statement_ids", "tenants_tenant", "tenants_credential"} <= forward
        assert any(table.startswith("statements_y") for table in forward)

        manage(url, code=ZERO_ALL)
        # Nothing is left behind: no table, partition or registry bucket survives zero.
        assert tables(name) == {"django_migrations"}

        manage(url, "migrate", "--noinput")
        assert tables(name) == forward
        manage(url, "makemigrations", "--check", "--dry-run")
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REFERRING_SQL = """
SELECT statement_id::text FROM statements_referencing_matches(
    1, 'mbox:mailto:target@example.org', false, NULL, NULL, false, NULL,
    '-infinity', 'infinity', '-infinity', 'infinity', NULL, 16{walk_back_above})
"""


def referring(conn, walk_back_above: str = "") -> set[str]:
    return {row[0] for row in conn.execute(REFERRING_SQL.format(walk_back_above=walk_back_above))}


def _store_raw(conn, statement_id: str, actor: str, ref: str | None) -> None:
    stored = dt.datetime.now(dt.UTC)
    conn.execute(
        "INSERT INTO statement_ids (tenant_id, statement_id, stored) VALUES (1, %s, %s)",
        [statement_id, stored],
    )
    conn.execute(
        """
        INSERT INTO statements (tenant_id, stored, statement_id, "timestamp", version,
                                actor_ifi, verb_id, object_type, statement_ref, payload)
        VALUES (1, %s, %s, %s, '2.0.0', %s, 'http://adlnet.gov/expapi/verbs/experienced',
                %s, %s, '{}')
        """,
        [stored, statement_id, stored, actor, "StatementRef" if ref else "Activity", ref],
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_statement_refs_are_filled_from_stored_statements_and_the_rule_holds_both_ways():
    """Migration 0011 fills ``statement_refs`` from the statements stored before it, so the
    StatementRef filter rule (Communication §2.1.3) finds what it found before, forward or
    walking back (0012); backwards, the previous function answers alike without the
    table."""
    name = f"progress_migcheck_{uuid.uuid4().hex[:8]}"
    url = scratch_url(name)
    s = connection.settings_dict
    target, referring_id = str(uuid.uuid4()), str(uuid.uuid4())
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        manage(url, "migrate", "--noinput")
        manage(url, "migrate", "statements", "0010", "--noinput")
        connect = {
            "dbname": name, "user": s["USER"], "password": s["PASSWORD"],
            "host": s["HOST"], "port": s["PORT"], "autocommit": True,
        }  # fmt: skip
        with psycopg.connect(**connect) as conn:
            _store_raw(conn, target, "mbox:mailto:target@example.org", None)
            _store_raw(conn, referring_id, "mbox:mailto:other@example.org", target)
            before = referring(conn)
        manage(url, "migrate", "statements", "--noinput")
        with psycopg.connect(**connect) as conn:
            rows = conn.execute("SELECT statement_id::text, target_id::text FROM statement_refs")
            assert rows.fetchall() == [(referring_id, target)]
            forward, back = referring(conn, ", 1000"), referring(conn, ", 0")
        manage(url, "migrate", "statements", "0010", "--noinput")
        with psycopg.connect(**connect) as conn:
            undone = referring(conn)
        assert before == forward == back == undone == {referring_id}
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
