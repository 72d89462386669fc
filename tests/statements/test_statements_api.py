"""/xapi/statements over HTTP, for xAPI 1.0.3 and 2.0 (Communication §2.1, §1.3, §3.2)."""

import datetime as dt
import time
import uuid
from urllib.parse import urlencode

import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from statements import consistency
from tests.conftest import XAPIClient, basic
from tests.factories import CredentialFactory
from tests.statements import builders

# Real commits: the query cache is invalidated after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/xapi/statements"
VERSIONS = ["1.0.3", "2.0.0"]


def body(response):
    return orjson.loads(response.content)


def post(client: XAPIClient, documents, **extra):
    return client.request(
        "post", URL, data=orjson.dumps(documents), content_type="application/json", **extra
    )


def put(client: XAPIClient, document, statement_id, **extra):
    return client.request(
        "put",
        f"{URL}?statementId={statement_id}",
        data=orjson.dumps(document),
        content_type="application/json",
        **extra,
    )


def get(client: XAPIClient, **params):
    query = urlencode(
        {k: orjson.dumps(v).decode() if isinstance(v, dict) else v for k, v in params.items()}
    )
    return client.get(f"{URL}?{query}" if query else URL)


@pytest.fixture(params=VERSIONS)
def client(request, credential):
    return XAPIClient(credential, version=request.param)


# --- writes -----------------------------------------------------------------------------------


def test_put_stores_a_statement_and_answers_204(client):
    """§2.1.1: PUT stores a single statement with the given id; 204 No Content."""
    document = builders.statement(with_id=False)
    statement_id = str(uuid.uuid4())
    response = put(client, document, statement_id)
    assert response.status_code == 204, response.content
    assert response.content == b""
    fetched = get(client, statementId=statement_id)
    assert body(fetched)["id"] == statement_id


def test_put_needs_statement_id(client):
    response = client.request("put", URL, data=b"{}", content_type="application/json")
    assert response.status_code == 400
    assert body(response)["path"] == "statementId"


@pytest.mark.parametrize(
    "statement_id",
    [f"{uuid.uuid4()}%0A", f"{{{uuid.uuid4()}}}", f"urn:uuid:{uuid.uuid4()}", "not-a-uuid"],
)
def test_put_statement_id_must_be_a_uuid_in_standard_form(client, statement_id):
    """Data §4.4 (UUIDs in standard string form), applied to the statementId parameter:
    a trailing newline, braces or a URN prefix are a 400 naming the parameter, and nothing
    is stored."""
    response = put(client, builders.statement(with_id=False), statement_id)
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "statementId"
    assert body(get(client))["statements"] == []


def test_put_rejects_an_id_that_differs_from_statement_id(client):
    """§2.1.1: where provided, the id MUST match the statementId parameter."""
    document = builders.statement()
    response = put(client, document, str(uuid.uuid4()))
    assert response.status_code == 400
    assert body(response)["path"] == "id"


def test_post_answers_200_with_ids_in_order(client):
    """§2.1.2: 200 OK with the array of ids in the order of the statements."""
    documents = [builders.statement(), builders.statement(with_id=False)]
    response = post(client, documents)
    assert response.status_code == 200, response.content
    ids = body(response)
    assert ids[0] == documents[0]["id"]
    assert len(ids) == 2
    uuid.UUID(ids[1])


def test_post_single_statement(client):
    response = post(client, builders.statement())
    assert response.status_code == 200
    assert len(body(response)) == 1


def test_an_invalid_statement_rejects_the_whole_batch_with_its_path(client):
    """§3.2.s3.b9: a batch is rejected if any statement in it is; the error names where."""
    good = builders.statement()
    bad = builders.statement()
    bad["context"] = {"contextActivities": {"parent": [{"id": "not an iri"}]}}
    response = post(client, [good, bad])
    assert response.status_code == 400
    assert body(response)["path"] == "[1].context.contextActivities.parent[0].id"
    assert get(client, statementId=good["id"]).status_code == 404


def test_duplicate_ids_in_one_batch_are_rejected(client):
    """§2.1.2: a batch with two statements of the same id SHOULD* be rejected with 400."""
    first = builders.statement()
    second = builders.statement()
    second["id"] = first["id"]
    assert post(client, [first, second]).status_code == 400


def test_same_id_same_content_is_accepted_again(client):
    document = builders.statement()
    assert post(client, [document]).status_code == 200
    assert put(client, document, document["id"]).status_code == 204


