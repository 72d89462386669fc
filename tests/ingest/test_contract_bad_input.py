"""Hostile ingest messages (docs/ingest.md, "What happens to a message"): every message is
either stored or dead-lettered with one of the documented reasons, and nothing raises out
of deciding a batch, which would leave the batch unacked and block the stream.

The contract's pure functions (``tenant_slug``, ``decode``) need neither NATS nor the
database; deciding the sender needs PostgreSQL, and ``ingest_batch`` is run against it."""

from __future__ import annotations

import itertools
import json
import pathlib
import re
import uuid

import orjson
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from ingest.contract import (
    CREDENTIAL_HEADER,
    VERSION_HEADER,
    Incoming,
    Reason,
    Refused,
    decode,
    tenant_slug,
)
from ingest.services import ingest_batch, ingest_caches_clear
from tests.factories import CredentialFactory
from tests.fuzzing import fuzz_settings
from tests.statements import builders

FUZZ = fuzz_settings(150)
PREFIX = "progress.ingest"
DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "ingest.md"
# What the message alone decides; the others need the database.
DECODE_REASONS = {Reason.BAD_JSON, Reason.UNSUPPORTED_VERSION, Reason.INVALID_STATEMENT}
_sequence = itertools.count(1)


def documented_reasons() -> set[str]:
    """The reason names of the table in docs/ingest.md."""
    table = DOCS.read_text().split("| reason | when |", 1)[1].split("\n\n", 1)[0]
    return {
        name
        for row in table.splitlines()
        for name in re.findall(r"`([a-z_]+)`", row.split("|")[1] if row.count("|") > 2 else "")
    }


def incoming(data: bytes, *, subject: str = f"{PREFIX}.t", headers=None) -> Incoming:
    return Incoming(
        subject=subject,
        data=data,
        headers={} if headers is None else headers,
        stream="PROGRESS_INGEST",
        sequence=next(_sequence),
    )


def decided(message: Incoming) -> Reason | None:
    """None when the message's statements were accepted, else the reason; anything else
    raised fails the test."""
    try:
        decode(message)
    except Refused as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.reason in DECODE_REASONS, refused
        assert isinstance(refused.detail, str)
        assert refused.detail
        return refused.reason
    assert message.statements
    assert len(message.statements) == len(message.received)
    assert all(type(s) is dict and type(s["id"]) is str for s in message.statements)
    uuid.UUID(message.statements[0]["id"])
    return None


def test_the_reasons_are_the_documented_ones():
    assert {str(reason) for reason in Reason} == documented_reasons()


# --- subjects ------------------------------------------------------------------------------

_token = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "*", ">", "acme", "ACME", "a-b", "-a", "a" * 64, "\x00", " ", "é", "a\tb"]
    ),
)
_subjects = st.one_of(
    st.builds(lambda t: f"{PREFIX}.{t}", _token),
    st.builds(lambda ts: ".".join(ts), st.lists(_token, max_size=6)),
    st.builds(lambda t: f"{PREFIX}.{t}" * 200, _token),
    st.text(max_size=40),
)


@FUZZ
@given(subject=_subjects)
def test_a_subject_names_one_slug_token_or_is_a_bad_subject(subject):
    try:
        slug = tenant_slug(subject, PREFIX)
    except Refused as refused:
        reason = refused.reason
    else:
        reason = None
    if reason is not None:
        assert reason is Reason.BAD_SUBJECT
        return
    assert slug
    assert "." not in slug
    assert subject == f"{PREFIX}.{slug}"


# --- bodies and headers (pure) -------------------------------------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "\ufeff", "\u202e", "mailto:a@example.org", "1.0.3"]),
)
_json = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


