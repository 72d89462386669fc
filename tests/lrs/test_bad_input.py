"""Bad input at the xAPI edge gets a 4xx with the JSON error body, never a 5xx, and changes
nothing that is stored (docs/xapi.md, "Error bodies"; Communication §3.2: "the status code
most appropriate to the condition, with a message explaining the cause").

Property-based tests send generated requests to every resource, in both versions; the
regular tests below them pin inputs that once made the LRS answer 500.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents.models import Document
from statements.models import StatementRecord
from statements.xapi.serialize import json_bytes
from tests.conftest import XAPIClient
from tests.fuzzing import fuzz_settings
from tests.statements import builders

pytestmark = pytest.mark.django_db

STATEMENTS = "/xapi/statements"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"
ACTIVITY_ID = "https://courses.example.org/course-1"
AGENT = '{"mbox":"mailto:learner@example.org"}'
VERSIONS = ("1.0.3", "2.0.0")

FUZZ = fuzz_settings(150)

# What only a stack trace or a raw exception message would put in a body.
_LEAK = re.compile(r"Traceback|File \"|psycopg|django\.|\b[A-Z][A-Za-z]*(?:Error|Exception)\b")


# --- assertions ---------------------------------------------------------------------------


def assert_clean(response, method: str = "GET") -> None:
    """Below 500; an error has the JSON body of lrs.errors.error_body, with nothing of an
    exception in it."""
    status = response.status_code
    assert status < 500, response.content[:500]
    if status < 400 or method == "HEAD":
        return
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = orjson.loads(response.content)
    assert body["status"] == status
    assert isinstance(body["error"], str)
    assert body["error"]
    assert isinstance(body["message"], str)
    assert body["message"]
    assert re.fullmatch(r"[0-9a-f]{32}", body["requestId"]) or body["requestId"] == "-"
    assert set(body) <= {"status", "error", "message", "path", "requestId", "region", "baseUrl"}
    assert not _LEAK.search(response.content.decode()), body


def stored_statements() -> list:
    return list(StatementRecord.objects.order_by("statement_id").values_list("statement_id"))


def stored_documents() -> list:
    return list(Document.objects.order_by("pk").values_list("pk", "etag", "content_type"))


# --- strategies ---------------------------------------------------------------------------

# Text with the characters that trip storage and parsers: NUL, controls, non-BMP, RTL marks.
odd_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\x7f", "\ufeff", "\u202e", "\U0001f600", "\\", '"', "%"]),
    ),
    max_size=40,
)
long_text = st.integers(1000, 20000).map(lambda n: "x" * n)
# PostgreSQL text and jsonb cannot hold U+0000: wherever a string is kept, try one with it.
nul_text = st.builds("{}\x00{}".format, odd_text, odd_text)
numbers = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    # Past 64 bits orjson writes no integer: sent as raw text.
    st.integers(2**64, 10**400).map(lambda n: orjson.Fragment(str(n))),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [0, -0.0, 1e308, -1e308, 5e-324, orjson.Fragment("1e400"), orjson.Fragment("-0")]
    ),
)
json_scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text, long_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(odd_text, inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def deep_values(draw):
    """JSON nested beyond any parser's or writer's comfort, as raw text (orjson would not
    write it)."""
    depth = draw(st.sampled_from([199, 200, 201, 254, 255, 256, 400, 1023, 1100]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return orjson.Fragment(opener * depth + "1" + closer * depth)


# Where a property of a valid statement may be replaced: (path, is it an extension value).
_POSITIONS = [
    ("id",),
    ("actor",),
    ("actor", "mbox"),
    ("actor", "name"),
    ("actor", "objectType"),
    ("verb",),
    ("verb", "id"),
    ("verb", "display"),
    ("verb", "display", "en-US"),
    ("object",),
    ("object", "id"),
    ("object", "objectType"),
    ("object", "definition"),
    ("object", "definition", "name"),
    ("object", "definition", "type"),
    ("object", "definition", "interactionType"),
    ("object", "definition", "extensions"),
    ("result",),
    ("result", "score"),
    ("result", "duration"),
    ("result", "extensions", "https://example.org/ext"),
    ("context",),
    ("context", "registration"),
    ("context", "language"),
    ("context", "contextActivities"),
    ("context", "extensions", "https://example.org/ext"),
    ("timestamp",),
    ("stored",),
    ("version",),
    ("authority",),
    ("attachments",),
]


def _full_statement() -> dict:
    return builders.statement(
        result={"score": {"raw": 1}, "duration": "PT1S", "extensions": {}},
        context={
            "registration": str(uuid.uuid4()),
            "language": "en-US",
            "contextActivities": {"parent": [builders.activity("parent")]},
            "extensions": {},
        },
        timestamp="2024-03-01T10:00:00Z",
    )


def _set(document: dict, path: tuple, value) -> None:
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


timestamps = st.one_of(
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{}".format,
        st.sampled_from([0, 1, 1970, 2024, 9999]),
        st.one_of(st.integers(1, 12), st.integers(0, 13)),
        st.one_of(st.integers(1, 28), st.integers(0, 32)),
        st.one_of(st.integers(0, 23), st.integers(0, 25)),
        st.integers(0, 59),
        st.one_of(st.integers(0, 59), st.just(60)),
        st.sampled_from(["", ".5", ".1234567", ",5"]),
        st.sampled_from(
            ["Z", "z", "", "+00:00", "-00:00", "+23:59", "-23:59", "+16:00", "-16", " 01:00"]
        ),
    ),
    odd_text,
)


@st.composite
def mutated_statements(draw):
    statement = _full_statement()
    kind = draw(st.sampled_from(["replace", "replace", "add", "deep", "timestamp"]))
    if kind == "timestamp":
        _set(statement, draw(st.sampled_from([("timestamp",), ("stored",)])), draw(timestamps))
    elif kind == "add":
        position = draw(st.sampled_from([p for p in _POSITIONS if len(p) == 1] + [("actor",)]))
        parent = position[:-1] if len(position) > 1 else ()
        target = statement
        for key in parent:
            target = target[key]
        target[draw(odd_text)] = draw(json_values)
    else:
        positions = [p for p in _POSITIONS if "extensions" in p] if kind == "deep" else _POSITIONS
        value = draw(deep_values() if kind == "deep" else json_values)
        _set(statement, draw(st.sampled_from(positions)), value)
    return statement


agents = st.one_of(
    st.just(AGENT),
    st.builds(lambda value: orjson.dumps(value).decode(), json_values),
    st.builds(
        lambda name: orjson.dumps(
            {"account": {"homePage": "https://example.org", "name": name}}
        ).decode(),
        st.one_of(odd_text, nul_text),
    ),
    st.builds(
        lambda name: orjson.dumps({"mbox": "mailto:a@example.org", "name": name}).decode(),
        st.one_of(odd_text, nul_text),
    ),
    odd_text,
)
uuids = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()), odd_text)
iris = st.one_of(
    st.just(ACTIVITY_ID), odd_text, st.builds("https://example.org/{}".format, odd_text)
)
limits = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.integers(4000, 6000).map(lambda n: "9" * n),
    st.integers(4000, 6000).map(lambda n: "0" * n + "1"),
    odd_text,
)


def _query(params: dict) -> str:
    # surrogatepass: a lone surrogate in generated text is sent as its (invalid) UTF-8 bytes.
    return "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in params.items()
    )


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def lrs(credential):
    return {version: XAPIClient(credential, version=version) for version in VERSIONS}


# --- statements: writes -------------------------------------------------------------------


@FUZZ
@given(statement=mutated_statements(), version=st.sampled_from(VERSIONS), put=st.booleans())
def test_a_mutated_statement_is_stored_or_refused_with_a_4xx(lrs, statement, version, put):
    """Communication §2.1.1-2: a statement is stored whole, or refused with a 4xx and not
    stored."""
    before = stored_statements()
    body = orjson.dumps(statement)
    if put:
        statement_id = str(uuid.uuid4())
        statement.pop("id", None)
        response = lrs[version].request(
            "put",
            f"{STATEMENTS}?statementId={statement_id}",
            data=orjson.dumps(statement),
            content_type="application/json",
        )
    else:
        response = lrs[version].request(
            "post", STATEMENTS, data=body, content_type="application/json"
        )
    assert_clean(response)
    if response.status_code >= 400:
        assert stored_statements() == before


# Values a Statement may hold where any string or JSON goes.
_FREE_POSITIONS = [
    ("actor", "name"),
    ("verb", "display", "en-US"),
    ("object", "definition", "description", "fr-FR"),
    ("result", "response"),
    ("result", "extensions", "https://example.org/ext"),
    ("context", "extensions", "https://example.org/ext"),
    ("context", "platform"),
]


@st.composite
def odd_but_valid_statements(draw):
    statement = _full_statement()
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.sampled_from(_FREE_POSITIONS))
        is_extension = position[1] == "extensions"
        values = st.one_of(json_values, deep_values()) if is_extension else odd_text
        _set(statement, position, draw(values))
    if draw(st.booleans()):
        statement["timestamp"] = draw(timestamps)
    return statement


@FUZZ
@given(
    statement=odd_but_valid_statements(),
    written=st.sampled_from(VERSIONS),
    read=st.sampled_from(VERSIONS),
    output=st.sampled_from(["exact", "ids", "canonical"]),
    language=st.sampled_from(["", "fr-FR, en;q=0.5", "*;q=0", "x" * 300, ";q=nan,"]),
)
def test_a_stored_statement_is_served_in_every_format_to_every_version(
    lrs, statement, written, read, output, language
):
    """Communication §2.1.3: whatever was accepted can be read back, by id and in a page."""
    response = lrs[written].request(
        "post", STATEMENTS, data=orjson.dumps(statement), content_type="application/json"
    )
    assert_clean(response)
    if response.status_code != 200:
        return
    (statement_id,) = orjson.loads(response.content)
    for query in (
        {"statementId": statement_id, "format": output, "attachments": "true"},
        {"statementId": statement_id, "format": output},
        {"format": output, "agent": AGENT, "limit": "1"},
    ):
        got = lrs[read].request(
            "get", f"{STATEMENTS}?{_query(query)}", HTTP_ACCEPT_LANGUAGE=language
        )
        assert_clean(got)
        assert got.status_code == 200, got.content


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda v: b"\xef\xbb\xbf" + orjson.dumps(v), json_values),
    st.builds(
        lambda literal: orjson.dumps(builders.statement()).replace(
            b'"id"', b'"n":' + literal + b',"id"', 1
        ),
        st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"01", b"'a'", b'"\\ud800"']),
    ),
    st.builds(
        lambda: (
            orjson.dumps(builders.statement())[:-1] + b',"actor":{"mbox":"mailto:b@example.org"}}'
        )
    ),
    st.builds(lambda v: orjson.dumps(v), json_values),
    st.builds(lambda v: orjson.dumps(v).decode().encode("utf-16"), json_values),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "APPLICATION/JSON",
            "",
            "text/plain",
            "multipart/mixed",
            "multipart/mixed; boundary=",
            'multipart/mixed; boundary="unterminated',
            "multipart/mixed; boundary=abc",
            "application/x-www-form-urlencoded",
        ]
    ),
    odd_text.filter(lambda t: "\n" not in t and "\r" not in t),
)


@FUZZ
@given(
    raw=raw_bodies,
    content_type=content_types,
    version=st.sampled_from(VERSIONS),
    method=st.sampled_from(["post", "put"]),
)
def test_a_body_that_is_no_statement_is_a_4xx(lrs, raw, content_type, version, method):
    before = stored_statements()
    url = STATEMENTS if method == "post" else f"{STATEMENTS}?statementId={uuid.uuid4()}"
    response = lrs[version].request(
        method, url, data=raw, content_type="application/octet-stream", CONTENT_TYPE=content_type
    )
    assert_clean(response)
    if response.status_code >= 400:
        assert stored_statements() == before


@st.composite
def multipart_requests(draw):
    """A multipart/mixed statement request with parts in any state of repair."""
    boundary = draw(
        st.one_of(st.just("b0undary"), st.text("abcXYZ09'()+_,-./:=? ", min_size=1, max_size=75))
    )
    content = draw(st.binary(max_size=64))
    sha2 = hashlib.sha256(content).hexdigest()
    declared = draw(st.sampled_from([sha2, hashlib.sha256(b"other").hexdigest(), "zz"]))
    statement = builders.statement(
        attachments=[
            {
                "usageType": "https://example.org/usage",
                "display": {"en-US": "file"},
                "contentType": "text/plain",
                "length": len(content),
                "sha2": declared,
            }
        ]
    )
    header_value = draw(st.sampled_from([sha2, declared, "", "x" * 10000]))
    first_headers = draw(
        st.sampled_from(
            [b"Content-Type: application/json\r\n", b"", b"Content-Type: text/plain\r\n"]
        )
    )
    extra = draw(st.sampled_from([b"", b"X-Junk: " + b"j" * 70000 + b"\r\n", b"NoColonHere\r\n"]))
    b = boundary.encode()
    parts = [b"--" + b + b"\r\n" + first_headers + b"\r\n" + orjson.dumps(statement) + b"\r\n"]
    if draw(st.booleans()):
        parts.append(
            b"--" + b + b"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
            b"X-Experience-API-Hash: "
            + header_value.encode()
            + b"\r\n"
            + extra
            + b"\r\n"
            + content
            + b"\r\n"
        )
    ending = draw(st.sampled_from([b"--" + b + b"--\r\n", b"", b"--" + b + b"\r\n"]))
    quoted = draw(st.booleans())
    content_type = (
        f'multipart/mixed; boundary="{boundary}"'
        if quoted
        else f"multipart/mixed; boundary={boundary}"
    )
    return b"".join(parts) + ending, content_type


@FUZZ
@given(request=multipart_requests(), version=st.sampled_from(VERSIONS))
def test_a_broken_multipart_statement_request_is_a_4xx(lrs, request, version):
    """Communication §1.5.2: parts and hashes must match; a request that breaks the rules is
    refused and stores nothing."""
    raw, content_type = request
    before = stored_statements()
    response = lrs[version].request(
        "post",
        STATEMENTS,
        data=raw,
        content_type="application/octet-stream",
        CONTENT_TYPE=content_type,
    )
    assert_clean(response)
    if response.status_code >= 400:
        assert stored_statements() == before


# --- statements: reads --------------------------------------------------------------------

_STATEMENT_PARAMETER_VALUES = {
    "statementId": uuids,
    "voidedStatementId": uuids,
    "agent": agents,
    "verb": iris,
    "activity": iris,
    "registration": uuids,
    "related_activities": st.sampled_from(["true", "false", "1", ""]),
    "related_agents": st.sampled_from(["true", "false", "TRUE"]),
    "since": timestamps,
    "until": timestamps,
    "limit": limits,
    "format": st.sampled_from(["exact", "ids", "canonical", "", "EXACT"]),
    "attachments": st.sampled_from(["true", "false", "yes"]),
    "ascending": st.sampled_from(["true", "false", "0"]),
    "more": st.one_of(odd_text, long_text),
}
# A few parameters at a time: with many, the first bad one hides what the others do.
_statement_params = st.lists(
    st.sampled_from(sorted(_STATEMENT_PARAMETER_VALUES)), min_size=1, max_size=2, unique=True
).flatmap(lambda names: st.fixed_dictionaries({n: _STATEMENT_PARAMETER_VALUES[n] for n in names}))


@FUZZ
@given(
    params=st.one_of(_statement_params, st.dictionaries(odd_text, odd_text, max_size=3)),
    version=st.sampled_from(VERSIONS),
    method=st.sampled_from(["get", "head"]),
    language=st.one_of(st.none(), odd_text.filter(lambda t: "\n" not in t and "\r" not in t)),
)
def test_any_statement_query_is_answered_below_500(lrs, params, version, method, language):
    """Communication §2.1.3: every parameter is validated as the same value in Statements;
    a bad one is a 400."""
    extra = {} if language is None else {"HTTP_ACCEPT_LANGUAGE": language}
    response = lrs[version].request(method, f"{STATEMENTS}?{_query(params)}", **extra)
    assert_clean(response, method.upper())


# --- documents ------------------------------------------------------------------------------

_RESOURCES = {
    STATE: ("stateId", ("activityId", "agent", "registration")),
    ACTIVITY_PROFILE: ("profileId", ("activityId",)),
    AGENT_PROFILE: ("profileId", ("agent",)),
}


@st.composite
def document_requests(draw, method: str):
    url = draw(st.sampled_from(sorted(_RESOURCES)))
    id_param, scope_params = _RESOURCES[url]
    params = {}
    for name in scope_params:
        if draw(st.integers(0, 9)) == 0:
            continue  # missing
        if name == "activityId":
            params[name] = draw(iris) if draw(st.integers(0, 2)) == 0 else ACTIVITY_ID
        elif name == "agent":
            params[name] = draw(agents) if draw(st.integers(0, 2)) == 0 else AGENT
        elif draw(st.integers(0, 2)) == 0:
            params[name] = draw(uuids)
    if method in ("get", "head") and draw(st.booleans()):
        params["since"] = draw(timestamps)  # the ids of the scope
    elif draw(st.integers(0, 9)) > 0:
        params[id_param] = draw(st.one_of(st.just("doc"), odd_text, nul_text, long_text))
    if draw(st.integers(0, 9)) == 0:
        params[draw(odd_text)] = draw(odd_text)
    content = draw(
        st.one_of(
            st.binary(max_size=100),
            st.builds(orjson.dumps, json_values),
            st.builds(lambda v: b'{"k":' + orjson.dumps(v) + b"}", deep_values()),
            st.sampled_from(
                [b'{"a":"\\ud800"}', b'{"a":NaN}', b"\xef\xbb\xbf{}", b'{"a":1,"a":2}']
            ),
        )
    )
    content_type = draw(st.one_of(st.just("application/json"), content_types))
    headers = {}
    if draw(st.booleans()):
        headers["HTTP_IF_MATCH"] = draw(st.sampled_from(['"abc"', "*", 'W/"x"', ",,", '"']))
    if draw(st.booleans()):
        headers["HTTP_IF_NONE_MATCH"] = draw(st.sampled_from(["*", '"abc"', ""]))
    return f"{url}?{_query(params)}", content, content_type, headers


@pytest.mark.parametrize("method", ["get", "head", "put", "post", "delete"])
@FUZZ
@given(data=st.data(), version=st.sampled_from(VERSIONS), seeded=st.booleans())
def test_any_document_request_is_answered_below_500_and_a_refused_write_changes_nothing(
    lrs, method, data, version, seeded
):
    """Communication §2.2-§2.7, §3.1: a refused write leaves every document as it was."""
    url, content, content_type, headers = data.draw(document_requests(method))
    if seeded:
        # A JSON document where the request most likely points, for POST to merge into.
        seed = lrs[version].request(
            "post",
            url,
            data=b'{"seed":1}',
            content_type="application/json",
        )
        assert_clean(seed)
    before = stored_documents()
    if method in ("get", "head"):
        response = lrs[version].request(method, url, **headers)
    else:
        response = lrs[version].request(
            method,
            url,
            data=content,
            content_type="application/octet-stream",
            CONTENT_TYPE=content_type,
            **headers,
        )
    assert_clean(response, method.upper())
    if response.status_code >= 400:
        assert stored_documents() == before


# --- activities, agents, about, headers, the alternate syntax -------------------------------


@FUZZ
@given(
    url=st.sampled_from(["/xapi/activities", "/xapi/agents", "/xapi/about"]),
    params=st.dictionaries(
        st.sampled_from(["activityId", "agent", "x"]), st.one_of(iris, agents), max_size=2
    ),
    version=st.sampled_from([*VERSIONS, "1.1.0", "0.9", ""]),
)
def test_definition_and_about_queries_are_answered_below_500(lrs, credential, url, params, version):
    client = XAPIClient(credential, version=version or None)
    assert_clean(client.get(f"{url}?{_query(params)}"))


header_text = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=60)


@FUZZ
@given(
    version=st.one_of(header_text, st.sampled_from(["1.0", "1.0.", "2.0.0.0", "1.0.3 ", "\t2.0"])),
    authorization=st.one_of(
        header_text,
        st.builds(
            lambda raw: "Basic " + base64.b64encode(raw).decode(),
            st.binary(max_size=40),
        ),
        st.sampled_from(
            ["Basic", "Basic ", "Basic ====", "basic Zm9vOmJhcg==", "Basic " + "A" * 20000]
        ),
    ),
    url=st.sampled_from([STATEMENTS, STATE, "/xapi/activities", "/xapi/about"]),
)
def test_any_version_or_authorization_header_is_answered_below_500(version, authorization, url):
    """Communication §3.3 (version: 400) and §4.0 (credentials: 401)."""
    client = XAPIClient(None, version=None)
    response = client.get(
        url, HTTP_X_EXPERIENCE_API_VERSION=version, HTTP_AUTHORIZATION=authorization
    )
    assert_clean(response)


@FUZZ
@given(
    method=st.one_of(st.sampled_from(["PUT", "POST", "GET", "DELETE", "HEAD", "put"]), odd_text),
    url=st.sampled_from([STATEMENTS, STATE, AGENT_PROFILE, "/xapi/about", "/xapi/agents"]),
    fields=st.dictionaries(
        st.one_of(
            st.sampled_from(
                [
                    "content",
                    "Content-Type",
                    "Content-Length",
                    "statementId",
                    "stateId",
                    "activityId",
                    "agent",
                    "If-Match",
                    "limit",
                ]
            ),
            odd_text,
        ),
        st.one_of(odd_text, st.builds(lambda v: orjson.dumps(v).decode(), json_values)),
        max_size=5,
    ),
    raw_form=st.one_of(st.none(), st.binary(max_size=60)),
    scoped=st.booleans(),
)
def test_any_alternate_request_is_answered_below_500(
    lrs, credential, method, url, fields, raw_form, scoped
):
    """Communication §1.3: the tunnelled call is checked like any other."""
    scope = {}
    if scoped and url in _SCOPES:
        # A document the tunnelled call can reach, so that its content and headers count.
        scope = {**_SCOPES[url], _RESOURCES[url][0]: "doc"}
    form = {
        "X-Experience-API-Version": "1.0.3",
        "Authorization": lrs["1.0.3"].headers["HTTP_AUTHORIZATION"],
        **scope,
        **fields,
    }
    data = raw_form if raw_form is not None else _query(form).encode()
    before_statements, before_documents = stored_statements(), stored_documents()
    client = XAPIClient(None, version=None)
    response = client.request(
        "post",
        f"{url}?method={quote(method.encode('utf-8', 'surrogatepass'))}",
        data=data,
        content_type="application/x-www-form-urlencoded",
    )
    assert_clean(response, method.strip().upper())
    if response.status_code >= 400:
        assert stored_statements() == before_statements
        assert stored_documents() == before_documents


# --- the writer behind stored and served statements ---------------------------------------


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    value=json_values,
    depth=st.sampled_from([0, 1, 253, 254, 255, 600]),
    sort_keys=st.booleans(),
)
def test_json_bytes_writes_what_orjson_writes_at_any_depth(value, depth, sort_keys):
    """Statements are stored and served as orjson writes them, also where orjson cannot
    (deeper than 254 levels): the bytes are the same either way."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    nested = value
    for _ in range(depth):
        nested = {"k": [nested]}
    expected = b'{"k":[' * depth + orjson.dumps(value, option=option) + b"]}" * depth
    assert json_bytes(nested, sort_keys=sort_keys) == expected


