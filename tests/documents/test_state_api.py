"""The State Resource over HTTP (Communication §2.2, §2.3, §3.1), in xAPI 1.0.3 and 2.0.

Behaviour the two versions share is parametrized over both; where they differ (a PUT
without precondition headers over an existing document, the alternate request syntax) each
version has its own test.
"""

import datetime as dt
import json
import re
from urllib.parse import urlencode

import orjson
import pytest
from django.test import Client
from django.utils import timezone
from django.utils.http import parse_http_date

from documents.models import Document
from tests.conftest import XAPIClient, basic
from tests.documents.helpers import error_of, ids_of, post, put, quoted_sha1, send
from tests.factories import CredentialFactory

pytestmark = pytest.mark.django_db

STATE = "/xapi/activities/state"
ACTIVITY = "https://example.com/courses/algebra/au/1"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
OTHER_AGENT = {"objectType": "Agent", "mbox": "mailto:someone.else@example.com"}
REGISTRATION = "760e3480-ba55-4991-94b0-01820dbd23a2"
OTHER_REGISTRATION = "0f4b6d1e-7a53-4c1e-9a51-6a3c2c9b8d10"
OMIT = object()


def state_url(state_id=None, *, activity=ACTIVITY, agent=AGENT, registration=None, **extra):
    """The State Resource URL; ``activity=OMIT`` / ``agent=OMIT`` leave a parameter out, a
    str agent is sent as is (for malformed values)."""
    params = {}
    if activity is not OMIT:
        params["activityId"] = activity
    if agent is not OMIT:
        params["agent"] = agent if isinstance(agent, str) else orjson.dumps(agent).decode()
    if registration is not None:
        params["registration"] = registration
    if state_id is not None:
        params["stateId"] = state_id
    params.update(extra)
    return f"{STATE}?{urlencode(params)}"


def snapshot() -> list[tuple]:
    """Every stored document, for "nothing changed" checks."""
    return [
        (document_id, bytes(content), content_type, etag, updated)
        for document_id, content, content_type, etag, updated in Document.objects.order_by(
            "pk"
        ).values_list("document_id", "content", "content_type", "etag", "updated")
    ]


# --- storing and reading ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{ "b" : 1,\n  "a" : [1, 2.50, "\\u00e9"] }', "application/json"),
        (b"plain text, caf\xc3\xa9", "text/plain; charset=utf-8"),
        (bytes(range(256)) * 4, "application/octet-stream"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"a=1&b=%20two", "application/x-www-form-urlencoded"),
        (
            b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
            "multipart/form-data; boundary=xyz",
        ),
        (b"", "text/plain"),
    ],
)
def test_put_then_get_returns_the_document_byte_for_byte_with_its_content_type(
    lrs, content, content_type
):
    """§2.2.s2: "contents" is arbitrary binary data; §2.3.s3: GET returns the State
    document. Not re-serialized (JSON whitespace and number forms survive), Content-Type as
    sent."""
    url = state_url("bookmark", registration=REGISTRATION)
    assert put(lrs, url, content, content_type).status_code == 204
    response = lrs.get(url)
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == content_type


