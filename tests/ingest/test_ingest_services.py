"""Deciding each ingest message: stored, or dead-lettered with a reason (ingest.services).

Against real PostgreSQL; NATS is not needed to decide (tests/ingest/test_consumer.py runs
the whole consumer against real JetStream)."""

from __future__ import annotations

import itertools

import orjson
import pytest
from django.db import connection

from ingest.contract import CREDENTIAL_HEADER, VERSION_HEADER, Incoming, Reason
from ingest.services import ingest_batch, ingest_caches_clear
from tenants.scopes import STATEMENTS_READ
from tests.factories import CredentialFactory, TenantFactory
from tests.statements import builders

PREFIX = "progress.ingest"
_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_tenant_cache():
    ingest_caches_clear()
    yield
    ingest_caches_clear()


@pytest.fixture
def producer(db):
    return CredentialFactory(key="delivery-service")


def message(producer, body, *, subject=None, headers=None, sequence=None) -> Incoming:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Incoming(
        subject=subject or f"{PREFIX}.{producer.tenant.slug}",
        data=data,
        headers={CREDENTIAL_HEADER: producer.key} if headers is None else headers,
        stream="PROGRESS_INGEST",
        sequence=sequence or next(_sequence),
    )


def count(statement_id=None) -> int:
    """Statements of tenants that still exist (a transactional test's flush leaves rows of
    earlier tests in the statements table, which is not a Django model)."""
    with connection.cursor() as cursor:
        if statement_id is None:
            cursor.execute(
                "SELECT count(*) FROM statements WHERE tenant_id IN (SELECT id FROM tenants_tenant)"
            )
        else:
            cursor.execute("SELECT count(*) FROM statements WHERE statement_id = %s",
                           [statement_id])  # fmt: skip
        return cursor.fetchone()[0]


def reasons(outcome) -> list[str]:
    return [str(reason) for _, reason, _ in outcome.dead]


def test_single_statements_and_arrays_are_stored_with_the_producer_as_authority(producer):
    single, pair = builders.statement(), [builders.statement(), builders.statement()]
    outcome = ingest_batch([message(producer, single), message(producer, pair)])
    assert not outcome.dead
    assert outcome.statements_stored == 3
    assert count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM statements WHERE statement_id = %s", [single["id"]])
        stored = orjson.loads(cursor.fetchone()[0])
    assert stored["authority"]["account"]["name"] == "delivery-service"
    assert stored["version"] == "2.0.0"


def test_a_peer_credential_named_over_nats_is_the_authority_of_what_it_publishes(db):
    """Data §2.4.9: a submitted authority may be kept only "where a strong trust
    relationship exists"; over HTTP a peer LRS proves it (its peer key, its network), a
    NATS producer only names a key. So the credential is the statements' authority."""
    peer = CredentialFactory(
        key="peer-lrs", kind="peer", peer_key_hash="0" * 64, allowed_networks=["10.0.0.0/8"]
    )
    statement = builders.statement(
        authority={"objectType": "Agent", "mbox": "mailto:someone.else@example.com"}
    )
    outcome = ingest_batch([message(peer, statement)])
    assert not outcome.dead
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM statements WHERE statement_id = %s", [statement["id"]])
        stored = orjson.loads(cursor.fetchone()[0])
    assert stored["authority"]["account"]["name"] == "peer-lrs"
    assert "mbox" not in stored["authority"]


def test_the_version_header_chooses_the_rules_and_the_version_stored(producer):
    """2.0-only properties are refused under 1.0.3, as over HTTP."""
    statement = builders.statement()
    ok = message(producer, statement, headers={CREDENTIAL_HEADER: producer.key,
                                               VERSION_HEADER: "1.0.3"})  # fmt: skip
    v2_only = builders.statement(context={"contextAgents": [
        {"objectType": "contextAgent", "agent": {"mbox": "mailto:x@example.org"}}]})  # fmt: skip
    refused = message(producer, v2_only, headers={CREDENTIAL_HEADER: producer.key,
                                                  VERSION_HEADER: "1.0.3"})  # fmt: skip
    outcome = ingest_batch([ok, refused])
    assert reasons(outcome) == ["invalid_statement"]
    assert count(statement["id"]) == 1


def test_a_redelivered_message_stores_nothing_twice_even_without_ids(producer):
    """Statements without ids get ids from the message's stream position, so the same
    message delivered again names the same statements."""
    body = [builders.statement(with_id=False), builders.statement(with_id=False)]
    first = message(producer, body, sequence=4242)
    again = message(producer, body, sequence=4242)
    assert ingest_batch([first]).statements_stored == 2
    outcome = ingest_batch([again])
    assert not outcome.dead
    assert count() == 2


def test_a_message_published_twice_in_one_batch_is_stored_once(producer):
    statement = builders.statement()
    outcome = ingest_batch([message(producer, statement), message(producer, statement)])
    assert not outcome.dead
    assert len(outcome.stored) == 2
    assert count(statement["id"]) == 1


