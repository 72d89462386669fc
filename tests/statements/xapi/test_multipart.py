"""Communication §1.5.2 (multipart/mixed) and Data §2.4.11 (Attachments)."""

from __future__ import annotations

import contextlib
import hashlib

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statements.xapi.errors import StatementError
from statements.xapi.multipart import (
    AttachmentPart,
    AttachmentTooLarge,
    match_attachments,
    parse_statement_request,
    render_multipart,
    require_no_raw_attachments,
)

# The boundary of the spec's example (§1.5.2.s6), chosen there "to demonstrate valid character
# classes"; it must be quoted in the header.
SPEC_BOUNDARY = "abcABC0123'()+_,-./:=?"
SPEC_CONTENT_TYPE = f'multipart/mixed; boundary="{SPEC_BOUNDARY}"'
LIMIT = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def declaration(data: bytes, **extra) -> dict:
    """An attachment declaration for ``data`` (Data §2.4.11)."""
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": len(data),
        "sha2": sha256(data),
    } | extra


def statement(*attachments: dict, **extra) -> dict:
    document = {
        "actor": {"mbox": "mailto:sample.agent@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"id": "http://www.example.com/tincan/activities/multipart"},
    } | extra
    if attachments:
        document["attachments"] = list(attachments)
    return document


def attachment_headers(data: bytes, content_type: str = "text/plain") -> list[str]:
    return [
        f"Content-Type:{content_type}",
        "Content-Transfer-Encoding:binary",
        f"X-Experience-API-Hash:{sha256(data)}",
    ]


def multipart_body(
    json_body: bytes,
    attachments: list[tuple[list[str], bytes]] = (),
    *,
    boundary: str = SPEC_BOUNDARY,
    first_headers: list[str] = ("Content-Type:application/json",),
    preamble: bytes = b"",
    epilogue: bytes = b"",
) -> bytes:
    """A request body laid out as RFC 2046 §5.1.1 says, CRLF everywhere."""
    dash = b"--" + boundary.encode()
    chunks = [preamble + b"\r\n" if preamble else b"", dash]
    for headers, data in [(list(first_headers), json_body), *attachments]:
        chunks += [b"\r\n", "".join(h + "\r\n" for h in headers).encode(), b"\r\n", data]
        chunks += [b"\r\n", dash]
    chunks += [b"--", b"\r\n" + epilogue if epilogue else b""]
    return b"".join(chunks)


def raises_statement_error(match: str):
    return pytest.raises(StatementError, match=match)


# --- parse_statement_request: accepted requests -------------------------------------------------


def test_single_statement_with_attachment_is_accepted():
    """§1.5.2.s2.b2: the first part holds the Statement as application/json, each additional part
    the raw data of an Attachment with X-Experience-API-Hash and Content-Transfer-Encoding."""
    data = b"here is a simple attachment"
    json_body = orjson.dumps(statement(declaration(data, contentType="text/plain; charset=ascii")))
    body = multipart_body(json_body, [(attachment_headers(data), data)])

    statements_json, parts = parse_statement_request(
        body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT
    )

    assert statements_json == json_body
    assert parts == [AttachmentPart(sha2=sha256(data), content_type="text/plain", data=data)]
    assert sha256(data) == "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
    matched = match_attachments([orjson.loads(statements_json)], parts, path_prefix_batch=False)
    assert matched == {sha256(data): parts[0]}


def test_batch_with_attachments_is_accepted():
    """§1.5.2.s3.b4: "an LRS MUST accept batches of Statements that contain Attachments in the
    Transmission Format described above"."""
    first, second = b"first attachment", b"\x00\x01second\xff"
    statements = [statement(declaration(first)), statement(declaration(second))]
    body = multipart_body(
        orjson.dumps(statements),
        [(attachment_headers(first), first), (attachment_headers(second), second)],
    )

    statements_json, parts = parse_statement_request(
        body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT
    )

    assert [p.data for p in parts] == [first, second]
    matched = match_attachments(orjson.loads(statements_json), parts, path_prefix_batch=True)
    assert set(matched) == {sha256(first), sha256(second)}


def test_multipart_with_only_file_url_attachments_is_accepted():
    """§1.5.2.s3.b9: an LRS SHOULD* accept multipart batches whose Attachments all have a
    fileUrl; no part is needed for them."""
    data = b"hosted elsewhere"
    statements = [statement(declaration(data, fileUrl="http://example.com/file.txt"))]
    body = multipart_body(orjson.dumps(statements))

    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)

    assert parts == []
    assert match_attachments(statements, parts, path_prefix_batch=True) == {}


