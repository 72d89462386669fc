"""Hostile input to the progress API (/api/v1/attempts, /completions): every request is
answered below 500, a 4xx with the JSON error body naming the problem and no exception text,
and no request reads another tenant's rows."""

from __future__ import annotations

import base64
import re
import urllib.parse

import orjson
import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.attempts import cmi5
from tests.attempts.conftest import drain, principal_for, store
from tests.conftest import basic
from tests.factories import CredentialFactory
from tests.fuzzing import fuzz_settings

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = fuzz_settings(100)
ENDPOINTS = ("/api/v1/attempts", "/api/v1/completions")
OURS = ("ann", "bob", "cy")
THEIRS = ("dee", "eve", "fay")
# What an exception's text or a traceback would put in a body.
LEAKS = ("Traceback", "Error(", "psycopg", "Exception", 'File "', "line ")


class World:
    def __init__(self):
        self.ours = CredentialFactory(scopes=["statements/read", "statements/write"])
        self.theirs = CredentialFactory(scopes=["statements/read", "statements/write"])
        for credential, names in ((self.ours, OURS), (self.theirs, THEIRS)):
            principal = principal_for(credential)
            for name in names:
                store(principal, *cmi5.Session(actor=cmi5.learner(name)).normal(move_on="Passed"))
        drain()
        self.cursors = {}
        for credential, who in ((self.ours, "ours"), (self.theirs, "theirs")):
            for path in ENDPOINTS:
                response = self.get(path + "?limit=1", credential)
                self.cursors[who, path] = _token(orjson.loads(response.content)["next"])

    def get(self, url, credential=None, **extra):
        if credential is not None:
            extra.setdefault("HTTP_AUTHORIZATION", basic(credential.key))
        return Client().get(url, **extra)


def _token(next_url: str) -> str:
    query = urllib.parse.urlsplit(next_url).query
    return urllib.parse.parse_qs(query)["cursor"][0]


@pytest.fixture
def world(db):
    return World()


def assert_well_answered(response, *, tenant_names=OURS):
    """Below 500; a JSON error body naming the problem; rows of our tenant only."""
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    body = orjson.loads(response.content)
    text = response.content.decode()
    assert not any(leak in text for leak in LEAKS), text
    if response.status_code >= 400:
        assert body["status"] == response.status_code
        assert isinstance(body["error"], str)
        assert body["error"]
        assert isinstance(body["message"], str)
        assert body["message"]
        return body
    assert response.status_code == 200
    if "attempts" not in body and "completions" not in body:  # a rollup: one object
        return body
    rows = body["attempts"] if "attempts" in body else body["completions"]
    allowed = {cmi5.learner_ifi(name) for name in tenant_names}
    assert {row["learner"] for row in rows} <= allowed
    return body


# --- parameter values ----------------------------------------------------------------------

_text = st.one_of(
    st.text(max_size=60),
    # Control characters (U+0000 among them) and the query's own delimiters, which plain
    # text draws too rarely.
    st.text(st.sampled_from("\x00\x01\t\n\r %&=+#?;/:\\\"'{}[]é\u202e\ufeff\uffff"), max_size=12),
)
_agentish = st.one_of(
    st.builds(lambda d: orjson.dumps(d).decode(), st.dictionaries(_text, _text, max_size=4)),
    st.sampled_from(
        [
            "{",
            '{"mbox": "mailto:a\\u0000@example.org"}',
            '{"mbox": "mailto:ann@example.org", "name": "\\u0000"}',
            '{"account": {"homePage": "https://lms.example.org", "name": "\\u0000"}}',
            '{"account": {"homePage": "https://lms.example.org", "name": 1}}',
            '{"openid": "https://x.example/\\u0000"}',
            '{"mbox_sha1sum": "' + "0" * 40 + '"}',
            '{"objectType": "Group", "mbox": "mailto:g@example.org", "member": []}',
            '{"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}',
            "[" * 2000,
            '{"a":' * 300 + "1" + "}" * 300,
            " {}",
            "{}" + " " * 10,
            "null",
        ]
    ),
    st.builds(lambda s: "mbox:" + s, _text),
    st.builds(lambda s: "account:" + s, _text),
    st.builds(lambda s: "openid:" + s, _text),
    st.builds(lambda s: "mbox_sha1sum:" + s, _text),
    _text,
)
_iriish = st.one_of(
    st.builds(lambda s: "https://x.example/" + s, _text),
    st.builds(lambda s: "urn:" + s, _text),
    st.sampled_from([cmi5.AU, "https://x.example/\x00", "a:" + "b" * 5000, "http://", ":"]),
    _text,
)
_uuidish = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: str(u) + "\n"),
    st.sampled_from(["00000000-0000-0000-0000-000000000000", "\uff11" * 8]),
    _text,
)
_statusish = st.one_of(
    st.sampled_from(
        ["launched", "in progress", "passed", "completed_or_passed", "Passed", "passed\x00"]
    ),
    _text,
)
_sinceish = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "0001-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59+14:00",
            "2026-11-02T09:00:00+24:00",
            "2026-11-02T09:00:00-00:00",
            "2026-11-02T09:00:00+00:00:30",
            "2026-11-02T09:00:00+01:00:00.5",
            "2026-11-02T09:00:00 01:00",
            "2026-11-02",
            "2026-W45-1T09:00Z",
            "2026-11-02T09:00:00.123456789Z",
            "+002026-11-02T09:00:00Z",
            "\uff12\uff10\uff12\uff16-11-02T09:00:00Z",
            "2026-11-02T09:00:00z",
            "2026-11-02T24:00:00Z",
            "2026-02-30T00:00:00Z",
        ]
    ),
    _text,
)
_limitish = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.sampled_from(
        [
            "9" * 5000,
            "0" * 5000 + "1",
            "1e3",
            "0x10",
            " 5",
            "5 ",
            "+5",
            "5.0",
            "\u00b2",
            "\u0661٢",
            "\u0663",
            "\uff15",
            "\U0001d7d3",
            "",
            "0",
            "00",
            "499",
            "501",
        ]
    ),
    _text,
)


