"""Request bodies as Django sees them (progress_site.request_body): chunked ones (RFC 9112
§7.1, which HTTP/1.1 servers must accept) whole, incomplete ones (§8) refused, stalled ones
timed out; the WSGI wrapper on its own, then through a real gunicorn."""

from __future__ import annotations

import http.client
import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import UnreadablePostError

from documents.models import Document
from progress_site.request_body import RequestBodyMiddleware
from tests.conftest import basic
from tests.factories import CredentialFactory

ROOT = Path(__file__).resolve().parents[2]
_APP = "progress_site.wsgi:application"


class _Trickle(io.RawIOBase):
    """A de-chunking reader that returns at most ``step`` bytes a read, as a server's may."""

    def __init__(self, data: bytes, step: int):
        self._data, self._step = data, step

    def read(self, size=-1):
        size = self._step if size is None or size < 0 else min(size, self._step)
        part, self._data = self._data[:size], self._data[size:]
        return part


def _seen_by_django(environ) -> tuple[bytes, dict]:
    """Run the wrapper in front of an app that reads the body as Django does."""
    seen = {}

    def app(environ, start_response):
        seen["body"] = WSGIRequest(environ).body
        start_response("204 No Content", [])
        return []

    wrapper = RequestBodyMiddleware(app, limit=1024, timeout=None)
    wrapper(environ, lambda status, headers: None)
    return seen["body"], environ


def _environ(body_stream, **extra) -> dict:
    return {
        "REQUEST_METHOD": "PUT",
        "PATH_INFO": "/xapi/activities/state",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": body_stream,
        "wsgi.url_scheme": "http",
    } | extra


@pytest.mark.parametrize("coding", ["chunked", "gzip, chunked", "Chunked"])
def test_a_chunked_body_reaches_django_whole_with_its_length(coding):
    data = b'{"bookmark": "page-7"}' * 20
    body, environ = _seen_by_django(_environ(_Trickle(data, 7), HTTP_TRANSFER_ENCODING=coding))
    assert body == data
    assert environ["CONTENT_LENGTH"] == str(len(data))


def test_a_body_as_long_as_its_content_length_is_read_as_sent():
    body, _ = _seen_by_django(_environ(_Trickle(b'{"a": 1}', 3), CONTENT_LENGTH="8"))
    assert body == b'{"a": 1}'


def test_a_body_that_ends_before_its_content_length_is_unreadable():
    """RFC 9112 §8: a message shorter than its Content-Length is incomplete; Django must not
    get the part that came as if it were the body."""
    with pytest.raises(UnreadablePostError):
        _seen_by_django(_environ(io.BytesIO(b'{"a": 1'), CONTENT_LENGTH="8"))


def test_a_chunked_body_over_the_limit_reaches_django_with_a_length_over_it():
    """At most limit + 1 bytes are held; the length says the body is too large, so the
    request is refused as a declared oversized one is (413)."""
    environ = _environ(io.BytesIO(b"x" * 5000), HTTP_TRANSFER_ENCODING="chunked")
    wrapper = RequestBodyMiddleware(lambda e, s: [], limit=1024, timeout=None)
    wrapper(environ, lambda status, headers: None)
    assert environ["CONTENT_LENGTH"] == "1025"
    assert len(environ["wsgi.input"].read()) == 1025


# --- through gunicorn -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db):
    """The progress-api role as deployed (gunicorn, its config, ``progress_site.wsgi``) on
    the test database."""
    db = connection.settings_dict
    port = _free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "progress_site.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "PROGRESS_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "PROGRESS_REQUEST_BODY_TIMEOUT": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "progress_site/gunicorn_conf.py", _APP],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("gunicorn exited: " + process.stderr.read().decode()[-3000:])
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)