def test_multipart_without_attachments_is_accepted():
    """§1.5.2.s3.b8: an LRS SHOULD* accept multipart batches of Statements which contain no
    Attachment Objects."""
    body = multipart_body(b"[]")
    assert parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT) == (
        b"[]",
        [],
    )
    assert match_attachments([statement()], [], path_prefix_batch=False) == {}


def test_shared_attachment_is_sent_once():
    """§1.5.2.s2.b2.b5: a request "SHOULD only include one copy of an Attachment's data when the
    same Attachment is used in multiple Statements that are sent together"."""
    data = b"shared certificate"
    statements = [statement(declaration(data)), statement(declaration(data))]
    body = multipart_body(orjson.dumps(statements), [(attachment_headers(data), data)])

    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)

    assert match_attachments(statements, parts, path_prefix_batch=True) == {sha256(data): parts[0]}


def test_repeated_copy_of_an_attachment_is_accepted():
    """§1.5.2.s2.b2.b5 is a SHOULD: two copies of the same data are kept once, not refused."""
    data = b"sent twice"
    statements = [statement(declaration(data)), statement(declaration(data))]
    parts = [AttachmentPart(sha256(data), "text/plain", data)] * 2
    assert match_attachments(statements, parts, path_prefix_batch=True) == {sha256(data): parts[0]}


def test_attachment_with_file_url_may_also_be_sent():
    """§1.5.2.s3.b5 rejects attachments that "neither contain a fileUrl nor match a received
    Attachment part"; a declaration with a fileUrl may still have its data sent."""
    data = b"both"
    statements = [statement(declaration(data, fileUrl="http://example.com/both"))]
    parts = [AttachmentPart(sha256(data), "text/plain", data)]
    assert match_attachments(statements, parts, path_prefix_batch=False) == {sha256(data): parts[0]}


def test_substatement_attachment_needs_its_part():
    """Data §2.4.4.3.s8.b2: a SubStatement "MUST be validated as a Statement"; Data §2.4.11 asks
    for its payloads to be included "as normally done for a Statement"."""
    data = b"plan"
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "http://example.com/verbs/will"},
        "object": {"id": "http://example.com/a"},
        "attachments": [declaration(data)],
    }
    statements = [statement(object=sub)]
    with raises_statement_error("no attachment part") as caught:
        match_attachments(statements, [], path_prefix_batch=False)
    assert caught.value.path == "object.attachments[0].sha2"

    parts = [AttachmentPart(sha256(data), "text/plain", data)]
    assert match_attachments(statements, parts, path_prefix_batch=False) == {sha256(data): parts[0]}


def test_sha2_matches_case_insensitively():
    """§1.5.2.s1.b4: parts are matched to declarations "by comparing the SHA-2"; hex digits
    carry no case."""
    data = b"case"
    statements = [statement(declaration(data, sha2=sha256(data).upper()))]
    parts = [AttachmentPart(sha256(data), "", data)]
    assert match_attachments(statements, parts, path_prefix_batch=False) == {sha256(data): parts[0]}


@pytest.mark.parametrize("algorithm", ["sha224", "sha256", "sha384", "sha512"])
def test_every_sha2_length_is_accepted(algorithm):
    """Data §2.4.11: sha2 is "The SHA-2 hash of the Attachment data"; §1.5.2.s4.b4 recommends
    SHA-256, SHA-384 or SHA-512. The algorithm follows from the digest length."""
    data = b"any sha-2"
    digest = hashlib.new(algorithm, data).hexdigest()
    headers = ["Content-Transfer-Encoding: binary", f"X-Experience-API-Hash: {digest.upper()}"]
    body = multipart_body(b"{}", [(headers, data)])

    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)

    assert parts == [AttachmentPart(sha2=digest, content_type="", data=data)]


def test_preamble_and_epilogue_are_ignored():
    """RFC 2046 §5.1.1 (required by §1.5.2.s2.b2): text before the first and after the last
    boundary delimiter line is ignored."""
    data = b"payload"
    body = multipart_body(
        b"{}",
        [(attachment_headers(data), data)],
        preamble=b"This is a preamble.\r\n--not the boundary",
        epilogue=b"This is the epilogue.\r\n--abc",
    )
    json_body, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)
    assert json_body == b"{}"
    assert [p.data for p in parts] == [data]


