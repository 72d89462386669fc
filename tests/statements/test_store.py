"""The statement write service against real PostgreSQL (Data §2.3-2.4, Communication §2.1)."""

import datetime as dt
import threading

import orjson
import psycopg
import pytest
from django.db import connection, connections

from lrs.errors import BadRequest, Conflict
from statements import selectors, services
from statements.consistency import WRITER_APPLICATION_NAME, watermark_read, writer_begin
from statements.xapi.validate import validate_statement
from tenants.auth import Principal
from tests.factories import CredentialFactory
from tests.statements import builders


def principal_for(credential, kind: str = "normal") -> Principal:
    return Principal(
        credential_id=credential.pk,
        credential_key=credential.key,
        tenant_id=credential.tenant_id,
        tenant_slug=credential.tenant.slug,
        scopes=frozenset(credential.scopes),
        kind=kind,
    )


# Real commits: the shortest write path issues BEGIN and COMMIT itself, which it only does
# outside an enclosing transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, params=["two-round-trips", "one-transaction", "copy"])
def write_path(request, monkeypatch):
    """Every rule holds on every write path: small batches in two round trips (falling back
    to a transaction when an id is known), small batches in one transaction, and the rest
    through COPY (forced here by a zero threshold)."""
    if request.param == "one-transaction":
        monkeypatch.setattr(services, "_store_in_two_round_trips", lambda *args: None)
    elif request.param == "copy":
        monkeypatch.setattr(services, "SMALL_BATCH", 0)
    return request.param


@pytest.fixture
def principal(credential):
    return principal_for(credential)


def store(principal, *documents, v2=True):
    statements = [validate_statement(document, v2=v2) for document in documents]
    return services.statements_store(
        principal=principal, statements=statements, v2=v2, received=list(documents)
    )


def fetch(principal, statement_id, voided=False):
    found = selectors.statement_get(
        tenant_id=principal.tenant_id, statement_id=statement_id, voided=voided
    )
    return orjson.loads(found.payload) if found else None


def test_batch_is_stored_with_ids_in_order(principal):
    """Communication §2.1.2: 200 with the ids in the order of the statements."""
    documents = [builders.statement(), builders.statement(with_id=False), builders.statement()]
    ids = store(principal, *documents)
    assert ids[0] == documents[0]["id"]
    assert ids[2] == documents[2]["id"]
    assert len(set(ids)) == 3
    for statement_id in ids:
        assert fetch(principal, statement_id)["id"] == statement_id


def test_lookup_columns_hold_what_the_statement_names_on_every_path(principal):
    """Communication §2.1.3 filters read the lookup columns (statements.xapi.lookups): the
    arrays stored are the statement's agents, related agents, related activities and
    attachment hashes, element for element, including non-ASCII and long identifiers and
    empty arrays, whichever path wrote them."""
    group = {
        "objectType": "Group",
        "name": "Équipe",
        "member": [builders.agent("zoë"), builders.agent("李")],
    }
    long_id = "https://example.org/activities/" + "ü" * 400
    with_arrays = builders.statement(
        obj=group,
        context={
            "instructor": builders.agent("instructor"),
            "contextActivities": {
                "parent": [{"id": long_id}],
                "grouping": [{"id": "https://example.org/κύκλος"}],
            },
        },
    )
    without = builders.statement()
    expected = {}
    for document in (with_arrays, without):
        normalised = validate_statement(document, v2=True)
        prepared = services.statement_prepare(
            normalised, principal=principal, stored=dt.datetime.now(dt.UTC), v2=True
        )
        expected[document["id"]] = prepared.lookups
    store(principal, with_arrays, without)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_id::text, agents, related_agents, related_activities,"
            " attachment_sha2 FROM statements WHERE tenant_id = %s",
            [principal.tenant_id],
        )
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    for statement_id, lookups in expected.items():
        assert rows[statement_id] == (
            list(lookups.agents),
            list(lookups.related_agents),
            list(lookups.related_activities),
            list(lookups.attachment_sha2),
        )
    assert rows[with_arrays["id"]][0]  # the Group's members: not empty
    assert long_id in rows[with_arrays["id"]][2]
    assert rows[without["id"]][0] == []


