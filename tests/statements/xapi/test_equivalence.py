"""Statement comparison (Data §2.3.1 "Statement Comparison Requirements").

Also home of the hypothesis strategies for valid statements used by the other tests of the
pure xAPI layer (``statements``, ``agents``, ...).
"""

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from statements.xapi.equivalence import equivalence_form, equivalent, fingerprint

# -- strategies for validated statements ------------------------------------------------

iris = st.builds(
    "https://example.com/{}/{}".format,
    st.sampled_from(["a", "verbs", "activities", "types", "ext"]),
    st.text(alphabet="abcxyz019", min_size=1, max_size=6),
)
uuids = st.uuids().map(str)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
).map(datetime.isoformat)
language_tags = st.sampled_from(["en", "en-US", "en-GB", "fr", "de-DE", "es-419", "zh-Hant-TW"])
language_maps = st.dictionaries(language_tags, st.text(max_size=8), min_size=1, max_size=4)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
extensions = st.dictionaries(iris, json_values, max_size=3)

ifis = st.one_of(
    st.builds(
        "mailto:{}@{}".format,
        st.sampled_from(["ann", "Bob", "c.d"]),
        st.sampled_from(["example.com", "Example.ORG"]),
    ).map(lambda mbox: {"mbox": mbox}),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True).map(lambda sha1: {"mbox_sha1sum": sha1}),
    iris.map(lambda iri: {"openid": iri}),
    st.fixed_dictionaries({"homePage": iris, "name": st.text(min_size=1, max_size=8)}).map(
        lambda account: {"account": account}
    ),
)


@st.composite
def agents(draw, object_type=None):
    """An Agent; ``object_type``: True to always spell ``objectType``, None to draw it."""
    agent = dict(draw(ifis))
    if object_type or (object_type is None and draw(st.booleans())):
        agent = {"objectType": "Agent", **agent}
    if draw(st.booleans()):
        agent["name"] = draw(st.text(max_size=8))
    return agent


@st.composite
def groups(draw):
    group = {"objectType": "Group"}
    identified = draw(st.booleans())
    if identified:
        group.update(draw(ifis))
    if not identified or draw(st.booleans()):
        group["member"] = draw(st.lists(agents(), min_size=1, max_size=3))
    if draw(st.booleans()):
        group["name"] = draw(st.text(max_size=8))
    return group