def _param_pairs():
    known = st.one_of(
        st.tuples(st.just("learner"), _agentish),
        st.tuples(st.just("activity"), _iriish),
        st.tuples(st.just("registration"), _uuidish),
        st.tuples(st.just("status"), _statusish),
        st.tuples(st.just("since"), _sinceish),
        st.tuples(st.just("limit"), _limitish),
        st.tuples(st.just("cursor"), _text),
        st.tuples(_text, _text),
    )
    return st.lists(known, max_size=5)


def _query(pairs) -> str:
    return urllib.parse.urlencode(pairs)


def _body(response) -> dict:
    return orjson.loads(response.content)


@FUZZ
@given(path=st.sampled_from((*ENDPOINTS, "/api/v1/rollups")), pairs=_param_pairs())
def test_arbitrary_parameters_are_answered_below_500_with_a_json_error(world, path, pairs):
    response = world.get(f"{path}?{_query(pairs)}", world.ours)
    assert_well_answered(response)


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), raw=st.binary(max_size=80))
def test_raw_query_bytes_are_answered_below_500(world, path, raw):
    """Percent-encoded bytes that are not UTF-8, bare ``%``, ``&&``, ``==``."""
    query = urllib.parse.quote_from_bytes(raw, safe="=&%+;")
    response = world.get(f"{path}?{query}", world.ours)
    assert_well_answered(response)


# --- cursors -------------------------------------------------------------------------------


@st.composite
def _tampered(draw, tokens):
    token = draw(st.sampled_from(tokens))
    how = draw(st.sampled_from(["flip", "truncate", "splice", "insert", "body", "dots"]))
    if how == "flip":
        position = draw(st.integers(0, len(token) - 1))
        char = draw(st.sampled_from("ABCabc019-_.=+/%\x00é"))
        return token[:position] + char + token[position + 1 :]
    if how == "truncate":
        return token[: draw(st.integers(0, len(token) - 1))]
    if how == "splice":
        other = draw(st.sampled_from(tokens))
        return token.rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[-1]
    if how == "insert":
        position = draw(st.integers(0, len(token)))
        return token[:position] + draw(_text) + token[position:]
    if how == "body":
        # A well-formed body of our own making, with a signature lifted from a real token.
        query = draw(
            st.fixed_dictionaries(
                {"resource": st.sampled_from(["attempts", "completions", "statements"])}
            )
        )
        body = orjson.dumps({"q": query, "k": [draw(_text), draw(_text)], "e": 2**40})
        encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        prefix = draw(st.sampled_from(["", "progress."]))
        return prefix + encoded + "." + token.rsplit(".", 1)[-1]
    return ".".join(token.split(".") * draw(st.integers(0, 3)))


