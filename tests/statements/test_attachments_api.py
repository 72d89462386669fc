"""Attachments and signed statements over HTTP (Communication §1.5.2, Data §2.4.11, §2.6)."""

import base64
import hashlib

import orjson
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from statements.xapi.multipart import AttachmentPart, parse_statement_request, render_multipart
from tests.conftest import XAPIClient
from tests.statements import builders

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/xapi/statements"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def declaration(data: bytes, content_type="text/plain", usage="https://example.org/usage/notes"):
    return {
        "usageType": usage,
        "display": {"en-US": "attachment"},
        "contentType": content_type,
        "length": len(data),
        "sha2": hashlib.sha256(data).hexdigest(),
    }


def send(client, documents, parts):
    body, content_type = render_multipart(
        orjson.dumps(documents),
        [AttachmentPart(hashlib.sha256(d).hexdigest(), t, d) for t, d in parts],
    )
    return client.request("post", URL, data=body, content_type=content_type)


@pytest.fixture
def client(credential):
    return XAPIClient(credential)


def test_statement_with_an_attachment_is_stored_and_served_as_multipart(client):
    """§1.5.2: multipart/mixed with the statement first, then the attachment parts; GET with
    attachments=true answers multipart/mixed with the data (§2.1.3)."""
    data = b"notes taken during the session\r\n--not-a-boundary\r\n"
    document = builders.statement(attachments=[declaration(data)])
    response = send(client, [document], [("text/plain", data)])
    assert response.status_code == 200, response.content
    fetched = client.get(f"{URL}?statementId={document['id']}&attachments=true")
    assert fetched["Content-Type"].startswith("multipart/mixed")
    statement_json, parts = parse_statement_request(
        fetched.content, fetched["Content-Type"], max_attachment_bytes=1 << 20
    )
    assert orjson.loads(statement_json)["id"] == document["id"]
    assert [p.data for p in parts] == [data]
    plain = client.get(f"{URL}?statementId={document['id']}")
    assert plain["Content-Type"] == "application/json"


def test_file_url_attachments_need_no_part(client):
    """§1.5.2: attachments with a fileUrl may be sent as plain JSON."""
    attachment = declaration(b"elsewhere") | {"fileUrl": "https://files.example.org/a.txt"}
    document = builders.statement(attachments=[attachment])
    response = client.request(
        "post", URL, data=orjson.dumps([document]), content_type="application/json"
    )
    assert response.status_code == 200


def test_raw_attachment_declared_without_its_part_is_rejected(client):
    document = builders.statement(attachments=[declaration(b"missing")])
    response = client.request(
        "post", URL, data=orjson.dumps([document]), content_type="application/json"
    )
    assert response.status_code == 400
    assert orjson.loads(response.content)["path"].startswith("[0].attachments[0]")


def test_part_whose_hash_does_not_match_is_rejected(client):
    data = b"original"
    document = builders.statement(attachments=[declaration(data)])
    body, content_type = render_multipart(
        orjson.dumps([document]),
        [AttachmentPart(hashlib.sha256(data).hexdigest(), "text/plain", b"tampered")],
    )
    response = client.request("post", URL, data=body, content_type=content_type)
    assert response.status_code == 400


def test_attachment_over_the_size_limit_is_a_413(client, settings):
    """§3.2.s3.b11: 413 when an attachment is larger than the LRS accepts."""
    settings.PROGRESS_MAX_ATTACHMENT_BYTES = 1024
    data = b"x" * 4096
    document = builders.statement(attachments=[declaration(data)])
    assert send(client, [document], [("text/plain", data)]).status_code == 413


def test_attachments_are_stored_once_per_tenant(client):
    data = b"shared certificate template"
    first = builders.statement(attachments=[declaration(data)])
    second = builders.statement(attachments=[declaration(data)])
    assert send(client, [first, second], [("text/plain", data)]).status_code == 200
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM statement_attachments WHERE sha2 = %s",
            [hashlib.sha256(data).hexdigest()],
        )
        assert cursor.fetchone()[0] == 1


# --- signed statements ------------------------------------------------------------------------


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jws(payload: dict, key, certificate, alg="RS256") -> bytes:
    header = {
        "alg": alg,
        "x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()],
    }
    signing_input = b64url(orjson.dumps(header)) + b"." + b64url(orjson.dumps(payload))
    algorithm = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
    signature = key.sign(signing_input, padding.PKCS1v15(), algorithm)
    return signing_input + b"." + b64url(signature)


def signed(document: dict, token: bytes) -> dict:
    return document | {"attachments": [declaration(token, "application/octet-stream", SIGNATURE)]}


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_a_correctly_signed_statement_is_accepted(client, signer, alg):
    """Data §2.6: JWS with RS256/384/512 whose payload matches the statement."""
    key, certificate = signer
    document = builders.statement()
    token = jws(document, key, certificate, alg)
    response = send(client, [signed(document, token)], [("application/octet-stream", token)])
    assert response.status_code == 200, response.content


def test_a_signature_over_other_content_is_rejected(client, signer):
    """Data §2.6: the LRS MUST reject a statement whose JWS payload does not match it."""
    key, certificate = signer
    document = builders.statement()
    token = jws(document | {"verb": {"id": "http://example.org/verbs/other"}}, key, certificate)
    response = send(client, [signed(document, token)], [("application/octet-stream", token)])
    assert response.status_code == 400
    assert "does not match" in orjson.loads(response.content)["message"]


def test_a_signature_that_does_not_verify_is_rejected(client, signer):
    key, certificate = signer
    document = builders.statement()
    token = jws(document, key, certificate)
    forged = token[:-8] + (b"AAAAAAAA" if not token.endswith(b"AAAAAAAA") else b"BBBBBBBB")
    response = send(client, [signed(document, forged)], [("application/octet-stream", forged)])
    assert response.status_code == 400