actors = st.one_of(agents(), groups())
components = st.lists(
    st.fixed_dictionaries(
        {"id": st.text(alphabet="abc", min_size=1, max_size=3)},
        optional={"description": language_maps},
    ),
    max_size=3,
).map(lambda items: list({c["id"]: c for c in items}.values()))
definitions = st.fixed_dictionaries(
    {},
    optional={
        "name": language_maps,
        "description": language_maps,
        "type": iris,
        "moreInfo": iris,
        "extensions": extensions,
    },
) | st.fixed_dictionaries(
    {"interactionType": st.just("choice"), "choices": components},
    optional={
        "name": language_maps,
        "correctResponsesPattern": st.lists(st.text(max_size=4), max_size=2),
    },
)
activities = st.fixed_dictionaries(
    {"id": iris}, optional={"objectType": st.just("Activity"), "definition": definitions}
)
verbs = st.fixed_dictionaries({"id": iris}, optional={"display": language_maps})
statement_refs = st.fixed_dictionaries({"objectType": st.just("StatementRef"), "id": uuids})
context_activities = st.fixed_dictionaries(
    {},
    optional={
        kind: st.lists(activities, min_size=1, max_size=2)
        for kind in ("parent", "grouping", "category", "other")
    },
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "registration": uuids,
        "instructor": actors,
        "team": groups(),
        "contextActivities": context_activities,
        "revision": st.text(max_size=4),
        "platform": st.text(max_size=4),
        "language": language_tags,
        "statement": statement_refs,
        "extensions": extensions,
        "contextAgents": st.lists(
            st.fixed_dictionaries(
                {"objectType": st.just("contextAgent"), "agent": agents()},
                optional={"relevantTypes": st.lists(iris, min_size=1, max_size=2)},
            ),
            min_size=1,
            max_size=2,
        ),
        "contextGroups": st.lists(
            st.fixed_dictionaries(
                {"objectType": st.just("contextGroup"), "group": groups()},
                optional={"relevantTypes": st.lists(iris, min_size=1, max_size=2)},
            ),
            min_size=1,
            max_size=2,
        ),
    },
)
durations = st.builds(
    "PT{}M{}.{}S".format, st.integers(0, 59), st.integers(0, 59), st.integers(0, 9999).map(str)
) | st.sampled_from(["P3Y", "PT1H", "P4W", "PT0S"])
results = st.fixed_dictionaries(
    {},
    optional={
        "score": st.fixed_dictionaries(
            {},
            optional={
                "scaled": st.floats(-1, 1),
                "raw": st.integers(0, 100),
                "min": st.just(0),
                "max": st.just(100),
            },
        ),
        "success": st.booleans(),
        "completion": st.booleans(),
        "response": st.text(max_size=6),
        "duration": durations,
        "extensions": extensions,
    },
)
attachment_lists = st.lists(
    st.fixed_dictionaries(
        {
            "usageType": iris,
            "display": language_maps,
            "contentType": st.sampled_from(["text/plain", "application/pdf", "image/png"]),
            "length": st.integers(0, 10**6),
            "sha2": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        },
        optional={"description": language_maps, "fileUrl": iris},
    ),
    min_size=1,
    max_size=2,
)
simple_objects = st.one_of(activities, agents(object_type=True), groups(), statement_refs)
sub_statements = st.fixed_dictionaries(
    {
        "objectType": st.just("SubStatement"),
        "actor": actors,
        "verb": verbs,
        "object": simple_objects,
    },
    optional={
        "result": results,
        "context": contexts,
        "timestamp": timestamps,
        "attachments": attachment_lists,
    },
)
authorities = agents() | st.builds(
    lambda a, b: {"objectType": "Group", "member": [a, b]}, agents(), agents()
)
statements = st.fixed_dictionaries(
    {"actor": actors, "verb": verbs, "object": simple_objects | sub_statements},
    optional={
        "id": uuids,
        "result": results,
        "context": contexts,
        "timestamp": timestamps,
        "stored": timestamps,
        "authority": authorities,
        "version": st.just("1.0.0"),
        "attachments": attachment_lists,
    },
)


def shuffled(value, rng):
    """``value`` with every object's keys and every Group's members in another order: what
    the comparison must not see (Data §2.2.s2.b4, §2.3.1.b5)."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        out = {k: shuffled(v, rng) for k, v in items}
        if out.get("objectType") == "Group" and "member" in out:
            members = list(out["member"])
            rng.shuffle(members)
            out["member"] = members
        return out
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


# -- tests --------------------------------------------------------------------------------

STATEMENT = {
    "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
    "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {
        "objectType": "Activity",
        "id": "https://example.com/course/42",
        "definition": {"name": {"en-US": "Fire safety"}},
    },
    "result": {"completion": True, "duration": "PT12M30.25S", "score": {"scaled": 0.5, "raw": 50}},
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "contextActivities": {"grouping": [{"id": "https://example.com/program/1"}]},
        "extensions": {"https://example.com/ext/session": "abc"},
    },
    "timestamp": "2024-05-06T07:08:09.123Z",
}


def variant(**changes):
    """A deep copy of ``STATEMENT`` with dotted paths set (``None`` deletes)."""
    statement = copy.deepcopy(STATEMENT)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = statement
        for key in parents:
            target = target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return statement


def test_fingerprint_is_a_sha256_digest():
    """The registry stores a 32-byte digest of the equivalence form."""
    assert len(fingerprint(STATEMENT)) == 32
    assert fingerprint(STATEMENT) == fingerprint(copy.deepcopy(STATEMENT))


@given(a=statements, data=st.data())
def test_equivalent_is_fingerprint_equality_for_any_pair(a, data):
    """Data §2.3.1: the registry settles a re-send by fingerprint, the signature check by
    ``equivalent``; both must agree on every pair, equivalent or not."""
    b = data.draw(
        st.one_of(
            statements,
            st.randoms(use_true_random=False).map(lambda rng: shuffled(a, rng)),
            st.builds(lambda verb: {**a, "verb": verb}, verbs),
            st.builds(lambda timestamp: {**a, "timestamp": timestamp}, timestamps),
        )
    )
    assert equivalent(a, b) == (fingerprint(a) == fingerprint(b))
    assert equivalent(a, b) == equivalent(b, a)
    assert equivalent(a, a)


@given(statement=statements, verb=iris, response=st.text(max_size=4))
def test_changed_content_is_never_ignored(statement, verb, response):
    """Data §2.3.1.s9.b2: the Verb id and the Result are not exceptions."""
    assume(verb != statement["verb"]["id"])
    assert not equivalent(statement, {**statement, "verb": {"id": verb}})
    result = statement.get("result", {})
    assume(result.get("response") != response)
    assert not equivalent(statement, {**statement, "result": {**result, "response": response}})


@given(statement=statements, rng=st.randoms(use_true_random=False))
def test_key_order_and_group_member_order_are_ignored(statement, rng):
    """Data §2.2.s2.b4: properties "in any order"; §2.3.1.b5: "The list of Agents in a Group
    is not considered to be an ordered list"."""
    other = shuffled(statement, rng)
    assert equivalent(statement, other)
    assert fingerprint(statement) == fingerprint(other)