def test_put_and_post_answer_204_carrying_the_new_etag(lrs):
    """§2.3.s3: 204 No Content; the new document's ETag comes with it (design reading), so
    a client can send it in If-Match next without a GET."""
    url = state_url("progress")
    response = put(lrs, url, b'{"page": 1}')
    assert response.status_code == 204
    assert response.content == b""
    assert response["ETag"] == quoted_sha1(b'{"page": 1}')
    response = post(lrs, url, b'{"done": false}', HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 204
    merged = lrs.get(url).content
    assert response["ETag"] == quoted_sha1(merged)


def test_get_carries_a_quoted_lowercase_sha1_etag_and_last_modified(lrs):
    """§3.1.s4.b1-b4: an ETag, quoted, the lowercase hex SHA-1 of the contents; §2.2.s6.b1
    (and xAPI 2.0 for every document GET): Last-Modified, an HTTP-date of the update."""
    content = b'{"Location": "Chapter 3"}'
    url = state_url("bookmark")
    put(lrs, url, content)
    response = lrs.get(url)
    assert re.fullmatch(r'"[0-9a-f]{40}"', response["ETag"])
    assert response["ETag"] == quoted_sha1(content)
    assert response["Last-Modified"].endswith(" GMT")
    updated = Document.objects.get(document_id="bookmark").updated
    assert parse_http_date(response["Last-Modified"]) == int(updated.timestamp())
    assert abs(parse_http_date(response["Last-Modified"]) - timezone.now().timestamp()) < 60


def test_last_modified_follows_the_latest_write(lrs):
    """§2.2.s6.b1: "when the document was last modified", not when it was created."""
    url = state_url("bookmark")
    put(lrs, url, b'{"a": 1}')
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Document.objects.update(updated=long_ago)
    assert parse_http_date(lrs.get(url)["Last-Modified"]) == int(long_ago.timestamp())
    post(lrs, url, b'{"b": 2}')
    assert parse_http_date(lrs.get(url)["Last-Modified"]) > int(long_ago.timestamp())


def test_head_answers_like_get_without_the_body(lrs):
    """Communication §1.1.s3.b1: HEAD returns what GET would, less the message-body."""
    content = b'{"Location": "Chapter 3"}'
    url = state_url("bookmark")
    put(lrs, url, content)
    got = lrs.get(url)
    head = lrs.request("head", url)
    assert head.status_code == 200
    assert head.content == b""
    for header in ("ETag", "Last-Modified", "Content-Type"):
        assert head[header] == got[header]
    assert head.get("Content-Length") in (None, str(len(content)))
    assert lrs.request("head", state_url("missing")).status_code == 404


def test_get_of_a_missing_document_is_a_404(lrs):
    """§2.3.s3: GET fetches "the document specified by the given stateId"; none, 404."""
    put(lrs, state_url("other"))
    body = error_of(lrs.get(state_url("missing")), 404)
    assert body["error"] == "not_found"


def test_documents_are_unrelated_to_prior_knowledge_of_the_activity_or_agent(lrs):
    """§2.2.s4.b2: the LRS MUST NOT reject documents for unknown Activities or Agents."""
    url = state_url("s", activity="urn:never-seen:activity", agent={"openid": "https://o.x/y"})
    assert put(lrs, url).status_code == 204
    assert lrs.get(url).status_code == 200


# --- POST: the JSON merge ---------------------------------------------------------------


def test_post_merges_top_level_properties(lrs):
    """§2.2.s7 (its example): posting {"x": "bash", "z": "faz"} over {"x": "foo", "y":
    "bar"} stores {"x": "bash", "y": "bar", "z": "faz"}; §2.2.s8.b2: 204."""
    url = state_url("vars", registration=REGISTRATION)
    put(lrs, url, b'{"x": "foo", "y": "bar"}')
    response = post(lrs, url, b'{"x": "bash", "z": "faz"}')
    assert response.status_code == 204
    got = lrs.get(url)
    assert orjson.loads(got.content) == {"x": "bash", "y": "bar", "z": "faz"}
    assert got["Content-Type"].startswith("application/json")
    assert got["ETag"] == quoted_sha1(got.content)


def test_post_merge_replaces_nested_objects_whole(lrs):
    """§2.2.s7: "only top-level properties are merged, even if a top-level property is an
    Object. The entire contents of each original property are replaced"."""
    url = state_url("vars")
    put(lrs, url, b'{"a": {"p": 1, "q": 2}, "list": [1, 2, 3], "keep": true}')
    assert post(lrs, url, b'{"a": {"r": 3}, "list": [9]}').status_code == 204
    assert orjson.loads(lrs.get(url).content) == {"a": {"r": 3}, "list": [9], "keep": True}


def test_post_merge_accepts_json_with_media_type_parameters(lrs):
    """§2.2.s7: a content type of application/json; parameters do not change the type."""
    url = state_url("vars")
    put(lrs, url, b'{"x": 1}', "application/json; charset=utf-8")
    response = post(lrs, url, b'{"y": 2}', "application/json; charset=UTF-8")
    assert response.status_code == 204
    assert orjson.loads(lrs.get(url).content) == {"x": 1, "y": 2}


def test_post_creates_a_document_that_does_not_exist(lrs):
    """§2.3.s3: POST "stores ... the document specified"; with nothing to merge into, the
    posted document is stored as sent."""
    url = state_url("new", registration=REGISTRATION)
    content = b'{"fresh": [1, 2]}'
    response = post(lrs, url, content)
    assert response.status_code == 204
    assert response["ETag"] == quoted_sha1(content)
    got = lrs.get(url)
    assert got.content == content
    assert got["Content-Type"] == "application/json"


def test_post_of_another_content_type_creates_a_document_as_sent(lrs):
    """§2.3.s3 (design reading, docs/documents.md): with no document to merge into, a POST
    of another content type stores it byte for byte; §2.2.s8.b1's 400 is about the merge."""
    url = state_url("note")
    assert post(lrs, url, b"free text", "text/plain").status_code == 204
    got = lrs.get(url)
    assert got.content == b"free text"
    assert got["Content-Type"] == "text/plain"


@pytest.mark.parametrize("posted", [b"[1, 2]", b"42", b'{"unterminated": '])
def test_post_of_json_that_is_not_an_object_is_a_400_even_for_a_new_document(lrs, posted):
    """§2.2.s8.b1 "if either document cannot be parsed as a JSON Object" (design reading,
    docs/documents.md: a JSON POST asks for a merge): 400 and nothing is created."""
    error_of(post(lrs, state_url("new"), posted), 400)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("method", ["put", "post"])
def test_a_write_with_neither_body_nor_content_type_is_a_400_and_stores_nothing(lrs, method):
    """§2.2.s2: a document's contents are "the HTTP document itself"; a PUT or POST that
    sends no bytes and names no media type sends no document."""
    error_of(
        lrs.request(method, state_url("nothing"), data=b"", content_type="", CONTENT_TYPE=""), 400
    )
    assert Document.objects.count() == 0


def test_an_empty_document_that_names_its_content_type_is_stored(lrs):
    """§2.2.s2: arbitrary binary data, zero bytes included, when the request says what it
    is."""
    url = state_url("empty")
    assert put(lrs, url, b"", "text/plain").status_code == 204
    got = lrs.get(url)
    assert got.content == b""
    assert got["Content-Type"] == "text/plain"


def test_the_query_string_is_utf8_whatever_charset_the_body_declares(lrs):
    """Communication §1.4.s1.b1: strings are UTF-8. A body typed latin-1 does not make its
    request's stateId latin-1: the document is found under the id that was sent."""
    url = state_url("s\u00e9")
    response = put(lrs, url, b"caf\xe9", "text/plain; charset=ISO-8859-1")
    assert response.status_code == 204, response.content
    got = lrs.get(url)
    assert got.status_code == 200
    assert got.content == b"caf\xe9"
    assert ids_of(lrs.get(state_url())) == ["s\u00e9"]


def test_a_document_sent_without_content_type_is_octet_stream(lrs):
    """§2.2.s2: arbitrary binary data; without a Content-Type it is returned as
    application/octet-stream (RFC 9110 §8.3: the recipient may assume it)."""
    url = state_url("raw")
    response = lrs.request("put", url, data=b"\x00\x01", content_type="", CONTENT_TYPE="")
    assert response.status_code == 204
    got = lrs.get(url)
    assert got.content == b"\x00\x01"
    assert got["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("stored", "stored_type", "posted", "posted_type"),
    [
        pytest.param(b"hello", "text/plain", b'{"a": 1}', "application/json", id="stored-text"),
        pytest.param(b'{"a": 1}', "application/json", b'{"b": 2}', "text/plain", id="posted-text"),
        pytest.param(
            b'{"a": 1}',
            "application/json",
            b'{"b": 2}',
            "application/octet-stream",
            id="posted-bin",
        ),
        pytest.param(b'{"a": 1}', "application/json", b"[1, 2]", "application/json", id="array"),
        pytest.param(b'{"a": 1}', "application/json", b'"str"', "application/json", id="string"),
        pytest.param(b'{"a": 1}', "application/json", b"null", "application/json", id="null"),
        pytest.param(b'{"a": 1}', "application/json", b'{"b": ', "application/json", id="bad"),
        pytest.param(b"[1]", "application/json", b'{"b": 2}', "application/json", id="stored-arr"),
        pytest.param(
            b"{oops", "application/json", b'{"b": 2}', "application/json", id="stored-bad"
        ),
    ],
)
def test_post_that_cannot_merge_is_a_400_and_changes_nothing(
    lrs, stored, stored_type, posted, posted_type
):
    """§2.2.s8.b1: when the posted or the existing document is not application/json, or
    either cannot be parsed as a JSON Object, 400 and the target document is not updated."""
    url = state_url("vars")
    assert put(lrs, url, stored, stored_type).status_code == 204
    before = snapshot()
    body = error_of(post(lrs, url, posted, posted_type), 400)
    assert body["error"] == "bad_request"
    assert snapshot() == before
    got = lrs.get(url)
    assert got.content == stored
    assert got["Content-Type"] == stored_type


# --- multiple documents -----------------------------------------------------------------


def test_get_without_state_id_lists_the_ids_of_the_context(lrs):
    """§2.3.s4: "Fetches State ids of all state data for this context (Activity + Agent
    [+ registration if specified])": a JSON array of ids, and no ids of other contexts."""
    empty = lrs.get(state_url())
    assert ids_of(empty) == []
    assert empty["ETag"] == quoted_sha1(b"[]")  # §3.1.s4.b1: every GET carries an ETag
    for state_id in ("bookmark", "suspend data", "ünïcode/id?&="):
        put(lrs, state_url(state_id))
    put(lrs, state_url("other activity", activity="https://example.com/other"))
    put(lrs, state_url("other agent", agent=OTHER_AGENT))
    put(lrs, state_url("registered", registration=REGISTRATION))
    assert sorted(ids_of(lrs.get(state_url()))) == ["bookmark", "suspend data", "ünïcode/id?&="]


def test_ids_carry_last_modified_of_the_newest_document(lrs):
    """§2.2.s6.b2: with multiple documents, Last-Modified is when the most recently
    modified one was modified."""
    put(lrs, state_url("old"))
    put(lrs, state_url("new"))
    older, newer = (
        dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 2, 8, 30, tzinfo=dt.UTC),
    )
    Document.objects.filter(document_id="old").update(updated=older)
    Document.objects.filter(document_id="new").update(updated=newer)
    response = lrs.get(state_url())
    assert parse_http_date(response["Last-Modified"]) == int(newer.timestamp())
    assert response["ETag"] == quoted_sha1(response.content)


