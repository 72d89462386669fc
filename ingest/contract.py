"""The ingest message contract (docs/ingest.md), as pure functions.

A message on ``progress.ingest.<tenant-slug>`` carries one xAPI statement or a JSON array of
them. Headers: ``Progress-Credential`` (required: the key of the producer's credential,
which becomes the statements' authority) and ``X-Experience-API-Version`` (optional,
``2.0.0`` when absent). A message is all or nothing, like one POST of the Statement
resource: either every statement in it is stored, or the message is dead-lettered whole.

Statements without an ``id`` get one derived from the message's position in the stream
(stream name and sequence, and the statement's index in the message), so a redelivered
message names the same statements and stores nothing twice. A producer that publishes the
same event twice (two stream sequences) must give its statements ids to be idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

import orjson

from lrs.versioning import VersionError, negotiate
from statements.xapi.errors import StatementError
from statements.xapi.multipart import require_no_raw_attachments
from statements.xapi.signature import verify_statement_signatures
from statements.xapi.validate import validate_statements

CREDENTIAL_HEADER = "Progress-Credential"
VERSION_HEADER = "X-Experience-API-Version"
REASON_HEADER = "Progress-Deadletter-Reason"
DETAIL_HEADER = "Progress-Deadletter-Detail"
SUBJECT_HEADER = "Progress-Original-Subject"
DROPPED_HEADER = "Progress-Dropped-Headers"
TRUNCATED_HEADER = "Progress-Deadletter-Truncated"
SHA256_HEADER = "Progress-Original-Sha256"

# Ids of statements a message did not name: uuid5 in this namespace over
# "<stream>:<stream sequence>:<index>".
_ID_NAMESPACE = uuid.UUID("5b0f7a52-51c6-4f3e-9a4e-2f1f6f1c6d1e")


class Reason(StrEnum):
    """Why a message was dead-lettered (machine-readable, in ``Progress-Deadletter-Reason``)."""

    BAD_SUBJECT = "bad_subject"
    BAD_JSON = "bad_json"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID_STATEMENT = "invalid_statement"
    MISSING_CREDENTIAL = "missing_credential"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    CREDENTIAL_DISABLED = "credential_disabled"
    CREDENTIAL_MISMATCH = "credential_mismatch"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_TENANT = "unknown_tenant"
    TENANT_DISABLED = "tenant_disabled"
    WRONG_REGION = "wrong_region"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    DATABASE_REJECTED = "database_rejected"


@dataclass(slots=True)
class Incoming:
    """One fetched message, detached from the NATS client (what the store step needs)."""

    subject: str
    data: bytes
    headers: dict[str, str]
    stream: str
    sequence: int
    # Filled in by the store step.
    statements: list[dict] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)
    v2: bool = True


class Refused(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def tenant_slug(subject: str, prefix: str) -> str:
    """The tenant named by ``<prefix>.<slug>``."""
    head, dot, slug = subject.rpartition(".")
    if head != prefix or not dot or not slug:
        raise Refused(Reason.BAD_SUBJECT, f"expected {prefix}.<tenant-slug>, got {subject}")
    return slug


def decode(message: Incoming) -> None:
    """Parse and validate the message's statements in place (``statements``, ``received``,
    ``v2``); raises ``Refused``. Validation is the Statement resource's own."""
    try:
        version = negotiate(message.headers.get(VERSION_HEADER) or "2.0.0")
    except VersionError as exc:
        raise Refused(Reason.UNSUPPORTED_VERSION, str(exc)) from None
    try:
        document = orjson.loads(message.data)
    except orjson.JSONDecodeError:
        raise Refused(Reason.BAD_JSON, "the body is not valid JSON") from None
    v2 = version.is_2_0
    try:
        statements = validate_statements(document, v2=v2)
        # No multipart here: attachments need a fileUrl, and signed statements (whose
        # signature travels as an attachment part) cannot come this way: a signature
        # declared with a fileUrl alone is refused as over HTTP, unverified.
        batch = isinstance(document, list)
        require_no_raw_attachments(statements, path_prefix_batch=batch)
        for index, statement in enumerate(statements):
            verify_statement_signatures(statement, {}, path_prefix=f"[{index}]" if batch else "")
    except StatementError as exc:
        raise Refused(Reason.INVALID_STATEMENT, str(exc)) from None
    received = document if isinstance(document, list) else [document]
    for index, statement in enumerate(statements):
        if "id" not in statement:
            statement["id"] = str(
                uuid.uuid5(_ID_NAMESPACE, f"{message.stream}:{message.sequence}:{index}")
            )
    message.statements, message.received, message.v2 = statements, received, v2
