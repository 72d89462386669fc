"""One exception handler: client errors name the problem, unexpected ones say nothing."""

import orjson
import pytest
from django.test import Client

from tests.conftest import XAPIClient

pytestmark = pytest.mark.urls("tests.lrs.urls_failing")


def test_unexpected_error_is_a_generic_500_without_details(credential, log_lines):
    """Communication §3.2.s2.b9: 500 for an unexpected exception; its text, which may hold
    secrets, never reaches the client."""
    response = XAPIClient(credential).get("/xapi/explodes")
    assert response.status_code == 500
    body = orjson.loads(response.content)
    assert body["error"] == "internal_error"
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["requestId"] == response["X-Request-ID"]
    assert response["X-Experience-API-Version"] == "2.0.0"
    logged = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == body["requestId"]
    assert logged[0]["tenant"] == credential.tenant.slug
    assert "RuntimeError" in logged[0]["exception"]


def test_error_outside_the_api_views_is_a_generic_500_too(db, log_lines, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.lrs.urls_failing.ExplodingMiddleware"]
    client = Client(raise_request_exception=False)
    response = client.get("/xapi/middleware-explodes")
    assert response.status_code == 500
    assert "internal-detail" not in response.content.decode()
    assert orjson.loads(response.content)["error"] == "internal_error"
    logged = [line for line in log_lines() if line["level"] == "ERROR"]
    assert logged
    assert "KeyError" in logged[0]["exception"]


def test_unknown_url_is_a_json_404(db):
    response = Client().get("/no/such/thing")
    assert response.status_code == 404
    assert orjson.loads(response.content)["error"] == "not_found"


def test_a_plain_request_id_from_the_caller_is_kept(db):
    response = Client().get("/xapi/about", HTTP_X_REQUEST_ID="abc-123.x_y")
    assert response["X-Request-ID"] == "abc-123.x_y"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "new\nline", "semi;colon"])
def test_an_unsafe_request_id_is_replaced(db, incoming):
    response = Client().get("/xapi/about", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_unknown_host_is_a_json_400(db):
    response = Client(HTTP_HOST="evil.example").get("/xapi/about")
    assert response.status_code == 400
    assert orjson.loads(response.content)["error"] == "bad_request"