@pytest.fixture
def three_states(lrs):
    """Documents a, b, c updated at T0 < T1 < T2 (set in the table: to the microsecond)."""
    times = {
        "a": dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.UTC),
        "b": dt.datetime(2024, 5, 1, 12, 0, 1, 500000, tzinfo=dt.UTC),
        "c": dt.datetime(2024, 5, 1, 12, 0, 2, 750000, tzinfo=dt.UTC),
    }
    for state_id, updated in times.items():
        put(lrs, state_url(state_id))
        Document.objects.filter(document_id=state_id).update(updated=updated)
    return times


def test_since_is_exclusive(lrs, three_states):
    """§2.3.s4: only ids of states stored since the Timestamp "(exclusive)": a document
    updated exactly at ``since`` is not listed, one a microsecond later is."""
    t_b = three_states["b"]
    assert ids_of(lrs.get(state_url(since=t_b.isoformat()))) == ["c"]
    just_before = (t_b - dt.timedelta(microseconds=1)).isoformat()
    assert ids_of(lrs.get(state_url(since=just_before))) == ["b", "c"]
    assert ids_of(lrs.get(state_url(since="2024-05-01T12:00:03Z"))) == []
    assert ids_of(lrs.get(state_url(since="2000-01-01T00:00:00Z"))) == ["a", "b", "c"]


