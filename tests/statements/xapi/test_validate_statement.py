"""Statement-level rules: properties, id, version, timestamps, voiding, SubStatements,
normalisation and purity of ``validate_statement``."""

from __future__ import annotations

import copy

import pytest

from statements.xapi.errors import StatementError
from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import (
    REGISTRATION,
    STATEMENT_ID,
    VERSIONS,
    VOIDED,
    activity,
    agent,
    containers,
    drop,
    full,
    minimal,
    put,
    rejects,
)


def substatement(**extra: object) -> dict:
    return {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://example.com/verbs/visited"},
        "object": {"id": "http://example.com/website"},
        **extra,
    }


# --- properties -----------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize("key", ["actor", "verb", "object"])
def test_statement_must_use_actor_verb_and_object(v2, key):
    """Data §2.2.s2.b3: a Statement MUST use "actor", "verb" and "object"."""
    error = rejects(drop(minimal(), key), key, v2=v2)
    assert error.message == "is required"


@VERSIONS
@pytest.mark.parametrize("key", ["Actor", "objectType", "voided", "context_activities"])
def test_unknown_statement_property_is_rejected(v2, key):
    """Data §2.2.s4.b1.b5, b7, §2.2.s4.b8: keys are case-sensitive; unknown keys rejected."""
    rejects(put(minimal(), key, {}), key, v2=v2)


@VERSIONS
@pytest.mark.parametrize("body", [None, [], "statement", 3, True])
def test_statement_must_be_an_object(v2, body):
    """Data §2.4: a Statement is a JSON object."""
    rejects(body, "", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "path",
    ["id", "actor", "verb.display", "object.definition", "result", "context.registration"],
)
def test_null_values_are_rejected(v2, path):
    """Data §2.2.s4.b1.b1: the LRS MUST reject Statements with null values."""
    doc = put(minimal(), "id", STATEMENT_ID)
    doc = put(doc, "context", {"registration": REGISTRATION})
    doc = put(doc, "result", {})
    doc = put(doc, "object.definition", {})
    doc = put(doc, "verb.display", {"en-US": "attempted"})
    error = rejects(put(doc, path, None), path, v2=v2)
    assert error.message == "must not be null"


@VERSIONS
def test_null_values_inside_extensions_are_accepted(v2):
    """Data §2.2.s4.b1.b1, §4.1.s3.b2: null is allowed inside extensions."""
    doc = put(minimal(), "result", {"extensions": {"http://example.com/x": None}})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_empty_objects_are_accepted_where_nothing_is_required(v2):
    """Data §2.2.s2.b1: empty objects are a SHOULD NOT for senders, not a reason to reject."""
    doc = put(minimal(), "result", {})
    doc = put(doc, "context", {"extensions": {}, "contextActivities": {}})
    doc = put(doc, "object.definition", {})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    "path",
    ["verb.display", "object.definition.name", "object.definition.description", "sub"],
)
def test_an_empty_language_map_is_rejected(v2, path):
    """Data §4.2: a Language Map pairs "a RFC 5646 Language Tag" with "a string in the
    language specified in the tag"; {} holds no such pair and is no Language Map."""
    if path == "sub":
        path = "object.verb.display"
        doc = put(put(minimal(), "object", substatement()), path, {})
    else:
        doc = put(put(minimal(), "object.definition", {}), path, {})
    error = rejects(doc, path, v2=v2)
    assert "at least one" in error.message


# --- id -------------------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "FD41C918-B88B-4B20-A0A5-A4C32391AAA0",
        "00000000-0000-0000-0000-000000000000",
        "fd41c918-b88b-1b20-c0a5-a4c32391aaa0",
    ],
)
def test_statement_id_is_any_uuid_in_standard_form(v2, value):
    """Data §2.4.1, §4.4: a UUID in standard string form, hex digits in either case."""
    doc = put(minimal(), "id", value)
    assert validate_statement(doc, v2=v2)["id"] == value


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        "fd41c918b88b4b20a0a5a4c32391aaa0",
        "{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}",
        "urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa",
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa0 ",
        "fd41c918-b88b-4b20-a0a5-a4c32391aaag",
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa0\n",
        12345,
    ],
)
def test_statement_id_must_be_a_uuid(v2, value):
    """Data §2.2.s4.b1.b4: values that must be UUIDs, including "", are rejected otherwise."""
    rejects(put(minimal(), "id", value), "id", v2=v2)


