"""The Activity Profile and Agent Profile Resources over HTTP (Communication §2.2, §2.6,
§2.7, §3.1), in xAPI 1.0.3 and 2.0.

The two resources share every rule but their key (an Activity, an Agent), so most tests run
on both. Unlike State, a PUT without precondition headers over an existing profile is a 409
in both versions (§3.1.s3, §3.1.s4.b13).
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import orjson
import pytest
from django.utils.http import parse_http_date

from documents.models import Document, DocumentKind
from tests.conftest import XAPIClient
from tests.documents.helpers import create, error_of, ids_of, post, put, quoted_sha1, send
from tests.factories import CredentialFactory

pytestmark = pytest.mark.django_db

ACTIVITY = "https://example.com/courses/algebra"
OTHER_ACTIVITY = "https://example.com/courses/geometry"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
OTHER_AGENT = {"objectType": "Agent", "mbox": "mailto:someone.else@example.com"}
GROUP = {
    "objectType": "Group",
    "mbox": "mailto:team@example.com",
    "member": [{"mbox": "mailto:learner@example.com"}],
}


def as_json(value) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


@dataclass(frozen=True)
class Resource:
    path: str
    scope_param: str
    scope_value: object
    other_scope_value: object
    kind: str

    def url(self, profile_id=None, *, scope=None, **extra) -> str:
        params = {self.scope_param: as_json(self.scope_value if scope is None else scope)}
        if profile_id is not None:
            params["profileId"] = profile_id
        params.update(extra)
        return f"{self.path}?{urlencode(params)}"

    def other_url(self, profile_id=None, **extra) -> str:
        return self.url(profile_id, scope=self.other_scope_value, **extra)


ACTIVITY_PROFILE = Resource(
    "/xapi/activities/profile",
    "activityId",
    ACTIVITY,
    OTHER_ACTIVITY,
    DocumentKind.ACTIVITY_PROFILE,
)
AGENT_PROFILE = Resource(
    "/xapi/agents/profile", "agent", AGENT, OTHER_AGENT, DocumentKind.AGENT_PROFILE
)
RESOURCES = {"activity-profile": ACTIVITY_PROFILE, "agent-profile": AGENT_PROFILE}


def snapshot() -> list[tuple]:
    """Every stored document, for "nothing changed" checks."""
    return [
        (kind, document_id, bytes(content), content_type, etag, updated)
        for kind, document_id, content, content_type, etag, updated in Document.objects.order_by(
            "pk"
        ).values_list("kind", "document_id", "content", "content_type", "etag", "updated")
    ]


@pytest.fixture(params=RESOURCES.values(), ids=RESOURCES.keys())
def resource(request) -> Resource:
    return request.param


# --- storing and reading ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{ "theme" : "dark",\n  "size": 1.50 }', "application/json"),
        (b"<prefs lang='fr'/>", "application/xml; charset=utf-8"),
        (bytes(range(256)), "application/octet-stream"),
        (b"", "text/plain"),
    ],
)
def test_put_then_get_returns_the_profile_byte_for_byte(lrs, resource, content, content_type):
    """§2.6.s3 / §2.7.s3: GET returns the Profile document; §2.2.s2: contents are arbitrary
    binary data, kept with their Content-Type. §3.1.s4.b1-b4: a quoted lowercase SHA-1
    ETag; §2.2.s6.b1: Last-Modified."""
    url = resource.url("prefs")
    response = put(lrs, url, content, content_type, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 204
    assert response["ETag"] == quoted_sha1(content)
    got = lrs.get(url)
    assert got.status_code == 200
    assert got.content == content
    assert got["Content-Type"] == content_type
    assert got["ETag"] == quoted_sha1(content)
    updated = Document.objects.get(kind=resource.kind, document_id="prefs").updated
    assert parse_http_date(got["Last-Modified"]) == int(updated.timestamp())
    head = lrs.request("head", url)
    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == got["ETag"]
    assert head["Last-Modified"] == got["Last-Modified"]


def test_get_of_a_missing_profile_is_a_404(lrs, resource):
    """§2.6.s3 / §2.7.s3: the specified Profile document; none, 404."""
    create(lrs, resource.url("present"))
    create(lrs, resource.other_url("missing"))
    assert error_of(lrs.get(resource.url("missing")), 404)["error"] == "not_found"


def test_profiles_of_another_activity_or_agent_are_other_documents(lrs, resource):
    """§2.6.s3 / §2.7.s3: a profile lives "in the context of the specified" Agent or
    Activity."""
    create(lrs, resource.url("p"), b'{"n": 1}')
    create(lrs, resource.other_url("p"), b'{"n": 2}')
    assert lrs.get(resource.url("p")).content == b'{"n": 1}'
    assert lrs.get(resource.other_url("p")).content == b'{"n": 2}'


def test_state_and_the_two_profiles_never_share_a_document(lrs):
    """§2.3, §2.6, §2.7: three resources; one id under the same Activity and Agent names
    three documents."""
    state = "/xapi/activities/state?" + urlencode(
        {"activityId": ACTIVITY, "agent": as_json(AGENT), "stateId": "same"}
    )
    put(lrs, state, b'{"from": "state"}')
    create(lrs, ACTIVITY_PROFILE.url("same"), b'{"from": "activity profile"}')
    create(lrs, AGENT_PROFILE.url("same"), b'{"from": "agent profile"}')
    assert lrs.get(state).content == b'{"from": "state"}'
    assert lrs.get(ACTIVITY_PROFILE.url("same")).content == b'{"from": "activity profile"}'
    assert lrs.get(AGENT_PROFILE.url("same")).content == b'{"from": "agent profile"}'
    assert ids_of(lrs.get(ACTIVITY_PROFILE.url())) == ["same"]


def test_agent_profiles_follow_the_agents_ifi(lrs):
    """Data §2.4.2.3: IFI-equivalent Agents (name and objectType aside, mbox domain in any
    case) have the same profiles."""
    written_as = {"mbox": "mailto:Ann@Example.COM"}
    read_as = {"objectType": "Agent", "mbox": "mailto:Ann@example.com", "name": "x"}
    create(lrs, AGENT_PROFILE.url("p", scope=written_as), b'{"who": "ann"}')
    assert lrs.get(AGENT_PROFILE.url("p", scope=read_as)).content == b'{"who": "ann"}'
    assert ids_of(lrs.get(AGENT_PROFILE.url(scope=read_as))) == ["p"]


# --- concurrency (§3.1) -----------------------------------------------------------------


def test_put_without_precondition_headers_is_refused_where_no_profile_exists(lrs, resource):
    """§3.1.s3.b1, in 1.0.3 as in 2.0: "A Client making a PUT request to either the Agent
    Profile Resource or Activity Profile Resource MUST include the If-Match header or the
    If-None-Match header": 400, a message naming both, and nothing stored."""
    body = error_of(put(lrs, resource.url("new")), 400)
    assert "If-Match" in body["message"]
    assert "If-None-Match" in body["message"]
    assert lrs.get(resource.url("new")).status_code == 404
    assert create(lrs, resource.url("new")).status_code == 204
    assert lrs.get(resource.url("new")).status_code == 200