def test_since_honours_the_timestamp_offset(lrs, three_states):
    """§2.3.s4: since is a Timestamp (Data §4.5): an offset names the same instant."""
    in_paris = three_states["b"].astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert in_paris.isoformat().endswith("+02:00")
    assert ids_of(lrs.get(state_url(since=in_paris.isoformat()))) == ["c"]
    # An offset's "+" left unencoded in the query string arrives as a space.
    unencoded = state_url() + "&since=" + in_paris.isoformat()
    assert ids_of(lrs.get(unencoded)) == ["c"]


def test_since_beside_a_state_id_filters_nothing_and_the_document_is_returned(lrs):
    """§2.3.s3 has no since; it belongs to the multiple document GET (§2.3.s4). Beside a
    stateId it has nothing to filter: the document comes back whatever its time, and an
    invalid since is still a 400."""
    put(lrs, state_url("a"), b'{"v": 1}')
    for since in ["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z"]:
        got = lrs.get(state_url("a", since=since))
        assert got.status_code == 200, got.content
        assert got.content == b'{"v": 1}'
    error_of(lrs.get(state_url("a", since="yesterday")), 400)


def test_without_registration_only_unregistered_documents_are_concerned(lrs):
    """§2.3.s3-s4 (design reading): a request without registration is about the documents
    stored without one; documents of the learner's registrations are not listed or read."""
    put(lrs, state_url("plain"), b'{"plain": true}')
    put(lrs, state_url("registered", registration=REGISTRATION), b'{"reg": 1}')
    put(lrs, state_url("other reg", registration=OTHER_REGISTRATION), b'{"reg": 2}')
    assert ids_of(lrs.get(state_url())) == ["plain"]
    assert ids_of(lrs.get(state_url(registration=REGISTRATION))) == ["registered"]
    assert ids_of(lrs.get(state_url(registration=OTHER_REGISTRATION))) == ["other reg"]
    error_of(lrs.get(state_url("registered")), 404)
    error_of(lrs.get(state_url("plain", registration=REGISTRATION)), 404)


def test_same_state_id_in_two_registrations_is_two_documents(lrs):
    """§2.3.s3: a document "exists in the context of the specified Activity, Agent, and
    registration"."""
    put(lrs, state_url("s", registration=REGISTRATION), b'{"n": 1}')
    put(lrs, state_url("s", registration=OTHER_REGISTRATION), b'{"n": 2}')
    put(lrs, state_url("s"), b'{"n": 3}')
    assert lrs.get(state_url("s", registration=REGISTRATION)).content == b'{"n": 1}'
    assert lrs.get(state_url("s", registration=OTHER_REGISTRATION)).content == b'{"n": 2}'
    assert lrs.get(state_url("s")).content == b'{"n": 3}'


def test_registration_is_a_uuid_compared_without_regard_to_case(lrs):
    """§2.3.s3: registration is a UUID; RFC 4122 §3: hex digits are case-insensitive on
    input, so upper- and lowercase spellings name one registration."""
    put(lrs, state_url("s", registration=REGISTRATION.upper()), b'{"n": 1}')
    assert lrs.get(state_url("s", registration=REGISTRATION)).content == b'{"n": 1}'
    assert ids_of(lrs.get(state_url(registration=REGISTRATION))) == ["s"]


