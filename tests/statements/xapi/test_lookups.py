"""Lookup columns for the GET Statements filters (Communication §2.1.3)."""

import copy
import dataclasses

import pytest
from hypothesis import given

from statements.xapi.ifi import ifi_key
from statements.xapi.lookups import Lookups, extract_lookups
from tests.statements.xapi.test_equivalence import statements

ANN = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}
BOB = {"mbox": "mailto:bob@example.com"}
CAROL = {"account": {"homePage": "https://lms.example.com", "name": "carol"}}
DAN = {"openid": "https://openid.example.org/dan"}
EVE = {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}
LMS = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.com", "name": "lms-key"}}
TEAM = {"objectType": "Group", "mbox": "mailto:team@example.com", "member": [BOB, CAROL]}
COURSE = "https://example.com/course/42"
AU = "https://example.com/course/42/au/1"
CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"

STATEMENT = {
    "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
    "actor": ANN,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {"objectType": "Activity", "id": AU, "definition": {"name": {"en-US": "AU 1"}}},
    "context": {
        "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
        "instructor": DAN,
        "team": TEAM,
        "contextActivities": {
            "category": [{"id": CMI5}],
            "parent": [{"id": COURSE}],
            "grouping": [{"id": COURSE}],
        },
    },
    "timestamp": "2024-05-06T07:08:09.123Z",
    "stored": "2024-05-06T07:08:10.456Z",
    "authority": LMS,
    "version": "1.0.0",
}


key = ifi_key


def test_typical_statement_columns():
    """Communication §2.1.3: one value per filter: agent, verb, activity, registration."""
    lookups = extract_lookups(STATEMENT)
    assert lookups == Lookups(
        actor_ifi="mbox:mailto:ann@example.com",
        verb_id="http://adlnet.gov/expapi/verbs/completed",
        object_type="Activity",
        activity_id=AU,
        statement_ref=None,
        registration="ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        agents=(),
        related_agents=(
            key(LMS),
            key(DAN),
            "mbox:mailto:team@example.com",
            key(BOB),
            key(CAROL),
        ),
        related_activities=(AU, COURSE, CMI5),
        authority_ifi=key(LMS),
        attachment_sha2=(),
        voids=None,
    )


def test_object_type_defaults_to_activity():
    """Data §2.4.4.s2: "If not specified, the objectType is assumed to be Activity"."""
    statement = {**STATEMENT, "object": {"id": AU}}
    lookups = extract_lookups(statement)
    assert (lookups.object_type, lookups.activity_id) == ("Activity", AU)


def test_agent_filter_matches_actor_and_agent_object():
    """§2.1.3 agent: "the specified Agent or Group is the Actor or Object of the Statement";
    Instructor, Team and Authority only count with related_agents."""
    statement = {**STATEMENT, "object": {"objectType": "Agent", **BOB}}
    lookups = extract_lookups(statement)
    assert lookups.actor_ifi == key(ANN)  # the Actor is matched through actor_ifi
    assert lookups.agents == (key(BOB),)
    assert lookups.activity_id is None
    assert key(DAN) not in lookups.agents
    assert key(LMS) not in lookups.agents


def test_agent_filter_matches_members_of_actor_and_object_groups():
    """§2.1.3 agent: "Groups that have members which match the specified Agent based on
    their Inverse Functional Identifier ... are considered a match"."""
    anonymous = {"objectType": "Group", "member": [BOB, CAROL]}
    statement = {**STATEMENT, "actor": anonymous, "object": TEAM}
    lookups = extract_lookups(statement)
    assert lookups.actor_ifi is None
    assert lookups.agents == (key(BOB), key(CAROL), "mbox:mailto:team@example.com")


def test_related_agents_cover_authority_instructor_team_and_members():
    """§2.1.3 related_agents: "the Actor, Object, Authority, Instructor, Team"."""
    lookups = extract_lookups(STATEMENT)
    for actor in (ANN, LMS, DAN, TEAM, BOB, CAROL):
        assert key(actor) in {lookups.actor_ifi, *lookups.related_agents}


def test_related_agents_cover_three_legged_authority_members():
    """Data §2.4.9.s3.b1: in 3-legged OAuth the authority is a Group of two Agents; it has no
    key of its own, its members match as Group members do."""
    authority = {"objectType": "Group", "member": [LMS, EVE]}
    lookups = extract_lookups({**STATEMENT, "authority": authority})
    assert lookups.authority_ifi is None
    assert key(LMS) in lookups.related_agents
    assert key(EVE) in lookups.related_agents


def test_related_agents_cover_2_0_context_agents_and_groups():
    """xAPI 2.0 (IEEE 9274.1.1) related_agents: "Actor, Object, Authority, Instructor, Team,
    Context Agent, Context Group"."""
    context = {
        "contextAgents": [{"objectType": "contextAgent", "agent": EVE, "relevantTypes": [COURSE]}],
        "contextGroups": [
            {"objectType": "contextGroup", "group": {"objectType": "Group", "member": [DAN]}}
        ],
    }
    lookups = extract_lookups({**STATEMENT, "context": context})
    assert lookups.related_agents == (key(LMS), key(EVE), key(DAN))
    assert lookups.agents == ()


