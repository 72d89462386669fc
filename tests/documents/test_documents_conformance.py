"""Requirements of the document resources (Communication §2.2, §2.3, §3.1) that concern a
whole State context: the multiple-document DELETE under If-Match / If-None-Match, in
xAPI 1.0.3 and 2.0.
"""

from urllib.parse import urlencode

import orjson
import pytest

from documents.models import Document
from tests.documents.helpers import error_of, ids_of, put, quoted_sha1

pytestmark = pytest.mark.django_db

STATE = "/xapi/activities/state"
ACTIVITY = "https://example.com/courses/algebra/au/1"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
REGISTRATION = "760e3480-ba55-4991-94b0-01820dbd23a2"


def state_url(state_id=None, **extra) -> str:
    params = {"activityId": ACTIVITY, "agent": orjson.dumps(AGENT).decode(), **extra}
    if state_id is not None:
        params["stateId"] = state_id
    return f"{STATE}?{urlencode(params)}"


def stored_ids() -> set[str]:
    return set(Document.objects.values_list("document_id", flat=True))


@pytest.fixture
def two_states(lrs):
    for state_id in ("a", "b"):
        assert put(lrs, state_url(state_id), b'{"v": 1}').status_code == 204
    return lrs


def test_multiple_delete_with_the_listed_etag_deletes_the_context(two_states):
    """Communication §3.1.s4.b7: "An LRS responding to a POST or DELETE request SHOULD*
    handle the If-Match header as described in RFC2616 ... in order to detect
    modifications made after the Client last fetched the document" (a SHALL in 2.0). What
    a client fetches of a whole context is the id list of §2.3.s4; with that list's ETag
    the DELETE of §2.3.s5 goes ahead."""
    listed = two_states.get(state_url())
    assert ids_of(listed) == ["a", "b"]
    response = two_states.request("delete", state_url(), HTTP_IF_MATCH=listed["ETag"])
    assert response.status_code == 204
    assert stored_ids() == set()


def test_multiple_delete_with_a_stale_if_match_is_a_412_and_deletes_nothing(two_states):
    """Communication §3.1.s4.b7, b11, b12: a document added after the client listed the
    context makes its If-Match stale: 412 and every document stays."""
    stale = two_states.get(state_url())["ETag"]
    assert put(two_states, state_url("c"), b'{"v": 1}').status_code == 204
    body = error_of(two_states.request("delete", state_url(), HTTP_IF_MATCH=stale), 412)
    assert body["error"] == "precondition_failed"
    assert stored_ids() == {"a", "b", "c"}


def test_multiple_delete_with_an_unrelated_if_match_is_a_412(two_states):
    """Communication §3.1.s4.b7, b11, b12 (RFC 2616 §14.24): an ETag that is not the
    context's current one, such as one document's, refuses the DELETE."""
    one_document = quoted_sha1(b'{"v": 1}')
    error_of(two_states.request("delete", state_url(), HTTP_IF_MATCH=one_document), 412)
    assert stored_ids() == {"a", "b"}


def test_multiple_delete_with_if_none_match_star_is_a_412(two_states):
    """Communication §3.1.s4.b8, b11, b12 (RFC 2616 §14.26): the id list always exists
    (its GET answers 200), so If-None-Match: * fails and nothing is deleted."""
    error_of(two_states.request("delete", state_url(), HTTP_IF_NONE_MATCH="*"), 412)
    assert stored_ids() == {"a", "b"}


def test_multiple_delete_if_match_covers_only_the_named_registration(lrs):
    """Communication §2.3.s5: the context is Activity + Agent [+ registration]; the ETag
    checked is the one of the ids listed for that registration."""
    assert put(lrs, state_url("r", registration=REGISTRATION), b"{}").status_code == 204
    assert put(lrs, state_url("u"), b"{}").status_code == 204
    listed = lrs.get(state_url(registration=REGISTRATION))
    assert ids_of(listed) == ["r"]
    url = state_url(registration=REGISTRATION)
    assert lrs.request("delete", url, HTTP_IF_MATCH=listed["ETag"]).status_code == 204
    assert stored_ids() == {"u"}


def test_multiple_delete_without_precondition_headers_still_deletes(two_states):
    """Communication §3.1.s3: "The State Resource will permit PUT, POST and DELETE
    requests without concurrency headers"."""
    assert two_states.request("delete", state_url()).status_code == 204
    assert stored_ids() == set()