# --- regressions: inputs that were once answered 500 -----------------------------------------


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def _with_extension(raw_value: bytes, **extra) -> bytes:
    statement = builders.statement(result={"extensions": {"https://example.org/ext": 0}}, **extra)
    return orjson.dumps(statement).replace(
        b'"https://example.org/ext":0', b'"https://example.org/ext":' + raw_value
    )


def _error(response, status: int) -> dict:
    assert_clean(response)
    assert response.status_code == status, response.content
    return orjson.loads(response.content)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("depth", [253, 254, 300, 1000])
def test_an_extension_nested_deeper_than_orjson_writes_is_stored_and_served(lrs, version, depth):
    """Data §4.1.s3.b2: the LRS MUST NOT reject a Statement based on its extension values,
    however deep (orjson reads 1,024 levels and writes 254). It is stored as sent and served
    by id, in a page and in every format, to readers of both versions."""
    deep = _nested(depth)
    sub = {
        "objectType": "SubStatement",
        "actor": builders.agent(),
        "verb": {"id": builders.EXPERIENCED},
        "object": {"id": ACTIVITY_ID},
        "context": {"extensions": {"https://example.org/ext": 0}},
    }
    statement = builders.statement(obj=sub, result={"extensions": {"https://example.org/ext": 0}})
    raw = orjson.dumps(statement).replace(
        b'"https://example.org/ext":0', b'"https://example.org/ext":' + deep
    )
    response = lrs[version].request("post", STATEMENTS, data=raw, content_type="application/json")
    assert response.status_code == 200, response.content
    # The same statement again is no conflict (its fingerprint is computed alike).
    again = lrs[version].request("post", STATEMENTS, data=raw, content_type="application/json")
    assert again.status_code == 204, again.content
    for reader in VERSIONS:
        for output in ("exact", "ids", "canonical"):
            got = lrs[reader].get(f"{STATEMENTS}?statementId={statement['id']}&format={output}")
            assert got.status_code == 200, got.content
            assert got.content.count(deep) == 2
            page = lrs[reader].get(f"{STATEMENTS}?format={output}")
            assert page.status_code == 200, page.content
            assert page.content.count(deep) == 2


