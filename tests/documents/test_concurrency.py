"""Optimistic concurrency under real concurrency (Communication §3.1), on two connections.

§3.1.s1: concurrency control "makes certain that a client does not PUT, POST or DELETE
documents based on old data". Two writers that both hold the same knowledge of a document
must not both succeed where only one of them can be right: checking the preconditions and
writing must be one step per document (``documents.services`` takes an advisory lock on the
document's key before reading it).

To make the race real rather than lucky, ``slow_checks`` holds each writer for a while
after its precondition check passed and before it writes: a writer that read the document
without the lock would then always see the state from before the other's write.
"""

import threading
import time
from urllib.parse import urlencode

import orjson
import pytest
from django.db import connections

from documents import preconditions, services
from documents.keys import activity_profile_scope, etag_of, state_scope
from documents.models import Document
from documents.preconditions import Preconditions
from documents.services import DocumentTarget
from lrs.errors import Conflict, PreconditionFailed
from tests.conftest import XAPIClient
from tests.factories import CredentialFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVITY = "https://example.com/courses/algebra/au/1"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
REGISTRATION = "760e3480-ba55-4991-94b0-01820dbd23a2"
STATE = DocumentTarget(
    scope=state_scope(ACTIVITY, "mbox:mailto:learner@example.com", REGISTRATION),
    document_id="LMS.LaunchData",
    agent=AGENT,
)
PROFILE = DocumentTarget(scope=activity_profile_scope(ACTIVITY), document_id="shared")
HOLD_SECONDS = 0.3


@pytest.fixture(autouse=True)
def slow_checks(monkeypatch):
    """Widen the window between reading the current document and writing the new one."""
    check = preconditions.check

    def check_then_wait(*args, **kwargs):
        check(*args, **kwargs)
        time.sleep(HOLD_SECONDS)

    monkeypatch.setattr(preconditions, "check", check_then_wait)


@pytest.fixture
def tenant_id():
    return TenantFactory().pk


def etags(content: bytes) -> frozenset[str]:
    """An If-Match naming ``content``'s ETag, as ``preconditions.parse_etags`` gives it."""
    return frozenset({etag_of(content)})


def put(tenant_id, target, content, *, if_match=None, if_none_match=None, needs=True):
    return services.document_put(
        tenant_id=tenant_id,
        credential_id=None,
        target=target,
        content=content,
        content_type="application/json",
        preconditions=Preconditions(if_match=if_match, if_none_match=if_none_match),
        put_needs_precondition=needs,
    )


def post(tenant_id, target, content, *, if_match=None):
    return services.document_post(
        tenant_id=tenant_id,
        credential_id=None,
        target=target,
        content=content,
        content_type="application/json",
        preconditions=Preconditions(if_match=if_match),
    )


def run_together(*writers) -> list[str]:
    """Start every writer at once, each on its own thread and connection; their outcomes
    in writer order: "ok", "412", "409", or the unexpected exception."""
    barrier = threading.Barrier(len(writers))
    outcomes: list[str | None] = [None] * len(writers)

    def run(index, writer):
        try:
            barrier.wait()
            writer()
            outcomes[index] = "ok"
        except PreconditionFailed:
            outcomes[index] = "412"
        except Conflict:
            outcomes[index] = "409"
        except Exception as exc:
            outcomes[index] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return outcomes


def stored(tenant_id) -> list[bytes]:
    rows = Document.objects.filter(tenant_id=tenant_id).values_list("content", flat=True)
    return [bytes(content) for content in rows]


def test_two_concurrent_if_none_match_creations_cannot_both_succeed(tenant_id):
    """§3.1.s4.b6, b9, b10: If-None-Match: * detects "a resource present that the Client is
    not aware of", also when it was created a moment ago by another client: one creation
    succeeds, the other gets 412, and one document remains, the winner's."""
    contents = [b'{"writer": "first"}', b'{"writer": "second"}']
    outcomes = run_together(
        *(lambda c=c: put(tenant_id, STATE, c, if_none_match=frozenset({"*"})) for c in contents)
    )
    assert sorted(outcomes) == ["412", "ok"]
    winner = contents[outcomes.index("ok")]
    assert stored(tenant_id) == [winner]


