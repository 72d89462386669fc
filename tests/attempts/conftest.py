"""Fixtures of the projection tests: a tenant's credential, the real write path, and reads
of the projected tables."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection

from attempts.selectors import projection_caches_clear
from attempts.services import projection_process_batch
from statements import services
from statements.xapi.validate import validate_statement
from tenants.auth import Principal
from tests.factories import CredentialFactory


@pytest.fixture(autouse=True)
def _empty_projection_queue(django_db_blocker):
    """Tables without models outlive a test; other tests' statements must not be projected
    (or counted) here."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM statement_projection_queue")


@pytest.fixture(autouse=True)
def _fresh_projection_caches():
    """The per-process verb mapping and slug caches would outlive a test's rolled-back rows."""
    projection_caches_clear()
    yield
    projection_caches_clear()


def principal_for(credential) -> Principal:
    return Principal(
        credential_id=credential.pk,
        credential_key=credential.key,
        tenant_id=credential.tenant_id,
        tenant_slug=credential.tenant.slug,
        scopes=frozenset(credential.scopes),
        kind="normal",
    )


@pytest.fixture
def principal(db):
    return principal_for(CredentialFactory())


def store(principal: Principal, *documents: dict, v2: bool = True) -> list[str]:
    """Through the one write path the HTTP API and ingest use."""
    statements = [validate_statement(document, v2=v2) for document in documents]
    return services.statements_store(
        principal=principal, statements=statements, v2=v2, received=list(documents)
    )


def drain(limit: int | None = None) -> int:
    total = 0
    while count := projection_process_batch(limit=limit):
        total += count
    return total


def table(name: str, tenant_id: int) -> list[dict]:
    """A projected table's rows of one tenant, without the time they were written."""
    key = "attempt_id" if name == "attempts" else "completion_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {name} WHERE tenant_id = %s ORDER BY {key}", [tenant_id])  # noqa: S608
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row.pop("projected_at")
        if "outcome_statements" in row:  # jsonb arrives as text through Django's cursor
            row["outcome_statements"] = orjson.loads(row["outcome_statements"])
    return rows


def queue_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM statement_projection_queue")
        return cursor.fetchone()[0]


def outbox_events(tenant_id: int) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM outbox_events WHERE tenant_id = %s ORDER BY seq", [tenant_id])
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