@pytest.mark.parametrize("depth", [300, 1000])
def test_an_activity_definition_with_an_extension_too_deep_to_write_is_stored_in_the_statement(
    lrs, depth
):
    """Data §4.1.s3.b2: extension values are never a reason to reject a Statement, those of
    an Activity definition included. The statement is stored and served as sent; such a
    definition is not kept as the Activity's canonical one (Communication §2.5), which
    stays what it was."""
    activity = builders.activity()
    plain = builders.statement(obj=activity | {"definition": {"name": {"en-US": "Course"}}})
    assert lrs["2.0.0"].request("post", STATEMENTS, data=orjson.dumps(plain),
                                content_type="application/json").status_code == 200  # fmt: skip
    deep = _nested(depth)
    statement = builders.statement(
        obj=activity | {"definition": {"extensions": {"https://example.org/ext": 0}}}
    )
    raw = orjson.dumps(statement).replace(
        b'"https://example.org/ext":0', b'"https://example.org/ext":' + deep
    )
    response = lrs["2.0.0"].request("post", STATEMENTS, data=raw, content_type="application/json")
    assert response.status_code == 200, response.content
    got = lrs["2.0.0"].get(f"{STATEMENTS}?statementId={statement['id']}")
    assert got.status_code == 200
    assert got.content.count(deep) == 1
    definition = orjson.loads(
        lrs["2.0.0"].get(f"/xapi/activities?activityId={activity['id']}").content
    )
    assert definition["definition"] == {"name": {"en-US": "Course"}}


