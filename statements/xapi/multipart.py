"""``multipart/mixed`` statement requests and responses (Communication §1.5.2).

A statement request that carries attachment data is a ``multipart/mixed`` body (RFC 2046
§5.1): the first part holds the statement(s) as ``application/json``, every further part holds
the raw octets of one attachment, found again by the SHA-2 hash that the statement's attachment
declaration (``sha2``, Data §2.4.11) and the part's ``X-Experience-API-Hash`` header both carry.

Three steps, each a pure function:

1. ``parse_statement_request`` splits the body and checks every part on its own (headers,
   hash, size). It returns the first part's bytes unparsed, so the caller validates the
   statements with the same code as an ``application/json`` request.
2. ``match_attachments`` checks the parts against the validated statements: every declaration
   without ``fileUrl`` has its part, every part is declared. ``require_no_raw_attachments`` is
   the same rule for an ``application/json`` request, where no part can exist.
3. ``render_multipart`` builds the response for GET with ``attachments=true``.

The parser is linear in the body: the delimiter is found with ``bytes.find`` and attachment data
is sliced out once and hashed once; no Python loop runs over the data itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from statements.xapi.errors import StatementError, join_path

__all__ = [
    "AttachmentPart",
    "AttachmentTooLarge",
    "match_attachments",
    "parse_statement_request",
    "render_multipart",
    "require_no_raw_attachments",
]


class AttachmentTooLarge(StatementError):
    """An attachment part is larger than this LRS accepts (§1.5.2.s3.b7); answer ``413``."""


@dataclass(frozen=True, slots=True)
class AttachmentPart:
    """The raw data of one attachment, as received in (or sent as) a multipart part.

    ``sha2`` is the lowercase hex of the part's ``X-Experience-API-Hash`` header, already checked
    against ``data``. ``content_type`` is the part's ``Content-Type`` header as sent, or ``""``
    when the part had none (the declaration's ``contentType`` then describes the data).
    ``content_length`` is the part's ``Content-Length`` header, already checked against
    ``data``, or None when it had none; it is not part of the part's identity.
    """

    sha2: str
    content_type: str
    data: bytes
    content_length: int | None = field(default=None, compare=False)


# The algorithm is implied by the digest length: Data §2.4.11 only says "SHA-2" and
# §1.5.2.s4.b4 recommends SHA-256/384/512. SHA-512/224 and SHA-512/256 have the same lengths
# as SHA-224 and SHA-256 and cannot be told apart; the plain variants are assumed.
_HASH_BY_HEX_LENGTH: dict[int, Callable[[bytes], Any]] = {
    56: hashlib.sha224,
    64: hashlib.sha256,
    96: hashlib.sha384,
    128: hashlib.sha512,
}
_HEX_RE = re.compile(r"[0-9a-f]+")

# RFC 2045 §5.1 token and quoted-string, RFC 2046 §5.1.1 boundary characters.
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE_RE = re.compile(rf"[ \t]*({_TCHARS})/({_TCHARS})[ \t]*")
_PARAMETER_RE = re.compile(
    rf'[ \t]*;[ \t]*({_TCHARS})[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;\s"]*)[ \t]*'
)
_QUOTED_PAIR_RE = re.compile(r"\\(.)")
_BOUNDARY_RE = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")

# What may follow "--boundary" for it to be a delimiter line: "--" closes the body, otherwise
# optional transport padding (linear white space, RFC 2046 §5.1.1) and the line's CRLF.
_DELIMITER_TAIL_RE = re.compile(rb"--|[ \t]*\r\n")

_CRLF = b"\r\n"
_BLANK_LINE = b"\r\n\r\n"
_HASH_HEADER = "x-experience-api-hash"
_RESPONSE_BOUNDARY_BYTES = 24


def parse_statement_request(
    body: bytes, content_type: str, *, max_attachment_bytes: int
) -> tuple[bytes, list[AttachmentPart]]:
    """Split a ``multipart/mixed`` statement request into its statement JSON and its parts.

    ``content_type`` is the request's ``Content-Type`` header; its ``boundary`` parameter
    delimits the parts. Returns the first part's raw bytes (not parsed) and the attachment parts
    in the order received. Every attachment part has been checked on its own: it carries
    ``X-Experience-API-Hash`` and ``Content-Transfer-Encoding: binary`` (§1.5.2.s2.b2.b3-b4),
    its data hashes to the header's value, a ``Content-Length`` header if any equals the data's
    length, and it is at most ``max_attachment_bytes`` long (else ``AttachmentTooLarge``).
    Whether the parts fit the statements is ``match_attachments``' business.

    Line endings must be CRLF as RFC 2046 requires; a preamble before the first delimiter and an
    epilogue after the closing one are ignored. Raises ``StatementError`` (path ``""``) on any
    breach. Linear time in ``len(body)``.
    """
    boundary = _boundary(content_type)
    spans = _part_spans(body, boundary)
    if not spans:
        raise StatementError(
            "the multipart body has no parts; its first part must hold the statements"
        )

    first_headers, first_start, first_end = _part_headers(body, spans[0], 1)
    first_type = first_headers.get("content-type")
    if first_type is None or _media_type_essence(first_type) != "application/json":
        shown = "none" if first_type is None else repr(_excerpt(first_type))
        raise StatementError(
            "the first part of a multipart statement request must have Content-Type "
            f"application/json (Communication §1.5.2), it has {shown}"
        )
    statement_json = body[first_start:first_end]

    parts: list[AttachmentPart] = []
    for number, span in enumerate(spans[1:], start=2):
        headers, start, end = _part_headers(body, span, number)
        parts.append(_attachment_part(body, start, end, headers, number, max_attachment_bytes))
    return statement_json, parts


def match_attachments(
    statements: list[dict], parts: list[AttachmentPart], *, path_prefix_batch: bool
) -> dict[str, AttachmentPart]:
    """Check the parts of a multipart request against the statements' attachment declarations.

    ``statements`` are the validated statements of the request's first part (a single statement
    as a one-item list); ``path_prefix_batch`` is True when the request body was an array, so
    error paths read ``[2].attachments[0].sha2`` instead of ``attachments[0].sha2``.

    Rules (Communication §1.5.2, Data §2.4.11):

    - Every declaration without a ``fileUrl`` needs a part with the same hash: a statement
      "having Attachments that neither contain a fileUrl nor match a received Attachment part
      based on their hash" is rejected (§1.5.2.s3.b5), and matching is by hash only
      (§1.5.2.s1.b4). A declaration with a ``fileUrl`` needs no part but may have one.
    - Declarations of a SubStatement (``object.attachments``) count like the statement's own: a
      SubStatement "MUST be validated as a Statement" (Data §2.4.4.3.s8.b2) and Data §2.4.11
      asks for its payloads to be included "as normally done for a Statement".
    - Every part must be declared by some statement of the request: each additional part "forms
      a logical part of the Statement" (§1.5.2.s2.b2.b2).
    - One part may serve several declarations with the same hash (§1.5.2.s2.b2.b5); a repeated
      part with the same hash is accepted (the data is identical) and kept once.
    - Where the part has a Content-Type and the declaration a ``contentType``, they must match
      (§1.5.2.s2.b2.b7). Only the type/subtype is compared, case-insensitively: the spec's own
      example (§1.5.2.s6) pairs ``text/plain; charset=ascii`` with ``text/plain``.
    - Where the part has a Content-Length and the declaration a ``length``, they must be
      equal, by the same rule.
    - Hashes compare case-insensitively (hex digits).

    Returns the parts by lowercase ``sha2``; look declarations up with ``sha2.lower()``.
    Raises ``StatementError`` on the first breach.
    """
    by_hash: dict[str, AttachmentPart] = {}
    for part in parts:
        by_hash.setdefault(part.sha2, part)

    used: dict[str, AttachmentPart] = {}
    for path, declaration in _all_declarations(statements, path_prefix_batch):
        sha2 = declaration["sha2"].lower()
        part = by_hash.get(sha2)
        if part is None:
            if _has_file_url(declaration):
                continue
            raise StatementError(
                f"no attachment part with hash {_excerpt(sha2)} was received; an attachment "
                "without fileUrl must have its data sent as a part of the multipart request "
                "(Communication §1.5.2)",
                join_path(path, "sha2"),
            )
        _check_content_type(declaration, part, path)
        _check_length(declaration, part, path)
        used[sha2] = part

    for sha2 in by_hash:
        if sha2 not in used:
            raise StatementError(
                f"the attachment part with hash {sha2} is not declared by any statement of the "
                "request; every part after the first must be the data of a declared attachment "
                "(Communication §1.5.2)"
            )
    return used


def require_no_raw_attachments(statements: list[dict], *, path_prefix_batch: bool = False) -> None:
    """Reject an ``application/json`` statement request whose attachments lack ``fileUrl``.

    Such a request has nowhere to carry attachment data, so "it MUST be of type application/json
    and include a fileUrl for every Attachment" (Communication §1.5.2.s2.b1, §1.5.1.s1.b2).
    SubStatement declarations count as in ``match_attachments``. The error path points at the
    missing property of the first offending declaration, e.g. ``attachments[1].fileUrl`` or
    ``[2].attachments[0].fileUrl`` with ``path_prefix_batch``.
    """
    for path, declaration in _all_declarations(statements, path_prefix_batch):
        if not _has_file_url(declaration):
            raise StatementError(
                "an attachment without fileUrl needs its data, which an application/json "
                "request cannot carry: send the request as multipart/mixed with the data as a "
                "part, or give the attachment a fileUrl (Communication §1.5.2)",
                join_path(path, "fileUrl"),
            )


def render_multipart(json_body: bytes, parts: list[AttachmentPart]) -> tuple[bytes, str]:
    """Build a ``multipart/mixed`` body: ``json_body`` first, then one part per attachment.

    The transmission format of §1.5.2 (used for GET with ``attachments=true``, §1.5.2.s3.b1):
    the first part is ``application/json``; each attachment part has ``Content-Type`` (the part's,
    or ``application/octet-stream`` when it has none), ``Content-Transfer-Encoding: binary`` and
    ``X-Experience-API-Hash``. Parts with the same ``sha2`` are sent once (§1.5.2.s2.b2.b5).
    The boundary is random and checked not to occur in any content, as RFC 2046 requires.

    Returns ``(body, content_type)``, the second being the response's ``Content-Type`` value.
    ``parse_statement_request`` reads the result back to the same JSON and parts.
    Raises ``ValueError`` on a part that cannot be rendered (a header value with CR or LF, a
    ``sha2`` that is not lowercase hex): that is a programming error, not a client's.
    """
    unique: dict[str, AttachmentPart] = {}
    for part in parts:
        if not _HEX_RE.fullmatch(part.sha2) or len(part.sha2) not in _HASH_BY_HEX_LENGTH:
            raise ValueError(f"sha2 {part.sha2[:20]!r} is not a lowercase hex SHA-2 digest")
        if "\r" in part.content_type or "\n" in part.content_type:
            raise ValueError("an attachment content type must not contain CR or LF")
        unique.setdefault(part.sha2, part)

    boundary = secrets.token_hex(_RESPONSE_BOUNDARY_BYTES).encode("ascii")
    while boundary in json_body or any(boundary in p.data for p in unique.values()):
        boundary = secrets.token_hex(_RESPONSE_BOUNDARY_BYTES).encode("ascii")

    dash = b"--" + boundary
    chunks = [dash, b"\r\nContent-Type: application/json\r\n\r\n", json_body]
    for part in unique.values():
        content_type = part.content_type or "application/octet-stream"
        chunks += [
            b"\r\n",
            dash,
            b"\r\nContent-Type: ",
            content_type.encode("utf-8"),
            b"\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ",
            part.sha2.encode("ascii"),
            b"\r\n\r\n",
            part.data,
        ]
    chunks += [b"\r\n", dash, b"--\r\n"]
    return b"".join(chunks), f"multipart/mixed; boundary={boundary.decode('ascii')}"


# --- request parsing --------------------------------------------------------------------------


def _boundary(content_type: str) -> bytes:
    """The ``boundary`` parameter of a ``multipart/mixed`` Content-Type, checked per RFC 2046."""
    parsed = _parse_media_type(content_type)
    if parsed is None:
        raise StatementError(
            f"the Content-Type header {_excerpt(content_type)!r} is not a valid media type"
        )
    essence, parameters = parsed
    if essence != "multipart/mixed":
        raise StatementError(
            f"a statement request with attachments must be multipart/mixed, not {essence}"
        )
    boundary = parameters.get("boundary")
    if boundary is None:
        raise StatementError("the multipart/mixed Content-Type has no boundary parameter")
    if not _BOUNDARY_RE.fullmatch(boundary):
        raise StatementError(
            f"the multipart boundary {_excerpt(boundary)!r} is invalid: RFC 2046 allows 1 to 70 "
            "letters, digits, spaces and '()+_,-./:=? not ending in a space"
        )
    return boundary.encode("ascii")


def _part_spans(body: bytes, boundary: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of every body part: from after its delimiter line to before the CRLF of
    the next delimiter. Raises if the first delimiter or the closing one is missing."""
    dash = b"--" + boundary
    delimiter = _CRLF + dash

    # The first delimiter may open the body (no preamble) or follow the preamble's CRLF.
    tail = _DELIMITER_TAIL_RE.match(body, len(dash)) if body.startswith(dash) else None
    if tail is None:
        found = _find_delimiter(body, delimiter, 0)
        if found is None:
            if dash in body:
                raise StatementError(
                    "the multipart boundary is never at the start of a CRLF-terminated line; "
                    "multipart bodies must use CRLF line endings (RFC 2046)"
                )
            raise StatementError("the multipart boundary does not occur in the body")
        tail_start, tail_end = found
    else:
        tail_start, tail_end = tail.span()

    spans: list[tuple[int, int]] = []
    while body[tail_start : tail_start + 2] != b"--":
        start = tail_end
        found = _find_delimiter(body, delimiter, start)
        if found is None:
            raise StatementError(
                "the multipart body ends without its closing boundary line "
                "(--boundary-- preceded by CRLF, RFC 2046)"
            )
        tail_start, tail_end = found
        spans.append((start, tail_start - len(delimiter)))
    # Anything after the closing delimiter is the epilogue, which RFC 2046 says to ignore.
    return spans