# --- version --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1.0.0", "1.0.3", "1.0.10", "1.0"])
def test_version_starting_with_1_0_is_accepted_under_1_0(value):
    """Data §2.4.10.s3.b1: an LRS MUST accept Statements whose version starts with "1.0.";
    §2.4.10.s2.b1: the version is "formatted as laid out for the API version header",
    whose "1.0" is 1.0.0 (Communication §3.3.s3.b3)."""
    doc = put(minimal(), "version", value)
    assert validate_statement(doc, v2=False)["version"] == value


@pytest.mark.parametrize(
    "value", ["1.1.0", "2.0.0", "1.0.", "1.", "0.95", "1.0.0-rc1", "", "v1.0.0", "1.0.x"]
)
def test_version_not_starting_with_1_0_is_rejected_under_1_0(value):
    """Data §2.4.10.s3.b2: an LRS MUST reject a version that does not start with "1.0."."""
    rejects(put(minimal(), "version", value), "version", v2=False)


@pytest.mark.parametrize("value", ["2.0.0", "2.0.1", "2.0", "1.0.3", "1.0.0", "1.0"])
def test_version_starting_with_2_0_is_accepted_under_2_0(value):
    """xAPI 2.0 (Data §2.4.10 for the 2.0 family): a version starting with "2.0." is
    accepted, and a 1.0.x one as well: the LRS serves both and statements keep the version
    they were accepted with."""
    doc = put(minimal(), "version", value)
    assert validate_statement(doc, v2=True)["version"] == value


@pytest.mark.parametrize("value", ["2.1.0", "2.0.", "1.1.0", "3.0.0", "0.95", "", "2.0.x"])
def test_version_not_starting_with_2_0_is_rejected_under_2_0(value):
    """xAPI 2.0 (Data §2.4.10 for the 2.0 family): other versions are rejected."""
    rejects(put(minimal(), "version", value), "version", v2=True)


@VERSIONS
def test_version_must_be_a_string(v2):
    """Data §2.2.s4.b1.b2: the wrong data type is rejected."""
    rejects(put(minimal(), "version", 1.0), "version", v2=v2)


# --- timestamp and stored -------------------------------------------------------------------


@pytest.mark.parametrize("key", ["timestamp", "stored"])
@pytest.mark.parametrize(
    "value",
    [
        "2015-11-18T12:17:00+00:00",
        "2015-11-18T12:17:00.123456-05:00",
        "2015-11-18T12:17:00+05",
        "2015-11-18T12:17:00,5Z",
        "2015-11-18t12:17:00z",
        "2015-11-18T12:17:00+00",
    ],
)
def test_timestamps_are_kept_as_sent_under_1_0(key, value):
    """Data §4.5.s1.b1, b5: 1.0.x keeps the ISO 8601 timestamp as sent (any offset)."""
    doc = put(minimal(), key, value)
    assert validate_statement(doc, v2=False)[key] == value


@pytest.mark.parametrize("key", ["timestamp", "stored"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-11-18T12:17:00Z", "2015-11-18T12:17:00Z"),
        ("2015-11-18T12:17:00.123Z", "2015-11-18T12:17:00.123Z"),
        ("2015-11-18T12:17:00+00:00", "2015-11-18T12:17:00Z"),
        ("2015-11-18t12:17:00.5z", "2015-11-18T12:17:00.5Z"),
        ("2015-11-18T12:17:00.123456789+01:30", "2015-11-18T10:47:00.123456789Z"),
        ("2015-11-18T22:17:00-05:00", "2015-11-19T03:17:00Z"),
        ("2016-03-01T00:30:00+01:00", "2016-02-29T23:30:00Z"),
        ("2015-12-31T23:00:00-01:00", "2016-01-01T00:00:00Z"),
        ("2016-01-01T00:59:59.9+01:00", "2015-12-31T23:59:59.9Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"),
    ],
)
def test_timestamps_are_converted_to_utc_under_2_0(key, value, expected):
    """xAPI 2.0 (ARCHITECTURE §8): non-UTC offsets become UTC with "Z", precision kept."""
    doc = put(minimal(), key, value)
    assert validate_statement(doc, v2=True)[key] == expected


def test_timestamp_in_a_substatement_is_converted_under_2_0():
    """xAPI 2.0: every Timestamp is converted, a SubStatement's included."""
    doc = put(minimal(), "object", substatement(timestamp="2030-01-01T01:00:00+01:00"))
    assert validate_statement(doc, v2=True)["object"]["timestamp"] == "2030-01-01T00:00:00Z"
    assert validate_statement(doc, v2=False)["object"]["timestamp"] == "2030-01-01T01:00:00+01:00"