def test_binary_data_with_crlf_and_boundary_like_bytes_is_kept_exactly():
    """§1.5.2.s6.b3: "no encoding would be done, the raw octets would be included"; RFC 2046: only
    CRLF, "--" and the whole boundary followed by "--" or a line end delimit a part."""
    boundary = SPEC_BOUNDARY.encode()
    data = (
        b"\r\n\r\n\x00\xff--"
        + boundary
        + b"\r\n--"
        + boundary[:-1]
        + b"\r\n--"
        + boundary
        + b"X not a delimiter\r\n\r\n-"
        + b"\r"
    )
    body = multipart_body(b"{}", [(attachment_headers(data), data)])

    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)

    assert parts[0].data == data


def test_empty_attachment_part_is_accepted():
    """An empty attachment still has a SHA-2 (Data §2.4.11) and an empty body part is legal in
    RFC 2046."""
    body = multipart_body(b"{}", [(attachment_headers(b""), b"")])
    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)
    assert parts == [AttachmentPart(sha256(b""), "text/plain", b"")]


def test_header_syntax_variants_are_accepted():
    """Header names are case-insensitive, the space after the colon optional (as in the spec
    example §1.5.2.s6), long headers may be folded (RFC 5322), and a delimiter line may carry
    transport padding (RFC 2046 §5.1.1)."""
    data = b"variants"
    digest = sha256(data)
    body = (
        b"--b1 \t\r\n"
        b"content-type:   Application/JSON ; charset=UTF-8\r\n\r\n{}\r\n"
        b"--b1\r\n"
        b"CONTENT-TRANSFER-ENCODING: Binary\r\n"
        b"x-experience-api-hash:\r\n " + digest.encode() + b"\r\n"
        b"Content-Length: 8\r\n\r\n" + data + b"\r\n--b1--"
    )
    json_body, parts = parse_statement_request(
        body, "Multipart/Mixed; Boundary=b1", max_attachment_bytes=LIMIT
    )
    assert json_body == b"{}"
    assert parts == [AttachmentPart(digest, "", data)]


def test_attachment_at_the_size_limit_is_accepted():
    """§1.5.2.s3.b7: an LRS MAY reject Statements larger than it is configured to allow; the
    limit itself is allowed."""
    data = b"x" * 64
    body = multipart_body(b"{}", [(attachment_headers(data), data)])
    _, parts = parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=64)
    assert parts[0].data == data


# --- parse_statement_request: rejections --------------------------------------------------------


def test_attachment_over_the_size_limit_is_rejected_as_too_large():
    """§1.5.2.s3.b7: "An LRS MAY reject (batches of) Statements that are larger than the LRS is
    configured to allow"; the distinct error lets the caller answer 413."""
    data = b"x" * 65
    body = multipart_body(b"{}", [(attachment_headers(data), data)])
    with pytest.raises(AttachmentTooLarge, match="65 octets") as caught:
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=64)
    assert isinstance(caught.value, StatementError)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/json", "must be multipart/mixed"),
        ("multipart/form-data; boundary=abc", "must be multipart/mixed"),
        ("multipart/mixed", "no boundary"),
        ("multipart/mixed; charset=utf-8", "no boundary"),
        ('multipart/mixed; boundary=""', "boundary '' is invalid"),
        ("multipart/mixed; boundary=" + "a" * 71, "is invalid"),
        ('multipart/mixed; boundary="ends in space "', "is invalid"),
        ("multipart/mixed; boundary=semi*colon", "is invalid"),
        ('multipart/mixed; boundary="abc"; boundary="def"', "not a valid media type"),
        ("multipart/mixed; boundary=abc; junk", "not a valid media type"),
        ("", "not a valid media type"),
    ],
)
def test_missing_or_invalid_boundary_is_rejected(content_type, message):
    """§1.5.2.s2.b2: the request "MUST conform to the definition of multipart/mixed in RFC 2046",
    whose boundary parameter is 1 to 70 characters from a fixed set, not ending in a space."""
    with raises_statement_error(message):
        parse_statement_request(b"--abc--", content_type, max_attachment_bytes=LIMIT)