def _find_delimiter(body: bytes, delimiter: bytes, start: int) -> tuple[int, int] | None:
    """The span of what follows the next real delimiter (``--`` or padding and CRLF).

    ``CRLF--boundary`` followed by anything else is data that merely starts like a delimiter;
    the search goes on past it. Each byte is looked at a bounded number of times.
    """
    index = body.find(delimiter, start)
    while index >= 0:
        tail = _DELIMITER_TAIL_RE.match(body, index + len(delimiter))
        if tail is not None:
            return tail.span()
        index = body.find(delimiter, index + 1)
    return None


def _part_headers(
    body: bytes, span: tuple[int, int], number: int
) -> tuple[dict[str, str], int, int]:
    """Split one body part into its headers (lowercase names) and the span of its content.

    A part is ``headers CRLF content`` where each header line ends in CRLF, so the content
    starts after the first blank line; a part that starts with CRLF has no headers, and one
    made only of header lines has no content (RFC 2046 §5.1.1 ``body-part``).
    """
    start, end = span
    if start == end:
        return {}, start, end
    if body.startswith(_CRLF, start, end):
        return {}, start + 2, end
    blank = body.find(_BLANK_LINE, start, end)
    if blank >= 0:
        header_end, content_start = blank, blank + 4
    elif body.endswith(_CRLF, start, end):
        header_end, content_start = end - 2, end
    else:
        raise StatementError(
            f"part {number} of the multipart body has no blank line (CRLF CRLF) after its headers"
        )
    try:
        text = body[start:header_end].decode("utf-8")
    except UnicodeDecodeError:
        raise StatementError(f"the headers of part {number} are not valid UTF-8") from None

    lines: list[str] = []
    for line in text.split("\r\n"):
        if "\r" in line or "\n" in line:
            raise StatementError(
                f"the headers of part {number} have a bare CR or LF; lines must end in CRLF"
            )
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()  # folded continuation line (RFC 5322 §2.2.3)
        else:
            lines.append(line)

    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name:
            raise StatementError(
                f"part {number} has a malformed header line {_excerpt(line)!r}; "
                "expected 'Name: value'"
            )
        if name in headers:
            raise StatementError(f"part {number} repeats the {name} header")
        headers[name] = value.strip()
    return headers, content_start, end


