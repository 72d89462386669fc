"""Request bodies as Django must see them: whole, or refused.

A WSGI wrapper around the Django application (``progress_site.wsgi``), for three things
gunicorn leaves to the application and Django does not do:

- **Chunked bodies.** HTTP/1.1 clients may stream a body in chunks with no
  ``Content-Length`` (RFC 9112 §7.1; TinCanJava's RemoteLRS sends every write so).
  gunicorn de-chunks it into ``wsgi.input``, but Django reads a body only as far as
  ``CONTENT_LENGTH`` says, and with none reads nothing: a statement would be "not valid
  JSON", a State document stored empty under a 204. Such a body is read to its end first
  and handed over with its length. At most ``limit + 1`` bytes are held, so one larger than
  the LRS accepts reaches Django with a length over the limit and is answered 413 exactly as
  a declared one is.
- **Bodies shorter than their Content-Length.** A client that closes its side of the
  connection mid-body leaves a message that is incomplete (RFC 9112 §8), yet the server's
  reader just ends early; Django would store the part that came. Reading past the end of
  the stream before the declared length now raises ``UnreadablePostError``, which the API
  answers 400 and which stores nothing.
- **Stalled bodies.** A client that stops sending mid-body would hold a worker thread for
  good: the connection's socket gets ``PROGRESS_REQUEST_BODY_TIMEOUT`` seconds per read
  while the application handles the request, after which the read fails as above.

A request whose body is complete is passed through as sent.
"""

from __future__ import annotations

import io

from django.http import UnreadablePostError

_READ_SIZE = 64 * 1024


class RequestBodyMiddleware:
    """WSGI middleware: see the module docstring."""

    def __init__(self, app, *, limit: int, timeout: float | None):
        self.app = app
        self.limit = limit
        self.timeout = timeout

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is not None and self.timeout:
            sock.settimeout(self.timeout)
        declared = environ.get("CONTENT_LENGTH")
        if declared in (None, ""):
            if _is_chunked(environ):
                body = _read_to_end(environ["wsgi.input"], self.limit + 1)
                environ["CONTENT_LENGTH"] = str(len(body))
                environ["wsgi.input"] = io.BytesIO(body)
        elif declared.isdigit() and int(declared) > 0:
            environ["wsgi.input"] = _Exactly(environ["wsgi.input"], int(declared))
        return self.app(environ, start_response)


class _Exactly:
    """A body stream that must deliver ``length`` bytes: an end before that is an error.

    ``read(n)`` returns ``n`` bytes (or what is left of the body) or raises, as Django's
    own reader expects of ``wsgi.input``: a server's reader may return fewer bytes a call.
    """

    def __init__(self, stream, length: int):
        self._stream = stream
        self._left = length

    def read(self, size: int = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        parts: list[bytes] = []
        while want > 0:
            data = self._stream.read(want)
            if not data:
                raise UnreadablePostError("the request body ended before its Content-Length")
            parts.append(data)
            want -= len(data)
            self._left -= len(data)
        return b"".join(parts)

    def readline(self, size: int = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        if want == 0:
            return b""
        data = self._stream.readline(want)
        if not data:
            raise UnreadablePostError("the request body ended before its Content-Length")
        self._left -= len(data)
        return data


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
