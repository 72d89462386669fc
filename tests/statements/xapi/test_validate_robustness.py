"""Property-based tests: whatever JSON arrives, the validator answers with a result or a
``StatementError`` and leaves its input alone."""

from __future__ import annotations

import copy

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.xapi.errors import StatementError
from statements.xapi.validate import validate_agent, validate_statement, validate_statements
from tests.statements.xapi.test_validate_builders import containers, full, minimal

# Property names of the Data section, so that generated objects reach deep into the rules.
KEYS = [
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
    "homePage",
    "member",
    "display",
    "definition",
    "description",
    "type",
    "moreInfo",
    "extensions",
    "interactionType",
    "correctResponsesPattern",
    "choices",
    "scale",
    "source",
    "target",
    "steps",
    "score",
    "scaled",
    "raw",
    "min",
    "max",
    "success",
    "completion",
    "response",
    "duration",
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "parent",
    "grouping",
    "category",
    "other",
    "revision",
    "platform",
    "language",
    "statement",
    "contextAgents",
    "contextGroups",
    "agent",
    "group",
    "relevantTypes",
    "usageType",
    "contentType",
    "length",
    "sha2",
    "fileUrl",
]
VALUES = [
    "Agent",
    "Group",
    "Activity",
    "StatementRef",
    "SubStatement",
    "contextAgent",
    "contextGroup",
    "choice",
    "likert",
    "mailto:a@example.com",
    "http://example.com/a",
    "http://adlnet.gov/expapi/verbs/voided",
    "http://adlnet.gov/expapi/attachments/signature",
    "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "2015-11-18T12:17:00+01:00",
    "PT1H",
    "en-US",
    "1.0.0",
    "2.0.0",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(VALUES)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


def outcome(function, doc, v2):
    """The result, or the StatementError; any other exception fails the test."""
    try:
        return function(doc, v2=v2)
    except StatementError as error:
        caught = error
    assert isinstance(caught.path, str)
    assert isinstance(caught.message, str)
    assert len(caught.message) < 200
    return caught


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values, v2=st.booleans())
def test_any_json_gives_a_result_or_a_statement_error(doc, v2):
    """Data §2.2.s4: every rejection is a StatementError; nothing else escapes, input intact."""
    before = copy.deepcopy(doc)
    for function in (validate_statement, validate_statements, validate_agent):
        outcome(function, doc, v2)
        assert doc == before


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replace(doc, path, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


@st.composite
def mutated_statements(draw):
    v2 = draw(st.booleans())
    base = draw(st.sampled_from([full(v2=v2), minimal()]))
    path = draw(st.sampled_from(list(_paths(base))))
    return _replace(base, path, draw(json_values)), v2


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_statements())
def test_mutated_statements_give_a_result_or_a_statement_error(case):
    """A valid Statement with any one part replaced by arbitrary JSON is handled cleanly, and
    what is accepted is a deep copy that validates again to itself (normalisation is
    idempotent)."""
    doc, v2 = case
    before = copy.deepcopy(doc)
    result = outcome(validate_statement, doc, v2)
    assert doc == before
    if isinstance(result, dict):
        assert not set(containers(result)) & set(containers(doc))
        assert validate_statement(result, v2=v2) == result
        assert orjson.loads(orjson.dumps(result)) == result


def test_deeply_nested_extension_values_are_accepted():
    """Data §4.1.s3.b2: an LRS MUST NOT reject a Statement based on extension values, however
    deeply nested (orjson accepts about a thousand levels; Python's own recursion limit is
    lower)."""
    depth = 500
    value = b'{"k":[' * depth + b'"leaf"' + b"]}" * depth
    raw = b'{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://e.com/v"},'
    raw += b'"object":{"id":"http://e.com/a"},"result":{"extensions":{"http://e.com/x":'
    raw += value + b"}}}"
    doc = orjson.loads(raw)
    result = validate_statement(doc, v2=True)
    original = doc["result"]["extensions"]["http://e.com/x"]
    copied = result["result"]["extensions"]["http://e.com/x"]
    for _ in range(depth):
        assert copied is not original
        assert copied["k"] is not original["k"]
        assert list(copied) == ["k"]
        assert len(copied["k"]) == 1
        original, copied = original["k"][0], copied["k"][0]
    assert copied == original == "leaf"
