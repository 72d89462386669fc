"""The Statement's object: Activities and their definitions, interaction Activities, Agents
and Groups as objects, StatementRefs (Data §2.4.4)."""

from __future__ import annotations

import pytest

from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import (
    STATEMENT_ID,
    VERSIONS,
    agent,
    minimal,
    put,
    rejects,
)


def with_definition(definition: object) -> dict:
    return put(minimal(), "object.definition", definition)


def components(*ids: str) -> list[dict]:
    return [{"id": i, "description": {"en-US": f"Item {i}"}} for i in ids]


# --- Activities -----------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "obj",
    [
        {"id": "http://example.com/activities/quiz"},
        {"objectType": "Activity", "id": "urn:example:activity:1"},
        {"id": "https://example.com/activities/quiz", "definition": {}},
    ],
)
def test_activity_object_is_accepted(v2, obj):
    """Data §2.4.4.1: objectType optional ("Activity"), id required, definition optional."""
    doc = put(minimal(), "object", obj)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_activity_id_is_required(v2):
    """Data §2.4.4.1.s1: "id" is required."""
    rejects(put(minimal(), "object", {"objectType": "Activity"}), "object.id", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", ["quiz", "#quiz", "/activities/quiz", "", 5, None])
def test_activity_id_must_be_an_iri(v2, value):
    """Data §2.4.4.1.s2 note, §2.2.s4.b1.b8: relative IRIs and fragments are not valid IRIs."""
    rejects(put(minimal(), "object.id", value), "object.id", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", ["activity", "Statement", "Person", "", 3])
def test_object_type_must_be_one_of_the_specification(v2, value):
    """Data §2.4.4.s2, §2.2.s4.b1.b6: objectType values are enumerated, case included."""
    rejects(put(minimal(), "object.objectType", value), "object.objectType", v2=v2)


@VERSIONS
def test_activity_unknown_property_is_rejected(v2):
    """Data §2.2.s4.b8: unknown properties are rejected."""
    rejects(put(minimal(), "object.name", "Quiz"), "object.name", v2=v2)


@VERSIONS
def test_agent_object_must_have_object_type(v2):
    """Data §2.4.4.2.s1.b1: an Agent or Group as object MUST specify "objectType"."""
    error = rejects(
        put(minimal(), "object", {"mbox": "mailto:a@example.com"}), "object.objectType", v2=v2
    )
    assert "objectType" in error.message


@VERSIONS
@pytest.mark.parametrize(
    "obj",
    [
        agent(),
        {"objectType": "Group", "member": [agent()]},
        {"objectType": "Group", "account": {"homePage": "http://g.example", "name": "g"}},
    ],
)
def test_agent_and_group_objects_are_accepted(v2, obj):
    """Data §2.4.4.2: the object can be an Agent or a Group."""
    doc = put(minimal(), "object", obj)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_agent_object_is_validated_as_an_agent(v2):
    """Data §2.4.4.2: see Actor for Agents (one IFI)."""
    obj = {"objectType": "Agent", "name": "No IFI"}
    rejects(put(minimal(), "object", obj), "object", v2=v2)
    obj = {"objectType": "Group", "member": [{"objectType": "Group", "member": [agent()]}]}
    rejects(put(minimal(), "object", obj), "object.member[0].objectType", v2=v2)


# --- StatementRef ---------------------------------------------------------------------------


@VERSIONS
def test_statement_ref_is_accepted(v2):
    """Data §2.4.4.3.s4: objectType "StatementRef" and the UUID of a Statement."""
    doc = put(minimal(), "object", {"objectType": "StatementRef", "id": STATEMENT_ID})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ({"objectType": "StatementRef"}, "object.id"),
        ({"objectType": "StatementRef", "id": "http://example.com/s/1"}, "object.id"),
        ({"objectType": "StatementRef", "id": STATEMENT_ID[:-1]}, "object.id"),
        ({"objectType": "StatementRef", "id": STATEMENT_ID, "definition": {}}, "object.definition"),
        ({"objectType": "statementref", "id": STATEMENT_ID}, "object.objectType"),
    ],
)
def test_statement_ref_needs_a_uuid_and_nothing_else(v2, obj, path):
    """Data §2.4.4.3.s4.b1, b2: a StatementRef MUST set "id" to the UUID of a Statement."""
    rejects(put(minimal(), "object", obj), path, v2=v2)