def test_a_known_id_with_other_content_is_a_conflict_and_the_rest_is_stored(producer):
    original = builders.statement()
    ingest_batch([message(producer, original)])
    changed = dict(original, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    others = [builders.statement() for _ in range(5)]
    batch = [message(producer, s) for s in others[:2]]
    batch += [message(producer, changed)]
    batch += [message(producer, s) for s in others[2:]]
    outcome = ingest_batch(batch)
    assert reasons(outcome) == ["conflict"]
    assert outcome.dead[0][0].data == orjson.dumps(changed)
    assert all(count(s["id"]) == 1 for s in others)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda p: message(p, b"{not json"), Reason.BAD_JSON),
        (lambda p: message(p, {"verb": {"id": "x"}}), Reason.INVALID_STATEMENT),
        (lambda p: message(p, builders.statement(), headers={CREDENTIAL_HEADER: p.key,
                                                              VERSION_HEADER: "0.9"}),
         Reason.UNSUPPORTED_VERSION),
        (lambda p: message(p, builders.statement(), headers={}), Reason.MISSING_CREDENTIAL),
        (lambda p: message(p, builders.statement(), headers={CREDENTIAL_HEADER: "nobody"}),
         Reason.UNKNOWN_CREDENTIAL),
        (lambda p: message(p, builders.statement(), subject=f"{PREFIX}.no-such-tenant"),
         Reason.UNKNOWN_TENANT),
        (lambda p: message(p, builders.statement(), subject=f"{PREFIX}.{TenantFactory().slug}"),
         Reason.CREDENTIAL_MISMATCH),
        (lambda p: message(p, builders.statement(), subject="elsewhere.tenant"),
         Reason.BAD_SUBJECT),
        (lambda p: message(p, builders.statement(attachments=[{
            "usageType": "https://x.example/u", "display": {"en": "a"},
            "contentType": "text/plain", "length": 1, "sha2": "0" * 64}]),
         ), Reason.INVALID_STATEMENT),
    ],
    ids=["bad_json", "invalid_statement", "unsupported_version", "missing_credential",
         "unknown_credential", "unknown_tenant", "credential_mismatch", "bad_subject",
         "attachment_without_file_url"],
)  # fmt: skip
def test_each_refusal_has_its_reason_and_never_blocks_the_others(producer, build, reason):
    good = builders.statement()
    outcome = ingest_batch([build(producer), message(producer, good)])
    assert reasons(outcome) == [str(reason)]
    assert count(good["id"]) == 1


def test_every_message_of_a_batch_gets_its_senders_decision(producer):
    """The sender is decided once per (subject, credential) a batch; every message of a
    refused sender is dead-lettered with its own reason, and an accepted sender's
    messages are all stored, however the two interleave."""
    good = [builders.statement() for _ in range(4)]
    batch = []
    for statement in good:
        batch.append(message(producer, statement))
        batch.append(message(producer, builders.statement(), headers={CREDENTIAL_HEADER: "x"}))
    batch.append(message(producer, builders.statement(), subject=f"{PREFIX}.no-such-tenant"))
    outcome = ingest_batch(batch)
    assert reasons(outcome) == ["unknown_credential"] * 4 + ["unknown_tenant"]
    assert [dead[0] for dead in outcome.dead] == [*batch[1:8:2], batch[8]]
    assert {dead[2] for dead in outcome.dead[:4]} == {"no credential 'x'"}
    assert outcome.stored == batch[0:8:2]
    assert all(count(statement["id"]) == 1 for statement in good)


def test_credential_and_tenant_state_is_checked(db):
    disabled = CredentialFactory(enabled=False)
    reader = CredentialFactory(scopes=[STATEMENTS_READ])
    off_tenant = CredentialFactory(tenant=TenantFactory(enabled=False))
    elsewhere = CredentialFactory(tenant=TenantFactory(home_region="other-region"))
    outcome = ingest_batch(
        [message(c, builders.statement()) for c in (disabled, reader, off_tenant, elsewhere)]
    )
    assert reasons(outcome) == [
        "credential_disabled", "not_allowed", "tenant_disabled", "wrong_region",
    ]  # fmt: skip
    assert count() == 0


def test_voiding_a_voiding_statement_is_rejected_alone(producer):
    target = builders.statement()
    voiding = builders.voiding(target["id"])
    ingest_batch([message(producer, target), message(producer, voiding)])
    bad = builders.voiding(voiding["id"])
    fine = builders.statement()
    outcome = ingest_batch([message(producer, fine), message(producer, bad)])
    assert reasons(outcome) == ["rejected"]
    assert count(fine["id"]) == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_is_isolated_and_the_rest_stored():
    """A poison row: the database refuses it (here a trigger standing in for any such
    failure). The batch is split until the one message is found; every other message is
    stored."""
    producer = CredentialFactory(key="delivery-service")
    poison_verb = "https://x.example/verbs/poison"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.verb_id = '{poison_verb}' THEN RAISE EXCEPTION 'poison' "
            "USING ERRCODE = '22023'; END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_poison BEFORE INSERT ON statements "
            "FOR EACH ROW EXECUTE FUNCTION test_poison()"
        )
    try:
        others = [builders.statement() for _ in range(31)]
        poison = builders.statement(verb=poison_verb)
        batch = [message(producer, s) for s in others[:13]] + [message(producer, poison)]
        batch += [message(producer, s) for s in others[13:]]
        outcome = ingest_batch(batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_poison ON statements")
            cursor.execute("DROP FUNCTION test_poison()")
    assert reasons(outcome) == ["database_rejected"]
    assert outcome.dead[0][2] == "22023"
    assert len(outcome.stored) == 31
    assert count() == 31


def test_statements_are_stored_alike_from_nats_and_http(producer):
    """One write service for both ways in: the stored statement is the same."""
    from tests.conftest import XAPIClient

    statement = builders.statement()
    ingest_batch([message(producer, statement)])
    over_http = builders.statement()
    response = XAPIClient(producer).request(
        "post", "/xapi/statements", data=orjson.dumps(over_http), content_type="application/json"
    )
    assert response.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload FROM statements WHERE statement_id = ANY(%s::uuid[]) ORDER BY stored",
            [[statement["id"], over_http["id"]]],
        )
        rows = [orjson.loads(row[0]) for row in cursor.fetchall()]
    for row in rows:
        del row["id"], row["stored"], row["timestamp"]
    assert rows[0] == rows[1]
