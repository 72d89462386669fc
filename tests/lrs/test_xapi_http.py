"""The xAPI edge over HTTP: version header on every resource, About, HEAD."""

import datetime as dt

import orjson
import pytest

from tests.conftest import XAPIClient

RESOURCES = [
    "/xapi/statements",
    "/xapi/activities/state",
    "/xapi/activities/profile",
    "/xapi/agents/profile",
    "/xapi/activities",
    "/xapi/agents",
]


@pytest.mark.parametrize("path", RESOURCES)
def test_request_without_version_header_is_rejected_with_400(credential, path):
    """§3.3.s3.b4.1 and b7: reject a request without the version header with 400 and a
    short description of the problem."""
    response = XAPIClient(credential, version=None).get(path)
    assert response.status_code == 400
    body = orjson.loads(response.content)
    assert body["error"] == "bad_request"
    assert "X-Experience-API-Version" in body["message"]
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("version", ["0.95", "1.1.0", "2.1.0", "banana"])
def test_request_with_unsupported_version_is_rejected_with_400(credential, path, version):
    """§3.3.s3.b4, b6, b7."""
    response = XAPIClient(credential, version=version).get(path)
    assert response.status_code == 400
    assert "not supported" in orjson.loads(response.content)["message"]


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize(
    ("sent", "answered"), [("1.0", "1.0.3"), ("1.0.1", "1.0.3"), ("2.0.0", "2.0.0")]
)
def test_every_response_carries_the_latest_patch_version_header(credential, path, sent, answered):
    """§3.3.s3.b1/b2: the LRS includes X-Experience-API-Version, set to the latest patch
    version, in every response."""
    response = XAPIClient(credential, version=sent).get(path)
    # Whatever the status (a resource missing required parameters answers 400), the
    # header is there.
    assert response.status_code not in (401, 403), response.content
    assert response["X-Experience-API-Version"] == answered


@pytest.mark.parametrize("path", [*RESOURCES, "/xapi/about"])
def test_answers_are_kept_by_no_shared_cache_and_revalidated_before_reuse(credential, path):
    """RFC 9111 §5.2.2.4 (no-cache) and §5.2.2.7 (private): an answer carries a learner's
    data and changes with every write, so a browser must not reuse one unasked (a State
    document's Last-Modified alone would let it, §4.2.2) and no proxy may keep it."""
    for client in (XAPIClient(credential, version="1.0.3"), XAPIClient(None, version=None)):
        directives = {d.strip() for d in client.get(path)["Cache-Control"].split(",")}
        assert {"private", "no-cache"} <= directives


@pytest.mark.parametrize("path", ["/xapi/statements", "/xapi/activities/state"])
@pytest.mark.parametrize("coding", ["gzip", "br, gzip"])
def test_a_body_with_a_content_coding_is_a_415_naming_the_coding_taken(credential, path, coding):
    """RFC 9110 §8.4 and §15.5.16: a gzip body is not the statement or document it encodes;
    the LRS takes none, so it answers 415 with Accept-Encoding: identity and stores
    nothing."""
    response = XAPIClient(credential, version="1.0.3").client.put(
        path,
        data=b"\x1f\x8b\x08\x00",
        content_type="application/json",
        HTTP_CONTENT_ENCODING=coding,
        HTTP_AUTHORIZATION=XAPIClient(credential).headers["HTTP_AUTHORIZATION"],
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )
    assert response.status_code == 415, response.content
    assert response["Accept-Encoding"] == "identity"
    assert orjson.loads(response.content)["error"] == "unsupported_media_type"


def test_error_responses_carry_the_version_header_too(db):
    """§3.3.s3.b1: "every response" includes 401s and 400s."""
    unauthenticated = XAPIClient(None, version="1.0.3").get("/xapi/statements")
    assert unauthenticated.status_code == 401
    assert unauthenticated["X-Experience-API-Version"] == "1.0.3"
    unknown = XAPIClient(None, version=None).get("/xapi/nothing-here")
    assert unknown.status_code == 404
    assert unknown["X-Experience-API-Version"] == "2.0.0"


def test_a_request_refused_before_negotiation_is_answered_in_the_version_it_named(credential):
    """§3.3.s3.b1-b2: the header on every response is the latest patch of the version the
    request uses, also when the request is refused before its version is negotiated: an
    unknown URL, or an alternate-syntax tunnel with a parameter outside the form."""
    client = XAPIClient(credential, version="1.0.3")
    unknown = client.get("/xapi/nothing-here")
    assert unknown.status_code == 404
    assert unknown["X-Experience-API-Version"] == "1.0.3"
    tunnel = client.request(
        "post",
        "/xapi/statements?method=PUT&statementId=6f1c1d4e-0000-4000-8000-000000000000",
        data="content=%7B%7D",
        content_type="application/x-www-form-urlencoded",
    )
    assert tunnel.status_code == 400
    assert tunnel["X-Experience-API-Version"] == "1.0.3"


def test_version_is_checked_before_credentials(db):
    """A request with neither credentials nor version learns about the version first."""
    response = XAPIClient(None, version=None).get("/xapi/statements")
    assert response.status_code == 400