def _attachment_part(
    body: bytes,
    start: int,
    end: int,
    headers: dict[str, str],
    number: int,
    max_attachment_bytes: int,
) -> AttachmentPart:
    """Check one attachment part's headers, size and hash, and return it."""
    declared_hash = headers.get(_HASH_HEADER)
    if declared_hash is None:
        raise StatementError(
            f"part {number} has no X-Experience-API-Hash header; every part after the first "
            "must have one (Communication §1.5.2)"
        )
    sha2 = declared_hash.lower()
    if not _HEX_RE.fullmatch(sha2) or len(sha2) not in _HASH_BY_HEX_LENGTH:
        raise StatementError(
            f"the X-Experience-API-Hash of part {number}, {_excerpt(declared_hash)!r}, is not the "
            "hex digest of a SHA-2 hash (56, 64, 96 or 128 hex digits)"
        )

    encoding = headers.get("content-transfer-encoding")
    if encoding is None:
        raise StatementError(
            f"part {number} has no Content-Transfer-Encoding header; every part after the first "
            "must have Content-Transfer-Encoding: binary (Communication §1.5.2)"
        )
    if encoding.lower() != "binary":
        raise StatementError(
            f"part {number} has Content-Transfer-Encoding {_excerpt(encoding)!r}; attachment "
            "parts must be binary (Communication §1.5.2)"
        )

    size = end - start
    content_length = headers.get("content-length")
    if content_length is not None and (
        not content_length.isascii() or not content_length.isdigit() or int(content_length) != size
    ):
        raise StatementError(
            f"part {number} has Content-Length {_excerpt(content_length)!r} but {size} octets "
            "of data"
        )
    if size > max_attachment_bytes:
        raise AttachmentTooLarge(
            f"attachment part {number} is {size} octets, more than the {max_attachment_bytes} "
            "this LRS accepts"
        )

    data = body[start:end]
    actual = _HASH_BY_HEX_LENGTH[len(sha2)](data).hexdigest()
    if actual != sha2:
        raise StatementError(
            f"the data of part {number} does not match its X-Experience-API-Hash: the header "
            f"says {sha2}, the data hashes to {actual}"
        )
    return AttachmentPart(
        sha2=sha2,
        content_type=headers.get("content-type", ""),
        data=data,
        content_length=None if content_length is None else size,
    )


