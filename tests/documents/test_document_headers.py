"""Headers of the document resources over HTTP, in xAPI 1.0.3 and 2.0: the Content-Type a
document goes back out with (Communication §1.3, §2.2.s2), HEAD on every form of GET
(§1.1), and the concurrency headers where the other test modules leave a case open
(§3.1.s4).
"""

from functools import partial
from urllib.parse import urlencode

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from documents.keys import document_key, etag_of, state_scope
from documents.models import Document, DocumentKind
from statements.xapi.ifi import ifi_key
from tests.conftest import XAPIClient, basic
from tests.documents.helpers import create, error_of, ids_of, post, put, quoted_sha1

pytestmark = pytest.mark.django_db

STATE = "/xapi/activities/state"
ACTIVITY = "https://example.com/courses/algebra/au/1"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}


def query(**params) -> str:
    return urlencode(
        {k: (v if isinstance(v, str) else orjson.dumps(v).decode()) for k, v in params.items()}
    )


def document_url(path: str, scope: dict, document_id: str | None = None) -> str:
    params = dict(scope)
    if document_id is not None:
        params["stateId" if path == STATE else "profileId"] = document_id
    return f"{path}?{query(**params)}"


state_url = partial(document_url, STATE, {"activityId": ACTIVITY, "agent": AGENT})
RESOURCES = {
    "state": state_url,
    "activity-profile": partial(document_url, "/xapi/activities/profile", {"activityId": ACTIVITY}),
    "agent-profile": partial(document_url, "/xapi/agents/profile", {"agent": AGENT}),
}
PROFILES = {name: url for name, url in RESOURCES.items() if name != "state"}


@pytest.fixture(params=RESOURCES.values(), ids=RESOURCES.keys())
def url_of(request):
    return request.param


@pytest.fixture(params=PROFILES.values(), ids=PROFILES.keys())
def profile_url_of(request):
    return request.param


def snapshot() -> list[tuple]:
    """Every stored document, for "nothing changed" checks."""
    rows = Document.objects.order_by("pk")
    return list(rows.values_list("document_id", "content_type", "etag", "updated"))


# --- Content-Type -----------------------------------------------------------------------


def tunnelled_put(credential, content_type: str):
    """PUT /xapi/activities/state through the alternate request syntax (§1.3), where a
    form field, not an HTTP header, carries the Content-Type."""
    fields = {
        "activityId": ACTIVITY,
        "agent": orjson.dumps(AGENT).decode(),
        "stateId": "doc",
        "Authorization": basic(credential.key),
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": content_type,
        "content": "hello",
    }
    return Client().post(
        f"{STATE}?method=PUT",
        data=urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain\r\nX-Injected: 1",
        "text/plain\n",
        "text/plain\r",
        "text/plain\x01",
        "text/plain\x7f",
        'text/plain; name="\u4e2d"',
    ],
    ids=["crlf", "lf", "cr", "control", "del", "past-latin-1"],
)
def test_a_content_type_that_cannot_be_sent_back_is_a_400_and_nothing_is_stored(
    credential, content_type
):
    """§2.2.s2, §2.3.s3: a document is returned as it was stored, with its Content-Type;
    RFC 9110 §5.5: a header value holds no CR, LF or other control character and is octets.
    A Content-Type from a form field (§1.3) that could not be a header is refused with a
    JSON 400 saying why, instead of a document whose every GET would fail."""
    response = tunnelled_put(credential, content_type)
    body = error_of(response, 400)
    assert "Content-Type" in body["message"]
    assert Document.objects.count() == 0


def test_a_latin_1_content_type_is_kept_and_returned_exactly(credential):
    """§2.2.s2: the document comes back with the Content-Type it was sent with; text past
    ASCII that a header can carry (RFC 9110 §5.5 obs-text) is not refused."""
    content_type = 'text/plain; name="caf\xe9"'
    assert tunnelled_put(credential, content_type).status_code == 204
    got = XAPIClient(credential, version="1.0.3").get(state_url("doc"))
    assert got.status_code == 200
    assert got.content == b"hello"
    assert got["Content-Type"] == content_type


def test_a_stored_content_type_that_cannot_be_a_header_is_served_not_a_500(credential):
    """§2.3.s3: GET returns the State document (200); a row stored before Content-Types
    were checked is served as application/octet-stream (RFC 9110 §8.3) rather than failing
    while its headers are written."""
    content = b"kept"
    Document.objects.create(
        tenant=credential.tenant,
        kind=DocumentKind.STATE,
        scope_key=state_scope(ACTIVITY, ifi_key(AGENT), None).key,
        document_key=document_key("old"),
        activity_id=ACTIVITY,
        agent_ifi=ifi_key(AGENT),
        document_id="old",
        agent=AGENT,
        content=content,
        content_type="text/plain\r\nX-Injected: 1",
        etag=etag_of(content),
        updated=timezone.now(),
    )
    got = XAPIClient(credential, version="2.0.0").get(state_url("old"))
    assert got.status_code == 200
    assert got.content == content
    assert got["Content-Type"] == "application/octet-stream"
    assert "X-Injected" not in got