@given(
    statement=statements,
    stored=timestamps,
    timestamp=timestamps,
    authority=authorities,
    version=st.sampled_from(["1.0.0", "1.0.3", "2.0.0"]),
    statement_id=uuids,
)
def test_properties_the_lrs_assigns_are_ignored(
    statement, stored, timestamp, authority, version, statement_id
):
    """Data §2.3.1.b1: "Potential or required assignments of properties during LRS
    processing ("id", "authority", "stored", "timestamp", "version")" are exceptions, and
    differences they could have caused "MUST be ignored" (§2.3.1.s9.b1)."""
    served = {
        **statement,
        "id": statement_id,
        "stored": stored,
        "timestamp": timestamp,
        "authority": authority,
        "version": version,
    }
    received = {
        k: v
        for k, v in statement.items()
        if k not in ("stored", "timestamp", "authority", "version")
    }
    assert equivalent(served, statement)
    assert equivalent(served, received)


def test_stored_form_equals_a_resend_that_omits_timestamp_again():
    """Data §2.4.7: the LRS fills a missing timestamp with "the same value it would use with
    Stored"; the statement as served and the client's original are the same statement."""
    received = variant(timestamp=None)
    served = {
        **received,
        "timestamp": "2024-05-06T07:08:10.456Z",
        "stored": "2024-05-06T07:08:10.456Z",
        "authority": {
            "objectType": "Agent",
            "account": {"homePage": "https://lrs.example.com", "name": "k"},
        },
        "version": "1.0.0",
    }
    assert equivalent(served, received)
    assert equivalent(served, variant(timestamp=None, id=None))


def test_differing_client_timestamps_are_ignored():
    """Data §2.3.1.b1 lists "timestamp" among the exceptions: a served timestamp may be the
    LRS's, so a timestamp difference could have been caused by LRS processing (§2.3.1.s9.b1).
    The first statement stored under the id stands."""
    assert equivalent(STATEMENT, variant(timestamp="2020-01-01T00:00:00Z"))


def test_activity_definitions_are_ignored_everywhere():
    """Data §2.3.1.b2: "The content of Activity Definitions that are referenced in
    Statements is not considered part of the Statement itself"."""
    other = variant(
        object__definition={"name": {"en-US": "Renamed"}, "type": "https://example.com/t"}
    )
    assert equivalent(STATEMENT, other)
    other["context"]["contextActivities"]["grouping"][0]["definition"] = {
        "name": {"fr": "Programme"}
    }
    assert equivalent(STATEMENT, other)
    assert equivalent(STATEMENT, variant(object__definition=None))


