"""The Statement resource against the request rules of xAPI Communication §1-§3, for 1.0.3 and
2.0 clients: the alternate request syntax, parameters, attachments, signed statements and
error codes, each test named after the requirement it checks."""

import hashlib
import uuid
from urllib.parse import quote, urlencode

import orjson
import pytest
from django.test import Client

from statements.xapi.multipart import AttachmentPart, render_multipart
from tests.conftest import XAPIClient, basic
from tests.statements import builders
from tests.statements.test_attachments_api import SIGNATURE, declaration, jws

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/xapi/statements"


def body(response):
    return orjson.loads(response.content)


def post(client: XAPIClient, documents, **extra):
    return client.request(
        "post", URL, data=orjson.dumps(documents), content_type="application/json", **extra
    )


def stored_ids(client: XAPIClient) -> set[str]:
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return {statement["id"] for statement in body(response)["statements"]}


@pytest.fixture(params=["1.0.3", "2.0.0"])
def client(request, credential):
    return XAPIClient(credential, version=request.param)


def tunnel(credential, method: str, form_body: bytes):
    """A 1.0.3 alternate-syntax request (§1.3) whose form is sent as the bytes given."""
    return Client().post(
        f"{URL}?method={method}",
        data=form_body,
        content_type="application/x-www-form-urlencoded",
    )


def tunnel_form(credential, **fields) -> bytes:
    form = {"Authorization": basic(credential.key), "X-Experience-API-Version": "1.0.3"}
    return urlencode(form | fields).encode()


def put_form(credential, document: dict, **fields) -> bytes:
    """The form of a tunnelled 1.0.3 ``PUT`` of ``document`` under its own id."""
    return tunnel_form(
        credential,
        content=orjson.dumps(document).decode(),
        statementId=document["id"],
        **{"Content-Type": "application/json"} | fields,
    )


# --- alternate request syntax (§1.3) -----------------------------------------------------------


def test_alternate_request_larger_than_the_lrs_accepts_is_a_413(credential, settings):
    """Communication §3.2.s3.b11: "The LRS MUST reject with 413 Request Entity Too Large
    status any request rejected by the LRS where the size of the ... Statement ... is larger
    than the maximum allowed", a statement tunnelled through the alternate syntax (§1.3)
    included; the answer is not a 500, and nothing is stored."""
    # As deployed: the framework's own body limit is the LRS's (progress_site.settings).
    settings.PROGRESS_MAX_REQUEST_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    document = builders.statement(result={"response": "x" * 4096})
    form = tunnel_form(
        credential, content=orjson.dumps(document).decode(), **{"Content-Type": "application/json"}
    )
    response = tunnel(credential, "POST", form)
    assert response.status_code == 413, response.content
    assert body(response)["error"] == "payload_too_large"
    assert document["id"] not in stored_ids(XAPIClient(credential))


def test_a_body_over_djangos_upload_limit_is_a_413_not_a_500(client, settings):
    """Communication §3.2.s3.b11 (413 for a request over the LRS's size limit) and §3.2.s3.b1
    ("the error code most appropriate to the error condition"): a body the framework itself
    refuses to read for its size is a 413 with a JSON body, not an unexpected error."""
    settings.PROGRESS_MAX_REQUEST_BYTES = 1 << 20
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    document = builders.statement(result={"response": "x" * 4096})
    response = post(client, document)
    assert response.status_code == 413, response.content
    assert body(response)["error"] == "payload_too_large"
    assert document["id"] not in stored_ids(client)


def test_alternate_content_is_interpreted_as_utf8(credential):
    """Communication §1.3.s3.b5: "The LRS MUST interpret this content as a UTF-8 string";
    §1.4.s1.b1: "All strings MUST be encoded and interpreted as UTF-8". Non-ASCII content
    arrives intact; bytes that are not UTF-8 are a 400 rather than replaced, which would store
    a statement other than the one sent."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement(result={"response": "Übung zur Größe: ½ — 学习"})
    form = tunnel_form(
        credential,
        content=orjson.dumps(document).decode(),
        statementId=document["id"],
        **{"Content-Type": "application/json"},
    )
    assert tunnel(credential, "PUT", form).status_code == 204
    fetched = reader.get(f"{URL}?statementId={document['id']}")
    assert body(fetched)["result"]["response"] == document["result"]["response"]

    broken = builders.statement(result={"response": "RESPONSE"})
    content = quote(orjson.dumps(broken).decode()).replace("RESPONSE", "caf%E9")
    raw = tunnel_form(credential, statementId=broken["id"]) + b"&content=" + content.encode()
    response = tunnel(credential, "PUT", raw)
    assert response.status_code == 400, response.content
    assert "UTF-8" in body(response)["message"]
    assert reader.get(f"{URL}?statementId={broken['id']}").status_code == 404


def test_alternate_request_names_one_method(credential):
    """Communication §1.3.s3.b2: "The intended xAPI method MUST be included as the value of
    the 'method' query string parameter", one method: two values are a 400 naming it, and
    neither call is made."""
    document = builders.statement()
    form = tunnel_form(
        credential,
        content=orjson.dumps(document).decode(),
        statementId=document["id"],
        **{"Content-Type": "application/json"},
    )
    response = tunnel(credential, "GET&method=PUT", form)
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "method"
    reader = XAPIClient(credential, version="1.0.3")
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 404


def test_alternate_head_answers_as_get_without_a_body(credential):
    """Communication §1.3 with §1.1.s3.b1: a HEAD tunnelled through the alternate syntax is
    answered as the GET would be, with the message body omitted."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    assert post(reader, document).status_code == 200
    form = tunnel_form(credential, statementId=document["id"])
    head = tunnel(credential, "HEAD", form)
    get = tunnel(credential, "GET", form)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    # The tunnel came as a POST, whose answer is read by its length: a non-zero one over
    # an empty body would leave the client waiting for bytes that never come.
    assert head["Content-Length"] == "0"
    assert head["Last-Modified"] == get["Last-Modified"]
    assert "X-Experience-API-Consistent-Through" in head