# --- DELETE -----------------------------------------------------------------------------


def test_delete_with_state_id_deletes_that_document_only(lrs):
    """§2.3.s3: DELETE with stateId "deletes the document specified"; 204."""
    put(lrs, state_url("gone"))
    put(lrs, state_url("kept"))
    response = lrs.request("delete", state_url("gone"))
    assert response.status_code == 204
    error_of(lrs.get(state_url("gone")), 404)
    assert lrs.get(state_url("kept")).status_code == 200


def test_delete_without_state_id_deletes_the_unregistered_documents_of_the_context(lrs):
    """§2.3.s5: "Deletes all state data for this context (Activity + Agent [+ registration
    if specified])"; without registration, registered documents stay (design reading)."""
    put(lrs, state_url("a"))
    put(lrs, state_url("b"))
    put(lrs, state_url("registered", registration=REGISTRATION))
    put(lrs, state_url("other agent", agent=OTHER_AGENT))
    put(lrs, state_url("other activity", activity="https://example.com/other"))
    assert lrs.request("delete", state_url()).status_code == 204
    assert ids_of(lrs.get(state_url())) == []
    assert ids_of(lrs.get(state_url(registration=REGISTRATION))) == ["registered"]
    assert ids_of(lrs.get(state_url(agent=OTHER_AGENT))) == ["other agent"]
    assert ids_of(lrs.get(state_url(activity="https://example.com/other"))) == ["other activity"]


def test_delete_with_registration_deletes_that_registrations_documents(lrs):
    """§2.3.s5: with registration, the context is Activity + Agent + registration."""
    put(lrs, state_url("plain"))
    put(lrs, state_url("r1", registration=REGISTRATION))
    put(lrs, state_url("r2", registration=REGISTRATION))
    put(lrs, state_url("other", registration=OTHER_REGISTRATION))
    assert lrs.request("delete", state_url(registration=REGISTRATION)).status_code == 204
    assert ids_of(lrs.get(state_url(registration=REGISTRATION))) == []
    assert ids_of(lrs.get(state_url(registration=OTHER_REGISTRATION))) == ["other"]
    assert ids_of(lrs.get(state_url())) == ["plain"]


def test_delete_of_a_missing_document_is_not_an_error(lrs):
    """§2.3.s3: DELETE returns 204; the outcome (no such document) holds already."""
    assert lrs.request("delete", state_url("never")).status_code == 204
    assert lrs.request("delete", state_url()).status_code == 204


# --- parameters -------------------------------------------------------------------------