_SAME_TYPE = {
    str: st.one_of(
        st.text(max_size=30),
        st.sampled_from(["", " ", "\x00", "a\x00b", "\ufeff", "\ud800", "x" * 5000, "é" * 3]),
        st.uuids().map(str),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.sampled_from(["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "PT1M", "P"]),
    ),
    int: st.one_of(st.integers(), st.sampled_from([2**63, -(2**63) - 1, 10**400])),
    float: st.one_of(st.floats(allow_nan=False), st.sampled_from([1e308, -0.0, 5e-324])),
    bool: st.booleans(),
}


def dumps(value) -> bytes:
    """JSON of anything hypothesis draws: big ints, NaN, lone surrogates as escapes (which
    orjson would refuse to write, and should refuse to read)."""
    return json.dumps(value, ensure_ascii=True).encode()


def _paths(document, prefix=()):
    yield prefix
    if type(document) is dict:
        for key, value in document.items():
            yield from _paths(value, (*prefix, key))
    elif type(document) is list:
        for index, value in enumerate(document):
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated_statement(draw, ops=("retype", "replace", "delete", "add")):
    """A valid statement with one change at a random position: a value replaced, a key
    removed, or a key added."""
    document = draw(
        st.sampled_from(
            [
                builders.statement(),
                builders.statement(with_id=False),
                builders.statement(
                    result={
                        "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
                        "success": True,
                        "duration": "PT1M",
                    },
                    context={
                        "registration": str(uuid.uuid4()),
                        "contextActivities": {"parent": [{"id": "https://x.example/p"}]},
                        "extensions": {"https://x.example/e": [1, {"a": "b"}]},
                    },
                    timestamp="2026-11-02T09:00:00Z",
                ),
                builders.voiding(str(uuid.uuid4())),
            ]
        )
    )
    document = orjson.loads(orjson.dumps(document))
    paths = [path for path in _paths(document) if path]
    path = draw(st.sampled_from(paths))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(ops))
    value = parent[path[-1]]
    if how == "retype" and type(value) in _SAME_TYPE:
        parent[path[-1]] = draw(_SAME_TYPE[type(value)])
    elif how == "replace":
        parent[path[-1]] = draw(_json)
    elif how == "delete":
        del parent[path[-1]]
    elif type(parent[path[-1]]) is dict:
        parent[path[-1]][draw(st.text(max_size=10))] = draw(_json)
    else:
        parent[path[-1]] = draw(_json)
    return document


_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(dumps, _json),
    st.builds(dumps, mutated_statement()),
    st.builds(dumps, st.lists(mutated_statement(), min_size=1, max_size=3)),
    st.builds(lambda d: b"\xef\xbb\xbf" + orjson.dumps(d), st.just(builders.statement())),
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(1, 3000)),
    st.builds(lambda n: b'{"a":' * n + b"1" + b"}" * n, st.integers(1, 1500)),
    st.builds(
        lambda n, s: orjson.dumps([s] * n), st.integers(1, 2000), st.sampled_from([1, [], None])
    ),
    st.builds(
        lambda b, i: orjson.dumps(builders.statement())[:i] + b,
        st.binary(max_size=4),
        st.integers(0, 300),
    ),
    st.sampled_from([b"", b"[]", b"{}", b"null", b" ", b"\x00", b'"\\u0000"', b"[{}]"]),
)
_header_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "2.0.0",
            "1.0.3",
            "1.0",
            "1.0.9999",
            "2.0",
            "2.0.0 ",
            " 1.0.0",
            "1.1.0",
            "0.95",
            "2.0.0\x00",
            "\uff12.0.0",
            "2.0.0\n1.0.3",
            "\ufffd",
            "",
            "delivery-service",
        ]
    ),
)
_headers = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [CREDENTIAL_HEADER, VERSION_HEADER, CREDENTIAL_HEADER.lower(), "Nats-Msg-Id"]
        ),
        st.text(max_size=10),
    ),
    _header_text,
    max_size=4,
)


@FUZZ
@given(data=_bodies, headers=_headers)
def test_any_body_and_headers_are_statements_or_a_documented_reason(data, headers):
    event(str(decided(incoming(data, headers=headers))))