def _parse_media_type(value: str) -> tuple[str, dict[str, str]] | None:
    """``("type/subtype", {lowercase name: value})``, or None if ``value`` is malformed."""
    match = _MEDIA_TYPE_RE.match(value)
    if match is None:
        return None
    essence = f"{match[1]}/{match[2]}".lower()
    parameters: dict[str, str] = {}
    position = match.end()
    while position < len(value):
        parameter = _PARAMETER_RE.match(value, position)
        if parameter is None:
            if value[position:].strip(" \t;"):
                return None
            break  # trailing semicolons are tolerated
        name, raw = parameter[1].lower(), parameter[2]
        if raw.startswith('"'):
            raw = _QUOTED_PAIR_RE.sub(r"\1", raw[1:-1])
        if name in parameters:
            return None
        parameters[name] = raw
        position = parameter.end()
    return essence, parameters


def _media_type_essence(value: str) -> str | None:
    parsed = _parse_media_type(value)
    return None if parsed is None else parsed[0]


# --- matching ---------------------------------------------------------------------------------


def _all_declarations(
    statements: list[dict], path_prefix_batch: bool
) -> Iterator[tuple[str, dict]]:
    """``(path, declaration)`` of every attachment declared by the statements and their
    SubStatements, in document order."""
    for index, statement in enumerate(statements):
        base = join_path("", index) if path_prefix_batch else ""
        if not isinstance(statement, dict):
            raise StatementError("a statement must be a JSON object", base)
        yield from _declarations(statement, base)
        target = statement.get("object")
        if isinstance(target, dict) and target.get("objectType") == "SubStatement":
            yield from _declarations(target, join_path(base, "object"))