def test_seventy_character_boundary_is_accepted():
    """RFC 2046 §5.1.1: a boundary has 1 to 70 characters."""
    boundary = "a" * 70
    body = multipart_body(b"{}", boundary=boundary)
    parsed = parse_statement_request(
        body, f"multipart/mixed; boundary={boundary}", max_attachment_bytes=LIMIT
    )
    assert parsed == (b"{}", [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "does not occur"),
        (b"no delimiter here", "does not occur"),
        (b"--b\nContent-Type: application/json\n\n{}\n--b--\n", "CRLF line endings"),
        (b"--b\r\nContent-Type: application/json\r\n\r\n{}", "without its closing boundary"),
        (b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n", "without its closing"),
        (b"--b--\r\n", "has no parts"),
        (b"--b\r\nContent-Type: application/json\r\n{}\r\n--b--", "no blank line"),
        (b"--b\r\nContent-Type application/json\r\n\r\n{}\r\n--b--", "malformed header"),
        (b"--b\r\nContent-Type: application/json\nX: y\r\n\r\n{}\r\n--b--", "bare CR or LF"),
        (b"--b\r\nContent-Type: application/json\xff\r\n\r\n{}\r\n--b--", "not valid UTF-8"),
        (
            b"--b\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n\r\n{}\r\n--b--",
            "repeats the content-type",
        ),
    ],
)
def test_malformed_multipart_structure_is_rejected(body, message):
    """§1.5.2.s2.b2: a request "MUST conform to the definition of multipart/mixed in RFC 2046";
    §1.5.2.s6: "Per RFC 2046, the boundary is <CRLF> followed by -- followed by the boundary"."""
    with raises_statement_error(message):
        parse_statement_request(body, "multipart/mixed; boundary=b", max_attachment_bytes=LIMIT)


@pytest.mark.parametrize(
    "first_headers",
    [[], ["Content-Type: text/plain"], ["Content-Type: application/jsonx"], ["Content-Type: ;"]],
)
def test_first_part_must_be_json(first_headers):
    """§1.5.2.s2.b2.b1: "The first part of the multipart document MUST contain the Statements
    themselves, with type application/json"; §1.5.2.s2.b2.b6: for the first part the Content-Type
    "MUST be application/json"."""
    body = multipart_body(b"{}", first_headers=first_headers)
    with raises_statement_error("first part .* must have Content-Type application/json"):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


def test_attachment_part_without_hash_header_is_rejected():
    """§1.5.2.s2.b2.b3: a request "MUST include an X-Experience-API-Hash parameter in each part's
    header after the first (Statements) part"."""
    data = b"no hash"
    headers = ["Content-Type: text/plain", "Content-Transfer-Encoding: binary"]
    body = multipart_body(b"{}", [(headers, data)])
    with raises_statement_error("part 2 has no X-Experience-API-Hash"):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


@pytest.mark.parametrize(
    ("encoding_header", "message"),
    [
        (None, "no Content-Transfer-Encoding"),
        ("Content-Transfer-Encoding: base64", "must be binary"),
        ("Content-Transfer-Encoding: 8bit", "must be binary"),
    ],
)
def test_attachment_part_must_declare_binary_transfer_encoding(encoding_header, message):
    """§1.5.2.s2.b2.b4: a request "MUST include a Content-Transfer-Encoding parameter with a value
    of binary in each part's header after the first (Statements) part"."""
    data = b"encoding"
    headers = [f"X-Experience-API-Hash: {sha256(data)}"]
    if encoding_header:
        headers.append(encoding_header)
    body = multipart_body(b"{}", [(headers, data)])
    with raises_statement_error(message):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


@pytest.mark.parametrize(
    "hash_value", ["", "xyz", "ab" * 20, "g" * 64, sha256(b"x") + "0", "\u0660" * 64]
)
def test_attachment_hash_header_must_be_a_sha2_digest(hash_value):
    """Data §2.4.11: sha2 (X-Experience-API-Hash) is "The SHA-2 hash of the Attachment data";
    a SHA-2 hex digest has 56, 64, 96 or 128 hex digits."""
    headers = ["Content-Transfer-Encoding: binary", f"X-Experience-API-Hash: {hash_value}"]
    body = multipart_body(b"{}", [(headers, b"data")])
    with raises_statement_error("is not the hex digest of a SHA-2 hash"):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


def test_attachment_data_must_match_its_hash():
    """§1.5.2.s1.b4: the raw data of an Attachment is matched "by comparing the SHA-2 of the raw
    data to the SHA-2 declared in the header"; data that does not hash to it is rejected."""
    headers = attachment_headers(b"original")
    body = multipart_body(b"{}", [(headers, b"tampered")])
    with raises_statement_error("does not match its X-Experience-API-Hash"):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