@pytest.mark.parametrize("first", ["put", "post"])
def test_posting_only_statements_already_stored_is_a_204_and_changes_nothing(client, first):
    """§2.1.2.s2.b4: "An LRS MUST NOT make any modifications to its state based on receiving
    a Statement with an id that it already has a Statement for. Whether it responds with
    409 Conflict or 204 No Content, it MUST NOT modify the Statement": a POST of one
    statement stored already answers 204, and the stored statement is as it was. A batch
    of known statements keeps its 200 and the id array, which clients posting arrays
    read."""
    document = builders.statement()
    if first == "put":
        assert put(client, document, document["id"]).status_code == 204
    else:
        assert post(client, document).status_code == 200
    before = body(get(client, statementId=document["id"]))
    again = post(client, document)
    assert again.status_code == 204
    assert again.content == b""
    other = builders.statement()
    post(client, other)
    batch = post(client, [document, other])
    assert batch.status_code == 200
    assert body(batch) == [document["id"], other["id"]]
    assert body(get(client, statementId=document["id"])) == before


def test_a_batch_mixing_stored_and_new_statements_is_a_200_with_every_id(client):
    """§2.1.2: the new statements are stored, the known ones left as they were; the
    answer lists every id in order."""
    known = builders.statement()
    post(client, known)
    fresh = builders.statement()
    response = post(client, [known, fresh])
    assert response.status_code == 200
    assert body(response) == [known["id"], fresh["id"]]


def test_same_id_different_content_is_a_409(client):
    """§2.1.1: SHOULD return 409 Conflict if they do not match."""
    document = builders.statement()
    post(client, [document])
    changed = dict(document, object=builders.activity("another"))
    response = post(client, [changed])
    assert response.status_code == 409
    assert body(response)["error"] == "conflict"


def test_malformed_json_is_a_400(client):
    response = client.request("post", URL, data=b"{not json", content_type="application/json")
    assert response.status_code == 400


def test_other_content_types_are_rejected(client):
    """§3.2.s3.b6: the content type must match the content."""
    response = client.request(
        "post", URL, data=orjson.dumps(builders.statement()), content_type="text/plain"
    )
    assert response.status_code == 400


def test_oversized_request_is_a_413(client, settings):
    """§3.2.s3.b11: 413 for a request larger than the LRS accepts."""
    settings.PROGRESS_MAX_REQUEST_BYTES = 2048
    document = builders.statement(result={"response": "x" * 4096})
    assert post(client, document).status_code == 413