def _declarations(document: dict, base: str) -> Iterator[tuple[str, dict]]:
    declared = document.get("attachments")
    if declared is None:
        return
    path = join_path(base, "attachments")
    if not isinstance(declared, list):
        raise StatementError("attachments must be an array of attachment objects", path)
    for index, declaration in enumerate(declared):
        item_path = join_path(path, index)
        if not isinstance(declaration, dict):
            raise StatementError("an attachment must be a JSON object", item_path)
        if not isinstance(declaration.get("sha2"), str):
            raise StatementError(
                "an attachment must have a sha2 string (Data §2.4.11)",
                join_path(item_path, "sha2"),
            )
        yield item_path, declaration


def _has_file_url(declaration: dict) -> bool:
    file_url = declaration.get("fileUrl")
    return isinstance(file_url, str) and file_url != ""


def _check_content_type(declaration: dict, part: AttachmentPart, path: str) -> None:
    declared = declaration.get("contentType")
    if not isinstance(declared, str) or not part.content_type:
        return
    declared_essence = _media_type_essence(declared)
    part_essence = _media_type_essence(part.content_type)
    if declared_essence is None or part_essence is None or declared_essence == part_essence:
        return  # an unparsable contentType is the statement validator's to report
    raise StatementError(
        f"contentType {_excerpt(declared)!r} does not match the Content-Type "
        f"{_excerpt(part.content_type)!r} of the attachment part with this sha2; where both are "
        "given they must match (Communication §1.5.2)",
        join_path(path, "contentType"),
    )


def _check_length(declaration: dict, part: AttachmentPart, path: str) -> None:
    declared = declaration.get("length")
    if part.content_length is None or type(declared) is not int:
        return  # a length that is not an integer is the statement validator's to report
    if declared != part.content_length:
        raise StatementError(
            f"length {declared} does not match the Content-Length {part.content_length} of the "
            "attachment part with this sha2; where both are given they must match "
            "(Communication §1.5.2)",
            join_path(path, "length"),
        )


def _excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