# --- HEAD (§1.1) ------------------------------------------------------------------------


def assert_head_like_get(lrs, url):
    got = lrs.get(url)
    head = lrs.request("head", url)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == got["ETag"]
    assert head["Content-Type"] == got["Content-Type"]
    assert head.get("Last-Modified") == got.get("Last-Modified")
    return got


def test_head_of_a_multiple_document_get_answers_its_headers_without_the_ids(lrs, url_of):
    """§1.1.s3.b1: "respond to any HTTP HEAD request as it would have responded to an
    otherwise identical HTTP GET request except: The message-body MUST be omitted"; the id
    list's ETag (§3.1.s4.b1-b2, the SHA-1 of the body) and Last-Modified (§2.2.s6.b2) come
    with the HEAD as with the GET."""
    assert create(lrs, url_of("a")).status_code == 204
    got = assert_head_like_get(lrs, url_of())
    assert ids_of(got) == ["a"]
    assert got["ETag"] == quoted_sha1(got.content)
    assert got["Last-Modified"].endswith(" GMT")


def test_head_of_the_activities_and_agents_resources_answers_like_get(lrs):
    """§1.1.s1: "All resources that support GET requests also support HEAD"; §2.5 and §2.4
    are GET resources."""
    for url in (
        "/xapi/activities?" + query(activityId=ACTIVITY),
        "/xapi/agents?" + query(agent=AGENT),
    ):
        got = assert_head_like_get(lrs, url)
        assert got["ETag"] == quoted_sha1(got.content)


# --- concurrency (§3.1) -----------------------------------------------------------------


def test_put_with_an_empty_if_none_match_over_an_existing_profile_is_a_409(lrs, profile_url_of):
    """§3.1.s4.b13-b15: a PUT over an existing profile that states no precondition is a 409
    and changes nothing. An empty If-None-Match lists no ETag, so it holds for every
    document and states nothing: it does not turn the PUT into an unconditional replace."""
    url = profile_url_of("p")
    assert create(lrs, url, b'{"v": 1}').status_code == 204
    before = snapshot()
    for empty in ("", " ", ","):
        body = error_of(put(lrs, url, b'{"v": 2}', HTTP_IF_NONE_MATCH=empty), 409)
        assert "If-Match" in body["message"]
    assert snapshot() == before
    assert lrs.get(url).content == b'{"v": 1}'


def test_put_with_an_empty_if_none_match_to_a_new_profile_is_a_400(lrs, profile_url_of):
    """§3.1.s3.b1: a PUT to a Profile resource MUST include If-Match or If-None-Match
    (docs/documents.md: a 400 where no document exists); an empty one names no ETag."""
    url = profile_url_of("new")
    error_of(put(lrs, url, b'{"v": 1}', HTTP_IF_NONE_MATCH=""), 400)
    assert Document.objects.count() == 0


def test_put_with_an_empty_if_none_match_over_an_existing_state_is_a_409_in_2_0(credential):
    """xAPI 2.0 (ARCHITECTURE.md §8) applies §3.1.s4.b13-b15 to State: an empty
    If-None-Match is no precondition, so the PUT over an existing document is a 409."""
    lrs = XAPIClient(credential, version="2.0.0")
    url = state_url("s")
    assert put(lrs, url, b'{"v": 1}').status_code == 204
    error_of(put(lrs, url, b'{"v": 2}', HTTP_IF_NONE_MATCH=""), 409)
    assert lrs.get(url).content == b'{"v": 1}'


def test_delete_with_if_none_match_star_over_an_existing_document_is_a_412(lrs, url_of):
    """§3.1.s4.b7-b8, b11-b12 (RFC 2616 §14.26): If-None-Match: * fails where a document
    exists: 412, and the document is not deleted."""
    url = url_of("p")
    assert create(lrs, url, b'{"v": 1}').status_code == 204
    body = error_of(lrs.request("delete", url, HTTP_IF_NONE_MATCH="*"), 412)
    assert body["error"] == "precondition_failed"
    assert lrs.get(url).content == b'{"v": 1}'


def test_post_with_if_match_where_no_document_exists_is_a_412_and_creates_nothing(lrs, url_of):
    """§3.1.s4.b7, b11-b12 (RFC 2616 §14.24): If-Match fails when there is no document; a
    POST that would have created one creates nothing."""
    for if_match in (quoted_sha1(b'{"v": 1}'), "*"):
        error_of(post(lrs, url_of("p"), b'{"v": 1}', HTTP_IF_MATCH=if_match), 412)
    assert Document.objects.count() == 0
    error_of(lrs.get(url_of("p")), 404)
