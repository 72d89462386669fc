"""``X-Experience-API-Consistent-Through`` on responses the Statement view never made.

Communication §2.1.3.s2.b5: the LRS MUST include the header, in ISO 8601 combined date and
time format, on all responses to Statements Resource requests. The view sets it on its own
answers (tested with the resource); these are the answers made around it.
"""

import datetime as dt

import pytest
from django.test import Client

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


def assert_consistent_through(response) -> None:
    value = dt.datetime.fromisoformat(response[CONSISTENT_THROUGH])
    assert value.tzinfo is not None
    assert value <= dt.datetime.now(dt.UTC)


def test_a_cors_preflight_of_the_statement_resource_carries_consistent_through(db):
    response = Client().options(
        "/xapi/statements",
        HTTP_ORIGIN="https://content.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_consistent_through(response)


def test_a_refused_host_header_on_the_statement_resource_carries_consistent_through(db):
    response = Client(HTTP_HOST="not allowed").get("/xapi/statements")
    assert response.status_code == 400
    assert_consistent_through(response)


def test_a_failure_outside_the_view_carries_consistent_through(db, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.lrs.urls_failing.ExplodingMiddleware"]
    client = Client(raise_request_exception=False)
    response = client.get("/xapi/statements", HTTP_X_EXPLODE="1")
    assert response.status_code == 500
    assert b"internal-detail" not in response.content
    assert_consistent_through(response)


@pytest.mark.parametrize("path", ["/xapi/about", "/xapi/activities/state"])
def test_other_resources_do_not_carry_consistent_through(db, path):
    response = Client().options(
        path, HTTP_ORIGIN="https://content.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert CONSISTENT_THROUGH not in response