@pytest.mark.parametrize("length", ["7", "9", "-8", "eight", "\uff18"])
def test_content_length_header_must_match_the_data(length):
    """§1.5.2.s2.b2.b7 and Data §2.4.11: Content-Length corresponds to the length in octets of
    the Attachment data."""
    data = b"12345678"
    headers = [*attachment_headers(data), f"Content-Length: {length}"]
    body = multipart_body(b"{}", [(headers, data)])
    with raises_statement_error("Content-Length"):
        parse_statement_request(body, SPEC_CONTENT_TYPE, max_attachment_bytes=LIMIT)


# --- match_attachments and require_no_raw_attachments: rejections --------------------------------


def test_attachment_without_file_url_or_part_is_rejected():
    """§1.5.2.s3.b5: an LRS "MUST reject batches of Statements having Attachments that neither
    contain a fileUrl nor match a received Attachment part based on their hash"."""
    sent, missing = b"sent", b"missing"
    statements = [statement(declaration(sent), declaration(missing))]
    parts = [AttachmentPart(sha256(sent), "text/plain", sent)]
    with raises_statement_error("no attachment part with hash") as caught:
        match_attachments(statements, parts, path_prefix_batch=False)
    assert caught.value.path == "attachments[1].sha2"


def test_missing_part_error_locates_the_statement_in_a_batch():
    """§1.5.2.s3.b5, in a batch: the error names the statement by its index in the array."""
    sent, missing = b"sent", b"missing"
    statements = [
        statement(declaration(sent)),
        statement(),
        statement(declaration(missing)),
    ]
    parts = [AttachmentPart(sha256(sent), "text/plain", sent)]
    with raises_statement_error("no attachment part") as caught:
        match_attachments(statements, parts, path_prefix_batch=True)
    assert caught.value.path == "[2].attachments[0].sha2"


def test_undeclared_attachment_part_is_rejected():
    """§1.5.2.s2.b2.b2: "Each additional part contains the raw data for an Attachment and forms a
    logical part of the Statement"; a part no statement declares belongs to none."""
    declared, stray = b"declared", b"stray"
    statements = [statement(declaration(declared))]
    parts = [
        AttachmentPart(sha256(declared), "text/plain", declared),
        AttachmentPart(sha256(stray), "text/plain", stray),
    ]
    with raises_statement_error(f"hash {sha256(stray)} is not declared") as caught:
        match_attachments(statements, parts, path_prefix_batch=False)
    assert caught.value.path == ""


def test_content_type_must_match_the_declaration():
    """§1.5.2.s2.b2.b7: "Where parameters have a corresponding property within the attachment
    Object ... and both the parameter and property are specified ... the value of these
    parameters and properties MUST match"; Content-Type corresponds to contentType."""
    data = b"\x89PNG"
    statements = [statement(declaration(data, contentType="image/png"))]
    parts = [AttachmentPart(sha256(data), "text/plain", data)]
    with raises_statement_error("does not match the Content-Type") as caught:
        match_attachments(statements, parts, path_prefix_batch=False)
    assert caught.value.path == "attachments[0].contentType"


def test_content_type_parameters_and_case_do_not_count():
    """§1.5.2.s6: the spec's example declares "text/plain; charset=ascii" for a part sent as
    "text/plain"; media types compare by type and subtype, case-insensitively."""
    data = b"text"
    statements = [statement(declaration(data, contentType="Text/Plain; charset=ascii"))]
    parts = [AttachmentPart(sha256(data), "text/plain", data)]
    assert match_attachments(statements, parts, path_prefix_batch=False) == {sha256(data): parts[0]}


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"attachments": {"sha2": "x"}}, "attachments"),
        ({"attachments": ["x"]}, "attachments[0]"),
        ({"attachments": [{"usageType": "http://example.com/u"}]}, "attachments[0].sha2"),
    ],
)
def test_malformed_declarations_are_rejected_not_skipped(document, path):
    """Data §2.4.11: sha2 is required; a malformed declaration cannot be matched to a part."""
    with pytest.raises(StatementError) as caught:
        match_attachments([statement(**document)], [], path_prefix_batch=False)
    assert caught.value.path == path


def test_json_request_with_raw_attachment_is_rejected():
    """§1.5.2.s2.b1: an application/json request "MUST ... include a fileUrl for every
    Attachment"."""
    data = b"raw"
    statements = [
        statement(declaration(b"hosted", fileUrl="http://example.com/h")),
        statement(declaration(b"hosted", fileUrl="http://example.com/h"), declaration(data)),
    ]
    with raises_statement_error("multipart/mixed") as caught:
        require_no_raw_attachments(statements, path_prefix_batch=True)
    assert caught.value.path == "[1].attachments[1].fileUrl"

    with raises_statement_error("fileUrl") as caught:
        require_no_raw_attachments([statement(declaration(data, fileUrl=""))])
    assert caught.value.path == "attachments[0].fileUrl"