@FUZZ
@given(document=mutated_statement(), version=st.sampled_from(["2.0.0", "1.0.3"]))
def test_a_statement_changed_anywhere_is_accepted_or_invalid(document, version):
    reason = decided(incoming(dumps(document), headers={VERSION_HEADER: version}))
    event(str(reason))
    assert reason in (None, Reason.INVALID_STATEMENT, Reason.BAD_JSON)


def test_an_empty_array_is_an_invalid_statement():
    assert decided(incoming(b"[]")) is Reason.INVALID_STATEMENT


def test_a_body_with_a_byte_order_mark_is_bad_json():
    body = b"\xef\xbb\xbf" + orjson.dumps(builders.statement())
    assert decided(incoming(body)) is Reason.BAD_JSON


@pytest.mark.parametrize("batch", [False, True])
def test_a_signature_declared_by_file_url_alone_is_an_invalid_statement(batch):
    """Data §2.6 (the LRS verifies a signature, whose JWS travels as an attachment part,
    Communication §1.5.2) and docs/ingest.md (the HTTP API's validation): no part can come
    over NATS, so a statement declaring a signature is refused, not stored unverified."""
    statement = builders.statement(
        attachments=[
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "signature"},
                "contentType": "application/octet-stream",
                "length": 10,
                "sha2": "c" * 64,
                "fileUrl": "https://example.com/signature",
            }
        ]
    )
    body = orjson.dumps([statement] if batch else statement)
    assert decided(incoming(body)) is Reason.INVALID_STATEMENT


def test_a_body_nested_past_the_parsers_depth_is_bad_json():
    assert decided(incoming(b"[" * 2000 + b"]" * 2000)) is Reason.BAD_JSON


# --- the whole decision, against PostgreSQL ------------------------------------------------


@pytest.fixture
def producer(db):
    ingest_caches_clear()
    yield CredentialFactory(key="delivery-service", scopes=["statements/write"])
    ingest_caches_clear()


def assert_decided(messages, outcome, good):
    dead = {id(message): reason for message, reason, _ in outcome.dead}
    stored = {id(message) for message in outcome.stored}
    for message in messages:
        assert (id(message) in dead) != (id(message) in stored), message
    assert set(dead.values()) <= set(Reason)
    assert all(isinstance(detail, str) and detail for _, _, detail in outcome.dead)
    assert id(good) in stored, outcome.dead
    return [str(dead.get(id(message), "stored")) for message in messages]


@FUZZ
@given(subject=_subjects, headers=_headers, data=_bodies)
def test_a_hostile_message_never_raises_out_of_a_batch_nor_blocks_a_good_one(
    producer, subject, headers, data
):
    hostile = incoming(data, subject=subject, headers=headers)
    good = incoming(
        orjson.dumps(builders.statement()),
        subject=f"{PREFIX}.{producer.tenant.slug}",
        headers={CREDENTIAL_HEADER: producer.key},
    )
    outcome = ingest_batch([hostile, good])
    for decision in assert_decided([hostile, good], outcome, good):
        event(decision)


@FUZZ
@given(
    credential=st.one_of(_header_text, st.text(max_size=80)),
    version=st.one_of(st.sampled_from(["2.0.0", "1.0.3", "1.0"]), _header_text),
    document=mutated_statement(),
)
def test_a_hostile_message_on_a_real_tenant_is_stored_or_has_a_reason(
    producer, credential, version, document
):
    """On the producer's own subject, so decoding and storing are reached."""
    subject = f"{PREFIX}.{producer.tenant.slug}"
    hostile_headers = [
        {CREDENTIAL_HEADER: credential, VERSION_HEADER: version},
        {CREDENTIAL_HEADER: producer.key, VERSION_HEADER: version},
    ]
    messages = [incoming(dumps(document), subject=subject, headers=h) for h in hostile_headers]
    good = incoming(
        orjson.dumps(builders.statement()),
        subject=subject,
        headers={CREDENTIAL_HEADER: producer.key},
    )
    outcome = ingest_batch([*messages, good])
    for decision in assert_decided([*messages, good], outcome, good):
        event(decision)