# --- Activity definitions -------------------------------------------------------------------


@VERSIONS
def test_activity_definition_properties_are_accepted(v2):
    """Data §2.4.4.1.s2: name, description, type, moreInfo, extensions."""
    definition = {
        "name": {"en-GB": "example activity", "en-US": "example activity"},
        "description": {"en-GB": "An example of an activity"},
        "type": "http://www.example.co.uk/types/exampleactivitytype",
        "moreInfo": "http://virtualmeeting.example.com/345256",
        "extensions": {"http://example.com/room": {"name": "Kilby", "id": 342}},
    }
    doc = with_definition(definition)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ({"name": "Quiz"}, "object.definition.name"),
        ({"name": {"en_US": "Quiz"}}, "object.definition.name.en_US"),
        ({"name": {"en-US": 1}}, "object.definition.name.en-US"),
        ({"name": {"en-US": None}}, "object.definition.name.en-US"),
        ({"description": {"": "Quiz"}}, "object.definition.description."),
        ({"type": "cmi.interaction"}, "object.definition.type"),
        ({"moreInfo": "www.example.com"}, "object.definition.moreInfo"),
        ({"extensions": {"room": 1}}, "object.definition.extensions.room"),
        ({"extensions": []}, "object.definition.extensions"),
        ({"Name": {"en": "Quiz"}}, "object.definition.Name"),
        ({"interactionType": "Choice"}, "object.definition.interactionType"),
        ({"interactionType": None}, "object.definition.interactionType"),
        ({"interactionType": ["choice"]}, "object.definition.interactionType"),
        ("Quiz", "object.definition"),
    ],
)
def test_activity_definition_properties_are_validated(v2, definition, path):
    """Data §2.4.4.1.s2, §4.1, §4.2: language maps, IRIs, IRLs, extensions, known keys."""
    rejects(with_definition(definition), path, v2=v2)


# --- Interaction Activities -----------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    ("interaction_type", "lists"),
    [
        ("true-false", {}),
        ("choice", {"choices": components("golf", "tetris")}),
        ("fill-in", {}),
        ("long-fill-in", {}),
        ("matching", {"source": components("ben", "chris"), "target": components("1", "2")}),
        ("performance", {"steps": components("pong", "dg")}),
        ("sequencing", {"choices": components("tim", "ben")}),
        ("likert", {"scale": components("likert_0", "likert_1")}),
        ("numeric", {}),
        ("other", {}),
    ],
)
def test_interaction_types_with_their_component_lists_are_accepted(v2, interaction_type, lists):
    """Data §2.4.4.1.s8, s9, s15: each interactionType with its supported component lists."""
    definition = {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "interactionType": interaction_type,
        "correctResponsesPattern": ["a[,]b", ""],
        **lists,
    }
    doc = with_definition(definition)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("interaction_type", "key"),
    [
        ("true-false", "choices"),
        ("choice", "scale"),
        ("fill-in", "choices"),
        ("long-fill-in", "steps"),
        ("matching", "choices"),
        ("performance", "source"),
        ("sequencing", "target"),
        ("likert", "choices"),
        ("numeric", "scale"),
        ("other", "steps"),
    ],
)
def test_component_list_not_supported_by_the_interaction_type_is_rejected(
    v2, interaction_type, key
):
    """Data §2.4.4.1.s15: component lists are specific to the interactionType."""
    definition = {"interactionType": interaction_type, key: components("a")}
    rejects(with_definition(definition), f"object.definition.{key}", v2=v2)