def statement_refs_rows(tenant_id: int) -> set[tuple[str, str, dt.datetime]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_id::text, target_id::text, stored FROM statement_refs "
            "WHERE tenant_id = %s",
            [tenant_id],
        )
        return set(cursor.fetchall())


def stored_column(tenant_id: int, statement_id: str) -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stored FROM statements WHERE tenant_id = %s AND statement_id = %s",
            [tenant_id, statement_id],
        )
        return cursor.fetchone()[0]


def test_every_statement_ref_object_is_recorded_for_the_filter_rule_on_every_path(principal):
    """Communication §2.1.3 "Filter Conditions for StatementRefs" is answered from
    ``statement_refs`` (migration 0011): each stored statement whose object is a
    StatementRef, voiding or not, has its row there with its ``stored`` time, whichever
    path wrote it; a StatementRef in ``context.statement`` or in a SubStatement is not a
    reference the rule follows, and a re-sent statement records nothing twice."""
    (target,) = store(principal, builders.statement())
    comment = builders.statement(obj={"objectType": "StatementRef", "id": target.upper()})
    in_context = builders.statement(
        context={"statement": {"objectType": "StatementRef", "id": target}}
    )
    sub = builders.statement(
        obj={
            "objectType": "SubStatement",
            "actor": builders.agent(),
            "verb": {"id": builders.EXPERIENCED},
            "object": {"objectType": "StatementRef", "id": target},
        }
    )
    store(principal, comment, in_context, sub)
    store(principal, comment)
    voiding = builders.voiding(target)
    store(principal, voiding)
    tenant = principal.tenant_id
    assert statement_refs_rows(tenant) == {
        (comment["id"], target, stored_column(tenant, comment["id"])),
        (voiding["id"], target, stored_column(tenant, voiding["id"])),
    }


def test_a_refused_batch_records_no_statement_ref(principal):
    """Communication §2.1.2: a batch is stored whole or not at all, its references too."""
    (target,) = store(principal, builders.statement())
    stored_target = builders.statement()
    store(principal, stored_target)
    comment = builders.statement(obj={"objectType": "StatementRef", "id": target})
    changed = dict(stored_target, verb={"id": "https://example.org/verbs/other"})
    with pytest.raises(Conflict):
        store(principal, comment, changed)
    assert statement_refs_rows(principal.tenant_id) == set()


def test_lrs_sets_id_stored_authority_version_and_timestamp(principal):
    """Data §2.4.1 (id), §2.4.7 (timestamp = stored when absent), §2.4.8 (stored),
    §2.4.9 (authority from the credentials), §2.4.10 (version)."""
    document = builders.statement(with_id=False)
    (statement_id,) = store(principal, document, v2=False)
    stored = fetch(principal, statement_id)
    assert stored["stored"].endswith("Z")
    assert stored["timestamp"] == stored["stored"]
    assert stored["version"] == "1.0.0"
    assert stored["authority"] == principal.authority
    (v2_id,) = store(principal, builders.statement())
    assert fetch(principal, v2_id)["version"] == "2.0.0"


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_timestamp_without_a_utc_time_in_the_calendar_is_kept_as_sent(principal, timestamp):
    """Data §2.4.7: a 1.0.x timestamp is kept as sent; one whose UTC time falls outside
    years 1-9999 is served unchanged, and the column the filters and the projector read
    takes ``stored`` instead, so reading it back never fails."""
    (statement_id,) = store(principal, builders.statement(timestamp=timestamp), v2=False)
    served = fetch(principal, statement_id)
    assert served["timestamp"] == timestamp
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT timestamp, stored FROM statements WHERE tenant_id = %s AND statement_id = %s",
            [principal.tenant_id, statement_id],
        )
        column, stored = cursor.fetchone()
    assert column == stored


