"""cmi5 flows over the document resources (cmi5 §10 State Data Model, §11 Agent Profile).

Before each AU launch the LMS writes the ``LMS.LaunchData`` State document for the AU's
activity id, the learner and the registration (cmi5 §10.1); the AU reads it back to build
its statements' context (§10.2.1). The learner preferences live in the ``cmi5LearnerPreferences``
Agent Profile document (§11). The LMS and the AU hold different credentials of one tenant,
and the AU names the learner with the actor JSON from its launch URL (cmi5 §8.1), which need
not be byte-identical to the LMS's.
"""

from urllib.parse import urlencode

import orjson
import pytest

from tests.conftest import XAPIClient
from tests.factories import CredentialFactory

pytestmark = pytest.mark.django_db

AU_ID = "http://www.example.com/LA1/001/intro"
PUBLISHER_ID = "https://example.com/course-structure/LA1/au/intro"
REGISTRATION = "760e3480-ba55-4991-94b0-01820dbd23a2"
SECOND_REGISTRATION = "2c6a7c8e-2f0a-4f2b-9d43-5d1f3cb0a7e9"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
# cmi5 §8.1's example actor as the LMS writes it, and as an AU may re-serialize it.
LMS_ACTOR = {
    "objectType": "Agent",
    "account": {"homePage": "http://www.example.com", "name": "1625378"},
}
AU_ACTOR = '{"account":{"name":"1625378","homePage":"http://www.example.com"},"objectType":"Agent"}'
VERSIONS = ["1.0.3", "2.0.0"]


def launch_data_url(actor=LMS_ACTOR, registration=REGISTRATION, state_id="LMS.LaunchData"):
    """cmi5 §10.1: activityId = the AU, agent = the learner, the registration, and
    stateId LMS.LaunchData (``state_id=None``: the ids of that context)."""
    agent = actor if isinstance(actor, str) else orjson.dumps(actor).decode()
    query = {"activityId": AU_ID, "agent": agent, "registration": registration}
    if state_id is not None:
        query["stateId"] = state_id
    return "/xapi/activities/state?" + urlencode(query)


def preferences_url(actor=LMS_ACTOR) -> str:
    """cmi5 §11: the Agent Profile document "cmi5LearnerPreferences" of the learner."""
    agent = actor if isinstance(actor, str) else orjson.dumps(actor).decode()
    return "/xapi/agents/profile?" + urlencode(
        {"agent": agent, "profileId": "cmi5LearnerPreferences"}
    )


def launch_data(session_id: str, launch_mode: str = "Normal") -> bytes:
    """An LMS.LaunchData document with every cmi5 §10.2 property."""
    return orjson.dumps(
        {
            "contextTemplate": {
                "contextActivities": {"grouping": [{"id": PUBLISHER_ID}]},
                "extensions": {SESSION_ID: session_id},
            },
            "launchMode": launch_mode,
            "launchParameters": '{"difficulty": "hard"}',
            "masteryScore": 0.75,
            "moveOn": "CompletedAndPassed",
            "returnURL": "http://www.example.com/lms/mod/xapilaunch/view.php?id=12",
            "entitlementKey": {"courseStructure": "xyz-123-9999", "alternate": "abc-456-1111"},
        },
        option=orjson.OPT_INDENT_2,
    )


def put(client, url, content, **headers):
    return client.request("put", url, data=content, content_type="application/json", **headers)


@pytest.fixture
def lms(credential, version):
    return XAPIClient(credential, version=version)


@pytest.fixture
def au(credential, version):
    """The AU's own credential, in the LMS's tenant, for state, profiles and statements."""
    scopes = ["state", "profile", "statements/write", "statements/read/mine"]
    return XAPIClient(CredentialFactory(tenant=credential.tenant, scopes=scopes), version=version)


def session_of(response) -> str:
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)["contextTemplate"]["extensions"][SESSION_ID]


def test_au_reads_back_exactly_the_launch_data_the_lms_wrote(lms, au):
    """cmi5 §10.1: the LMS creates the LMS.LaunchData document before launching; §10.2.1:
    the AU MUST get the contextTemplate from it (and launchMode, moveOn, ... §10.2.2-7).
    The AU gets the LMS's bytes, with the learner named by its launch URL's actor."""
    content = launch_data("session-1")
    response = put(lms, launch_data_url(), content)
    assert response.status_code == 204
    got = au.get(launch_data_url(AU_ACTOR))
    assert got.status_code == 200
    assert got.content == content
    assert got["Content-Type"] == "application/json"
    assert got["ETag"] == response["ETag"]
    document = orjson.loads(got.content)
    assert document["launchMode"] == "Normal"
    assert document["moveOn"] == "CompletedAndPassed"
    assert document["masteryScore"] == 0.75
    assert document["contextTemplate"]["contextActivities"]["grouping"] == [{"id": PUBLISHER_ID}]
    ids = au.get(launch_data_url(AU_ACTOR, state_id=None))
    assert orjson.loads(ids.content) == ["LMS.LaunchData"]


def test_launch_data_belongs_to_one_registration(lms, au):
    """cmi5 §10.1: the registration MUST match the one used at launch; another enrollment
    of the same learner in the same AU has its own launch data."""
    put(lms, launch_data_url(), launch_data("session-first-enrollment"))
    put(lms, launch_data_url(registration=SECOND_REGISTRATION), launch_data("session-second"))
    assert session_of(au.get(launch_data_url(AU_ACTOR))) == "session-first-enrollment"
    second = au.get(launch_data_url(AU_ACTOR, registration=SECOND_REGISTRATION))
    assert session_of(second) == "session-second"