def test_alternate_form_headers_stand_in_for_headers_the_request_lacks(credential):
    """Communication §1.3.s3.b6: the Learning Record Provider "MAY include any header
    parameters ... which are expected to appear in the HTTP header as form parameters";
    §1.3.s3.b7: the LRS treats them as header parameters. A form field that repeats a header
    of the request with the same value is that header; the form's Content-Type describes the
    content (§1.3.s3.b10)."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    form = put_form(credential, document)
    response = Client().post(
        f"{URL}?method=PUT",
        data=form,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
        HTTP_AUTHORIZATION=basic(credential.key),
    )
    assert response.status_code == 204, response.content
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("X-Experience-API-Version", "0.8"),
        ("X-Experience-API-Version", "2.0.0"),
        ("Authorization", "Basic bm9ib2R5Om5vdGhpbmc="),
    ],
)
def test_alternate_form_header_that_contradicts_the_request_header_is_a_400(
    credential, field, value
):
    """Communication §1.3.s3.b7: the form's header fields are header parameters, so a field
    naming another value than the request's own header of that name leaves two values for
    one header: 400 naming the field (without echoing either value), and nothing stored.
    (A 0.8 version would be refused by itself, §3.3.s3.b4; the tunnel is refused either way
    under 2.0, ARCHITECTURE.md §8.)"""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    form = put_form(credential, document, **{field: value})
    headers = {
        "HTTP_X_EXPERIENCE_API_VERSION": "1.0.3",
        "HTTP_AUTHORIZATION": basic(credential.key),
    }
    response = Client().post(
        f"{URL}?method=PUT", data=form, content_type="application/x-www-form-urlencoded", **headers
    )
    assert response.status_code == 400, response.content
    error = body(response)
    assert error["path"] == field
    assert value not in error["message"]
    assert basic(credential.key) not in error["message"]
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 404


def test_alternate_form_that_gives_a_header_twice_differently_is_a_400(credential):
    """Communication §1.3.s3.b7: each of the form's header fields is one header parameter;
    two values for one leave the request ambiguous: 400 naming the field, nothing stored."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    form = put_form(credential, document) + b"&X-Experience-API-Version=1.0.1"
    response = tunnel(credential, "PUT", form)
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "X-Experience-API-Version"
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 404