def test_if_match_with_a_weak_etag_never_matches(lrs, resource):
    """§3.1.s4.b5 handles If-Match "as described in RFC2616", which compares entity tags
    strongly (RFC 2616 §14.24; RFC 9110 §13.1.1): W/"<current ETag>" is a 412 and the
    document stays as it was."""
    url = resource.url("p")
    etag = create(lrs, url, b'{"v": 1}')["ETag"]
    error_of(put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=f"W/{etag}"), 412)
    assert lrs.get(url).content == b'{"v": 1}'
    assert put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=etag).status_code == 204


def test_put_without_precondition_headers_over_an_existing_profile_is_a_409(lrs, resource):
    """§3.1.s3.b1 and §3.1.s4.b13-b15, in 1.0.3 as in 2.0: 409, a response explaining that
    the client should check the current state and set If-Match with the current ETag, and
    no modification."""
    url = resource.url("p")
    create(lrs, url, b'{"v": 1}')
    before = snapshot()
    body = error_of(put(lrs, url, b'{"v": 2}'), 409)
    assert body["error"] == "conflict"
    assert "If-Match" in body["message"]
    assert "ETag" in body["message"]
    assert snapshot() == before
    assert lrs.get(url).content == b'{"v": 1}'


def test_put_with_if_match_of_the_current_etag_replaces_the_profile(lrs, resource):
    """§3.1.s4.b5: the write happens when the document is as the client last saw it."""
    url = resource.url("p")
    first = create(lrs, url, b'{"v": 1}')
    response = put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=first["ETag"])
    assert response.status_code == 204
    assert response["ETag"] == quoted_sha1(b'{"v": 2}')
    got = lrs.get(url)
    assert got.content == b'{"v": 2}'
    assert got["ETag"] == response["ETag"]