@pytest.mark.parametrize("etag_from", ["GET", "PUT response"])
def test_relaunch_under_2_0_rewrites_launch_data_with_if_match(credential, etag_from):
    """xAPI 2.0 (§3.1.s4.b13-b15 on State): the LMS rewriting LMS.LaunchData before a second
    launch without If-Match gets 409 and the first launch's data stays intact; with
    If-Match carrying the ETag it got (from a GET or from its first PUT's 204) the rewrite
    succeeds, and the AU of the second launch reads the second session."""
    lms = XAPIClient(credential, version="2.0.0")
    au = XAPIClient(CredentialFactory(tenant=credential.tenant, scopes=["state"]))
    first = put(lms, launch_data_url(), launch_data("session-1"))
    assert first.status_code == 204

    conflict = put(lms, launch_data_url(), launch_data("session-2", "Review"))
    assert conflict.status_code == 409
    assert "If-Match" in orjson.loads(conflict.content)["message"]
    assert au.get(launch_data_url(AU_ACTOR)).content == launch_data("session-1")

    etag = lms.get(launch_data_url())["ETag"] if etag_from == "GET" else first["ETag"]
    second = put(lms, launch_data_url(), launch_data("session-2", "Review"), HTTP_IF_MATCH=etag)
    assert second.status_code == 204
    relaunched = au.get(launch_data_url(AU_ACTOR))
    assert session_of(relaunched) == "session-2"
    assert orjson.loads(relaunched.content)["launchMode"] == "Review"

    # The first ETag is stale now: a third launch must use the second one.
    stale = put(lms, launch_data_url(), launch_data("session-3"), HTTP_IF_MATCH=first["ETag"])
    assert stale.status_code == 412
    assert session_of(au.get(launch_data_url(AU_ACTOR))) == "session-2"
    third = put(lms, launch_data_url(), launch_data("session-3"), HTTP_IF_MATCH=second["ETag"])
    assert third.status_code == 204
    assert session_of(au.get(launch_data_url(AU_ACTOR))) == "session-3"


def test_relaunch_under_1_0_3_rewrites_launch_data_unconditionally(credential):
    """xAPI 1.0.3 §3.1.s3: State permits PUT without concurrency headers, so the LMS's
    plain rewrite before the second launch replaces the launch data (cmi5 §10.1: "create
    or update")."""
    lms = XAPIClient(credential, version="1.0.3")
    au = XAPIClient(CredentialFactory(tenant=credential.tenant, scopes=["state"]), version="1.0.3")
    assert put(lms, launch_data_url(), launch_data("session-1")).status_code == 204
    assert session_of(au.get(launch_data_url(AU_ACTOR))) == "session-1"
    assert put(lms, launch_data_url(), launch_data("session-2")).status_code == 204
    assert au.get(launch_data_url(AU_ACTOR)).content == launch_data("session-2")


def test_learner_preferences_written_by_the_lms_are_read_by_the_au(lms, au):
    """cmi5 §11: the cmi5LearnerPreferences Agent Profile document holds languagePreference
    (§11.1, RFC 5646 tags in order of preference) and audioPreference (§11.2). The AU MUST
    retrieve it on startup; before the LMS writes it there is none (404, the AU uses its
    defaults). The LMS creates it with If-None-Match: * (§3.1.s3.b1)."""
    assert au.get(preferences_url(AU_ACTOR)).status_code == 404
    preferences = b'{"languagePreference": "en-US,fr-FR,fr-BE", "audioPreference": "on"}'
    created = put(lms, preferences_url(), preferences, HTTP_IF_NONE_MATCH="*")
    assert created.status_code == 204
    got = au.get(preferences_url(AU_ACTOR))
    assert got.status_code == 200
    assert got.content == preferences
    document = orjson.loads(got.content)
    assert document["languagePreference"].split(",") == ["en-US", "fr-FR", "fr-BE"]
    assert document["audioPreference"] == "on"
    # A second "create" finds the document: 412, preferences unchanged.
    again = put(lms, preferences_url(), b'{"audioPreference": "off"}', HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 412
    assert au.get(preferences_url(AU_ACTOR)).content == preferences


def test_au_changes_one_learner_preference_and_keeps_the_other(lms, au):
    """cmi5 §11: "Both the LMS and the AU MAY write changes to Learner Preferences"; a JSON
    POST with If-Match merges the AU's audioPreference into the LMS's document (xAPI
    §2.2.s7), languagePreference untouched."""
    preferences = b'{"languagePreference": "fr-FR,en-US", "audioPreference": "on"}'
    put(lms, preferences_url(), preferences, HTTP_IF_NONE_MATCH="*")
    etag = au.get(preferences_url(AU_ACTOR))["ETag"]
    changed = au.request(
        "post",
        preferences_url(AU_ACTOR),
        data=b'{"audioPreference": "off"}',
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert changed.status_code == 204
    merged = orjson.loads(lms.get(preferences_url()).content)
    assert merged == {"languagePreference": "fr-FR,en-US", "audioPreference": "off"}