def test_verb_display_is_ignored():
    """Data §2.3.1.b3: "The "display" property of the Verb is not considered part of the
    Statement itself"."""
    assert equivalent(
        STATEMENT, variant(verb={"id": STATEMENT["verb"]["id"], "display": {"fr": "fini"}})
    )
    assert equivalent(STATEMENT, variant(verb={"id": STATEMENT["verb"]["id"]}))


def test_a_different_verb_is_a_different_statement():
    """Data §2.3.1.s9.b2: differences in properties that are not exceptions MUST NOT be
    ignored."""
    assert not equivalent(STATEMENT, variant(verb__id="http://adlnet.gov/expapi/verbs/passed"))


@pytest.mark.parametrize(
    "changes",
    [
        {"actor__name": "Anne"},
        {"actor__mbox": "mailto:Ann@example.com"},
        {"object__id": "https://example.com/course/43"},
        {"result__completion": False},
        {"result__score": {"scaled": 0.5, "raw": 51}},
        {"result__duration": "PT12M31S"},
        {"result__response": "x"},
        {"context__registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f8"},
        {"context__extensions": {"https://example.com/ext/session": "abd"}},
        {"context__contextActivities": {"parent": [{"id": "https://example.com/program/1"}]}},
        {"context": None},
        {"result__score": {"scaled": 0.5, "raw": True}},
    ],
)
def test_content_differences_are_not_ignored(changes):
    """Data §2.3.1.s9.b2: "Differences relating to a different serialization of any
    properties not listed as exceptions MUST not be ignored"."""
    assert not equivalent(STATEMENT, variant(**changes))


def test_sub_statement_timestamp_compares_as_an_instant():
    """Data §2.3.1.b4: timestamps "can be returned in a different timezone ... so long as
    the point in time referenced is not affected"; a SubStatement's timestamp is not set by
    the LRS, so it is compared."""

    def with_sub_timestamp(value):
        return variant(
            object={
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:ann@example.com"},
                "verb": {"id": "https://example.com/verbs/will-attend"},
                "object": {"id": "https://example.com/course/42"},
                "timestamp": value,
            }
        )

    utc = with_sub_timestamp("2030-01-01T10:00:00.000Z")
    assert equivalent(utc, with_sub_timestamp("2030-01-01T15:30:00+05:30"))
    assert equivalent(utc, with_sub_timestamp("2030-01-01t10:00:00z"))
    # §4.5.s1.b7: the LRS may truncate to milliseconds.
    assert equivalent(utc, with_sub_timestamp("2030-01-01T10:00:00.0004Z"))
    assert not equivalent(utc, with_sub_timestamp("2030-01-01T10:00:00.001Z"))
    assert not equivalent(utc, with_sub_timestamp("2030-01-01T10:00:00+01:00"))


@pytest.mark.parametrize(
    ("sent", "same", "different"),
    [
        ("PT1.239S", "PT1.23S", "PT1.24S"),
        ("PT12M30.2599S", "PT12M30.25S", "PT12M30.2S"),
        ("PT1,2345S", "PT1,23S", "PT1.23S"),
        ("PT60S", "PT60S", "PT1M"),
    ],
)
def test_duration_is_a_string_compared_to_a_hundredth_of_a_second(sent, same, different):
    """Data §2.3.1.b8: "the Result Duration is considered a string for purposes of
    Statement comparison"; §4.6.s1.b5: "any precision beyond 0.01 second precision SHOULD*
    NOT be included in the comparison"."""
    assert equivalent(variant(result__duration=sent), variant(result__duration=same))
    assert not equivalent(variant(result__duration=sent), variant(result__duration=different))


def test_case_insensitive_values_ignore_case():
    """Data §2.3.1.b7: "Some properties are case insensitive and changes in case therefore
    do not affect immutability. For example, the domain portion an e-mail address"."""
    assert equivalent(STATEMENT, variant(actor__mbox="mailto:ann@EXAMPLE.com"))
    assert equivalent(
        STATEMENT, variant(context__registration=STATEMENT["context"]["registration"].upper())
    )
    attachment = {
        "usageType": "https://example.com/usage/certificate",
        "display": {"en-US": "Certificate"},
        "contentType": "application/pdf",
        "length": 12,
        "sha2": "ab" * 32,
    }
    upper = {
        **attachment,
        "display": {"EN-us": "Certificate"},
        "contentType": "Application/PDF",
        "sha2": "AB" * 32,
    }
    assert equivalent(variant(attachments=[attachment]), variant(attachments=[upper]))
    ref = {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}
    ref_upper = {**ref, "id": ref["id"].upper()}
    assert equivalent(variant(object=ref), variant(object=ref_upper))