def test_put_with_a_stale_if_match_is_a_412_and_changes_nothing(lrs, resource):
    """§3.1.s4.b5, b9, b10."""
    url = resource.url("p")
    stale = create(lrs, url, b'{"v": 1}')["ETag"]
    put(lrs, url, b'{"v": 2}', HTTP_IF_MATCH=stale)
    before = snapshot()
    body = error_of(put(lrs, url, b'{"v": 3}', HTTP_IF_MATCH=stale), 412)
    assert body["error"] == "precondition_failed"
    assert snapshot() == before


def test_put_with_if_match_over_a_missing_profile_is_a_412(lrs, resource):
    """§3.1.s4.b5, b9, b10 (RFC 2616 §14.24): nothing to match, nothing created."""
    error_of(put(lrs, resource.url("p"), HTTP_IF_MATCH=quoted_sha1(b'{"a": 1}')), 412)
    assert Document.objects.count() == 0


def test_put_with_if_none_match_star_creates_only_when_absent(lrs, resource):
    """§3.1.s4.b6, b9, b10."""
    url = resource.url("p")
    assert put(lrs, url, b'{"v": 1}', HTTP_IF_NONE_MATCH="*").status_code == 204
    before = snapshot()
    error_of(put(lrs, url, b'{"v": 2}', HTTP_IF_NONE_MATCH="*"), 412)
    assert snapshot() == before


def test_post_merges_top_level_properties_and_honours_preconditions(lrs, resource):
    """§2.2.s7: top-level merge, nested Objects replaced whole; §3.1.s4.b7, b8, b11, b12:
    POST preconditions fail with 412 and change nothing."""
    url = resource.url("p")
    etag = create(lrs, url, b'{"x": "foo", "y": {"deep": 1}}')["ETag"]
    before = snapshot()
    error_of(post(lrs, url, b'{"z": 1}', HTTP_IF_MATCH=quoted_sha1(b"other")), 412)
    error_of(post(lrs, url, b'{"z": 1}', HTTP_IF_NONE_MATCH="*"), 412)
    assert snapshot() == before
    response = post(lrs, url, b'{"x": "bash", "y": {"other": 2}}', HTTP_IF_MATCH=etag)
    assert response.status_code == 204
    got = lrs.get(url)
    assert orjson.loads(got.content) == {"x": "bash", "y": {"other": 2}}
    assert got["ETag"] == response["ETag"] == quoted_sha1(got.content)


def test_post_without_precondition_headers_merges(lrs, resource):
    """§3.1.s3.b2: for POST the headers are a SHOULD* of the client, not a 409 case."""
    url = resource.url("p")
    create(lrs, url, b'{"a": 1}')
    assert post(lrs, url, b'{"b": 2}').status_code == 204
    assert orjson.loads(lrs.get(url).content) == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("stored", "stored_type", "posted", "posted_type"),
    [
        (b"<xml/>", "application/xml", b'{"a": 1}', "application/json"),
        (b'{"a": 1}', "application/json", b"a=1", "application/x-www-form-urlencoded"),
        (b'{"a": 1}', "application/json", b"[1]", "application/json"),
    ],
)
def test_post_that_cannot_merge_is_a_400_and_changes_nothing(
    lrs, resource, stored, stored_type, posted, posted_type
):
    """§2.2.s8.b1."""
    url = resource.url("p")
    create(lrs, url, stored, stored_type)
    before = snapshot()
    error_of(post(lrs, url, posted, posted_type), 400)
    assert snapshot() == before


# --- multiple documents -----------------------------------------------------------------


def test_get_without_profile_id_lists_ids_since_exclusive(lrs, resource):
    """§2.6.s4 / §2.7.s4: "Fetches Profile ids of all Profile documents" for the Agent or
    Activity; with since, "Only ids of Profiles stored since the specified Timestamp
    (exclusive)". §2.2.s6.b2: Last-Modified of the newest."""
    assert ids_of(lrs.get(resource.url())) == []
    times = {
        "a": dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.UTC),
        "b": dt.datetime(2024, 5, 1, 12, 0, 1, 500000, tzinfo=dt.UTC),
        "c": dt.datetime(2024, 5, 1, 12, 0, 2, 750000, tzinfo=dt.UTC),
    }
    for profile_id, updated in times.items():
        create(lrs, resource.url(profile_id))
        Document.objects.filter(document_id=profile_id).update(updated=updated)
    create(lrs, resource.other_url("elsewhere"))
    response = lrs.get(resource.url())
    assert ids_of(response) == ["a", "b", "c"]
    assert parse_http_date(response["Last-Modified"]) == int(times["c"].timestamp())
    assert ids_of(lrs.get(resource.url(since=times["b"].isoformat()))) == ["c"]
    before_b = (times["b"] - dt.timedelta(microseconds=1)).isoformat()
    assert ids_of(lrs.get(resource.url(since=before_b))) == ["b", "c"]
    error_of(lrs.get(resource.url(since="last tuesday")), 400)
    # Beside a profileId, since has nothing to filter: the one document comes back.
    got = lrs.get(resource.url("a", since=times["b"].isoformat()))
    assert got.status_code == 200, got.content
    assert got.content == b'{"a": 1}'
    error_of(lrs.get(resource.url("a", since="last tuesday")), 400)