def test_client_stored_and_authority_are_overwritten(principal):
    """Data §2.4.8: the LRS MUST overwrite stored; §2.4.9: SHOULD overwrite authority."""
    document = builders.statement(
        stored="2001-01-01T00:00:00Z", authority=builders.agent("impostor")
    )
    (statement_id,) = store(principal, document)
    stored = fetch(principal, statement_id)
    assert stored["stored"] != "2001-01-01T00:00:00Z"
    assert stored["authority"] == principal.authority


def test_peer_lrs_keeps_the_submitted_authority(credential):
    """Data §2.4.9: the LRS MAY keep a submitted authority with a strong trust relationship
    (an allowlisted peer LRS)."""
    peer = principal_for(credential, kind="peer")
    original = builders.agent("origin-lrs")
    (statement_id,) = store(peer, builders.statement(authority=original))
    assert fetch(peer, statement_id)["authority"] == original


def test_resending_the_same_statement_is_a_no_op(principal):
    """Communication §2.1.1: a statement with a known id that matches changes nothing."""
    document = builders.statement()
    store(principal, document)
    first = fetch(principal, document["id"])
    assert store(principal, document) == [document["id"]]
    assert fetch(principal, document["id"]) == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM statements WHERE statement_id = %s", [document["id"]])
        assert cursor.fetchone()[0] == 1


