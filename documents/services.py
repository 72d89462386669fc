"""Writing documents: PUT, POST (JSON merge), DELETE of one, DELETE of a State scope.

Every write to one document runs in one transaction that first takes a transaction-scoped
advisory lock on the document's key, then reads the document, checks the request's
preconditions against its ETag (``documents.preconditions``) and writes. Two writers of
one document therefore run one after the other, and the second checks its preconditions
against what the first committed: a lost update or two creations of one document cannot
happen. The lock is taken before the row exists, which is what a row lock cannot do for a
document being created; transaction-scoped advisory locks also pass through a pgbouncer in
transaction mode (ARCHITECTURE.md §4).

A failed check raises out of the transaction, so nothing is changed (§3.1.s4.b10, b15).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from documents import preconditions as concurrency
from documents import selectors
from documents.keys import DocumentScope, document_key, etag_of
from documents.models import Document
from lrs.errors import BadRequest, PayloadTooLarge
from statements.consistency import credential_wrote

logger = logging.getLogger(__name__)

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class DocumentTarget:
    """One document: its scope, its id, and the Agent as the request gave it."""

    scope: DocumentScope
    document_id: str
    agent: dict | None = None


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def document_put(
    *,
    tenant_id: int,
    credential_id: int | None,
    target: DocumentTarget,
    content: bytes,
    content_type: str,
    preconditions: concurrency.Preconditions,
    put_needs_precondition: bool,
    put_requires_header: bool = False,
) -> str:
    """Store ``content`` as the document, replacing any; returns the new ETag.
    ``documents.preconditions.check`` says when the preconditions refuse it."""
    with _checked(
        tenant_id,
        target,
        preconditions,
        "PUT",
        put_needs_precondition=put_needs_precondition,
        put_requires_header=put_requires_header,
    ) as current:
        etag = _save(tenant_id, target, current, content, content_type)
    _after_write(credential_id)
    return etag


def document_post(
    *,
    tenant_id: int,
    credential_id: int | None,
    target: DocumentTarget,
    content: bytes,
    content_type: str,
    preconditions: concurrency.Preconditions,
) -> str:
    """Create the document, or merge a JSON Object into an existing JSON document
    (Communication §2.2.s7: the posted Object's top-level properties replace the stored
    ones). §2.2.s8.b1: when either side is not ``application/json`` or not a JSON Object,
    400 and nothing changes. Returns the new ETag."""
    posted_json = media_type(content_type) == JSON_MEDIA_TYPE
    posted = _json_object(content, "the posted document") if posted_json else None
    with _checked(tenant_id, target, preconditions, "POST") as current:
        if current is not None:
            if not posted_json or media_type(current.content_type) != JSON_MEDIA_TYPE:
                raise BadRequest(
                    "POST merges JSON documents: the stored and the posted document must both "
                    "be application/json; use PUT to replace a document of another type"
                )
            stored = _json_object(bytes(current.content), "the stored document")
            try:
                content = orjson.dumps(stored | posted)
            except orjson.JSONEncodeError:
                # Either side may hold what the standard parser reads and orjson cannot
                # write: more than 254 levels of nesting, or an escaped lone surrogate
                # ("\ud800"), which is no Unicode character. Nothing is changed.
                raise BadRequest(
                    "the merged document cannot be written as JSON: it nests too deeply or "
                    "holds an escaped lone surrogate (\\ud800-\\udfff)"
                ) from None
            content_type = JSON_MEDIA_TYPE
        etag = _save(tenant_id, target, current, content, content_type)
    _after_write(credential_id)
    return etag


def document_delete(
    *,
    tenant_id: int,
    credential_id: int | None,
    target: DocumentTarget,
    preconditions: concurrency.Preconditions,
) -> bool:
    """Delete one document; whether there was one. Deleting nothing is not an error
    (the request's outcome, no such document, holds)."""
    with _checked(tenant_id, target, preconditions, "DELETE") as current:
        if current is None:
            return False
        Document.objects.filter(pk=current.pk).delete()
    _after_write(credential_id)
    return True


def documents_delete(
    *,
    tenant_id: int,
    credential_id: int | None,
    scope: DocumentScope,
    preconditions: concurrency.Preconditions | None = None,
) -> int:
    """Delete every document of a scope (State, Communication §2.3.s5); how many.

    What a client reads of a scope is its multiple-document GET, the list of ids, so
    If-Match / If-None-Match are checked against that list's ETag (§3.1.s4.b7, b11-b12,
    ``selectors.ids_etag``): a client deletes the documents it listed, or gets 412 and
    nothing is deleted when one was added, replaced or removed since. The list always
    exists (the GET answers 200, ``[]`` for none), so ``If-None-Match: *`` always fails.
    Only the documents locked here are deleted: one created meanwhile was never listed.
    """
    with transaction.atomic():
        rows = list(
            Document.objects.select_for_update()
            .filter(tenant_id=tenant_id, scope_key=scope.key)
            .order_by("pk")
            .values_list("pk", *selectors.IDS_ORDER)
        )
        if preconditions is not None and preconditions.given:
            ids = [document_id for _, _, document_id in sorted(rows, key=lambda r: r[1:])]
            concurrency.check(
                preconditions,
                selectors.ids_etag(ids),
                method="DELETE",
                put_needs_precondition=False,
            )
        deleted, _ = Document.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    if deleted:
        _after_write(credential_id)
    return deleted


# --- internals --------------------------------------------------------------------------


def _lock_id(tenant_id: int, scope_key: bytes, doc_key: bytes) -> int:
    digest = hashlib.blake2b(
        tenant_id.to_bytes(8, "big") + scope_key + doc_key, digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _checked(
    tenant_id: int,
    target: DocumentTarget,
    preconditions: concurrency.Preconditions,
    method: str,
    *,
    put_needs_precondition: bool = False,
    put_requires_header: bool = False,
) -> Iterator[Document | None]:
    """A transaction holding the document's lock, entered only when the request's
    preconditions hold against the document as it is; yields the document (or None)."""
    with transaction.atomic():
        current = _locked_current(tenant_id, target)
        concurrency.check(
            preconditions,
            current.etag if current else None,
            method=method,
            put_needs_precondition=put_needs_precondition,
            put_requires_header=put_requires_header,
        )
        yield current


def _locked_current(tenant_id: int, target: DocumentTarget) -> Document | None:
    """Inside a transaction: lock the document's key, then read the document if any."""
    scope_key = target.scope.key
    doc_key = document_key(target.document_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [_lock_id(tenant_id, scope_key, doc_key)]
        )
    return (
        Document.objects.filter(tenant_id=tenant_id, scope_key=scope_key, document_key=doc_key)
        .only("pk", "etag", "content_type", "content")
        .first()
    )


def _save(tenant_id, target: DocumentTarget, current, content: bytes, content_type: str) -> str:
    limit = settings.PROGRESS_MAX_DOCUMENT_BYTES
    if len(content) > limit:
        # A merge can outgrow the limit even when each side is within it.
        raise PayloadTooLarge(f"a document may hold at most {limit} bytes")
    etag = etag_of(content)
    now = timezone.now()
    if current is None:
        scope = target.scope
        Document.objects.create(
            tenant_id=tenant_id,
            kind=scope.kind,
            scope_key=scope.key,
            document_key=document_key(target.document_id),
            activity_id=scope.activity_id,
            agent_ifi=scope.agent_ifi,
            registration=scope.registration,
            document_id=target.document_id,
            agent=target.agent,
            content=content,
            content_type=content_type,
            etag=etag,
            updated=now,
        )
    else:
        Document.objects.filter(pk=current.pk).update(
            content=content, content_type=content_type, etag=etag, updated=now
        )
    return etag


def _int_or_raw(text: str):
    # orjson writes integers up to 64 bits; a longer one keeps its text.
    return int(text) if len(text) < 19 else orjson.Fragment(text)


def _no_constant(text: str):
    raise ValueError(f"{text} is not JSON")


def _json_object(content: bytes, what: str) -> dict:
    """The document as a JSON Object whose numbers keep their exact text.

    A merge must not change the values it keeps: parsed into floats, a price of
    ``0.1000000000000000055511`` or an integer past 64 bits would come back rounded. The
    standard library parser hands every non-integer number, and long integers, over as
    text, and orjson writes those fragments back as they were.
    """
    try:
        value = json.loads(
            content, parse_float=orjson.Fragment, parse_int=_int_or_raw,
            parse_constant=_no_constant,
        )  # fmt: skip
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"{what} is not valid JSON") from None
    except RecursionError:
        # The standard parser recurses once per level of nesting.
        raise BadRequest(f"{what} nests too deeply to be merged") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is not a JSON Object")
    return value


def _after_write(credential_id: int | None) -> None:
    """Read-your-writes for the writing credential when replicas serve reads."""
    if credential_id is None or not settings.READ_REPLICA_ALIASES:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            credential_wrote(credential_id, cursor.fetchone()[0])
    except Exception:
        logger.warning("read-your-writes position not recorded", exc_info=True)