@pytest.mark.parametrize("version", [None, "0.9", "1.0.3", "2.0.0", "garbage"])
def test_about_does_not_reject_requests_for_their_version_header(db, version):
    """§2.8.s5.b4: About MUST NOT reject requests based on their version header;
    §2.8.s5.b3: it SHOULD allow unauthenticated access."""
    response = XAPIClient(None, version=version).get("/xapi/about")
    assert response.status_code == 200
    assert "X-Experience-API-Version" in response


def test_about_lists_versions_and_only_extensions_besides(db):
    """§2.8.s4 and §2.8.s5.b1/b2: "version" lists the latest patch per major version;
    additional properties only inside "extensions"."""
    body = orjson.loads(XAPIClient(None, version=None).get("/xapi/about").content)
    assert set(body) == {"version", "extensions"}
    assert body["version"] == ["1.0.3", "2.0.0"]
    assert all(":" in key for key in body["extensions"])  # extension keys are IRIs


@pytest.mark.parametrize("version", [None, "garbage", "2.0.0"])
def test_about_lists_every_version_unless_the_client_speaks_1_0(db, version):
    body = orjson.loads(XAPIClient(None, version=version).get("/xapi/about").content)
    assert body["version"] == ["1.0.3", "2.0.0"]


def test_about_lists_only_1_0_3_to_a_1_0_client(db):
    """A 1.0.x client is told of the 1.0 line only: 1.0.3 clients reject unknown versions
    in About, and a 1.0.3 reader must not get what it cannot parse (ARCHITECTURE.md §8)."""
    body = orjson.loads(XAPIClient(None, version="1.0.3").get("/xapi/about").content)
    assert body["version"] == ["1.0.3"]


def test_about_ignores_bad_credentials(db):
    response = XAPIClient(None).get("/xapi/about", HTTP_AUTHORIZATION="Basic bm9wZTpub3Bl")
    assert response.status_code == 200


def test_about_answers_the_negotiated_version(db):
    response = XAPIClient(None, version="1.0.1").get("/xapi/about")
    assert response["X-Experience-API-Version"] == "1.0.3"


def test_head_answers_like_get_without_a_body(db):
    """Communication §1.1.s3.b1: HEAD as GET with the message body omitted."""
    client = XAPIClient(None)
    get = client.get("/xapi/about")
    head = client.request("head", "/xapi/about")
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == str(len(get.content))
    assert head["X-Experience-API-Version"] == get["X-Experience-API-Version"]


def test_about_rejects_writes_with_405(db):
    response = XAPIClient(None).request("post", "/xapi/about")
    assert response.status_code == 405
    assert orjson.loads(response.content)["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "/xapi/statements?statementId=6f1c1d4e-0000-4000-8000-000000000000",
        "/xapi/activities?activityId=https://example.com/a",
        '/xapi/agents?agent={"mbox":"mailto:a@example.com"}',
    ],
)
@pytest.mark.parametrize("authorization", [None, "Basic bm9wZTpub3Bl", "credential"])
def test_a_method_a_resource_does_not_have_is_a_405_before_credentials(
    credential, url, authorization
):
    """Communication §3.2.s3.b1: "the error code most appropriate to the error condition":
    the Statement, Activities and Agents resources have no DELETE, whoever asks (no
    credentials, wrong ones or valid ones); the answer names the methods they do have."""
    client = XAPIClient(credential if authorization == "credential" else None, version="1.0.3")
    headers = {} if authorization in (None, "credential") else {"HTTP_AUTHORIZATION": authorization}
    response = client.request("delete", url, **headers)
    assert response.status_code == 405
    assert orjson.loads(response.content)["error"] == "method_not_allowed"
    assert "DELETE" not in response["Allow"]
    assert "GET" in response["Allow"]


def test_a_trailing_slash_reaches_the_same_resource(credential):
    response = XAPIClient(credential).get("/xapi/statements/")
    assert response.status_code == 200


def test_json_is_returned_whatever_the_accept_header(credential):
    """xAPI responses are JSON; an Accept for text/html does not turn them into 406."""
    response = XAPIClient(credential).get("/xapi/about", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/xapi/statementslimit=1", "/xapi/statements/extra"])
def test_a_url_no_resource_answers_still_says_how_far_the_lrs_is_consistent(credential, path):
    """Communication §2.1.3.s2.b5: "The LRS MUST include the header
    'X-Experience-API-Consistent-Through', in ISO 8601 combined date and time format, on all
    responses to Statements Resource requests". A client that built the Statement resource's
    URL wrongly (a query appended without its "?") gets a JSON 404 that still carries the
    header, so a client waiting for consistency is not left without it; the value is an
    instant in UTC."""
    response = XAPIClient(credential, version="1.0.3").get(path)
    assert response.status_code == 404
    assert orjson.loads(response.content)["error"] == "not_found"
    through = response["X-Experience-API-Consistent-Through"]
    assert dt.datetime.fromisoformat(through).utcoffset() == dt.timedelta(0)
