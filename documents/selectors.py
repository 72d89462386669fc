"""Reading documents: one by its id, or the ids of a scope changed since a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson

from documents.keys import DocumentScope, document_key, etag_of
from documents.models import Document

# Multiple-document GETs list ids oldest first; the ETag of that list is what a DELETE of
# the whole scope is checked against (documents.services.documents_delete).
IDS_ORDER = ("updated", "document_id")


@dataclass(frozen=True, slots=True)
class StoredDocument:
    content: bytes
    content_type: str
    etag: str
    updated: dt.datetime


def document_get(
    *, tenant_id: int, scope: DocumentScope, document_id: str, using: str = "default"
) -> StoredDocument | None:
    row = (
        Document.objects.using(using)
        .filter(tenant_id=tenant_id, scope_key=scope.key, document_key=document_key(document_id))
        .values_list("content", "content_type", "etag", "updated")
        .first()
    )
    if row is None:
        return None
    content, content_type, etag, updated = row
    return StoredDocument(bytes(content), content_type, etag, updated)


def document_ids(
    *,
    tenant_id: int,
    scope: DocumentScope,
    since: dt.datetime | None = None,
    using: str = "default",
) -> tuple[list[str], dt.datetime | None]:
    """The ids of the scope's documents updated strictly after ``since`` (Communication
    §2.3.s4, §2.6.s4, §2.7.s4: "since ... (exclusive)"), oldest first, and when the newest
    of them changed (None for none)."""
    rows = Document.objects.using(using).filter(tenant_id=tenant_id, scope_key=scope.key)
    if since is not None:
        rows = rows.filter(updated__gt=since)
    # Ordered here, not by PostgreSQL: a database collation other than C would order ids
    # that share an ``updated`` time otherwise than Python does in the DELETE's check, and
    # the list's ETag would stop matching the one a client read.
    found = sorted(rows.values_list("document_id", "updated"), key=lambda row: (row[1], row[0]))
    return [document_id for document_id, _ in found], max((u for _, u in found), default=None)


def ids_body(ids: list[str]) -> bytes:
    """The body of a multiple-document GET: the ids as a JSON array."""
    return orjson.dumps(ids)


def ids_etag(ids: list[str]) -> str:
    """The ETag of a multiple-document GET answering ``ids`` (Communication §3.1.s4.b2:
    the SHA-1 of the body)."""
    return etag_of(ids_body(ids))
