"""The internal progress API, /api/v1/attempts, /completions and /rollups."""

from __future__ import annotations

import orjson
import pytest
from django.test import Client

from tests.attempts import cmi5
from tests.attempts.conftest import drain, principal_for, store
from tests.conftest import basic
from tests.factories import CredentialFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def credential(db):
    return CredentialFactory(scopes=["statements/read", "statements/write"])


@pytest.fixture
def principal(credential):
    return principal_for(credential)


def get(credential, path, **params):
    response = Client().get(path, params, HTTP_AUTHORIZATION=basic(credential.key))
    return response, orjson.loads(response.content) if response.content else None


def learners_sessions(principal, names=("ann", "bob", "cy")):
    sessions = {}
    for name in names:
        session = cmi5.Session(actor=cmi5.learner(name))
        store(principal, *session.normal(move_on="Passed"))
        sessions[name] = session
    drain()
    return sessions


def test_attempts_are_listed_with_their_projected_fields(credential, principal):
    sessions = learners_sessions(principal)
    response, body = get(credential, "/api/v1/attempts")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert len(body["attempts"]) == 3
    assert body["next"] is None
    attempt = body["attempts"][0]
    assert attempt["status"] == "passed"
    assert attempt["activity_id"] == cmi5.AU
    assert attempt["registration"] in {s.registration for s in sessions.values()}
    assert attempt["started_at"].endswith("Z")
    assert attempt["duration_seconds"] == 900.0
    assert set(attempt["outcome_statements"]) >= {"launched", "passed", "terminated"}


def test_filters_by_learner_as_agent_json_or_identifier(credential, principal):
    sessions = learners_sessions(principal)
    agent = orjson.dumps(cmi5.learner("bob")).decode()
    _, by_agent = get(credential, "/api/v1/attempts", learner=agent)
    _, by_ifi = get(credential, "/api/v1/attempts", learner=cmi5.learner_ifi("bob"))
    assert [a["learner"] for a in by_agent["attempts"]] == [cmi5.learner_ifi("bob")]
    assert by_ifi == by_agent
    _, by_registration = get(
        credential, "/api/v1/completions", registration=sessions["cy"].registration
    )
    assert [c["learner"] for c in by_registration["completions"]] == [cmi5.learner_ifi("cy")]
    _, by_status = get(credential, "/api/v1/attempts", status="failed")
    assert by_status["attempts"] == []
    _, by_activity = get(credential, "/api/v1/completions", activity=cmi5.AU, status="passed")
    assert len(by_activity["completions"]) == 3


def test_since_returns_rows_after_the_time(credential, principal):
    learners_sessions(principal)
    _, late = get(credential, "/api/v1/attempts", since="2026-11-02T09:04:00Z")
    assert late["attempts"] == []
    _, early = get(credential, "/api/v1/attempts", since="2026-11-02T09:03:59Z")
    assert len(early["attempts"]) == 3
    # RFC 3339 §5.6: "T" and "Z" may be lowercase.
    _, lowercase = get(credential, "/api/v1/attempts", since="2026-11-02t09:03:59z")
    assert lowercase["attempts"] == early["attempts"]


def test_keyset_pages_follow_next_to_the_end(credential, principal):
    learners_sessions(principal, names=[f"l{i}" for i in range(7)])
    seen, path, pages = [], "/api/v1/completions?limit=3", 0
    client = Client()
    while path:
        response = client.get(path, HTTP_AUTHORIZATION=basic(credential.key))
        body = orjson.loads(response.content)
        seen += [c["completion_id"] for c in body["completions"]]
        path, pages = body["next"], pages + 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7


def test_a_cursor_is_bound_to_its_tenant(credential, principal):
    learners_sessions(principal)
    _, body = get(credential, "/api/v1/attempts", limit="1")
    other = CredentialFactory(scopes=["statements/read"])
    response, error = get(other, body["next"])
    assert response.status_code == 400
    assert error["path"] == "cursor"


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"learner": "ann"}, "learner"),
        ({"learner": '{"name": "no identifier"}'}, None),
        (
            {"learner": '{"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}'},
            "learner",
        ),
        ({"activity": "not an iri"}, "activity"),
        ({"registration": "123"}, "registration"),
        ({"status": "finished"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"limit": "-1"}, "limit"),
        ({"colour": "blue"}, "colour"),
        ({"cursor": "forged.token"}, "cursor"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(credential, params, path):
    response, body = get(credential, "/api/v1/attempts", **params)
    assert response.status_code == 400
    assert body["message"]
    if path is not None:
        assert body["path"] == path


def test_reading_progress_needs_a_statements_read_scope(db):
    writer = CredentialFactory(scopes=["statements/write"])
    response, _ = get(writer, "/api/v1/attempts")
    assert response.status_code == 403
    response = Client().get("/api/v1/attempts")
    assert response.status_code == 401


def test_a_tenant_sees_only_its_own_progress(credential, principal):
    learners_sessions(principal)
    other = CredentialFactory(scopes=["all"])
    _, body = get(other, "/api/v1/attempts")
    assert body["attempts"] == []


def test_rollup_counts_children_and_shows_the_parents_own_completion(credential, principal):
    """cmi5 §9.3.9: the LMS's satisfied on the block is the block's completion; the rollup
    counts the AUs under it."""
    first = cmi5.Session()
    store(principal, *first.normal(move_on="Passed"))
    second = cmi5.Session(registration=first.registration, activity=cmi5.AU + "-2")
    second.launched(move_on="Passed")
    second.initialized()
    store(principal, *second.statements)
    drain()
    response, rollup = get(
        credential,
        "/api/v1/rollups",
        learner=cmi5.learner_ifi(),
        activity=cmi5.BLOCK,
        registration=first.registration,
    )
    assert response.status_code == 200
    assert rollup["children_started"] == 2
    assert rollup["children_satisfied"] == 1
    assert rollup["completion"] is None
    block = cmi5.Session(registration=first.registration, activity=cmi5.BLOCK, session_id="")
    store(principal, block.add("satisfied"))
    drain()
    _, rollup = get(
        credential,
        "/api/v1/rollups",
        learner=cmi5.learner_ifi(),
        activity=cmi5.BLOCK,
        registration=first.registration,
    )
    assert rollup["completion"]["basis"] == "satisfied"
    response, body = get(credential, "/api/v1/rollups", learner=cmi5.learner_ifi())
    assert response.status_code == 400
    assert body["path"] == "activity"