def test_a_limit_of_thousands_of_digits_is_the_maximum(lrs):
    """Communication §2.1.3: limit is a Nonnegative Integer, 0 or past the LRS's maximum
    meaning the maximum; Python refuses int() of more than 4,300 digits."""
    response = lrs["2.0.0"].get(f"{STATEMENTS}?limit={'9' * 5000}")
    assert response.status_code == 200, response.content
    assert orjson.loads(response.content)["statements"] == []
    assert lrs["2.0.0"].get(f"{STATEMENTS}?limit={'0' * 5000}").status_code == 200
    assert lrs["2.0.0"].get(f"{STATEMENTS}?limit={'0' * 5000}1").status_code == 200


_SCOPES = {
    STATE: {"activityId": ACTIVITY_ID, "agent": AGENT},
    ACTIVITY_PROFILE: {"activityId": ACTIVITY_ID},
    AGENT_PROFILE: {"agent": AGENT},
}


def _document_url(url: str, document_id: str | None = "doc", **params) -> str:
    id_param = _RESOURCES[url][0]
    query = {**_SCOPES[url], **params}
    if document_id is not None:
        query[id_param] = document_id
    return f"{url}?{_query(query)}"


@pytest.mark.parametrize("url", sorted(_SCOPES))
def test_a_since_with_an_offset_past_postgresql_range_is_answered(lrs, url):
    """Communication §2.3.s4, §2.6.s4, §2.7.s4: since is a Timestamp; ISO 8601 offsets
    reach 23:59, PostgreSQL's stop at 15:59."""
    put = lrs["1.0.3"].request(
        "put", _document_url(url), data=b"{}", content_type="application/json",
        HTTP_IF_NONE_MATCH="*",
    )  # fmt: skip
    assert put.status_code == 204, put.content
    listed = lrs["2.0.0"].get(_document_url(url, None, since="2000-01-01T00:00:00+23:59"))
    assert listed.status_code == 200, listed.content
    assert orjson.loads(listed.content) == ["doc"]
    # The same instant as 1999-12-31T00:01:00Z, so nothing is after 2999's.
    later = lrs["2.0.0"].get(_document_url(url, None, since="2999-01-01T00:00:00-23:59"))
    assert later.status_code == 200, later.content
    assert orjson.loads(later.content) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_statement_query_for_an_agent_with_nul_is_a_400(lrs, version):
    """Data §2.2.s4.b4: parameters are validated as the same values in Statements, and a
    Statement whose identifier holds U+0000 is refused (PostgreSQL text cannot hold it)."""
    agent = '{"account":{"homePage":"https://example.org","name":"a\\u0000b"}}'
    body = _error(lrs[version].get(f"{STATEMENTS}?{_query({'agent': agent})}"), 400)
    assert body["path"] == "agent"