# Data §2.4.4.1.s15, table 2, written out here rather than taken from the validator.
SUPPORTED_COMPONENT_LISTS = {
    "choice": {"choices"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "matching": {"source", "target"},
    "performance": {"steps"},
    "true-false": set(),
    "fill-in": set(),
    "long-fill-in": set(),
    "numeric": set(),
    "other": set(),
}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


@VERSIONS
@pytest.mark.parametrize(
    ("interaction_type", "key"),
    [
        (interaction_type, key)
        for interaction_type, supported in SUPPORTED_COMPONENT_LISTS.items()
        for key in COMPONENT_LISTS
        if key not in supported
    ],
)
def test_every_component_list_outside_the_supported_ones_is_rejected(v2, interaction_type, key):
    """Data §2.4.4.1.s15: "The following table shows the supported interaction component
    list(s) for an Interaction Activity with the given interactionType": choices for
    choice and sequencing, scale for likert, source and target for matching, steps for
    performance, and "[No component lists supported]" for true-false, fill-in,
    long-fill-in, numeric and other. Every other pairing is refused, also next to a
    supported list (§2.4.4.1.s13.b3: the LRS MAY return 400 for properties not valid for
    the Interaction Activity)."""
    supported = {name: components("a") for name in SUPPORTED_COMPONENT_LISTS[interaction_type]}
    definition = {"interactionType": interaction_type, **supported, key: components("a")}
    rejects(with_definition(definition), f"object.definition.{key}", v2=v2)


@VERSIONS
@pytest.mark.parametrize("key", ["correctResponsesPattern", "choices", "scale", "source", "steps"])
def test_interaction_properties_require_interaction_type(v2, key):
    """Data §2.4.4.1.s8, s13.b1: interaction properties belong to Interaction Activities."""
    value = ["true"] if key == "correctResponsesPattern" else components("a")
    rejects(with_definition({key: value}), f"object.definition.{key}", v2=v2)


@VERSIONS
def test_empty_correct_responses_pattern_is_accepted(v2):
    """Data §2.4.4.1.s11: an empty array means there is no correct answer."""
    doc = with_definition({"interactionType": "other", "correctResponsesPattern": []})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("true", "object.definition.correctResponsesPattern"),
        (["true", True], "object.definition.correctResponsesPattern[1]"),
        ([None], "object.definition.correctResponsesPattern[0]"),
    ],
)
def test_correct_responses_pattern_is_an_array_of_strings(v2, value, path):
    """Data §2.4.4.1.s8: correctResponsesPattern is an Array of Strings."""
    definition = {"interactionType": "true-false", "correctResponsesPattern": value}
    rejects(with_definition(definition), path, v2=v2)


@VERSIONS
def test_interaction_component_ids_must_be_distinct(v2):
    """Data §2.4.4.1.s16.b1: within an array of interaction components, ids MUST be distinct."""
    definition = {"interactionType": "choice", "choices": components("golf", "tetris", "golf")}
    rejects(with_definition(definition), "object.definition.choices[2].id", v2=v2)


@VERSIONS
def test_interaction_component_ids_may_repeat_across_lists(v2):
    """Data §2.4.4.1.s16.b1: distinctness is within one array."""
    definition = {
        "interactionType": "matching",
        "source": components("1", "2"),
        "target": components("1", "2"),
    }
    doc = with_definition(definition)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("choices", "path"),
    [
        ([{"description": {"en": "x"}}], "object.definition.choices[0].id"),
        ([{"id": 1}], "object.definition.choices[0].id"),
        ([{"id": "a", "name": {"en": "x"}}], "object.definition.choices[0].name"),
        ([{"id": "a", "description": "x"}], "object.definition.choices[0].description"),
        (
            [{"id": "a", "description": {"en_GB": "x"}}],
            "object.definition.choices[0].description.en_GB",
        ),
        (["a"], "object.definition.choices[0]"),
        ({"id": "a"}, "object.definition.choices"),
    ],
)
def test_interaction_components_are_validated(v2, choices, path):
    """Data §2.4.4.1.s15: a component has "id" (String, required) and "description"."""
    definition = {"interactionType": "choice", "choices": choices}
    rejects(with_definition(definition), path, v2=v2)