def test_same_id_with_different_content_is_a_conflict_and_stores_nothing(principal):
    """Communication §2.1.1: SHOULD return 409 when they do not match; the batch is
    rejected as a whole (§3.2.s3.b9)."""
    document = builders.statement()
    store(principal, document)
    changed = dict(document, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    bystander = builders.statement()
    with pytest.raises(Conflict):
        store(principal, bystander, changed)
    assert fetch(principal, bystander["id"]) is None
    assert fetch(principal, document["id"])["verb"]["id"] == builders.EXPERIENCED


def test_ids_are_per_tenant(db):
    one, two = principal_for(CredentialFactory()), principal_for(CredentialFactory())
    document = builders.statement()
    store(one, document)
    store(two, dict(document, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"}))
    assert fetch(two, document["id"])["verb"]["id"].endswith("attempted")


def test_voiding_hides_the_target_which_stays_fetchable_by_voided_statement_id(principal):
    """Data §2.3.2 and Communication §2.1.4."""
    target = builders.statement()
    store(principal, target)
    store(principal, builders.voiding(target["id"]))
    assert fetch(principal, target["id"]) is None
    assert fetch(principal, target["id"], voided=True)["id"] == target["id"]


def test_a_voiding_statement_cannot_be_voided(principal):
    """Data §2.3.2: any statement that voids another cannot itself be voided."""
    target = builders.statement()
    void = builders.voiding(target["id"])
    store(principal, target, void)
    with pytest.raises(BadRequest, match="cannot be voided"):
        store(principal, builders.voiding(void["id"]))
    other = builders.voiding(target["id"])
    with pytest.raises(BadRequest, match="cannot be voided"):
        store(principal, other, builders.voiding(other["id"]))
    assert fetch(principal, void["id"])["id"] == void["id"]


def test_a_statement_voided_already_may_be_voided_again(principal):
    """Data §2.3.2.s2.b3: a statement is voided if the LRS contains a voiding statement
    referring to it; a second one (in a later batch, in the same batch, or for a target
    that has not arrived) is stored, and the target stays voided."""
    target = builders.statement()
    store(principal, target, builders.voiding(target["id"]))
    again = builders.voiding(target["id"])
    store(principal, again)
    assert fetch(principal, again["id"])["id"] == again["id"]
    assert fetch(principal, target["id"]) is None
    absent = builders.statement()
    twins = [builders.voiding(absent["id"]), builders.voiding(absent["id"])]
    store(principal, *twins)
    store(principal, builders.voiding(absent["id"]))
    store(principal, absent)
    assert fetch(principal, absent["id"]) is None
    assert fetch(principal, absent["id"], voided=True)["id"] == absent["id"]


def test_a_target_arriving_after_its_voiding_statement_is_stored_voided(principal):
    """Data §2.3.2: not rejected for a missing target; the target, when it comes, is
    voided (the LRS contains a voiding statement referring to it)."""
    target = builders.statement()
    store(principal, builders.voiding(target["id"]))
    store(principal, target)
    assert fetch(principal, target["id"]) is None
    assert fetch(principal, target["id"], voided=True) is not None


def test_voiding_and_target_in_one_batch(principal):
    target = builders.statement()
    store(principal, target, builders.voiding(target["id"]))
    assert fetch(principal, target["id"]) is None


def test_two_concurrent_writers_of_one_id_cannot_both_store_it():
    """Race-safety on two real connections: the registry's primary key orders them."""
    principal = principal_for(CredentialFactory())
    documents = [builders.statement(), builders.statement()]
    documents[1]["id"] = documents[0]["id"]
    documents[1]["verb"] = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
    barrier = threading.Barrier(2)
    outcomes = []

    def write(document):
        try:
            barrier.wait()
            store(principal, document)
            outcomes.append("stored")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict", "stored"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM statements WHERE statement_id = %s", [documents[0]["id"]]
        )
        assert cursor.fetchone()[0] == 1


def test_concurrent_batches_sharing_ids_do_not_deadlock():
    """Ids are claimed in sorted order, so overlapping batches queue, never deadlock."""
    principal = principal_for(CredentialFactory())
    shared = [builders.statement() for _ in range(20)]
    barrier = threading.Barrier(2)
    errors = []

    def write(batch):
        try:
            barrier.wait()
            store(principal, *batch)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=write, args=(shared,)),
        threading.Thread(target=write, args=(list(reversed(shared)),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_consistent_through_never_passes_an_open_writer():
    """Communication §2.1.3: every statement stored before the header's time is available.
    A writer still in flight holds the value at or before its stored time."""
    principal = principal_for(CredentialFactory())
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            stored = writer_begin(cursor)
        before_commit = watermark_read().consistent_through
        assert before_commit <= stored
        other.rollback()
        after = watermark_read().consistent_through
        assert after > stored
    finally:
        other.close()
    (statement_id,) = store(principal, builders.statement())
    found = selectors.statement_get(
        tenant_id=principal.tenant_id, statement_id=statement_id, voided=False
    )
    assert found.stored <= watermark_read().consistent_through


def test_a_writer_of_another_database_does_not_hold_consistent_through_back():
    """Communication §2.1.3: the header covers this LRS's statements; a transaction marked
    as a writer in another database of the same server writes none of them."""
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password")},
        dbname="postgres",
        application_name=WRITER_APPLICATION_NAME,
    )
    try:
        other.execute("SELECT 1")  # the transaction is open from here on
        started = other.execute("SELECT now()").fetchone()[0]
        assert watermark_read().consistent_through > started
    finally:
        other.close()


def test_stored_rows_land_in_the_current_months_partition(principal):
    (statement_id,) = store(principal, builders.statement())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, stored FROM statements WHERE statement_id = %s",
            [statement_id],
        )
        table, stored = cursor.fetchone()
    assert table.startswith(f"statements_y{stored.year:04d}m{stored.month:02d}_h")
    assert abs(stored - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_a_batch_with_a_known_id_stores_its_new_statements_with_their_own_stored(principal):
    """A batch that must be retried on another path (a re-sent id) is prepared afresh:
    a new statement's timestamp is the stored time it actually got (Data §2.4.7)."""
    first = builders.statement()
    store(principal, first)
    new = builders.statement()
    assert store(principal, first, new) == [first["id"], new["id"]]
    stored = fetch(principal, new["id"])
    assert stored["timestamp"] == stored["stored"]