BAD_PARAMETERS = {
    "activityId missing": {"activity": OMIT},
    "activityId not an IRI": {"activity": "not an iri"},
    "activityId a JSON object": {"activity": '{"key": "value"}'},
    "activityId a scheme that is not one": {"activity": "9http://example.com"},
    "agent missing": {"agent": OMIT},
    "agent not JSON": {"agent": "{mbox: mailto:learner@example.com"},
    "agent not an object": {"agent": '["mailto:learner@example.com"]'},
    "agent a Group": {
        "agent": {"objectType": "Group", "mbox": "mailto:team@example.com", "member": []}
    },
    "agent without IFI": {"agent": {"objectType": "Agent", "name": "Ann"}},
    "agent with two IFIs": {
        "agent": {"mbox": "mailto:a@example.com", "openid": "https://openid.example.com/a"}
    },
    "agent mbox not mailto": {"agent": {"mbox": "learner@example.com"}},
    "registration not a UUID": {"registration": "not-a-uuid"},
    "unknown parameter": {"profileId": "x"},
}


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("case", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
def test_missing_or_invalid_parameters_are_a_400_and_change_nothing(lrs, method, case):
    """§2.3.s3 (table): activityId (an IRI) and agent (an Agent, not a Group, §2.6.s3
    note; one IFI, Data §2.4.2.3) are required, registration is a UUID; parameters are
    validated as in Statements (Data §2.2.s4.b4). Unknown parameters are refused."""
    put(lrs, state_url("s"))
    before = snapshot()
    url = state_url("s", **case)
    if method in ("PUT", "POST"):
        response = send(lrs, method, url, b'{"x": 1}', "application/json")
    else:
        response = lrs.request(method, url)
    assert error_of(response, 400)["error"] == "bad_request"
    assert snapshot() == before


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_writes_need_a_state_id(lrs, method):
    """§2.3.s3: stateId is required for PUT and POST (an empty one names nothing)."""
    for url in (state_url(), state_url("")):
        error_of(send(lrs, method, url, b'{"x": 1}', "application/json"), 400)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("since", ["yesterday", "2024-13-01T00:00:00Z", "1714560000"])
def test_invalid_since_is_a_400(lrs, since):
    """§2.3.s4: since is a Timestamp."""
    error_of(lrs.get(state_url(since=since)), 400)


def test_a_repeated_parameter_is_a_400(lrs):
    """A parameter given twice names two values where the resource takes one."""
    url = state_url("s") + "&stateId=t"
    error_of(put(lrs, url), 400)
    assert Document.objects.count() == 0


# --- agents -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written_as", "read_as"),
    [
        (
            {"mbox": "mailto:Ann@Example.COM"},
            {"objectType": "Agent", "mbox": "mailto:Ann@example.com", "name": "x"},
        ),
        (
            {
                "objectType": "Agent",
                "account": {"homePage": "https://lms.example.com", "name": "7"},
            },
            {"name": "Ann", "account": {"name": "7", "homePage": "https://lms.example.com"}},
        ),
        (
            {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
            {"objectType": "Agent", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
        ),
    ],
)
def test_agents_with_the_same_ifi_address_the_same_documents(lrs, written_as, read_as):
    """Data §2.4.2.3: an Agent is identified by its Inverse Functional Identifier; name and
    objectType do not change who it is, and an mbox's domain is case-insensitive (Data
    §2.4.2.3.s4.b1)."""
    put(lrs, state_url("s", agent=written_as), b'{"who": "ann"}')
    assert lrs.get(state_url("s", agent=read_as)).content == b'{"who": "ann"}'
    assert ids_of(lrs.get(state_url(agent=read_as))) == ["s"]
    assert post(lrs, state_url("s", agent=read_as), b'{"more": 1}').status_code == 204
    assert Document.objects.count() == 1
    assert lrs.request("delete", state_url(agent=read_as)).status_code == 204
    assert Document.objects.count() == 0


def test_agents_with_different_ifis_do_not_share_documents(lrs):
    """Data §2.4.2.3: another IFI is another Agent."""
    put(lrs, state_url("s", agent={"mbox": "mailto:ann@example.com"}))
    error_of(lrs.get(state_url("s", agent={"mbox": "mailto:bob@example.com"})), 404)
    account = {"account": {"homePage": "https://lms.example.com", "name": "ann@example.com"}}
    error_of(lrs.get(state_url("s", agent=account)), 404)


# --- concurrency (§3.1) -----------------------------------------------------------------


def test_put_without_precondition_headers_over_an_existing_document_replaces_it_in_1_0_3(
    credential,
):
    """xAPI 1.0.3 §3.1.s3: "The State Resource will permit PUT, POST and DELETE requests
    without concurrency headers"; the §3.1.s4.b13 409 binds the Profile resources only."""
    lrs = XAPIClient(credential, version="1.0.3")
    url = state_url("s")
    assert put(lrs, url, b'{"v": 1}').status_code == 204
    response = put(lrs, url, b'{"v": 2}')
    assert response.status_code == 204
    assert lrs.get(url).content == b'{"v": 2}'


def test_put_without_precondition_headers_over_an_existing_document_is_a_409_in_2_0(
    credential,
):
    """xAPI 2.0 applies §3.1.s4.b13-b15 to State: 409, a response telling the client to
    check the document and set If-Match with its current ETag, and no modification."""
    lrs = XAPIClient(credential, version="2.0.0")
    url = state_url("s", registration=REGISTRATION)
    assert put(lrs, url, b'{"v": 1}').status_code == 204
    before = snapshot()
    response = put(lrs, url, b'{"v": 2}')
    body = error_of(response, 409)
    assert response["Content-Type"] == "application/json"
    assert body["error"] == "conflict"
    assert "If-Match" in body["message"]
    assert "ETag" in body["message"]
    assert snapshot() == before
    assert lrs.get(url).content == b'{"v": 1}'


def test_put_without_precondition_headers_creates_a_new_document(lrs):
    """§3.1.s4.b13 concerns "a resource that already exists"; creating needs no header."""
    assert put(lrs, state_url("new")).status_code == 204


def test_post_and_delete_without_precondition_headers_work_over_existing_documents(lrs):
    """§3.1.s4.b13 is about PUT; POST merges and DELETE deletes without headers."""
    url = state_url("s")
    put(lrs, url, b'{"a": 1}')
    assert post(lrs, url, b'{"b": 2}').status_code == 204
    assert orjson.loads(lrs.get(url).content) == {"a": 1, "b": 2}
    assert lrs.request("delete", url).status_code == 204
    error_of(lrs.get(url), 404)


def test_put_with_if_match_of_the_current_etag_replaces_the_document(lrs):
    """§3.1.s4.b5: If-Match with the ETag the client last fetched: the write happens."""
    url = state_url("s")
    put(lrs, url, b'{"v": 1}')
    current = lrs.get(url)["ETag"]
    response = put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=current)
    assert response.status_code == 204
    assert lrs.get(url).content == b'{"v": 2}'
    # A list holding the current ETag matches too (RFC 2616 §14.24).
    listed = f'"{"0" * 40}", {response["ETag"]}'
    assert put(lrs, url, b'{"v": 3}', HTTP_IF_MATCH=listed).status_code == 204
    assert put(lrs, url, b'{"v": 4}', HTTP_IF_MATCH="*").status_code == 204
    assert lrs.get(url).content == b'{"v": 4}'


def test_put_with_a_stale_if_match_is_a_412_and_changes_nothing(lrs):
    """§3.1.s4.b5, b9, b10: the document changed since the client fetched it."""
    url = state_url("s")
    put(lrs, url, b'{"v": 1}')
    stale = lrs.get(url)["ETag"]
    put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=stale)
    before = snapshot()
    body = error_of(put(lrs, url, b'{"v": 3}', HTTP_IF_MATCH=stale), 412)
    assert body["error"] == "precondition_failed"
    assert snapshot() == before
    assert lrs.get(url).content == b'{"v": 2}'