@pytest.mark.parametrize("method", ["put", "post"])
def test_a_write_with_neither_body_nor_content_type_is_a_400_and_stores_nothing(
    lrs, resource, method
):
    """§2.2.s2: a document's contents are "the HTTP document itself"; a PUT or POST with
    no bytes and no media type sends none, with or without a precondition header."""
    response = lrs.request(
        method,
        resource.url("nothing"),
        data=b"",
        content_type="",
        CONTENT_TYPE="",
        HTTP_IF_NONE_MATCH="*",
    )
    error_of(response, 400)
    assert Document.objects.count() == 0


# --- DELETE -----------------------------------------------------------------------------


def test_delete_deletes_the_profile(lrs, resource):
    """§2.6.s3 / §2.7.s3: DELETE the specified Profile document; 204."""
    create(lrs, resource.url("gone"))
    create(lrs, resource.url("kept"))
    assert lrs.request("delete", resource.url("gone")).status_code == 204
    error_of(lrs.get(resource.url("gone")), 404)
    assert ids_of(lrs.get(resource.url())) == ["kept"]


def test_delete_with_a_stale_if_match_is_a_412_and_deletes_nothing(lrs, resource):
    """§3.1.s4.b7, b11, b12; with the current ETag it deletes."""
    url = resource.url("p")
    etag = create(lrs, url, b'{"v": 1}')["ETag"]
    error_of(lrs.request("delete", url, HTTP_IF_MATCH=quoted_sha1(b"other")), 412)
    assert lrs.get(url).status_code == 200
    assert lrs.request("delete", url, HTTP_IF_MATCH=etag).status_code == 204
    error_of(lrs.get(url), 404)


def test_delete_needs_a_profile_id(lrs, resource):
    """§2.6.s3 / §2.7.s3: profileId is required; unlike State (§2.3.s5) the profile
    resources have no multiple document DELETE: 400, and nothing is deleted."""
    create(lrs, resource.url("p"))
    before = snapshot()
    error_of(lrs.request("delete", resource.url()), 400)
    assert snapshot() == before


# --- parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize(
    "agent",
    [
        pytest.param(GROUP, id="group"),
        pytest.param({"objectType": "Group", "mbox": "mailto:team@example.com"}, id="group-bare"),
        pytest.param({"name": "Ann"}, id="no-ifi"),
        pytest.param("{not json", id="bad-json"),
    ],
)
def test_agent_profile_needs_an_identified_agent_not_a_group(lrs, method, agent):
    """§2.6.s3 note: "The agent parameter is an Agent Object and not a Group"; an Agent is
    identified by one IFI (Data §2.4.2.3). 400, nothing stored."""
    url = AGENT_PROFILE.url("p", scope=agent)
    if method in ("PUT", "POST"):
        response = send(lrs, method, url, b'{"a": 1}')
    else:
        response = lrs.request(method, url)
    error_of(response, 400)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"profileId": "p"}, id="activityId-missing"),
        pytest.param({"activityId": "algebra", "profileId": "p"}, id="activityId-not-IRI"),
        pytest.param(
            {"activityId": '{"key": "value"}', "profileId": "p"}, id="activityId-JSON-object"
        ),
        pytest.param({"activityId": "1:2", "profileId": "p"}, id="activityId-bad-scheme"),
        pytest.param({"activityId": ACTIVITY, "profileId": ""}, id="profileId-empty"),
        pytest.param(
            {"activityId": ACTIVITY, "profileId": "p", "agent": as_json(AGENT)}, id="agent"
        ),
        pytest.param(
            {"activityId": ACTIVITY, "profileId": "p", "registration": OTHER_ACTIVITY},
            id="registration",
        ),
    ],
)
def test_activity_profile_parameters_are_checked(lrs, method, query):
    """§2.7.s3: activityId (an Activity id, IRI) and profileId are its parameters; others
    are not recognised. 400, nothing stored."""
    url = "/xapi/activities/profile?" + urlencode(query)
    if method in ("PUT", "POST"):
        response = send(lrs, method, url, b'{"a": 1}')
    else:
        response = lrs.request(method, url)
    error_of(response, 400)
    assert Document.objects.count() == 0


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_writes_need_a_profile_id(lrs, resource, method):
    """§2.6.s3 / §2.7.s3: profileId is required."""
    error_of(send(lrs, method, resource.url(), b'{"a": 1}'), 400)
    assert Document.objects.count() == 0