def test_unknown_parameters_are_rejected(client):
    """§3.2.s3.b7/b8: unrecognised parameters, or recognised ones in the wrong case: 400."""
    assert client.get(f"{URL}?verbose=true").status_code == 400
    assert client.get(f"{URL}?StatementId={uuid.uuid4()}").status_code == 400
    response = client.request(
        "post", f"{URL}?statementId={uuid.uuid4()}", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 400


def test_statements_write_scope_cannot_read_and_read_cannot_write(db):
    writer = XAPIClient(CredentialFactory(scopes=["statements/write"]))
    reader = XAPIClient(CredentialFactory(scopes=["statements/read"]))
    assert post(writer, builders.statement()).status_code == 200
    assert get(writer).status_code == 403
    assert post(reader, builders.statement()).status_code == 403
    assert get(reader).status_code == 200


# --- reads: single ----------------------------------------------------------------------------


def test_get_by_id_returns_the_stored_statement_with_last_modified(client):
    """§2.1.3: a single statement by statementId; Last-Modified matches stored."""
    document = builders.statement()
    post(client, [document])
    response = get(client, statementId=document["id"])
    assert response.status_code == 200
    statement = body(response)
    assert statement["id"] == document["id"]
    assert statement["actor"] == document["actor"]
    assert "Last-Modified" in response
    assert "X-Experience-API-Consistent-Through" in response


def test_unknown_statement_is_a_404(client):
    assert get(client, statementId=str(uuid.uuid4())).status_code == 404


def test_statement_id_and_voided_statement_id_together_are_rejected(client):
    """§2.1.3: MUST reject requests with both statementId and voidedStatementId."""
    response = get(client, statementId=str(uuid.uuid4()), voidedStatementId=str(uuid.uuid4()))
    assert response.status_code == 400


@pytest.mark.parametrize("other", [{"verb": builders.EXPERIENCED}, {"limit": "1"}])
def test_statement_id_with_other_parameters_is_rejected(client, other):
    """§2.1.3: statementId/voidedStatementId with any parameter but attachments/format."""
    assert get(client, statementId=str(uuid.uuid4()), **other).status_code == 400


def test_statement_id_accepts_format_and_attachments(client):
    document = builders.statement()
    post(client, [document])
    response = get(client, statementId=document["id"], format="ids", attachments="false")
    assert response.status_code == 200


def test_voided_statement_only_by_voided_statement_id(client):
    """§2.1.4: voided statements are returned only when requested by voidedStatementId."""
    target = builders.statement()
    post(client, [target, builders.voiding(target["id"])])
    assert get(client, statementId=target["id"]).status_code == 404
    response = get(client, voidedStatementId=target["id"])
    assert response.status_code == 200
    assert body(response)["id"] == target["id"]
    listed = [s["id"] for s in body(get(client))["statements"]]
    assert target["id"] not in listed


def test_voided_statement_id_of_a_live_statement_is_a_404(client):
    document = builders.statement()
    post(client, [document])
    assert get(client, voidedStatementId=document["id"]).status_code == 404


# --- reads: queries ---------------------------------------------------------------------------


def test_query_returns_a_statement_result_newest_first(client):
    """§2.1.3 and Data §2.5: a StatementResult, in reverse order of stored."""
    ids = [body(post(client, builders.statement()))[0] for _ in range(3)]
    result = body(get(client))
    assert [s["id"] for s in result["statements"]][:3] == list(reversed(ids))
    assert result["more"] == ""


def test_ascending_returns_oldest_first(client):
    ids = [body(post(client, builders.statement()))[0] for _ in range(3)]
    result = body(get(client, ascending="true"))
    assert [s["id"] for s in result["statements"]] == ids


def test_empty_result_is_still_200_with_an_empty_array(client):
    """§2.1.3: no matching statements: 200 and an empty "statements" array."""
    response = get(client, verb="http://example.org/verbs/never")
    assert response.status_code == 200
    assert body(response)["statements"] == []


def test_filters_by_agent_verb_activity_and_registration(client):
    registration = str(uuid.uuid4())
    alice, bob = builders.agent("alice"), builders.agent("bob")
    a = builders.statement(actor=alice, context={"registration": registration})
    b = builders.statement(actor=bob, verb="http://adlnet.gov/expapi/verbs/completed")
    c = builders.statement(actor=bob, obj=builders.activity("other"))
    post(client, [a, b, c])

    def ids(**params):
        return {s["id"] for s in body(get(client, **params))["statements"]}

    assert ids(agent=alice) == {a["id"]}
    assert ids(agent=bob) == {b["id"], c["id"]}
    assert ids(verb="http://adlnet.gov/expapi/verbs/completed") == {b["id"]}
    assert ids(activity="https://courses.example.org/other") == {c["id"]}
    assert ids(registration=registration) == {a["id"]}
    assert ids(agent=bob, activity="https://courses.example.org/course-1") == {b["id"]}


def test_agent_filter_matches_the_object_and_group_members(client):
    """§2.1.3 agent: the Agent or Group as Actor or Object; Groups with a matching member."""
    carol = builders.agent("carol")
    as_object = builders.statement(obj=dict(carol))
    group = {"objectType": "Group", "member": [carol, builders.agent("dave")]}
    as_member = builders.statement(actor=group)
    post(client, [as_object, as_member])
    found = {s["id"] for s in body(get(client, agent=carol))["statements"]}
    assert found == {as_object["id"], as_member["id"]}


def test_related_activities_and_related_agents_broaden_the_filters(client):
    """§2.1.3 related_activities / related_agents."""
    parent = "https://courses.example.org/parent"
    instructor = builders.agent("instructor")
    document = builders.statement(
        context={"contextActivities": {"parent": [{"id": parent}]}, "instructor": instructor}
    )
    post(client, [document])
    assert body(get(client, activity=parent))["statements"] == []
    found = body(get(client, activity=parent, related_activities="true"))["statements"]
    assert [s["id"] for s in found] == [document["id"]]
    assert body(get(client, agent=instructor))["statements"] == []
    found = body(get(client, agent=instructor, related_agents="true"))["statements"]
    assert [s["id"] for s in found] == [document["id"]]


def test_statements_targeting_a_match_also_match(client):
    """§2.1.3 Filter Conditions for StatementRefs: a statement targeting a matching
    statement matches too, recursively; voided targets still count (§2.1.4)."""
    ben = builders.agent("ben")
    passed = builders.statement(actor=ben, verb="http://adlnet.gov/expapi/verbs/passed")
    confirm = builders.statement(
        actor=builders.agent("andrew"),
        verb="http://example.org/verbs/confirmed",
        obj={"objectType": "StatementRef", "id": passed["id"]},
    )
    comment = builders.statement(
        actor=builders.agent("zoe"),
        verb="http://example.org/verbs/commented",
        obj={"objectType": "StatementRef", "id": confirm["id"]},
    )
    post(client, [passed, confirm, comment])
    found = {s["id"] for s in body(get(client, agent=ben))["statements"]}
    assert found == {passed["id"], confirm["id"], comment["id"]}
    post(client, [builders.voiding(passed["id"])])
    found = {s["id"] for s in body(get(client, agent=ben))["statements"]}
    assert passed["id"] not in found
    assert {confirm["id"], comment["id"]} <= found


def test_since_is_exclusive_and_until_inclusive(client):
    first = body(post(client, builders.statement()))[0]
    stored = body(get(client, statementId=first))["stored"]
    second = body(post(client, builders.statement()))[0]
    after = {s["id"] for s in body(get(client, since=stored))["statements"]}
    assert first not in after
    assert second in after
    upto = {s["id"] for s in body(get(client, until=stored))["statements"]}
    assert first in upto
    assert second not in upto


@pytest.mark.parametrize("name", ["since", "until"])
def test_since_and_until_take_timestamps_across_the_whole_calendar(client, name):
    """§2.1.3: ``since`` and ``until`` are Timestamps (Data §4.5, ISO 8601 years 0001-9999);
    a statement stored now is after the first and before the last."""
    stored = body(post(client, builders.statement()))[0]
    for value, found in (("0999-01-01T00:00:00Z", name == "since"),
                         ("9999-12-31T23:00:00Z", name == "until")):  # fmt: skip
        response = get(client, **{name: value})
        assert response.status_code == 200
        ids = {s["id"] for s in body(response)["statements"]}
        assert (stored in ids) is found


@pytest.mark.parametrize("value", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_timestamp_parameter_outside_the_calendar_in_utc_is_a_400(client, value):
    """A bound that has no UTC time in years 0001-9999 cannot be compared with ``stored``."""
    response = get(client, since=value)
    assert response.status_code == 400
    assert body(response)["path"] == "since"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "-1"),
        ("limit", "ten"),
        ("format", "full"),
        ("ascending", "yes"),
        ("since", "yesterday"),
        ("registration", "not-a-uuid"),
        ("agent", "{not json"),
        ("agent", '{"name": "no ifi"}'),
        ("verb", "not an iri"),
        ("verb", "1:2"),
        ("activity", '{"key": "value"}'),
        ("activity", ":abc"),
    ],
)
def test_malformed_query_parameters_are_400s_naming_them(client, name, value):
    """Data §2.2.s4.b4: parameter values are validated as the same values in Statements
    (an IRI with no scheme, or not following the IRI format, is refused, §2.2.s4.b1.b8)."""
    response = client.get(f"{URL}?{urlencode({name: value})}")
    assert response.status_code == 400
    assert body(response)["path"].startswith(name)


