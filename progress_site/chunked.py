"""Request bodies sent with ``Transfer-Encoding: chunked``, made readable by Django.

HTTP/1.1 clients may stream a body in chunks with no ``Content-Length`` (RFC 9112 §7.1;
TinCanJava's RemoteLRS sends every write so). gunicorn de-chunks it into ``wsgi.input``,
but Django reads a body only as far as ``CONTENT_LENGTH`` says, and with none reads
nothing: a statement would be "not valid JSON", a State document stored empty under a
204. This WSGI wrapper reads such a body to its end first, then hands Django the bytes
with their length, so every view sees the request as if it had been sent in one piece.

Invariants: a request with a ``Content-Length`` is passed through untouched; at most
``limit + 1`` bytes are ever held, so a chunked body larger than the LRS accepts reaches
Django with a length over the limit and is answered 413 exactly as a declared one is.
"""

from __future__ import annotations

import io

_READ_SIZE = 64 * 1024


class ChunkedBodyMiddleware:
    """WSGI middleware around the Django application (``progress_site.wsgi``)."""

    def __init__(self, app, *, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        if environ.get("CONTENT_LENGTH") in (None, "") and _is_chunked(environ):
            body = _read_to_end(environ["wsgi.input"], self.limit + 1)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _is_chunked(environ) -> bool:
    codings = environ.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in (coding.strip().lower() for coding in codings.split(","))


def _read_to_end(stream, at_most: int) -> bytes:
    """Up to ``at_most`` bytes of ``stream``, reading until it ends (a server's de-chunking
    reader may return fewer bytes than asked before the end)."""
    parts: list[bytes] = []
    held = 0
    while held < at_most:
        part = stream.read(min(_READ_SIZE, at_most - held))
        if not part:
            break
        parts.append(part)
        held += len(part)
    return b"".join(parts)