def _chunks(data: bytes, size: int = 5):
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.slow
def test_chunked_writes_store_what_was_sent_through_gunicorn(gunicorn):
    """RFC 9112 §7.1 and Communication §2.2.s2 / §2.1.1: a State document and a statement
    sent in chunks, with no Content-Length, are stored byte for byte as sent."""
    credential = CredentialFactory()
    headers = {
        "Authorization": basic(credential.key),
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    state = "/xapi/activities/state?" + urlencode(
        {
            "activityId": "https://example.com/chunked",
            "agent": orjson.dumps({"mbox": "mailto:chunked@example.com"}).decode(),
            "stateId": "bookmark",
        }
    )
    document = b'{"bookmark": "page-7"}'
    statement_id = str(uuid.uuid4())
    statement = orjson.dumps(
        {
            "actor": {"mbox": "mailto:chunked@example.com"},
            "verb": {"id": "https://example.com/verbs/read"},
            "object": {"id": "https://example.com/chunked"},
        }
    )
    client = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=10)
    client.request("PUT", state, _chunks(document), headers, encode_chunked=True)
    response = client.getresponse()
    response.read()
    assert response.status == 204
    client.request(
        "PUT",
        f"/xapi/statements?statementId={statement_id}",
        _chunks(statement),
        headers,
        encode_chunked=True,
    )
    response = client.getresponse()
    assert response.status == 204, response.read()
    response.read()
    client.request("GET", state, headers=headers)
    response = client.getresponse()
    assert response.status == 200
    assert response.read() == document
    client.request("GET", f"/xapi/statements?statementId={statement_id}", headers=headers)
    response = client.getresponse()
    assert response.status == 200
    assert orjson.loads(response.read())["object"]["id"] == "https://example.com/chunked"


def _raw(port: int, data: bytes, *, half_close: bool) -> bytes:
    """Send ``data`` on a fresh connection, optionally close our side, read the answer:
    its head, then as much body as its ``Content-Length`` says (the two can arrive in
    separate segments)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""

        def more() -> bool:
            nonlocal answer
            part = sock.recv(65536)
            answer += part
            return bool(part)

        while b"\r\n\r\n" not in answer:
            if not more():
                return answer
        head, _, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)) and more():
            body = answer.partition(b"\r\n\r\n")[2]
        return answer


@pytest.mark.slow
@pytest.mark.parametrize("half_close", [True, False], ids=["closed", "stalled"])
def test_a_body_cut_short_is_a_400_and_stores_nothing_through_gunicorn(gunicorn, half_close):
    """RFC 9112 §8: a body that ends (the client closed its side) or stops (no byte for
    PROGRESS_REQUEST_BODY_TIMEOUT seconds) before its Content-Length is incomplete: 400, and
    no part of it is stored."""
    credential = CredentialFactory()
    state = "/xapi/activities/state?" + urlencode(
        {
            "activityId": "https://example.com/cut",
            "agent": orjson.dumps({"mbox": "mailto:cut@example.com"}).decode(),
            "stateId": "cut",
        }
    )
    head = (
        f"PUT {state} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {basic(credential.key)}\r\nX-Experience-API-Version: 1.0.3\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    answer = _raw(gunicorn, head + b'{"part": "of it', half_close=half_close)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"did not arrive whole" in answer or not half_close
    assert not Document.objects.exists()


@pytest.mark.slow
def test_a_request_line_as_long_as_a_more_link_can_be_is_served_through_gunicorn(gunicorn):
    """Data §2.5.s3.b1: the LRS's own more link must be usable, and it repeats the query's
    filters, long IRIs included: a 6 KB request line is served, not refused with 414."""
    credential = CredentialFactory()
    activity = "https://example.com/" + "a" * 6000
    client = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=10)
    client.request(
        "GET",
        "/xapi/statements?" + urlencode({"activity": activity}),
        headers={"Authorization": basic(credential.key), "X-Experience-API-Version": "1.0.3"},
    )
    response = client.getresponse()
    assert response.status == 200, response.read()[:300]