@FUZZ
@given(data=st.data())
def test_a_tampered_cursor_is_a_400_and_never_reads_another_tenants_rows(world, data):
    tokens = list(world.cursors.values())
    token = data.draw(_tampered(tokens))
    path = data.draw(st.sampled_from(ENDPOINTS))
    limit = data.draw(st.sampled_from([None, "1", "0", "x"]))
    query = {"cursor": token} | ({"limit": limit} if limit is not None else {})
    response = world.get(f"{path}?{_query(query)}", world.ours)
    body = assert_well_answered(response)
    if response.status_code == 200:
        # Only our own cursor for this endpoint reads: the base64 decoder skips characters
        # outside its alphabet, so a token with such characters added is that same token.
        assert _base64_letters(token) == _base64_letters(world.cursors["ours", path])
    else:
        assert response.status_code == 400, body
        assert body["path"] in ("cursor", "limit")


def _base64_letters(token: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-.]", "", token).replace("=", "")


def test_a_cursor_of_another_tenant_is_refused(world):
    for path in ENDPOINTS:
        response = world.get(f"{path}?cursor={world.cursors['theirs', path]}", world.ours)
        assert response.status_code == 400
        assert orjson.loads(response.content)["path"] == "cursor"


def test_a_cursor_of_the_other_endpoint_is_refused(world):
    attempts, completions = ENDPOINTS
    for path, other in ((attempts, completions), (completions, attempts)):
        response = world.get(f"{path}?cursor={world.cursors['ours', other]}", world.ours)
        assert response.status_code == 400
        assert orjson.loads(response.content)["message"] == "the cursor belongs to another resource"


def test_a_cursor_followed_unchanged_reads_the_next_page_of_our_own_rows(world):
    response = world.get(
        f"/api/v1/attempts?cursor={world.cursors['ours', ENDPOINTS[0]]}&limit=5", world.ours
    )
    body = assert_well_answered(response)
    assert len(body["attempts"]) == 2


# --- authentication ------------------------------------------------------------------------


def _auth_headers():
    def encoded(raw: bytes) -> str:
        return "Basic " + base64.b64encode(raw).decode()

    return st.one_of(
        st.builds(lambda b: encoded(b), st.binary(max_size=40)),
        st.builds(lambda s: encoded(s.encode("utf-8", "surrogatepass")), _text),
        st.builds(lambda k, s: encoded(f"{k}:{s}".encode()), _text, _text),
        st.builds(lambda s: "Basic " + s, _text),
        st.builds(lambda s, t: s + " " + t, _text, _text),
        st.sampled_from(
            [
                "Basic",
                "Basic ",
                "basic " + base64.b64encode(b"key-0:x").decode(),
                "Bearer abc",
                "Basic ====",
                "Basic " + base64.b64encode(b"\x00\x00\x00:secret").decode(),
                "Basic " + base64.b64encode(b"key\x00:secret").decode(),
                "Basic " + base64.b64encode(b"k" * 10000 + b":s").decode(),
                "Basic " + base64.b64encode(b":secret").decode(),
                "Basic " + base64.b64encode(b"\xff\xfe:secret").decode(),
            ]
        ),
    )


def _no_nul_in_key(header: str) -> bool:
    # A key with NUL is refused by PostgreSQL before the credential lookup can answer;
    # see test_a_credential_key_with_nul_is_a_401 below.
    try:
        return b"\x00" not in base64.b64decode(header.partition(" ")[2].strip())
    except ValueError:
        return True


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), header=_auth_headers().filter(_no_nul_in_key))
def test_any_authorization_header_is_answered_below_500(world, path, header):
    response = world.get(path, HTTP_AUTHORIZATION=header)
    body = assert_well_answered(response)
    assert response.status_code in (400, 401, 403), body


@FUZZ
@given(
    path=st.sampled_from((*ENDPOINTS, "/api/v1/rollups")),
    name=st.sampled_from(
        ["learner", "activity", "registration", "status", "since", "limit", "cursor"]
    ),
    values=st.lists(
        st.one_of(_text, st.sampled_from([cmi5.AU, "passed", "1"])), min_size=2, max_size=3
    ),
)
def test_a_repeated_parameter_is_a_400_naming_it(world, path, name, values):
    response = world.get(f"{path}?{_query([(name, v) for v in values])}", world.ours)
    body = assert_well_answered(response)
    assert response.status_code == 400
    if name in ("learner", "activity", "registration") or path != "/api/v1/rollups":
        assert body["path"] == name
        assert body["message"] == f"parameter {name!r} is given more than once"


