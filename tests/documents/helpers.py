"""Request and assertion helpers shared by the document resource tests."""

import hashlib

import orjson

VERSIONS = ["1.0.3", "2.0.0"]


def quoted_sha1(content: bytes) -> str:
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


def send(lrs, method, url, content, content_type="application/json", **headers):
    # CONTENT_TYPE is passed explicitly: Django's test client drops it for an empty body.
    return lrs.request(
        method, url, data=content, content_type=content_type, CONTENT_TYPE=content_type, **headers
    )


def put(lrs, url, content=b'{"a": 1}', content_type="application/json", **headers):
    return send(lrs, "put", url, content, content_type, **headers)


def create(lrs, url, content=b'{"a": 1}', content_type="application/json"):
    """PUT a new profile as a client must (Communication §3.1.s3.b1): with If-None-Match."""
    return put(lrs, url, content, content_type, HTTP_IF_NONE_MATCH="*")


def post(lrs, url, content=b'{"a": 1}', content_type="application/json", **headers):
    return send(lrs, "post", url, content, content_type, **headers)


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = orjson.loads(response.content)
    assert body["status"] == status
    assert body["message"]
    return body


def ids_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return orjson.loads(response.content)