@pytest.mark.parametrize("if_match", [quoted_sha1(b'{"v": 1}'), "*"])
def test_put_with_if_match_over_a_missing_document_is_a_412_and_creates_nothing(lrs, if_match):
    """§3.1.s4.b5, b9-b10 (RFC 2616 §14.24): If-Match fails when there is no entity."""
    error_of(put(lrs, state_url("s"), b'{"v": 1}', HTTP_IF_MATCH=if_match), 412)
    assert Document.objects.count() == 0


def test_put_with_if_none_match_star_creates_only_when_absent(lrs):
    """§3.1.s4.b6, b9, b10: If-None-Match: * detects a document the client is not aware of."""
    url = state_url("s")
    assert put(lrs, url, b'{"v": 1}', HTTP_IF_NONE_MATCH="*").status_code == 204
    before = snapshot()
    error_of(put(lrs, url, b'{"v": 2}', HTTP_IF_NONE_MATCH="*"), 412)
    assert snapshot() == before
    assert lrs.get(url).content == b'{"v": 1}'


def test_post_honours_if_match_and_if_none_match(lrs):
    """§3.1.s4.b7, b8, b11, b12: POST's preconditions are checked before the merge."""
    url = state_url("s")
    put(lrs, url, b'{"a": 1}')
    before = snapshot()
    error_of(post(lrs, url, b'{"b": 2}', HTTP_IF_MATCH=quoted_sha1(b"other")), 412)
    error_of(post(lrs, url, b'{"b": 2}', HTTP_IF_NONE_MATCH="*"), 412)
    assert snapshot() == before
    current = lrs.get(url)["ETag"]
    assert post(lrs, url, b'{"b": 2}', HTTP_IF_MATCH=current).status_code == 204
    assert orjson.loads(lrs.get(url).content) == {"a": 1, "b": 2}
    assert post(lrs, state_url("t"), b'{"c": 3}', HTTP_IF_NONE_MATCH="*").status_code == 204


def test_delete_honours_if_match(lrs):
    """§3.1.s4.b7, b11, b12: a DELETE with a stale If-Match is a 412 and deletes nothing."""
    url = state_url("s")
    put(lrs, url, b'{"a": 1}')
    before = snapshot()
    error_of(lrs.request("delete", url, HTTP_IF_MATCH=quoted_sha1(b"other")), 412)
    assert snapshot() == before
    current = lrs.get(url)["ETag"]
    assert lrs.request("delete", url, HTTP_IF_MATCH=current).status_code == 204
    error_of(lrs.get(url), 404)


# --- who may see what -------------------------------------------------------------------


def test_another_tenants_credential_cannot_see_or_touch_the_document(lrs, version):
    """Tenant isolation: documents belong to the credential's tenant (ARCHITECTURE.md §2)."""
    url = state_url("s")
    put(lrs, url, b'{"mine": true}')
    stranger = XAPIClient(CredentialFactory(), version=version)
    error_of(stranger.get(url), 404)
    assert ids_of(stranger.get(state_url())) == []
    assert stranger.request("delete", state_url()).status_code == 204
    assert stranger.request("delete", url).status_code == 204
    # Its PUT creates its own document (no 409 even in 2.0: there is none in its tenant).
    assert put(stranger, url, b'{"theirs": true}').status_code == 204
    assert lrs.get(url).content == b'{"mine": true}'
    assert stranger.get(url).content == b'{"theirs": true}'