def test_json_request_with_file_url_attachments_is_accepted():
    """§1.5.1.s1.b1-b2: with application/json an LRS MUST accept batches of Statements which
    contain no Attachment Objects, or only Attachment Objects with a populated fileUrl."""
    hosted = declaration(b"hosted", fileUrl="http://example.com/h")
    require_no_raw_attachments([statement(), statement(hosted)], path_prefix_batch=True)


# --- render_multipart -----------------------------------------------------------------------------


def test_rendered_response_has_the_transmission_format():
    """§1.5.2.s3.b1: "An LRS MUST include Attachments in the Transmission Format described above
    when requested"; each attachment part has Content-Type, Content-Transfer-Encoding: binary
    and X-Experience-API-Hash, the JSON part comes first, the boundary is not in any part."""
    data = b"attachment"
    parts = [AttachmentPart(sha256(data), "text/plain", data), AttachmentPart(sha256(b""), "", b"")]

    body, content_type = render_multipart(b'{"statements":[]}', parts)

    boundary = content_type.removeprefix("multipart/mixed; boundary=")
    assert boundary != content_type
    dash = b"--" + boundary.encode()
    assert body.startswith(dash + b"\r\nContent-Type: application/json\r\n\r\n{")
    assert body.endswith(b"\r\n" + dash + b"--\r\n")
    assert body.count(boundary.encode()) == 4
    assert (
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
        b"X-Experience-API-Hash: " + sha256(data).encode() + b"\r\n\r\nattachment\r\n"
    ) in body
    assert b"Content-Type: application/octet-stream\r\n" in body


def test_rendered_response_sends_each_attachment_once():
    """§1.5.2.s2.b2.b5: "SHOULD only include one copy of an Attachment's data"."""
    data = b"once"
    part = AttachmentPart(sha256(data), "text/plain", data)
    body, content_type = render_multipart(b"[]", [part, part])
    _, parsed = parse_statement_request(body, content_type, max_attachment_bytes=LIMIT)
    assert parsed == [part]


@pytest.mark.parametrize(
    "part",
    [
        AttachmentPart("ABC", "text/plain", b""),
        AttachmentPart(sha256(b"").upper(), "text/plain", b""),
        AttachmentPart(sha256(b""), "text/plain\r\nX-Injected: 1", b""),
    ],
)
def test_render_refuses_unrenderable_parts(part):
    """A part whose header values would break the format is a programming error."""
    with pytest.raises(ValueError, match=r"sha2|CR or LF"):
        render_multipart(b"[]", [part])


content_types = st.sampled_from(["text/plain", "image/png", "application/octet-stream", ""])
payloads = st.lists(st.tuples(st.binary(max_size=300), content_types), max_size=5)


@settings(deadline=None)
@given(json_body=st.binary(max_size=200), payloads=payloads)
def test_render_then_parse_round_trips(json_body, payloads):
    """Property: what render_multipart writes, parse_statement_request reads back unchanged (one
    part per distinct hash, in first-seen order; a missing Content-Type reads back as
    application/octet-stream)."""
    parts = [AttachmentPart(sha256(data), ctype, data) for data, ctype in payloads]
    expected: dict[str, AttachmentPart] = {}
    for part in parts:
        expected.setdefault(
            part.sha2,
            AttachmentPart(part.sha2, part.content_type or "application/octet-stream", part.data),
        )

    body, content_type = render_multipart(json_body, parts)
    parsed_json, parsed_parts = parse_statement_request(
        body, content_type, max_attachment_bytes=LIMIT
    )

    assert parsed_json == json_body
    assert parsed_parts == list(expected.values())


@settings(deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    *(b"--b", b"\r\n", b"--", b"\r\n\r\n", b"{}", b"a:b", b" ", b"\n"),
                    b"Content-Type: application/json",
                    b"X-Experience-API-Hash: " + sha256(b"").encode(),
                ]
            ),
            max_size=30,
        ).map(b"".join),
    )
)
def test_parser_only_ever_raises_statement_error(body):
    """Property: any body either parses or is rejected with a StatementError (a 400), never with
    another exception."""
    with contextlib.suppress(StatementError):
        parse_statement_request(body, "multipart/mixed; boundary=b", max_attachment_bytes=LIMIT)