@pytest.mark.parametrize(
    ("true", "false"), [("True", "False"), ("TRUE", "FALSE"), ("tRuE", "fAlSe")]
)
def test_boolean_parameters_are_read_in_any_case(client, true, false):
    """Communication §2.1.3: ``ascending`` (and the other flags) is a Boolean; its spelling
    in a query string is not the spec's, and clients write their language's (TinCanPython
    sends ``True``): any case of true or false is the Boolean."""
    first, second = builders.statement(), builders.statement()
    post(client, first)
    post(client, second)
    oldest_first = body(get(client, ascending=true))["statements"]
    assert [s["id"] for s in oldest_first] == [first["id"], second["id"]]
    newest_first = body(get(client, ascending=false))["statements"]
    assert [s["id"] for s in newest_first] == [second["id"], first["id"]]


def test_limit_zero_means_the_server_maximum(client, settings):
    settings.PROGRESS_STATEMENT_LIMIT_MAX = 2
    for _ in range(3):
        post(client, builders.statement())
    assert len(body(get(client, limit="0"))["statements"]) == 2
    assert len(body(get(client, limit="50"))["statements"]) == 2
    assert len(body(get(client, limit="1"))["statements"]) == 1


def test_more_pages_through_everything_once_and_stays_stable(client):
    """Data §2.5: "more" continues the query; keyset pages are not disturbed by new writes."""
    ids = [body(post(client, builders.statement()))[0] for _ in range(7)]
    seen = []
    result = body(get(client, limit="3"))
    seen += [s["id"] for s in result["statements"]]
    post(client, builders.statement())  # arrives while paging: must not shift later pages
    while result["more"]:
        assert result["more"].startswith(URL + "?more=")
        result = body(client.get(result["more"]))
        seen += [s["id"] for s in result["statements"]]
    assert seen == list(reversed(ids))