def test_agent_profile_refuses_the_state_parameters(lrs):
    """§2.6.s3: agent and profileId; activityId or stateId there is a mistake: 400."""
    error_of(put(lrs, AGENT_PROFILE.url("p", activityId=ACTIVITY)), 400)
    error_of(put(lrs, AGENT_PROFILE.url(stateId="p")), 400)
    assert Document.objects.count() == 0


# --- size -------------------------------------------------------------------------------


def test_a_document_over_the_size_limit_is_a_413_and_is_not_stored(lrs, resource, settings):
    """§3.2.s3.b11-b12: the LRS MAY choose a document size limit and MUST reject a larger
    document with 413; PROGRESS_MAX_DOCUMENT_BYTES is that limit, inclusive."""
    settings.PROGRESS_MAX_DOCUMENT_BYTES = 1024
    too_big = b"x" * 1025
    assert error_of(put(lrs, resource.url("big"), too_big, "text/plain"), 413)["error"] == (
        "payload_too_large"
    )
    error_of(post(lrs, resource.url("big"), b'{"a": "' + b"x" * 1020 + b'"}'), 413)
    assert Document.objects.count() == 0
    assert create(lrs, resource.url("fits"), b"x" * 1024, "text/plain").status_code == 204


def test_a_merge_that_outgrows_the_size_limit_is_a_413_and_changes_nothing(lrs, resource, settings):
    """§3.2.s3.b11: a merge of two documents each within the limit can exceed it: 413,
    and no change."""
    settings.PROGRESS_MAX_DOCUMENT_BYTES = 1024
    url = resource.url("p")
    etag = create(lrs, url, b'{"a": "' + b"x" * 600 + b'"}')["ETag"]
    before = snapshot()
    error_of(post(lrs, url, b'{"b": "' + b"y" * 600 + b'"}', HTTP_IF_MATCH=etag), 413)
    assert snapshot() == before


# --- who may see what -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "may_read", "may_write"),
    [
        (["profile"], True, True),
        (["all/read"], True, False),
        (["state"], False, False),
        (["define"], False, False),
        (["statements/read"], False, False),
    ],
)
def test_scopes_decide_who_may_read_and_write_profiles(
    credential, version, resource, scopes, may_read, may_write
):
    """§4.2.s2 (scopes table): "profile" reads and writes Profile documents; "all/read" is
    read access; "state" or "define" do not reach them: 403 (§3.2.s3.b10)."""
    owner = XAPIClient(credential, version=version)
    etag = create(owner, resource.url("p"), b'{"a": 1}')["ETag"]
    lrs = XAPIClient(CredentialFactory(tenant=credential.tenant, scopes=scopes), version=version)
    for response in (lrs.get(resource.url("p")), lrs.get(resource.url())):
        assert response.status_code == (200 if may_read else 403)
    before = snapshot()
    writes = [
        post(lrs, resource.url("p"), b'{"b": 2}', HTTP_IF_MATCH=etag),
        put(lrs, resource.url("q"), b'{"c": 3}', HTTP_IF_NONE_MATCH="*"),
        lrs.request("delete", resource.url("q")),
    ]
    for response in writes:
        assert response.status_code == (204 if may_write else 403)
    if not may_write:
        assert snapshot() == before


def test_another_tenant_cannot_see_the_profile(lrs, version, resource):
    """Tenant isolation: documents belong to the credential's tenant."""
    create(lrs, resource.url("p"), b'{"mine": true}')
    stranger = XAPIClient(CredentialFactory(), version=version)
    error_of(stranger.get(resource.url("p")), 404)
    assert ids_of(stranger.get(resource.url())) == []
    assert create(stranger, resource.url("p"), b'{"theirs": 1}').status_code == 204
    assert lrs.get(resource.url("p")).content == b'{"mine": true}'
