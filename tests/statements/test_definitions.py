"""Activities and Agents resources (Communication §2.4, §2.5) and what feeds them: the
Activity definitions and Agent names statements carry (statements.facts)."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statements.xapi.definitions import (
    batch_agents,
    batch_definitions,
    definition_merge,
    person,
    statement_agents,
)
from tenants.scopes import ALL, ALL_READ, DEFINE, STATEMENTS_READ, STATEMENTS_WRITE
from tests.conftest import XAPIClient
from tests.factories import CredentialFactory
from tests.statements import builders

VERSIONS = ["1.0.3", "2.0.0"]


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


COURSE = "https://courses.example.org/course-1"


def post(client, *statements, status=200):
    response = client.request(
        "post", "/xapi/statements", data=orjson.dumps(list(statements)),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == status, response.content
    return response


def activity(client, activity_id=COURSE):
    response = client.get("/xapi/activities?" + urlencode({"activityId": activity_id}))
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


def agents(client, agent: dict):
    response = client.get("/xapi/agents?" + urlencode({"agent": json.dumps(agent)}))
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


# --- pure rules -------------------------------------------------------------------------


def test_definition_merge_replaces_properties_and_merges_language_maps_per_tag():
    """Data §2.4.4.1.s4.b3 (update the stored definition) and §3.2.s4.b3 (preserve names
    the new definition does not include)."""
    old = {
        "name": {"en-US": "Course", "fr-FR": "Cours"},
        "type": "http://adlnet.gov/expapi/activities/course",
        "extensions": {"https://x.example/a": 1, "https://x.example/b": 2},
        "choices": [{"id": "a", "description": {"en-US": "A"}}],
    }
    new = {
        "name": {"en-US": "Course, revised"},
        "description": {"en-US": "About"},
        "extensions": {"https://x.example/b": 3},
        "choices": [{"id": "b", "description": {"en-US": "B"}}],
    }
    assert definition_merge(old, new) == {
        "name": {"en-US": "Course, revised", "fr-FR": "Cours"},
        "description": {"en-US": "About"},
        "type": "http://adlnet.gov/expapi/activities/course",
        "extensions": {"https://x.example/a": 1, "https://x.example/b": 3},
        "choices": [{"id": "b", "description": {"en-US": "B"}}],
    }


def test_a_batch_folds_definitions_of_object_context_and_substatement_activities():
    parent = {"id": "https://x.example/parent", "definition": {"name": {"en": "Parent"}}}
    sub = {
        "objectType": "SubStatement",
        "actor": builders.agent(),
        "verb": {"id": builders.EXPERIENCED},
        "object": {"id": "https://x.example/inner", "definition": {"name": {"en": "Inner"}}},
    }
    first = builders.statement(context={"contextActivities": {"parent": [parent]}})
    second = builders.statement(
        obj={"id": COURSE, "definition": {"name": {"de-DE": "Kurs"}}},
        context={"contextActivities": {"grouping": [{"id": "https://x.example/no-definition"}]}},
    )
    third = builders.statement(obj=sub)
    folded = batch_definitions([first, second, third])
    assert folded == {
        COURSE: {"name": {"en-US": "Course course-1", "fr-FR": "Cours course-1", "de-DE": "Kurs"}},
        "https://x.example/parent": {"name": {"en": "Parent"}},
        "https://x.example/inner": {"name": {"en": "Inner"}},
    }


def test_statement_agents_are_every_named_agent_but_the_authority():
    member = {"mbox": "mailto:member@example.org", "name": "Member"}
    statement = builders.statement(
        actor={"objectType": "Group", "member": [member]},
        obj={"objectType": "Agent", "mbox": "mailto:object@example.org"},
        context={
            "instructor": {"mbox": "mailto:teacher@example.org", "name": "Teacher"},
            "team": {
                "objectType": "Group",
                "mbox": "mailto:team@example.org",
                "member": [{"account": {"homePage": "https://lms.example", "name": "t1"}}],
            },
            "contextAgents": [
                {"objectType": "contextAgent", "agent": {"openid": "https://id.example/o"}}
            ],
        },
        authority={"mbox": "mailto:lrs@example.org"},
    )
    mboxes = [a.get("mbox") or a.get("openid") or a["account"]["name"]
              for a in statement_agents(statement)]  # fmt: skip
    assert mboxes == [
        "mailto:member@example.org",
        "mailto:object@example.org",
        "mailto:teacher@example.org",
        "t1",
        "https://id.example/o",
    ]
    facts = batch_agents([statement])
    assert facts["mbox:mailto:member@example.org"].names == {"Member"}
    assert facts["mbox:mailto:member@example.org"].mbox_sha1sum == sha1(
        b"mailto:member@example.org"
    )


def test_person_holds_each_identifier_once_as_arrays():
    """Communication §2.4.s6.b1-b2: arrays of values defined as in an Agent, each property
    once, nothing else."""
    result = person(
        {"mbox": "mailto:ann@example.org", "name": "Ann"},
        names=["Ann", "Ann Smith"],
        mboxes=["mailto:ann@example.org"],
    )
    assert result == {
        "objectType": "Person",
        "name": ["Ann", "Ann Smith"],
        "mbox": ["mailto:ann@example.org"],
        "mbox_sha1sum": [sha1(b"mailto:ann@example.org")],
    }
    account = person({"account": {"homePage": "https://lms.example", "name": "a1"}}, names=[],
                     mboxes=[])  # fmt: skip
    assert account == {
        "objectType": "Person",
        "account": [{"homePage": "https://lms.example", "name": "a1"}],
    }


# --- the Activities resource ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_activities_returns_the_definition_statements_gave(credential, version):
    """Communication §2.5.s1: the complete Activity Object."""
    client = XAPIClient(credential, version=version)
    post(client, builders.statement())
    response = client.get("/xapi/activities?" + urlencode({"activityId": COURSE}))
    assert response.status_code == 200
    assert response["ETag"] == f'"{sha1(response.content)}"'
    assert "Last-Modified" in response
    assert orjson.loads(response.content) == {
        "objectType": "Activity",
        "id": COURSE,
        "definition": {"name": {"en-US": "Course course-1", "fr-FR": "Cours course-1"}},
    }


def test_a_later_definition_updates_the_canonical_one_per_property(xapi):
    """Data §2.4.4.1.s4.b3: latest wins per property, names merged per language."""
    post(xapi, builders.statement())
    post(
        xapi,
        builders.statement(
            obj={
                "id": COURSE,
                "definition": {
                    "name": {"en-US": "Course one"},
                    "description": {"en-US": "The first course"},
                },
            }
        ),
    )
    assert activity(xapi)["definition"] == {
        "name": {"en-US": "Course one", "fr-FR": "Cours course-1"},
        "description": {"en-US": "The first course"},
    }


def test_definitions_in_large_batches_and_context_activities_are_kept(xapi):
    """The transactional write path (more than a small batch) keeps them too."""
    parent = {"id": "https://x.example/program", "definition": {"name": {"en": "Program"}}}
    batch = [
        builders.statement(
            obj=builders.activity(f"c{i}"), context={"contextActivities": {"parent": parent}}
        )
        for i in range(40)
    ]
    post(xapi, *batch)
    assert activity(xapi, "https://courses.example.org/c39")["definition"]["name"]["en-US"] == (
        "Course c39"
    )
    assert activity(xapi, "https://x.example/program")["definition"] == parent["definition"]


def test_an_unknown_activity_is_still_an_activity_object(xapi):
    """Communication §2.5.s2.b1."""
    assert activity(xapi, "https://x.example/never-seen") == {
        "objectType": "Activity",
        "id": "https://x.example/never-seen",
    }


def test_statements_without_the_define_scope_do_not_change_definitions(db):
    """Communication §4.2.s2, define: without it the LRS SHOULD NOT update its internal
    representation of Activities (or Agents)."""
    writer = CredentialFactory(scopes=[STATEMENTS_WRITE, STATEMENTS_READ])
    definer = CredentialFactory(tenant=writer.tenant, scopes=[STATEMENTS_WRITE, DEFINE])
    post(XAPIClient(writer), builders.statement())
    assert "definition" not in activity(XAPIClient(writer))
    post(XAPIClient(definer), builders.statement())
    assert "definition" in activity(XAPIClient(writer))


def test_definitions_are_per_tenant(credential):
    other = CredentialFactory()
    post(XAPIClient(credential), builders.statement())
    assert "definition" not in activity(XAPIClient(other))


def test_a_refused_batch_defines_nothing(xapi):
    """All or nothing (Communication §2.1.2): a batch rolled back by a 409 leaves no
    definition behind."""
    first = builders.statement()
    post(xapi, first)
    changed = dict(first, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    novel = builders.statement(obj=builders.activity("rolled-back"))
    post(xapi, novel, changed, status=409)
    assert "definition" not in activity(xapi, "https://courses.example.org/rolled-back")


def test_repeated_definitions_cost_no_sql(xapi, django_capture_on_commit_callbacks):
    """The write path leaves out what this process already wrote (statements.facts)."""
    with django_capture_on_commit_callbacks(execute=True):
        post(xapi, builders.statement())
    with CaptureQueriesContext(connection) as repeated:
        post(xapi, builders.statement())
    assert not [q for q in repeated.captured_queries if "activity_definitions" in q["sql"]]
    with CaptureQueriesContext(connection) as changed:
        post(xapi, builders.statement(obj={"id": COURSE, "definition": {"name": {"en": "C"}}}))
    assert [q for q in changed.captured_queries if "activity_definitions" in q["sql"]]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("", "activityId"),
        ("activityId=not-an-iri", "activityId"),
        ("activityId=%7B%22key%22%3A%22value%22%7D", "activityId"),
        ("activityId=1:2", "activityId"),
        (f"activityId={COURSE}&agent=x", "agent"),
        (f"activityId={COURSE}&activityId={COURSE}", "activityId"),
    ],
)
def test_activities_rejects_bad_parameters(xapi, query, path):
    response = xapi.get(f"/xapi/activities?{query}")
    assert response.status_code == 400
    assert orjson.loads(response.content)["path"] == path


# --- the Agents resource ----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unknown_agent_is_a_person_with_what_the_request_gave(credential, version):
    """Communication §2.4.s3.b3."""
    client = XAPIClient(credential, version=version)
    result = agents(client, {"account": {"homePage": "https://lms.example", "name": "zed"}})
    assert result == {
        "objectType": "Person",
        "account": [{"homePage": "https://lms.example", "name": "zed"}],
    }


def test_a_person_combines_names_seen_with_the_identifier(xapi):
    learner = {"mbox": "mailto:ann@example.org", "name": "Ann"}
    post(xapi, builders.statement(actor=learner))
    post(xapi, builders.statement(actor=dict(learner, name="Ann Smith")))
    result = agents(xapi, {"mbox": "mailto:ann@example.org"})
    assert result["objectType"] == "Person"
    assert sorted(result["name"]) == ["Ann", "Ann Smith"]
    assert result["mbox"] == ["mailto:ann@example.org"]
    assert result["mbox_sha1sum"] == [sha1(b"mailto:ann@example.org")]


def test_the_mbox_behind_an_mbox_sha1sum_needs_broad_read_access(db):
    """Communication §2.4.s3.b1: returning several identifiers of a Person SHOULD need
    increased, explicitly given permissions (here all or all/read)."""
    broad = CredentialFactory(scopes=[ALL])
    narrow = CredentialFactory(tenant=broad.tenant, scopes=[DEFINE])
    reader = CredentialFactory(tenant=broad.tenant, scopes=[ALL_READ])
    post(XAPIClient(broad), builders.statement(actor={"mbox": "mailto:bo@example.org",
                                                     "name": "Bo"}))  # fmt: skip
    digest = sha1(b"mailto:bo@example.org")
    assert agents(XAPIClient(narrow), {"mbox_sha1sum": digest}) == {
        "objectType": "Person",
        "mbox_sha1sum": [digest],
    }
    revealed = agents(XAPIClient(reader), {"mbox_sha1sum": digest.upper()})
    assert revealed["mbox"] == ["mailto:bo@example.org"]
    assert revealed["name"] == ["Bo"]
    assert revealed["mbox_sha1sum"] == [digest]


def test_agents_rejects_a_group_and_bad_agents(xapi):
    """Communication §2.4.s2: the agent parameter is an Agent, not a Group."""
    group = {"objectType": "Group", "mbox": "mailto:team@example.org"}
    for value in (json.dumps(group), "{not json", json.dumps({"name": "no identifier"})):
        response = xapi.get("/xapi/agents?" + urlencode({"agent": value}))
        assert response.status_code == 400, value
        assert orjson.loads(response.content)["path"].startswith("agent")


def test_activities_and_agents_need_a_reading_scope(db):
    """Communication §4.2.s2: a credential that may only write statements cannot read
    the LRS's definitions."""
    writer = XAPIClient(CredentialFactory(scopes=[STATEMENTS_WRITE]))
    assert writer.get(f"/xapi/activities?activityId={COURSE}").status_code == 403
    reader = XAPIClient(CredentialFactory(scopes=[STATEMENTS_READ]))
    assert reader.get(f"/xapi/activities?activityId={COURSE}").status_code == 200


def test_canonical_format_serves_the_lrs_definition_language_filtered(xapi):
    """Communication §2.1.3, format=canonical: Activity Objects populated with the canonical
    definition as determined by the LRS, after language filtering (§2.1.3.s4)."""
    old = builders.statement(obj={"id": COURSE, "definition": {"name": {"en-US": "Old"}}})
    post(xapi, old)
    post(xapi, builders.statement(obj={"id": COURSE, "definition": {"name": {"en-US": "New"}}}))
    response = xapi.get(
        f"/xapi/statements?statementId={old['id']}&format=canonical", HTTP_ACCEPT_LANGUAGE="en-US"
    )
    assert response.status_code == 200
    assert orjson.loads(response.content)["object"]["definition"] == {"name": {"en-US": "New"}}
    exact = xapi.get(f"/xapi/statements?statementId={old['id']}")
    assert orjson.loads(exact.content)["object"]["definition"] == {"name": {"en-US": "Old"}}