@pytest.mark.parametrize("url", sorted(_SCOPES))
def test_a_document_id_with_nul_is_a_400_and_nothing_is_stored(lrs, url):
    """Ids are kept as text, which cannot hold U+0000: refused with a 400 by every method."""
    url = _document_url(url, "a\x00b")
    client = lrs["2.0.0"]
    for response in (
        client.request("put", url, data=b"{}", content_type="application/json"),
        client.request("post", url, data=b"{}", content_type="application/json"),
        client.get(url),
        client.request("delete", url),
    ):
        assert _error(response, 400)["path"] == _RESOURCES[url.split("?")[0]][0]
    assert stored_documents() == []


@pytest.mark.parametrize("url", [STATE, AGENT_PROFILE])
def test_a_document_agent_with_nul_is_a_400_and_nothing_is_stored(lrs, url):
    """§2.3, §2.6: the agent parameter is an Agent, validated as in a Statement."""
    for agent in (
        '{"mbox":"mailto:a@example.org","name":"a\\u0000"}',
        '{"account":{"homePage":"https://example.org","name":"\\u0000"}}',
    ):
        response = lrs["2.0.0"].request(
            "put", _document_url(url, agent=agent), data=b"{}", content_type="application/json",
            HTTP_IF_NONE_MATCH="*",
        )  # fmt: skip
        assert _error(response, 400)["path"] == "agent"
    assert stored_documents() == []