@FUZZ
@given(document=mutated_statement(ops=("retype",)), version=st.sampled_from(["2.0.0", "1.0.3"]))
def test_a_stored_message_delivered_again_stores_nothing_and_is_no_conflict(
    producer, document, version
):
    """docs/ingest.md: "A statement whose id is already stored with the same content is a
    no-op, so redelivery is harmless", whatever the statement holds."""
    headers = {CREDENTIAL_HEADER: producer.key, VERSION_HEADER: version}
    subject = f"{PREFIX}.{producer.tenant.slug}"
    first = incoming(dumps(document), subject=subject, headers=headers)
    outcome = ingest_batch([first])
    if not outcome.stored:
        return
    event("stored")
    again = Incoming(first.subject, first.data, dict(first.headers), first.stream, first.sequence)
    redelivered = ingest_batch([again])
    assert [m.statements[0]["id"] for m in redelivered.stored] == [first.statements[0]["id"]], (
        redelivered.dead
    )


# --- regressions: the exact inputs that once failed ----------------------------------------


@pytest.mark.parametrize("token", ["\x00", "acme\x00", "ACME", "a" * 64, "-a"])
def test_a_subject_token_that_is_no_slug_is_an_unknown_tenant_and_the_rest_is_stored(
    producer, token
):
    """A token no tenant can have (the slug format is a database constraint) is answered
    without a query; with U+0000 the query raised out of the batch."""
    hostile = incoming(orjson.dumps(builders.statement()), subject=f"{PREFIX}.{token}",
                       headers={CREDENTIAL_HEADER: producer.key})  # fmt: skip
    good = incoming(orjson.dumps(builders.statement()), subject=f"{PREFIX}.{producer.tenant.slug}",
                    headers={CREDENTIAL_HEADER: producer.key})  # fmt: skip
    outcome = ingest_batch([hostile, good])
    assert [(m, str(r)) for m, r, _ in outcome.dead] == [(hostile, "unknown_tenant")]
    assert outcome.stored == [good]


@pytest.mark.parametrize("key", ["\x00", "delivery-service\x00", "ab", "k" * 65, "a b", "ключ"])
def test_a_credential_header_that_is_no_key_is_an_unknown_credential_and_the_rest_is_stored(
    producer, key
):
    """As for the slug: the key format is a database constraint; with U+0000 the lookup
    raised out of the batch."""
    subject = f"{PREFIX}.{producer.tenant.slug}"
    hostile = incoming(orjson.dumps(builders.statement()), subject=subject,
                       headers={CREDENTIAL_HEADER: key})  # fmt: skip
    good = incoming(orjson.dumps(builders.statement()), subject=subject,
                    headers={CREDENTIAL_HEADER: producer.key})  # fmt: skip
    outcome = ingest_batch([hostile, good])
    assert [(m, str(r)) for m, r, _ in outcome.dead] == [(hostile, "unknown_credential")]
    assert outcome.stored == [good]


@pytest.mark.parametrize("depth", [254, 300, 1000])
def test_an_extension_nested_past_what_orjson_writes_is_decided_without_raising(producer, depth):
    """orjson reads 1024 levels but writes 254: such a statement is stored (Data §4.1.s3.b2:
    extension values are no reason to reject it), a redelivery is no conflict, and nothing
    raises out of the batch."""
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    body = orjson.dumps(builders.statement(context={"extensions": {"https://x.example/e": 0}}))
    body = body.replace(b'"https://x.example/e":0', b'"https://x.example/e":' + deep)
    subject = f"{PREFIX}.{producer.tenant.slug}"
    headers = {CREDENTIAL_HEADER: producer.key}
    hostile = incoming(body, subject=subject, headers=headers)
    good = incoming(orjson.dumps(builders.statement()), subject=subject, headers=headers)
    outcome = ingest_batch([hostile, good])
    assert_decided([hostile, good], outcome, good)
    assert hostile in outcome.stored
    again = Incoming(subject, body, headers, hostile.stream, hostile.sequence)
    assert ingest_batch([again]).stored == [again]