def test_unknown_offset_is_rejected_under_2_0():
    """xAPI 2.0 (ARCHITECTURE §8): "-00:00" cannot be converted to UTC and is rejected."""
    rejects(put(minimal(), "timestamp", "2015-11-18T12:17:00-00:00"), "timestamp", v2=True)


@pytest.mark.parametrize("value", ["2015-11-18T12:17:00-00:00", "2015-11-18T12:17:00.5-00"])
def test_negative_zero_offsets_are_rejected_under_1_0(value):
    """Data §4.5.s1.b1: a Timestamp MUST be formatted according to ISO 8601, which writes
    a zero offset from UTC with a plus sign; "-00:00" and "-00" are not ISO 8601."""
    error = rejects(put(minimal(), "timestamp", value), "timestamp", v2=False)
    assert "negative zero" in error.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2008-09-15 15:53:00.601+00:00", "2008-09-15T15:53:00.601Z"),
        ("2008-09-15 15:53:00Z", "2008-09-15T15:53:00Z"),
        ("2008-09-15 23:53:00-01:00", "2008-09-16T00:53:00Z"),
    ],
)
def test_rfc_3339_space_separated_date_times_are_accepted_under_2_0(value, expected):
    """xAPI 2.0 takes RFC 3339 timestamps; RFC 3339 §5.6 lets a space stand for "T"
    ("for the sake of readability"). Stored in UTC with the "T"."""
    doc = put(minimal(), "timestamp", value)
    assert validate_statement(doc, v2=True)["timestamp"] == expected
    rejects(doc, "timestamp", v2=False)  # ISO 8601 has no such form


@pytest.mark.parametrize(
    "value",
    ["2015-11-18T12:17:00+0100", "2015-11-18T12:17:00+01", "2015-11-18T12:17:00,5Z"],
)
def test_iso_8601_forms_outside_rfc_3339_are_rejected_under_2_0(value):
    """xAPI 2.0: timestamps follow RFC 3339 (offset hh:mm, "." as the decimal sign)."""
    rejects(put(minimal(), "timestamp", value), "timestamp", v2=True)


@VERSIONS
@pytest.mark.parametrize("key", ["timestamp", "stored"])
@pytest.mark.parametrize(
    "value",
    [
        "",
        "2015-11-18T12:17:00",
        "2015-11-18",
        "2015-11-18  12:17:00Z",
        "2015-11-18_12:17:00Z",
        "20151118T121700Z",
        "2015-11-18T12:17Z",
        "2015-02-29T12:17:00Z",
        "2016-02-30T12:17:00Z",
        "2015-13-18T12:17:00Z",
        "2015-00-18T12:17:00Z",
        "2015-11-00T12:17:00Z",
        "2015-11-31T12:17:00Z",
        "2015-11-18T24:00:00Z",
        "2015-11-18T12:60:00Z",
        "2015-11-18T12:17:61Z",
        "2015-11-18T12:17:00+24:00",
        "2015-11-18T12:17:00+01:60",
        "2015-11-18T12:17:00.Z",
        "15-11-18T12:17:00Z",
        "2015-11-18T12:17:00ZZ",
        "\uff12\uff10\uff11\uff15-11-18T12:17:00Z",
        1447849020,
    ],
)
def test_timestamp_must_be_a_date_time_with_a_time_zone(v2, key, value):
    """Data §4.5.s1.b1, b4 (and RFC 3339 in 2.0): a valid date-time with a time zone."""
    rejects(put(minimal(), key, value), key, v2=v2)


def test_conversion_outside_four_digit_years_is_rejected_under_2_0():
    """xAPI 2.0: a timestamp whose UTC form would leave years 0000-9999 is rejected."""
    rejects(put(minimal(), "timestamp", "9999-12-31T23:00:00-02:00"), "timestamp", v2=True)
    rejects(put(minimal(), "timestamp", "0000-01-01T00:00:00+01:00"), "timestamp", v2=True)
    doc = put(minimal(), "timestamp", "0001-01-01T00:30:00+01:00")
    assert validate_statement(doc, v2=True)["timestamp"] == "0000-12-31T23:30:00Z"