def test_a_tunnelled_content_type_with_nul_is_a_400_and_nothing_is_stored(lrs):
    """Communication §1.3: a form field may carry any Content-Type; a document's is kept as
    text, which cannot hold U+0000."""
    form = {
        "X-Experience-API-Version": "1.0.3",
        "Authorization": lrs["1.0.3"].headers["HTTP_AUTHORIZATION"],
        "Content-Type": "text/plain\x00",
        "content": "hello",
        **_SCOPES[STATE],
        "stateId": "doc",
    }
    response = XAPIClient(None, version=None).request(
        "post", f"{STATE}?method=PUT", data=_query(form),
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    _error(response, 400)
    assert stored_documents() == []


@pytest.mark.parametrize(
    "posted",
    [
        b'{"b":' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # past the standard parser's recursion
        b'{"b":' + _nested(300) + b"}",  # past what orjson writes
        b'{"b":"\\ud800"}',  # an escaped lone surrogate
    ],
    ids=["recursion", "depth", "surrogate"],
)
def test_a_merge_that_cannot_be_written_is_a_400_and_the_document_is_unchanged(lrs, posted):
    """Communication §2.2.s7-s8: POST merges JSON Objects; a merge that cannot be made is a
    400 and nothing changes (§3.1.s4.b10)."""
    url = _document_url(STATE)
    assert (
        lrs["2.0.0"]
        .request("post", url, data=b'{"a":1}', content_type="application/json")
        .status_code
        == 204
    )
    before = stored_documents()
    _error(lrs["2.0.0"].request("post", url, data=posted, content_type="application/json"), 400)
    assert stored_documents() == before
    assert lrs["2.0.0"].get(url).content == b'{"a":1}'


@pytest.mark.parametrize("url", [STATEMENTS, _document_url(STATE)])
@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "\u0663"])
def test_a_content_length_that_is_no_number_is_a_400(lrs, url, length):
    """RFC 9110 §8.6: Content-Length is 1*DIGIT; Django cannot read a body by another."""
    before_statements, before_documents = stored_statements(), stored_documents()
    response = lrs["2.0.0"].request(
        "post", url, data=orjson.dumps(builders.statement()), content_type="application/json",
        CONTENT_LENGTH=length,
    )  # fmt: skip
    _error(response, 400)
    assert stored_statements() == before_statements
    assert stored_documents() == before_documents