def test_two_concurrent_puts_with_the_same_if_match_cannot_both_succeed(tenant_id):
    """§3.1.s1, §3.1.s4.b5, b9, b10: two clients that fetched the same version both send
    its ETag in If-Match; the second write would be based on old data, so exactly one
    succeeds and the other gets 412. No lost update: what is stored is the winner's."""
    original = b'{"version": 0}'
    put(tenant_id, PROFILE, original)
    seen = etags(original)
    contents = [b'{"version": "1a"}', b'{"version": "1b"}']
    outcomes = run_together(
        *(lambda c=c: put(tenant_id, PROFILE, c, if_match=seen) for c in contents)
    )
    assert sorted(outcomes) == ["412", "ok"]
    assert stored(tenant_id) == [contents[outcomes.index("ok")]]


def test_two_concurrent_unconditional_creations_under_2_0_give_one_409(tenant_id):
    """xAPI 2.0 §3.1.s4.b13-b15: a PUT without precondition headers over an existing
    document is a 409; the document the other writer just created exists."""
    contents = [b'{"writer": "first"}', b'{"writer": "second"}']
    outcomes = run_together(*(lambda c=c: put(tenant_id, STATE, c, needs=True) for c in contents))
    assert sorted(outcomes) == ["409", "ok"]
    assert stored(tenant_id) == [contents[outcomes.index("ok")]]


def test_a_put_and_a_delete_with_the_same_if_match_cannot_both_succeed(tenant_id):
    """§3.1.s4.b5, b7: a DELETE based on old data must not remove a newer document, and a
    PUT must not resurrect one deleted meanwhile."""
    original = b'{"version": 0}'
    put(tenant_id, PROFILE, original)
    seen = etags(original)

    def delete():
        services.document_delete(
            tenant_id=tenant_id,
            credential_id=None,
            target=PROFILE,
            preconditions=Preconditions(if_match=seen),
        )

    outcomes = run_together(
        lambda: put(tenant_id, PROFILE, b'{"version": 1}', if_match=seen), delete
    )
    assert sorted(outcomes) == ["412", "ok"]
    if outcomes[0] == "ok":
        assert stored(tenant_id) == [b'{"version": 1}']
    else:
        assert stored(tenant_id) == []


def test_two_concurrent_json_merges_of_different_properties_both_survive(tenant_id):
    """§2.2.s7: each POST sets its own properties on "the existing Object"; the existing
    Object of the second merge is the result of the first, so neither property is lost."""
    put(tenant_id, STATE, b'{"base": 0}')
    outcomes = run_together(
        lambda: post(tenant_id, STATE, b'{"a": 1}'),
        lambda: post(tenant_id, STATE, b'{"b": 2}'),
    )
    assert outcomes == ["ok", "ok"]
    (merged,) = stored(tenant_id)
    assert orjson.loads(merged) == {"base": 0, "a": 1, "b": 2}


def test_two_concurrent_http_creations_with_if_none_match_give_one_412():
    """The same race through the HTTP stack (xAPI 2.0 State): 204 for one, 412 for the
    other, and the winner's document is what GET returns."""
    credential = CredentialFactory()
    url = "/xapi/activities/state?" + urlencode(
        {
            "activityId": ACTIVITY,
            "agent": orjson.dumps(AGENT).decode(),
            "registration": REGISTRATION,
            "stateId": "LMS.LaunchData",
        }
    )
    contents = [b'{"launch": 1}', b'{"launch": 2}']
    statuses = [None, None]
    barrier = threading.Barrier(2)

    def launch(index):
        try:
            lrs = XAPIClient(credential)
            barrier.wait()
            response = lrs.request(
                "put",
                url,
                data=contents[index],
                content_type="application/json",
                HTTP_IF_NONE_MATCH="*",
            )
            statuses[index] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=launch, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [204, 412]
    got = XAPIClient(credential).get(url)
    assert got.content == contents[statuses.index(204)]