def test_iris_are_compared_as_sent():
    """Data §3.1.s2.b1: IRIs compared by simple string comparison (RFC 3987 §5.3.1)."""
    assert not equivalent(STATEMENT, variant(object__id="https://EXAMPLE.com/course/42"))


def test_attachment_headers_are_part_of_the_statement():
    """Data §2.3.1.b6 exempts the attachment data, not the Attachment Objects of the
    "attachments" property (Data §2.4.11), which are compared."""
    attachment = {
        "usageType": "https://example.com/usage/certificate",
        "display": {"en-US": "Certificate"},
        "contentType": "application/pdf",
        "length": 12,
        "sha2": "ab" * 32,
    }
    assert not equivalent(
        variant(attachments=[attachment]), variant(attachments=[{**attachment, "sha2": "cd" * 32}])
    )
    assert not equivalent(variant(attachments=[attachment]), STATEMENT)


def test_equal_numbers_in_different_spellings_are_equal():
    """JSON numbers 1 and 1.0 are one value (RFC 8259 §6); the statement does not change
    because a serialiser wrote it differently."""
    assert equivalent(variant(result__score={"scaled": 0.5, "raw": 50.0}), STATEMENT)
    assert equivalent(
        variant(
            context__extensions={
                "https://example.com/ext/session": "abc",
                "https://example.com/ext/n": 2,
            }
        ),
        variant(
            context__extensions={
                "https://example.com/ext/n": 2.0,
                "https://example.com/ext/session": "abc",
            }
        ),
    )


def test_omitted_object_type_equals_its_default():
    """Data §2.4.2.1 (Agent objectType optional, Agent by default) and §2.4.4.s2 ("If not
    specified, the objectType is assumed to be Activity")."""
    actor = {k: v for k, v in STATEMENT["actor"].items() if k != "objectType"}
    obj = {k: v for k, v in STATEMENT["object"].items() if k != "objectType"}
    assert equivalent(STATEMENT, variant(actor=actor, object=obj))


def test_single_context_activity_equals_an_array_of_one():
    """Data §2.4.6.2.s4.b4: "The LRS MUST return single Activity Objects as an array of
    length one containing the same Activity"."""
    single = variant(
        context__contextActivities={"grouping": {"id": "https://example.com/program/1"}}
    )
    assert equivalent(STATEMENT, single)


def test_context_activity_order_is_kept():
    """Data §2.3.1.b5 names only a Group's members as an unordered list; other arrays keep
    their order (§2.3.1.s9.b2)."""
    first = {"id": "https://example.com/a"}
    second = {"id": "https://example.com/b"}
    assert not equivalent(
        variant(context__contextActivities={"parent": [first, second]}),
        variant(context__contextActivities={"parent": [second, first]}),
    )


def test_anonymous_group_members_are_a_multiset():
    """Data §2.3.1.b5: the member list is unordered, but listing an Agent twice is still a
    different list."""
    ann = {"mbox": "mailto:ann@example.com"}
    bob = {"mbox": "mailto:bob@example.com"}
    group = {"objectType": "Group", "member": [ann, bob]}
    assert equivalent(variant(actor=group), variant(actor={**group, "member": [bob, ann]}))
    assert not equivalent(variant(actor=group), variant(actor={**group, "member": [ann, bob, bob]}))


@given(statement=statements)
def test_comparison_never_mutates_its_input(statement):
    """Statements are immutable (Data §2.3.1); the comparison only reads."""
    before = copy.deepcopy(statement)
    equivalence_form(statement)
    fingerprint(statement)
    assert statement == before