def test_a_tunnelled_request_with_a_content_length_that_is_no_number_is_a_400(lrs):
    response = lrs["1.0.3"].request(
        "post", f"{STATEMENTS}?method=GET", data=b"limit=1",
        content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="x",
    )  # fmt: skip
    _error(response, 400)


@pytest.mark.parametrize("offset", ["+23:59", "-23:59", "+16:00", "-16"])
def test_a_1_0_3_timestamp_with_an_offset_past_postgresql_range_is_stored_as_sent(lrs, offset):
    """Data §4.5 (1.0.3): an ISO 8601 timestamp with a time zone, kept as sent; its offset
    may reach 23:59 where PostgreSQL's stop at 15:59."""
    timestamp = f"2024-03-01T10:00:00{offset}"
    statement = builders.statement(timestamp=timestamp)
    response = lrs["1.0.3"].request(
        "post", STATEMENTS, data=orjson.dumps(statement), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    got = lrs["1.0.3"].get(f"{STATEMENTS}?statementId={statement['id']}")
    assert orjson.loads(got.content)["timestamp"] == timestamp
    # Ordered and filtered by the instant: 10:00+23:59 is 10:01 the day before in UTC.
    found = lrs["1.0.3"].get(f"{STATEMENTS}?{_query({'agent': AGENT})}")
    assert [s["id"] for s in orjson.loads(found.content)["statements"]] == [statement["id"]]


def test_basic_credentials_whose_key_holds_nul_are_a_401(db):
    """Communication §4.0: malformed credentials are a 401 (the key is looked up in
    PostgreSQL text, which cannot hold U+0000)."""
    authorization = "Basic " + base64.b64encode(b"a\x00:secret").decode()
    response = XAPIClient(None).get(STATEMENTS, HTTP_AUTHORIZATION=authorization)
    assert _error(response, 401)["error"] == "unauthorized"
