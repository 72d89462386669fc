"""The opaque ``more`` token of a statements query (Data §2.5, ARCHITECTURE.md §4).

A token carries everything needed to continue the query, so nothing is stored server-side:
the normalised query, the keyset position ``(stored, statement_id)`` of the last statement
served, and an expiry. It is signed with a key derived from ``SECRET_KEY`` and bound to the
tenant, so it can be neither forged, altered, nor replayed by another tenant. Data §2.5
requires a ``more`` IRL to work for at least 24 hours; tokens live for seven days.
Paging is keyset, never OFFSET: a page is "the next N after this position", so statements
stored meanwhile never shift later pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson
from django.conf import settings

LIFETIME_SECONDS = 7 * 24 * 3600
_SIGNATURE_BYTES = 16


class CursorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    query: dict
    stored: str  # ISO 8601 with microseconds, as produced by format_timestamp
    statement_id: str


def _key() -> bytes:
    return hashlib.sha256(b"statements-more:" + settings.SECRET_KEY.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cursor_encode(*, tenant_id: int, cursor: Cursor, now: float | None = None) -> str:
    expires = int((now or time.time()) + LIFETIME_SECONDS)
    body = orjson.dumps(
        {"q": cursor.query, "k": [cursor.stored, cursor.statement_id], "e": expires},
        option=orjson.OPT_SORT_KEYS,
    )
    signature = hmac.new(_key(), str(tenant_id).encode() + b"." + body, "sha256").digest()
    return f"{_b64(body)}.{_b64(signature[:_SIGNATURE_BYTES])}"


def cursor_decode(token: str, *, tenant_id: int, now: float | None = None) -> Cursor:
    """The cursor in ``token``; ``CursorError`` if malformed, altered, foreign or expired."""
    try:
        encoded_body, encoded_signature = token.split(".")
        body, signature = _unb64(encoded_body), _unb64(encoded_signature)
    except ValueError:
        raise CursorError("the more token is malformed") from None
    expected = hmac.new(_key(), str(tenant_id).encode() + b"." + body, "sha256").digest()
    if not hmac.compare_digest(signature, expected[:_SIGNATURE_BYTES]):
        raise CursorError("the more token is not valid here")
    data = orjson.loads(body)
    if data["e"] < (now or time.time()):
        raise CursorError("the more token has expired; run the query again")
    stored, statement_id = data["k"]
    return Cursor(query=data["q"], stored=stored, statement_id=statement_id)
