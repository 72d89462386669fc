"""Browser clients: learning content calls /xapi/ from another origin."""

import pytest
from django.test import Client

ORIGIN = "https://content.example.org"


def test_preflight_is_answered_without_credentials(db):
    """A browser's preflight carries no Authorization header; it must not meet a 401."""
    response = Client().options(
        "/xapi/statements",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,x-experience-api-version",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    allowed = response["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "x-experience-api-version", "if-match"):
        assert header in allowed
    assert "PUT" in response["Access-Control-Allow-Methods"]
    assert response["X-Experience-API-Version"] == "2.0.0"


def test_responses_expose_the_xapi_headers_to_scripts(credential):
    response = Client().get(
        "/xapi/about", HTTP_ORIGIN=ORIGIN, HTTP_X_EXPERIENCE_API_VERSION="1.0.3"
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    exposed = response["Access-Control-Expose-Headers"]
    assert "X-Experience-API-Version" in exposed
    assert "X-Experience-API-Consistent-Through" in exposed
    assert "ETag" in exposed


def test_only_configured_origins_are_allowed_when_a_list_is_set(db, settings):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    allowed = Client().get("/xapi/about", HTTP_ORIGIN=ORIGIN)
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    other = Client().get("/xapi/about", HTTP_ORIGIN="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize("path", ["/admin/login/", "/healthz"])
def test_cors_is_limited_to_the_xapi(db, path):
    response = Client().get(path, HTTP_ORIGIN=ORIGIN)
    assert "Access-Control-Allow-Origin" not in response


def test_host_errors_under_xapi_carry_the_version_header(db):
    response = Client(HTTP_HOST="evil.example").get("/xapi/statements")
    assert response.status_code == 400
    assert response["X-Experience-API-Version"] == "2.0.0"