# --- voiding --------------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "obj",
    [activity(), agent(), {"objectType": "Group", "member": [agent()]}],
    ids=["activity", "agent", "group"],
)
def test_voiding_statement_object_must_be_a_statement_ref(v2, obj):
    """Data §2.3.2.s2.b1: the object of a voiding Statement MUST be a StatementRef."""
    doc = put(put(minimal(), "verb.id", VOIDED), "object", obj)
    rejects(doc, "object", v2=v2)


@VERSIONS
def test_voiding_statement_object_must_not_be_a_substatement(v2):
    """Data §2.3.2.s2.b1: "the Object of that voiding Statement MUST have the "objectType"
    field set to StatementRef". A SubStatement describes a Statement without being one
    stored in the LRS, so it cannot be what a voiding Statement targets."""
    doc = put(put(minimal(), "verb.id", VOIDED), "object", substatement())
    error = rejects(doc, "object", v2=v2)
    assert "StatementRef" in error.message


@VERSIONS
def test_voiding_statement_with_statement_ref_is_accepted(v2):
    """Data §2.3.2.s2.b1, b2: a StatementRef with the voided Statement's id."""
    doc = put(minimal(), "verb.id", VOIDED)
    doc = put(doc, "object", {"objectType": "StatementRef", "id": STATEMENT_ID})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_voiding_substatement_object_must_be_a_statement_ref(v2):
    """Data §2.4.4.3.s8.b2, §2.3.2: a SubStatement is validated as a Statement."""
    doc = put(minimal(), "object", substatement(verb={"id": VOIDED}))
    rejects(doc, "object.object", v2=v2)


# --- SubStatements --------------------------------------------------------------------------


@VERSIONS
def test_substatement_is_accepted(v2):
    """Data §2.4.4.3.s8: a SubStatement with actor, verb, object, result, context, ..."""
    sub = substatement(
        result={"completion": True},
        context={"registration": REGISTRATION, "platform": "web"},
        timestamp="2030-01-01T00:00:00Z",
        attachments=[],
    )
    doc = put(minimal(), "object", sub)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", STATEMENT_ID),
        ("stored", "2015-11-18T12:17:00Z"),
        ("version", "1.0.0"),
        ("authority", agent()),
    ],
)
def test_substatement_must_not_have_id_stored_version_or_authority(v2, key, value):
    """Data §2.4.4.3.s8.b3: a SubStatement MUST NOT have "id", "stored", "version", "authority"."""
    doc = put(minimal(), "object", substatement(**{key: value}))
    error = rejects(doc, f"object.{key}", v2=v2)
    assert "SubStatement" in error.message


@VERSIONS
def test_substatement_must_not_contain_a_substatement(v2):
    """Data §2.4.4.3.s8.b4: a SubStatement MUST NOT contain a SubStatement."""
    doc = put(minimal(), "object", substatement(object=substatement()))
    rejects(doc, "object.object.objectType", v2=v2)


@VERSIONS
@pytest.mark.parametrize("key", ["actor", "verb", "object"])
def test_substatement_requires_actor_verb_and_object(v2, key):
    """Data §2.4.4.3.s8.b2: a SubStatement is validated as a Statement."""
    doc = put(minimal(), "object", drop(substatement(), key))
    rejects(doc, f"object.{key}", v2=v2)


@VERSIONS
def test_substatement_parts_are_validated(v2):
    """Data §2.4.4.3.s8.b2: errors inside a SubStatement carry its path."""
    doc = put(minimal(), "object", substatement(actor={"mbox": "learner@example.com"}))
    rejects(doc, "object.actor.mbox", v2=v2)
    doc = put(minimal(), "object", substatement(unknown=1))
    rejects(doc, "object.unknown", v2=v2)


# --- authority ------------------------------------------------------------------------------