@pytest.mark.parametrize("form_type", ["application/x-www-form-urlencoded", "text/plain", ""])
def test_alternate_form_is_read_whatever_form_type_a_limited_client_can_send(credential, form_type):
    """Communication §1.3.s3.b9: the request's Content-Type of
    application/x-www-form-urlencoded is a SHOULD*, which adopters are to support others
    not following (About §"SHOULD*"): a tunnel sent as text/plain, or untyped, is read as
    the form it is."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    form = put_form(credential, document)
    response = Client().generic(
        "POST", f"{URL}?method=PUT", data=form, content_type=form_type, CONTENT_TYPE=form_type
    )
    assert response.status_code == 204, response.content
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 200


def test_alternate_request_whose_body_is_typed_as_something_else_is_a_400(credential):
    """Communication §1.3.s3.b4/b6: the tunnel's body is a form; one declared as another
    media type (a JSON statement posted with ?method=PUT) is not one. 400, nothing stored."""
    reader = XAPIClient(credential, version="1.0.3")
    document = builders.statement()
    response = Client().post(
        f"{URL}?method=PUT",
        data=orjson.dumps(document),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(credential.key),
        HTTP_X_EXPERIENCE_API_VERSION="1.0.3",
    )
    assert response.status_code == 400, response.content
    assert "form" in body(response)["message"]
    assert reader.get(f"{URL}?statementId={document['id']}").status_code == 404


# --- query parameters (§2.1, §3.2) -------------------------------------------------------------


def test_put_with_a_repeated_statement_id_is_rejected(client):
    """Communication §2.1.1 (statementId: the "Id of Statement to record", one String) and
    §3.2.s3.b1/b7: two statementId values do not name the statement to store; the request is
    a 400 naming the parameter, and nothing is stored under either id."""
    document = builders.statement(with_id=False)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    response = client.request(
        "put",
        f"{URL}?statementId={first}&statementId={second}",
        data=orjson.dumps(document),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "statementId"
    for statement_id in (first, second):
        assert client.get(f"{URL}?statementId={statement_id}").status_code == 404


@pytest.mark.parametrize("value", ["\u0663", "\u00b2", "\uff15", "1\u0660"])
def test_limit_is_a_nonnegative_integer_in_ascii_digits(client, value):
    """Communication §2.1.3 (limit: "Nonnegative Integer") and Data §2.2.s4.b4 (parameter
    values validated as the same types in Statements, where an integer is JSON's): digits of
    other scripts are not an integer here; 400 naming the parameter."""
    response = client.get(f"{URL}?{urlencode({'limit': value})}")
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "limit"


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("offset", ["-00:00", "-0000"])
def test_since_and_until_with_an_unknown_offset_are_rejected(client, name, offset):
    """Data §2.2.s4.b4: "The LRS SHALL validate parameter values to the same standards
    required for values of the same types in Statements"; a Statement's timestamp with the
    negative zero offset (RFC 3339 §4.3: the offset is unknown) is refused, so is a since or
    until that has it; "+00:00" and "Z" are accepted."""
    response = client.get(f"{URL}?{urlencode({name: f'2020-01-01T00:00:00{offset}'})}")
    assert response.status_code == 400, response.content
    assert body(response)["path"] == name
    for utc in ("+00:00", "Z"):
        assert (
            client.get(f"{URL}?{urlencode({name: f'2020-01-01T00:00:00{utc}'})}").status_code == 200
        )


# --- attachments (§1.5.2) ----------------------------------------------------------------------


def post_with_content_length(client: XAPIClient, document: dict, data: bytes):
    """POST ``document`` with ``data`` as its one attachment part, whose headers include a
    Content-Length of the data's size."""
    content = b"".join(
        [
            b"--xyz\r\nContent-Type: application/json\r\n\r\n",
            orjson.dumps(document),
            b"\r\n--xyz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n",
            b"Content-Length: " + str(len(data)).encode() + b"\r\n",
            b"X-Experience-API-Hash: " + hashlib.sha256(data).hexdigest().encode() + b"\r\n\r\n",
            data,
            b"\r\n--xyz--\r\n",
        ]
    )
    return client.request("post", URL, data=content, content_type="multipart/mixed; boundary=xyz")


def test_attachment_length_must_match_the_parts_content_length(client):
    """Communication §1.5.2.s2.b2.b7: "Where parameters have a corresponding property within
    the attachment Object ..., and both the parameter and property are specified for a given
    Attachment, the value of these parameters and properties MUST match": a part's
    Content-Length and its declaration's ``length``. A mismatch is a 400 naming the property
    and stores nothing; equal ones are accepted."""
    data = b"here is a simple attachment"
    wrong = builders.statement(attachments=[declaration(data) | {"length": len(data) + 5}])
    response = post_with_content_length(client, wrong, data)
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "attachments[0].length"
    assert wrong["id"] not in stored_ids(client)

    right = builders.statement(attachments=[declaration(data)])
    response = post_with_content_length(client, right, data)
    assert response.status_code == 200, response.content


# --- signed statements (Data §2.6) -------------------------------------------------------------


def put_signed(client, document: dict, token: bytes, statement_id: str):
    signed = document | {"attachments": [declaration(token, "application/octet-stream", SIGNATURE)]}
    content, content_type = render_multipart(
        orjson.dumps(signed),
        [AttachmentPart(hashlib.sha256(token).hexdigest(), "application/octet-stream", token)],
    )
    return client.request(
        "put", f"{URL}?statementId={statement_id}", data=content, content_type=content_type
    )


def test_put_of_a_signed_statement_whose_payload_names_another_id_is_rejected(client, signer):
    """Data §2.6.s5.b3.b2: the LRS MUST "Validate that the original Statement is logically
    equivalent to the received Statement"; a PUT gives the received statement the id of its
    statementId (Communication §2.1.1), so a JWS payload naming another id was signed for
    another statement: 400, nothing stored. Signed for that id, it is accepted."""
    key, certificate = signer
    document = builders.statement()
    token = jws(document, key, certificate)
    unsigned = {k: v for k, v in document.items() if k != "id"}
    elsewhere = str(uuid.uuid4())
    response = put_signed(client, unsigned, token, elsewhere)
    assert response.status_code == 400, response.content
    assert body(response)["path"] == "attachments[0]"
    assert client.get(f"{URL}?statementId={elsewhere}").status_code == 404

    assert put_signed(client, unsigned, token, document["id"]).status_code == 204
    assert client.get(f"{URL}?statementId={document['id']}").status_code == 200
