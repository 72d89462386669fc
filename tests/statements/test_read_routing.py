"""Reads go to a replica unless that could miss what the caller must see (ARCHITECTURE.md §4).

``replica1`` is a second, real connection to the test database: a server that is not in
recovery has everything committed, so it qualifies as caught up, and the tests observe which
connection each read used.
"""

import orjson
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from statements.consistency import read_alias
from tests.conftest import XAPIClient
from tests.factories import CredentialFactory
from tests.statements import builders

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica1"])


def reads_on(alias: str, client: XAPIClient, path: str) -> bool:
    with CaptureQueriesContext(connections[alias]) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return any("FROM statements s" in q["sql"] for q in queries.captured_queries)


def test_without_replicas_every_read_uses_the_primary(settings):
    settings.READ_REPLICA_ALIASES = []
    assert read_alias(credential_id=1, floor_lsn="0/0") == "default"


def test_a_caller_without_recent_writes_reads_from_a_caught_up_replica(settings):
    settings.READ_REPLICA_ALIASES = ["replica1"]
    writer, reader = CredentialFactory(), None
    reader = CredentialFactory(tenant=writer.tenant)
    XAPIClient(writer).request(
        "post",
        "/xapi/statements",
        data=orjson.dumps(builders.statement()),
        content_type="application/json",
    )
    assert reads_on("replica1", XAPIClient(reader), "/xapi/statements?limit=3")


def test_a_caller_that_just_wrote_reads_from_the_primary_when_the_replica_lags(settings):
    """Read-your-writes: the replica must have replayed the caller's write; one that cannot
    say so (here: unreachable) is skipped for the primary."""
    settings.READ_REPLICA_ALIASES = ["replica1"]
    writer = CredentialFactory()
    client = XAPIClient(writer)
    client.request(
        "post",
        "/xapi/statements",
        data=orjson.dumps(builders.statement()),
        content_type="application/json",
    )
    settings.DATABASES["replica1"]["PORT"] = "1"  # the replica is now unreachable
    connections["replica1"].close()
    try:
        assert reads_on("default", client, "/xapi/statements?limit=3")
    finally:
        settings.DATABASES["replica1"]["PORT"] = settings.DATABASES["default"]["PORT"]
        connections["replica1"].close()


def test_a_write_leaves_the_callers_position_for_read_your_writes(settings):
    """After commit the credential's WAL position is remembered; reads then require a
    replica that has replayed at least that far."""
    from django.core.cache import cache

    settings.READ_REPLICA_ALIASES = ["replica1"]
    writer = CredentialFactory()
    XAPIClient(writer).request(
        "post",
        "/xapi/statements",
        data=orjson.dumps(builders.statement()),
        content_type="application/json",
    )
    position = cache.get(f"statements:written:{writer.pk}")
    assert position is not None
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT %s::pg_lsn <= pg_current_wal_lsn()", [position])
        assert cursor.fetchone()[0] is True
