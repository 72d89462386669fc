"""Context (Data §2.4.6) and the 2.0 contextAgents / contextGroups."""

from __future__ import annotations

import pytest

from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import (
    REGISTRATION,
    STATEMENT_ID,
    VERSIONS,
    activity,
    agent,
    minimal,
    put,
    rejects,
)


def with_context(context: object) -> dict:
    return put(minimal(), "context", context)


def context_agent(**extra: object) -> dict:
    return {
        "objectType": "contextAgent",
        "agent": {"mbox": "mailto:mentor@example.com"},
        "relevantTypes": ["https://example.com/roles/mentor"],
        **extra,
    }


def context_group(**extra: object) -> dict:
    return {
        "objectType": "contextGroup",
        "group": {"objectType": "Group", "mbox": "mailto:team@example.com"},
        "relevantTypes": ["https://example.com/roles/team"],
        **extra,
    }


# --- context properties ---------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "instructor",
    [agent(), {"objectType": "Group", "member": [agent()]}, {"openid": "http://i.example/"}],
)
def test_instructor_may_be_an_agent_or_a_group(v2, instructor):
    """Data §2.4.6.s3: instructor is an Agent (MAY be a Group)."""
    doc = with_context({"instructor": instructor})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("context", "path"),
    [
        ({"registration": "not-a-uuid"}, "context.registration"),
        ({"registration": ""}, "context.registration"),
        ({"instructor": {"mbox": "teacher"}}, "context.instructor.mbox"),
        ({"instructor": "teacher"}, "context.instructor"),
        ({"team": agent()}, "context.team.objectType"),
        ({"team": {"mbox": "mailto:t@example.com"}}, "context.team.objectType"),
        ({"team": {"objectType": "Group"}}, "context.team.member"),
        ({"revision": 2}, "context.revision"),
        ({"platform": None}, "context.platform"),
        ({"language": "english (US)"}, "context.language"),
        ({"language": "en_US"}, "context.language"),
        ({"language": ["en"]}, "context.language"),
        ({"statement": {"id": STATEMENT_ID}}, "context.statement.objectType"),
        ({"statement": {"objectType": "SubStatement"}}, "context.statement.objectType"),
        ({"statement": {"objectType": "StatementRef", "id": "x"}}, "context.statement.id"),
        ({"extensions": {"altitude": 1}}, "context.extensions.altitude"),
        ({"Registration": REGISTRATION}, "context.Registration"),
        ({"contextActivity": {}}, "context.contextActivity"),
        ([], "context"),
    ],
)
def test_context_properties_are_validated(v2, context, path):
    """Data §2.4.6.s3: registration UUID, instructor, team Group, language tag, ..."""
    rejects(with_context(context), path, v2=v2)


@VERSIONS
@pytest.mark.parametrize("language", ["en", "en-US", "tlh", "zh-Hant-HK", "sgn-BE-FR", "x-klingon"])
def test_context_language_accepts_rfc_5646_tags(v2, language):
    """Data §2.4.6.s3: language is an RFC 5646 tag."""
    doc = with_context({"language": language})
    assert validate_statement(doc, v2=v2) == doc


# --- contextActivities ----------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "value", [[activity()], "http://example.com/activities/quiz", None, 1, True]
)
def test_context_activities_must_be_a_context_activities_object(v2, value):
    """Data §2.4.6.s3: "contextActivities" is a "contextActivities Object", "A map of the
    types of learning activity context"; §2.2.s4.b1.b2: the wrong data type (an array of
    Activities, a string, a number) and §2.2.s4.b1.b1 null values are rejected."""
    rejects(with_context({"contextActivities": value}), "context.contextActivities", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", [STATEMENT_ID, [{"objectType": "StatementRef"}], None, 7])
def test_context_statement_must_be_a_statement_ref_object(v2, value):
    """Data §2.4.6.s3: "statement" is a Statement Reference, an object (Data §2.4.4.3.s4);
    a bare UUID string or an array is the wrong data type (§2.2.s4.b1.b2)."""
    rejects(with_context({"statement": value}), "context.statement", v2=v2)


@VERSIONS
def test_context_activities_accept_the_four_kinds(v2):
    """Data §2.4.6.2.s3: parent, grouping, category and other."""
    context = {
        "contextActivities": {
            "parent": [activity("http://example.com/test1")],
            "grouping": [activity("http://example.com/Algebra1"), activity("http://x.example/")],
            "category": [{"objectType": "Activity", "id": "https://w3id.org/xapi/cmi5"}],
            "other": [],
        }
    }
    doc = with_context(context)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("activities", "path"),
    [
        ({"parents": []}, "context.contextActivities.parents"),
        ({"Parent": []}, "context.contextActivities.Parent"),
        ({"parent": "http://example.com/a"}, "context.contextActivities.parent"),
        ({"parent": None}, "context.contextActivities.parent"),
        ({"parent": [{"objectType": "Activity"}]}, "context.contextActivities.parent[0].id"),
        ({"grouping": [activity(), {"id": "nope"}]}, "context.contextActivities.grouping[1].id"),
        ({"category": {"id": "nope"}}, "context.contextActivities.category.id"),
        ({"other": [agent()]}, "context.contextActivities.other[0].objectType"),
        ({"other": [{"mbox": "mailto:a@example.com"}]}, "context.contextActivities.other[0].mbox"),
        (
            {"other": [{"objectType": "Agent", "id": "http://a"}]},
            "context.contextActivities.other[0].objectType",
        ),
        ({"parent": ["http://example.com/a"]}, "context.contextActivities.parent[0]"),
        (
            {"parent": [{"id": "http://a.example", "definition": {"name": "x"}}]},
            "context.contextActivities.parent[0].definition.name",
        ),
    ],
)
def test_context_activities_are_validated(v2, activities, path):
    """Data §2.4.6.2.s4.b1, b2: keys are the four kinds; values Activities or arrays of them."""
    rejects(with_context({"contextActivities": activities}), path, v2=v2)


