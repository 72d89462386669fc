"""/healthz, /readyz and /metrics, against the real PostgreSQL, Redis and NATS."""

import orjson
import pytest
from django.test import Client, override_settings

from tests.conftest import XAPIClient


def test_healthz_answers_without_touching_the_database():
    # No db fixture: pytest-django fails the test on any database access.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert orjson.loads(response.content) == {"status": "ok"}


def test_readyz_is_200_when_postgres_redis_and_nats_answer(db):
    response = Client().get("/readyz")
    body = orjson.loads(response.content)
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "postgres": True,
        "redis": True,
        "nats": True,
    }


@override_settings(NATS_SERVERS=["nats://127.0.0.1:1"])
def test_readyz_is_503_naming_nats_when_it_is_unreachable(db):
    response = Client().get("/readyz")
    body = orjson.loads(response.content)
    assert response.status_code == 503
    assert body["checks"]["nats"]["ok"] is False
    assert body["checks"]["postgres"]["ok"] is True


def test_readyz_is_503_naming_redis_when_it_is_unreachable(db, settings):
    settings.CACHES = {
        "default": settings.CACHES["default"] | {"LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = Client().get("/readyz")
    body = orjson.loads(response.content)
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["nats"]["ok"] is True


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_process_endpoints_answer_whatever_the_host(db, path):
    """Probes and scrapes address the pod by IP, which ALLOWED_HOSTS does not list."""
    assert Client(HTTP_HOST="10.1.2.3").get(path).status_code == 200
    assert Client(HTTP_HOST="10.1.2.3").get("/xapi/about").status_code == 400


def test_process_endpoints_only_answer_reads(db):
    assert Client().post("/healthz").status_code == 405


def test_metrics_count_requests_and_latency_by_route(credential):
    client = XAPIClient(credential)
    client.get("/xapi/activities/state?any=1")
    client.get("/xapi/activities/state")
    text = Client().get("/metrics").content.decode()
    counted = [
        line
        for line in text.splitlines()
        if line.startswith("progress_http_requests_total{")
        and 'route="xapi/activities/state"' in line
        and 'status="400"' in line
    ]
    assert counted, text
    assert float(counted[0].rsplit(" ", 1)[1]) >= 2
    assert (
        'progress_http_request_duration_seconds_bucket{le="0.005",method="GET",route="xapi/statements"}'
        in text
    )
    # Raw paths (with their query strings or ids) never become labels.
    assert "any=1" not in text