def test_more_token_is_tamper_proof_and_tenant_bound(client, credential):
    for _ in range(3):
        post(client, builders.statement())
    more = body(get(client, limit="1"))["more"]
    assert client.get(more).status_code == 200
    tampered = more[:-3] + ("AAA" if not more.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    stranger = XAPIClient(CredentialFactory())
    assert stranger.get(more).status_code == 400


def test_formats_ids_and_canonical(client):
    """§2.1.3 format: ids keeps only identifying properties; canonical applies
    Accept-Language to each language map."""
    document = builders.statement()
    post(client, [document])
    ids = body(get(client, statementId=document["id"], format="ids"))
    assert "definition" not in ids["object"]
    assert "display" not in ids["verb"]
    canonical = client.get(
        f"{URL}?statementId={document['id']}&format=canonical", HTTP_ACCEPT_LANGUAGE="fr-FR"
    )
    assert body(canonical)["object"]["definition"]["name"] == {"fr-FR": "Cours course-1"}


def test_a_1_0_3_reader_is_not_served_2_0_only_properties(credential):
    """ARCHITECTURE.md §8: a 1.0.3 reader must not receive 2.0-only properties."""
    writer = XAPIClient(credential, version="2.0.0")
    document = builders.statement(
        context={
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": builders.agent("mentor"),
                    "relevantTypes": ["https://example.org/types/mentor"],
                }
            ]
        }
    )
    assert post(writer, [document]).status_code == 200
    old = body(get(XAPIClient(credential, version="1.0.3"), statementId=document["id"]))
    assert "contextAgents" not in old.get("context", {})
    new = body(get(writer, statementId=document["id"]))
    assert "contextAgents" in new["context"]


def test_every_response_carries_consistent_through_errors_included(client):
    """§2.1.3: X-Experience-API-Consistent-Through on all responses of this resource."""
    for response in (get(client), get(client, limit="bad"), post(client, {"bad": 1})):
        value = response["X-Experience-API-Consistent-Through"]
        parsed = dt.datetime.fromisoformat(value)
        assert parsed <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def _consistent_through(response) -> dt.datetime:
    return dt.datetime.fromisoformat(response["X-Experience-API-Consistent-Through"])


@pytest.fixture
def watermark_kept(monkeypatch):
    """A process keeps its watermark for a minute here, not a tenth of a second, so what
    these tests see depends on write marks alone, never on how fast the machine is."""
    monkeypatch.setattr(consistency, "_WATERMARK_SECONDS", 60.0)
    consistency.watermark_forget()
    yield
    consistency.watermark_forget()


def test_consistent_through_is_not_before_what_the_reader_just_stored(client, watermark_kept):
    """§2.1.3.s2.b5: all statements stored before the header's time are available. A
    process reuses a watermark briefly, but a credential's read right after its own write
    gets one taken after that write: its statement is not beyond the header."""
    get(client)  # this process now holds a watermark from before the write
    document = builders.statement()
    assert post(client, document).status_code == 200
    page = get(client)
    stored = dt.datetime.fromisoformat(body(page)["statements"][0]["stored"])
    assert _consistent_through(page) >= stored
    assert _consistent_through(get(client, statementId=document["id"])) >= stored


def test_a_statement_read_by_id_is_not_beyond_the_header(client, watermark_kept):
    """§2.1.3.s2.b5, for a single statement: one newer than the watermark the process
    reuses gets one read after it; an older one reuses it (no query for it)."""
    older = builders.statement()
    post(client, older)
    get(client)  # a watermark from after the first write is now cached
    newer = builders.statement()
    post(client, newer)
    response = get(client, statementId=newer["id"])
    assert _consistent_through(response) >= dt.datetime.fromisoformat(body(response)["stored"])
    with CaptureQueriesContext(connection) as queries:
        get(client, statementId=older["id"])
    assert not [q for q in queries.captured_queries if "pg_stat_get_activity" in q["sql"]]


