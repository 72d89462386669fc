"""The statements benchmark's lean HTTP client frames responses right on one connection.

It reads responses by hand (``bench.statements_http.Client``), so a framing mistake would
desynchronise a keep-alive connection and every later figure with it. A real HTTP/1.1
server on loopback answers with each framing the benchmark can meet, on one connection.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.statements_http import Client


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args) -> None:
        return None

    def _answer(self, status: int, body: bytes, *, chunked: bool = False) -> None:
        self.send_response(status)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (body[:3], body[3:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self._answer(200, b"chunked body", chunked=True)
            return
        if self.path == "/none":
            self._answer(204, b"")
            return
        self._answer(200, b"by length")

    def do_HEAD(self) -> None:
        self._answer(200, b"by length")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Handler.seen.append(dict(self.headers))
        self._answer(200, body, chunked=True)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(204, b"")


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_each_framing_is_read_whole_and_the_connection_stays_in_step(server):
    client = Client(server, "Basic abc")
    try:
        assert client.request("GET", "/length")[::2] == (200, b"by length")
        first = client._socket
        assert client.request("HEAD", "/length")[::2] == (200, b"")
        assert client.request("POST", "/echo", b'{"a": 1}')[::2] == (200, b'{"a": 1}')
        assert client.request("PUT", "/put", b"{}")[::2] == (204, b"")
        assert client.request("GET", "/none")[::2] == (204, b"")
        assert client.request("GET", "/length")[::2] == (200, b"by length")
        assert client.request("GET", "/chunked")[::2] == (200, b"chunked body")
        # One socket served every request: nothing was left unread between them.
        assert client._socket is first
    finally:
        client.close()


def test_requests_carry_the_credential_the_version_and_the_body_type(server):
    _Handler.seen.clear()
    client = Client(server, "Basic abc")
    try:
        client.request("POST", "/echo", b"[]")
    finally:
        client.close()
    (headers,) = _Handler.seen
    assert headers["Authorization"] == "Basic abc"
    assert headers["X-Experience-API-Version"] == "2.0.0"
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == server