def test_sub_statement_contributes_to_related_columns_only():
    """§2.1.3: related_agents and related_activities include "any of those properties in a
    contained SubStatement"; the plain agent and activity filters do not look inside."""
    sub = {
        "objectType": "SubStatement",
        "actor": BOB,
        "verb": {"id": "https://example.com/verbs/will-teach"},
        "object": {"objectType": "Agent", **CAROL},
        "context": {
            "instructor": DAN,
            "contextActivities": {"other": [{"id": COURSE}]},
            "contextAgents": [{"objectType": "contextAgent", "agent": EVE}],
        },
        "attachments": [
            {
                "usageType": "https://example.com/u",
                "display": {"en": "x"},
                "contentType": "text/plain",
                "length": 1,
                "sha2": "AB" * 32,
            }
        ],
    }
    statement = {"actor": ANN, "verb": {"id": "https://example.com/verbs/planned"}, "object": sub}
    lookups = extract_lookups(statement)
    assert lookups.object_type == "SubStatement"
    assert lookups.agents == ()
    assert lookups.related_agents == (key(BOB), key(CAROL), key(DAN), key(EVE))
    assert lookups.activity_id is None
    assert lookups.related_activities == (COURSE,)
    assert lookups.attachment_sha2 == ("ab" * 32,)


def test_sub_statement_activity_object_is_a_related_activity():
    """§2.1.3 related_activities: "the Object ... or any of those properties in a contained
    SubStatement"."""
    sub = {
        "objectType": "SubStatement",
        "actor": BOB,
        "verb": {"id": "https://example.com/verbs/visit"},
        "object": {"id": AU},
    }
    lookups = extract_lookups(
        {"actor": ANN, "verb": {"id": "https://example.com/verbs/planned"}, "object": sub}
    )
    assert lookups.related_activities == (AU,)


def test_related_activities_order_is_object_then_parent_grouping_category_other():
    """Arrays hold each value once in a fixed order, whatever the key order sent."""
    context = {
        "contextActivities": {
            "other": [{"id": "https://example.com/o"}],
            "category": [{"id": CMI5}],
            "grouping": [{"id": COURSE}, {"id": AU}],
            "parent": [{"id": COURSE}],
        }
    }
    lookups = extract_lookups({**STATEMENT, "context": context})
    assert lookups.related_activities == (AU, COURSE, CMI5, "https://example.com/o")


def test_single_context_activity_object_is_read_as_an_array():
    """Data §2.4.6.2.s4.b2: a contextActivities value may be a single Activity Object."""
    context = {"contextActivities": {"parent": {"id": COURSE}}}
    assert extract_lookups({**STATEMENT, "context": context}).related_activities == (AU, COURSE)


def test_statement_ref_and_voiding_target():
    """Data §2.3.2: a voiding statement has verb http://adlnet.gov/expapi/verbs/voided and a
    StatementRef object whose id is the target; UUIDs are case-insensitive (RFC 4122 §3)."""
    ref = {"objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0"}
    voiding = {"actor": ANN, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": ref}
    lookups = extract_lookups(voiding)
    assert lookups.object_type == "StatementRef"
    assert lookups.statement_ref == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    assert lookups.voids == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    assert lookups.related_activities == ()

    commenting = {**voiding, "verb": {"id": "http://adlnet.gov/expapi/verbs/commented"}}
    lookups = extract_lookups(commenting)
    assert lookups.statement_ref == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    assert lookups.voids is None


def test_context_statement_ref_does_not_affect_filtering():
    """§2.1.3 note: "StatementRefs used as a value of the "Statement" property within Context
    do not affect how Statements are filtered"."""
    context = {
        "statement": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}
    }
    lookups = extract_lookups({**STATEMENT, "context": context})
    assert lookups.statement_ref is None
    assert lookups.registration is None


def test_attachment_hashes_lowercased_each_once():
    """Data §2.4.11: each Attachment names its data by "sha2"; hex digits carry no case."""
    attachment = {
        "usageType": "https://example.com/u",
        "display": {"en": "x"},
        "contentType": "text/plain",
        "length": 1,
        "sha2": "AB" * 32,
    }
    statement = {
        **STATEMENT,
        "attachments": [
            attachment,
            {**attachment, "sha2": "ab" * 32},
            {**attachment, "sha2": "cd" * 32},
        ],
    }
    assert extract_lookups(statement).attachment_sha2 == ("ab" * 32, "cd" * 32)


def test_lookups_are_immutable():
    """The lookups of a stored statement never change (Data §2.3.1)."""
    lookups = extract_lookups(STATEMENT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lookups.verb_id = "x"


@given(statement=statements)
def test_column_invariants(statement):
    """related_agents extends the agent filter and related_activities the activity filter
    (§2.1.3: "Apply the ... filter broadly"); arrays hold each value once; reading never
    mutates the statement."""
    before = copy.deepcopy(statement)
    lookups = extract_lookups(statement)
    assert statement == before
    assert set(lookups.agents) <= set(lookups.related_agents)
    assert lookups.related_agents[: len(lookups.agents)] == lookups.agents
    # The Actor is matched through actor_ifi; the arrays hold the other places only.
    assert lookups.actor_ifi not in lookups.agents
    assert lookups.actor_ifi not in lookups.related_agents
    if lookups.authority_ifi is not None:
        assert lookups.authority_ifi in {lookups.actor_ifi, *lookups.related_agents}
    if lookups.activity_id is not None:
        assert lookups.related_activities[0] == lookups.activity_id
    for column in (
        lookups.agents,
        lookups.related_agents,
        lookups.related_activities,
        lookups.attachment_sha2,
    ):
        assert len(set(column)) == len(column)
        assert all(isinstance(value, str) for value in column)
    assert (lookups.statement_ref is not None) == (lookups.object_type == "StatementRef")