def _watermark_reads(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        get(client)
        get(client)
    return len([q for q in queries.captured_queries if "pg_stat_get_activity" in q["sql"]])


def test_reads_reuse_the_watermark_until_the_credential_writes(client, credential, watermark_kept):
    """The watermark (read from the backends' activity) is read at most once per write mark:
    repeated reads reuse it, and another credential's write does not make them read it."""
    get(client)
    post(XAPIClient(CredentialFactory(tenant=credential.tenant)), builders.statement())
    assert _watermark_reads(client) == 0
    post(client, builders.statement())
    assert _watermark_reads(client) == 1


def test_head_returns_headers_without_a_body(client):
    """§1.1: HEAD as GET without the body."""
    response = client.request("head", URL)
    assert response.status_code == 200
    assert response.content == b""
    assert "X-Experience-API-Consistent-Through" in response


# --- statements/read/mine -------------------------------------------------------------------


def test_read_mine_only_returns_statements_with_the_callers_authority(db):
    """§4.2: statements/read/mine reads statements whose authority is the caller's."""
    mine = CredentialFactory(scopes=["statements/write", "statements/read/mine"])
    other = CredentialFactory(tenant=mine.tenant, scopes=["all"])
    me, them = XAPIClient(mine), XAPIClient(other)
    own = body(post(me, builders.statement()))[0]
    foreign = body(post(them, builders.statement()))[0]
    listed = {s["id"] for s in body(get(me))["statements"]}
    assert listed == {own}
    assert get(me, statementId=foreign).status_code == 404
    assert {own, foreign} <= {s["id"] for s in body(get(them))["statements"]}


def test_tenants_never_see_each_others_statements(db):
    one, two = XAPIClient(CredentialFactory()), XAPIClient(CredentialFactory())
    statement_id = body(post(one, builders.statement()))[0]
    assert get(two, statementId=statement_id).status_code == 404
    assert body(get(two))["statements"] == []


# --- alternate request syntax ---------------------------------------------------------------


def alternate(credential, method, version, *, content=None, **params):
    form = {"Authorization": basic(credential.key), "X-Experience-API-Version": version, **params}
    if content is not None:
        form["content"] = orjson.dumps(content).decode()
        form["Content-Type"] = "application/json"
    return Client().post(
        f"{URL}?method={method}",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )


def test_alternate_request_syntax_is_accepted_in_1_0_3(credential):
    """§1.3: the LRS MUST support the alternate request syntax."""
    document = builders.statement()
    stored = alternate(credential, "PUT", "1.0.3", content=document, statementId=document["id"])
    assert stored.status_code == 204, stored.content
    fetched = alternate(credential, "GET", "1.0.3", statementId=document["id"])
    assert fetched.status_code == 200
    assert body(fetched)["id"] == document["id"]


def test_alternate_request_syntax_is_rejected_in_2_0(credential):
    """ARCHITECTURE.md §8: 2.0 rejects the alternate request syntax."""
    response = alternate(credential, "GET", "2.0.0")
    assert response.status_code == 400


def test_alternate_request_syntax_allows_no_other_query_parameters(credential):
    """§1.3: the LRP MUST NOT include other query string parameters."""
    response = Client().post(
        f"{URL}?method=GET&limit=1",
        data=urlencode(
            {"Authorization": basic(credential.key), "X-Experience-API-Version": "1.0.3"}
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


# --- the query cache --------------------------------------------------------------------------


def test_cached_query_is_served_until_a_write_bumps_the_generation(credential):
    client = XAPIClient(credential)
    post(client, builders.statement())
    first = get(client, limit="5")
    with CaptureQueriesContext(connection) as queries:
        again = get(client, limit="5")
    # At most the consistency watermark is read; the page itself comes from Redis.
    assert not [q for q in queries.captured_queries if "FROM statements s" in q["sql"]]
    assert again.content == first.content
    new = body(post(client, builders.statement()))[0]
    assert body(get(client, limit="5"))["statements"][0]["id"] == new


def test_cache_entries_expire(credential, settings):
    settings.PROGRESS_QUERY_CACHE_SECONDS = 1
    client = XAPIClient(credential)
    post(client, builders.statement())
    get(client)
    time.sleep(1.2)
    assert get(client).status_code == 200