# --- regressions: the exact inputs that once failed ----------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_limit_longer_than_int_parses_is_the_maximum(world, path, settings):
    """limit is capped at PROGRESS_API_LIMIT_MAX; 5,000 digits is past what int() reads."""
    settings.PROGRESS_API_LIMIT_MAX = 2
    for limit in ("9" * 5000, "0" * 5000 + "3", "3" + "0" * 4400):
        response = world.get(f"{path}?limit={limit}", world.ours)
        body = assert_well_answered(response)
        assert response.status_code == 200
        assert len(body[path.rsplit("/", 1)[1]]) == 2
        assert body["next"].endswith("&limit=2")


@pytest.mark.parametrize("limit", ["\u00b2", "\u0661٢", "\uff15", "\U0001d7d3"])
def test_a_limit_in_other_than_ascii_digits_is_a_400_naming_limit(world, limit):
    response = world.get(f"/api/v1/attempts?{_query({'limit': limit})}", world.ours)
    assert response.status_code == 400
    assert _body(response)["path"] == "limit"


@pytest.mark.parametrize("learner", ["mbox:a\x00b", "account:https://lms.example.org \x00"])
def test_a_learner_identifier_with_nul_is_a_400_naming_learner(world, learner):
    for path in ENDPOINTS:
        response = world.get(f"{path}?{_query({'learner': learner})}", world.ours)
        assert response.status_code == 400
        assert _body(response)["path"] == "learner"
    response = world.get(
        f"/api/v1/rollups?{_query({'learner': learner, 'activity': cmi5.COURSE})}", world.ours
    )
    assert response.status_code == 400
    assert _body(response)["path"] == "learner"


def test_status_given_twice_is_refused_not_read_as_its_last_value(world):
    response = world.get("/api/v1/attempts?status=failed&status=passed", world.ours)
    assert response.status_code == 400
    assert _body(response)["path"] == "status"


def test_a_credential_key_with_nul_is_a_401(world):
    """A key no credential can have (tenants.models.KEY_RE), NUL included, is an unknown
    key: 401, not a query PostgreSQL refuses."""
    header = "Basic " + base64.b64encode(b"\x00\x00\x00:secret").decode()
    response = world.get(ENDPOINTS[0], HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "head"])
def test_other_methods_are_answered_with_a_json_error_or_nothing(world, method):
    for path in (*ENDPOINTS, "/api/v1/rollups"):
        response = getattr(Client(), method)(path, HTTP_AUTHORIZATION=basic(world.ours.key))
        assert response.status_code < 500
        if method == "head":
            assert response.content == b""
        elif method != "options":
            # The scope check runs before the method is looked at: a write to these
            # read-only resources is refused by the scopes (no write scope is enough).
            assert response.status_code == 403
            assert _body(response)["error"] == "forbidden"


def test_a_cursor_of_this_api_given_to_the_statements_resource_is_a_400_there(world):
    """Both sign with one key; the Statements resource read this API's cursor as its own
    query and failed."""
    for path in ENDPOINTS:
        token = world.cursors["ours", path]
        response = world.get(
            f"/xapi/statements?more={token}", world.ours, HTTP_X_EXPERIENCE_API_VERSION="2.0.0"
        )
        assert response.status_code == 400
        assert _body(response)["path"] == "more"


def test_a_more_token_of_the_statements_resource_is_refused_as_a_cursor(world):
    response = world.get(
        "/xapi/statements?limit=1", world.ours, HTTP_X_EXPERIENCE_API_VERSION="2.0.0"
    )
    more = urllib.parse.unquote(orjson.loads(response.content)["more"].split("more=", 1)[1])
    for path in ENDPOINTS:
        response = world.get(f"{path}?{_query({'cursor': more})}", world.ours)
        assert response.status_code == 400
        assert _body(response)["message"] == "the cursor belongs to another resource"


@pytest.mark.parametrize(
    "since",
    ["2026-11-02T09:00:00+23:59", "2026-11-02T09:00:00-16:00", "2026-11-02T09:00:00+01:00:00.5"],
)
def test_since_with_an_offset_postgresql_refuses_is_compared_in_utc(world, since):
    """RFC 3339 offsets reach 23:59; PostgreSQL takes them to 15:59 only."""
    for path in ENDPOINTS:
        response = world.get(f"{path}?{_query({'since': since})}", world.ours)
        assert_well_answered(response)
        assert response.status_code == 200
    # 2026-11-02T09:04:00Z, the last activity of the attempts, written 23 hours ahead.
    late = world.get(
        f"/api/v1/attempts?{_query({'since': '2026-11-03T08:04:00+23:00'})}", world.ours
    )
    early = world.get(
        f"/api/v1/attempts?{_query({'since': '2026-11-03T08:03:59+23:00'})}", world.ours
    )
    assert _body(late)["attempts"] == []
    assert len(_body(early)["attempts"]) == 3