# --- 2.0 contextAgents / contextGroups ------------------------------------------------------


def test_context_agents_and_groups_are_accepted_under_2_0():
    """xAPI 2.0 (ARCHITECTURE §8): contextAgents and contextGroups."""
    context = {
        "contextAgents": [
            context_agent(),
            context_agent(relevantTypes=["https://a.example/1", "https://a.example/2"]),
            {"objectType": "contextAgent", "agent": {"objectType": "Agent", "openid": "http://o/"}},
        ],
        "contextGroups": [
            context_group(),
            {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [agent()]}},
        ],
    }
    doc = with_context(context)
    assert validate_statement(doc, v2=True) == doc


@pytest.mark.parametrize(
    ("key", "value"), [("contextAgents", [context_agent()]), ("contextGroups", [context_group()])]
)
def test_context_agents_and_groups_are_unknown_under_1_0(key, value):
    """Data §2.2.s4.b8 (1.0.3): contextAgents/contextGroups are not 1.0.x properties."""
    error = rejects(with_context({key: value}), f"context.{key}", v2=False)
    assert "2.0" in error.message


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({**context_agent(), "objectType": "ContextAgent"}, "context.contextAgents[0].objectType"),
        ({"agent": agent()}, "context.contextAgents[0].objectType"),
        ({"objectType": "contextAgent"}, "context.contextAgents[0].agent"),
        (
            context_agent(agent={"objectType": "Group", "member": [agent()]}),
            "context.contextAgents[0].agent.objectType",
        ),
        (context_agent(agent={"name": "No IFI"}), "context.contextAgents[0].agent"),
        (context_agent(relevantTypes=[]), "context.contextAgents[0].relevantTypes"),
        (
            context_agent(relevantTypes="https://r.example/"),
            "context.contextAgents[0].relevantTypes",
        ),
        (
            context_agent(relevantTypes=["https://r.example/", "mentor"]),
            "context.contextAgents[0].relevantTypes[1]",
        ),
        (context_agent(role="mentor"), "context.contextAgents[0].role"),
        (
            context_agent(group={"objectType": "Group", "member": [agent()]}),
            "context.contextAgents[0].group",
        ),
        (agent(), "context.contextAgents[0].objectType"),
        ("mailto:mentor@example.com", "context.contextAgents[0]"),
    ],
)
def test_context_agents_are_validated_under_2_0(item, path):
    """xAPI 2.0: objectType "contextAgent", an Agent, non-empty relevantTypes of IRIs."""
    rejects(with_context({"contextAgents": [item]}), path, v2=True)


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({**context_group(), "objectType": "contextAgent"}, "context.contextGroups[0].objectType"),
        ({"objectType": "contextGroup"}, "context.contextGroups[0].group"),
        (context_group(group=agent()), "context.contextGroups[0].group.objectType"),
        (context_group(group={"objectType": "Group"}), "context.contextGroups[0].group.member"),
        (context_group(relevantTypes=[]), "context.contextGroups[0].relevantTypes"),
        (context_group(relevantTypes=[1]), "context.contextGroups[0].relevantTypes[0]"),
        (context_group(agent=agent()), "context.contextGroups[0].agent"),
    ],
)
def test_context_groups_are_validated_under_2_0(item, path):
    """xAPI 2.0: objectType "contextGroup", a Group, non-empty relevantTypes of IRIs."""
    rejects(with_context({"contextGroups": [item]}), path, v2=True)


@pytest.mark.parametrize("key", ["contextAgents", "contextGroups"])
def test_context_agents_and_groups_must_be_arrays(key):
    """xAPI 2.0: contextAgents and contextGroups are arrays."""
    item = context_agent() if key == "contextAgents" else context_group()
    rejects(with_context({key: item}), f"context.{key}", v2=True)