@pytest.mark.parametrize(
    ("scopes", "may_read", "may_write"),
    [
        (["state"], True, True),
        (["all"], True, True),
        (["all/read"], True, False),
        (["profile"], False, False),
        (["statements/write", "statements/read"], False, False),
        (["define"], False, False),
    ],
)
def test_scopes_decide_who_may_read_and_write_state(
    credential, version, scopes, may_read, may_write
):
    """§4.2.s2 (scopes table): "state" reads and writes state data, "all/read" is read
    access, and other scopes do not reach it: 403 (§3.2.s3.b10)."""
    owner = XAPIClient(credential, version=version)
    put(owner, state_url("s"), b'{"a": 1}')
    lrs = XAPIClient(CredentialFactory(tenant=credential.tenant, scopes=scopes), version=version)
    reads = [lrs.get(state_url("s")), lrs.get(state_url()), lrs.request("head", state_url("s"))]
    for response in reads:
        assert response.status_code == (200 if may_read else 403)
    before = snapshot()
    writes = [
        put(lrs, state_url("s"), b'{"b": 2}', HTTP_IF_MATCH=quoted_sha1(b'{"a": 1}')),
        post(lrs, state_url("t"), b'{"c": 3}'),
        lrs.request("delete", state_url("s")),
    ]
    for response in writes:
        assert response.status_code == (204 if may_write else 403)
    if not may_write:
        assert snapshot() == before


def test_requests_without_credentials_are_a_401(credential, version):
    """§3.2.s2.b2: 401 when authentication is required and none was given."""
    response = XAPIClient(None, version=version).get(state_url("s"))
    assert response.status_code == 401


# --- alternate request syntax (§1.3) ----------------------------------------------------


def alternate(method, fields):
    """POST /xapi/activities/state?method=...: everything else in the form (§1.3.s3)."""
    return Client().post(
        f"{STATE}?method={method}",
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )


def alternate_fields(credential, version, **extra):
    return {
        "activityId": ACTIVITY,
        "agent": orjson.dumps(AGENT).decode(),
        "registration": REGISTRATION,
        "stateId": "tunnelled",
        "Authorization": basic(credential.key),
        "X-Experience-API-Version": version,
    } | extra


def test_alternate_request_syntax_stores_and_reads_a_document_in_1_0_3(credential):
    """§1.3.s3: the method in ?method=, headers (Authorization, X-Experience-API-Version,
    Content-Type, If-Match, ...) and query parameters as form fields, the document in
    "content", read as a UTF-8 string (§1.3.s3.b5, b7, b14, b15)."""
    content = '{"from": "a form", "café": "crème"}'
    fields = alternate_fields(
        credential, "1.0.3", **{"Content-Type": "application/json", "content": content}
    )
    response = alternate("PUT", fields)
    assert response.status_code == 204, response.content
    lrs = XAPIClient(credential, version="1.0.3")
    url = state_url("tunnelled", registration=REGISTRATION)
    got = lrs.get(url)
    assert got.content == content.encode("utf-8")
    assert got["Content-Type"] == "application/json"
    # GET and the If-Match header through the tunnel too.
    tunnelled_get = alternate("GET", alternate_fields(credential, "1.0.3"))
    assert tunnelled_get.status_code == 200
    assert tunnelled_get.content == content.encode("utf-8")
    stale = alternate_fields(
        credential, "1.0.3", **{"If-Match": quoted_sha1(b"other"), "content": '{"x": 1}'}
    )
    assert alternate("PUT", stale).status_code == 412
    assert lrs.get(url).content == content.encode("utf-8")


def test_alternate_request_syntax_is_refused_in_2_0(credential):
    """xAPI 2.0 removed the alternate request syntax (ARCHITECTURE.md §8): 400, nothing
    stored."""
    fields = alternate_fields(
        credential, "2.0.0", **{"Content-Type": "application/json", "content": '{"a": 1}'}
    )
    response = alternate("PUT", fields)
    error_of(response, 400)
    assert Document.objects.count() == 0


def test_post_merge_keeps_the_exact_numbers_of_both_documents(lrs):
    """§2.2.s7.b3: the merged Object stored is a serialization of the existing Object with
    the posted properties set; the values kept are the values sent, digit for digit."""
    url = state_url("numbers")
    stored = b'{"big": 123456789012345678901234567890, "price": 0.1000000000000000055511}'
    assert put(lrs, url, stored).status_code == 204
    posted = b'{"ratio": 1e400, "small": -7, "exact": 2.50}'
    assert post(lrs, url, posted).status_code == 204
    body = lrs.get(url).content
    assert b"123456789012345678901234567890" in body
    assert b"0.1000000000000000055511" in body
    assert b"1e400" in body
    assert b"2.50" in body
    assert json.loads(body)["small"] == -7  # (orjson refuses 1e400)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_post_of_a_non_json_constant_is_a_400(lrs, constant):
    """§2.2.s8.b1: a document that cannot be parsed as a JSON Object (RFC 8259 has no NaN
    or Infinity) is refused and nothing is stored."""
    url = state_url("constants")
    response = post(lrs, url, b'{"x": ' + constant + b"}")
    error_of(response, 400)
    assert lrs.get(url).status_code == 404