@VERSIONS
def test_authority_group_of_two_agents_is_accepted(v2):
    """Data §2.4.9.s3.b1, s8: 3-legged OAuth authority is a Group of two Agents."""
    authority = {
        "objectType": "Group",
        "member": [
            {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_x75db"}},
            {"mbox": "mailto:bob@example.com"},
        ],
    }
    doc = put(minimal(), "authority", authority)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize("count", [1, 3])
def test_authority_group_must_have_exactly_two_agents(v2, count):
    """Data §2.4.9.s3.b1: an authority Group MUST be a Group with two Agents."""
    members = [agent(mbox=f"mailto:m{i}@example.com") for i in range(count)]
    doc = put(minimal(), "authority", {"objectType": "Group", "member": members})
    rejects(doc, "authority.member", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "ifi",
    [
        {"mbox": "mailto:team@example.com"},
        {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
        {"openid": "https://openid.example.com/team"},
        {"account": {"homePage": "https://lms.example.com", "name": "team"}},
    ],
)
def test_authority_group_with_an_identifier_is_rejected(v2, ifi):
    """Data §2.4.9.s3.b1: the 3-legged OAuth authority "MUST be a Group with two Agents",
    the application and the user; an identified Group is a third party, not that pair."""
    members = [
        {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_x75db"}},
        {"mbox": "mailto:bob@example.com"},
    ]
    doc = put(minimal(), "authority", {"objectType": "Group", "member": members, **ifi})
    rejects(doc, f"authority.{next(iter(ifi))}", v2=v2)


@VERSIONS
def test_authority_agent_is_validated(v2):
    """Data §2.4.9.s3.b1: authority MUST be an Agent (or such a Group)."""
    rejects(put(minimal(), "authority", {"name": "no ifi"}), "authority", v2=v2)
    rejects(put(minimal(), "authority", "admin"), "authority", v2=v2)


# --- revision and platform ------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize("key", ["revision", "platform"])
@pytest.mark.parametrize(
    "obj",
    [
        agent(),
        {"objectType": "Group", "member": [agent()]},
        {"objectType": "StatementRef", "id": STATEMENT_ID},
        substatement(),
    ],
    ids=["agent", "group", "statement-ref", "substatement"],
)
def test_revision_and_platform_only_with_an_activity_object(v2, key, obj):
    """Data §2.4.6.s4.b1, b2: "revision"/"platform" MUST only be used with an Activity object."""
    doc = put(put(minimal(), "object", obj), "context", {key: "1"})
    rejects(doc, f"context.{key}", v2=v2)


@VERSIONS
def test_revision_and_platform_in_substatement_follow_its_object(v2):
    """Data §2.4.6.s4.b1, §2.4.4.3.s8.b2: inside a SubStatement, its own object counts."""
    sub = substatement(object=agent(), context={"platform": "web"})
    rejects(put(minimal(), "object", sub), "object.context.platform", v2=v2)


# --- normalisation and purity ---------------------------------------------------------------


@VERSIONS
def test_single_context_activity_becomes_an_array(v2):
    """Data §2.4.6.2.s4.b3, b4: single Activity values are returned as one-element arrays."""
    parent = activity("http://example.com/parent")
    doc = put(minimal(), "context", {"contextActivities": {"parent": parent, "other": [parent]}})
    result = validate_statement(doc, v2=v2)
    assert result["context"]["contextActivities"] == {"parent": [parent], "other": [parent]}
    assert doc["context"]["contextActivities"]["parent"] == parent


@VERSIONS
def test_single_context_activity_in_substatement_becomes_an_array(v2):
    """Data §2.4.6.2.s4.b3 with §2.4.4.3.s8.b2: also inside a SubStatement."""
    grouping = activity("http://example.com/course")
    sub = substatement(context={"contextActivities": {"grouping": grouping}})
    result = validate_statement(put(minimal(), "object", sub), v2=v2)
    assert result["object"]["context"]["contextActivities"]["grouping"] == [grouping]


@VERSIONS
def test_input_is_never_mutated_and_output_shares_nothing(v2):
    """Purity: the input is left as it was and the result is a deep copy."""
    doc = full(v2=v2)
    doc["context"]["contextActivities"]["parent"] = doc["context"]["contextActivities"]["parent"][0]
    doc["timestamp"] = "2015-11-18T12:17:00.123+01:00"
    before = copy.deepcopy(doc)
    result = validate_statement(doc, v2=v2)
    assert doc == before
    assert not set(containers(result)) & set(containers(doc))


@VERSIONS
def test_path_argument_prefixes_every_error(v2):
    """The ``path`` argument locates the Statement inside a larger document."""
    doc = put(minimal(), "actor.mbox", "learner@example.com")
    with pytest.raises(StatementError) as info:
        validate_statement(doc, v2=v2, path="[7]")
    assert info.value.path == "[7].actor.mbox"


@VERSIONS
def test_long_input_is_not_echoed_in_messages(v2):
    """Messages are short and never echo long input."""
    long_key = "k" * 10_000
    error = rejects(put(minimal(), long_key, 1), "k" * 40 + "...", v2=v2)
    assert len(str(error)) < 200
    error = rejects(put(minimal(), "verb.id", "x" * 10_000), "verb.id", v2=v2)
    assert len(str(error)) < 200
