"""The hand-off to the projector: nudges after commit, a real Celery worker, the sweeper."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django_redis import get_redis_connection
from redis.connection import Connection as RedisConnection

from attempts import nudge
from progress_site import redis_batch
from progress_site.celery import app
from tests.attempts import cmi5
from tests.attempts.conftest import queue_size, store, table
from tests.conftest import XAPIClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    """The test broker, emptied, and the nudge mark cleared."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    get_redis_connection("default").delete(nudge._KEY)
    yield client
    client.flushdb()


def queued_tasks(broker) -> list[str]:
    return [orjson.loads(m)["headers"]["task"] for m in broker.lrange("projection", 0, -1)]


def test_a_write_nudges_the_projector_only_after_commit(principal, broker):
    """STYLE.md: enqueue only after commit; a nudge for a rolled-back write would be
    harmless, one sent before commit could run before the rows are visible."""
    with transaction.atomic():
        store(principal, cmi5.Session().launched())
        assert queued_tasks(broker) == []
    assert queued_tasks(broker) == ["attempts.tasks.projection_drain"]


def test_nudges_while_a_drain_is_pending_send_nothing_more(principal, broker, settings):
    settings.PROGRESS_PROJECTION_NUDGE_MS = 60_000  # the mark must not expire mid-test
    for _ in range(5):
        store(principal, cmi5.Session().launched())
    assert queued_tasks(broker) == ["attempts.tasks.projection_drain"]
    nudge.projection_nudge_clear()  # what the task does first when it starts
    store(principal, cmi5.Session().launched())
    assert queued_tasks(broker) == ["attempts.tasks.projection_drain"] * 2


@pytest.mark.parametrize(("backlog", "asked"), [(12, 1), (1, 0)])
def test_a_drain_that_finds_a_backlog_asks_once_for_another_worker(
    principal, broker, settings, backlog, asked
):
    """A drain whose batch comes back at least half full nudges once, so an idle worker
    joins in (at most one drain pending, as for writes); a small backlog asks for none."""
    from attempts.services import projection_drain_run

    settings.PROGRESS_PROJECTION_BATCH = 4
    settings.PROGRESS_PROJECTION_NUDGE_MS = 60_000
    session = cmi5.Session()
    statements = [session.launched()] + [session.progressed() for _ in range(1, backlog)]
    store(principal, *statements)
    broker.flushdb()
    nudge.projection_nudge_clear()
    assert projection_drain_run(budget_seconds=60) == backlog
    assert queue_size() == 0
    assert queued_tasks(broker) == ["attempts.tasks.projection_drain"] * asked


@pytest.mark.parametrize("away", ["redis", "broker"])
def test_a_failing_redis_or_broker_never_fails_the_write(principal, broker, monkeypatch, away):
    """The nudge runs after commit: neither the cache's Redis nor the Celery broker being
    unreachable can fail the write, and the queue row is there for the sweeper."""
    from attempts.tasks import projection_drain

    def broken(*args, **kwargs):
        raise ConnectionError(f"{away} away")

    if away == "redis":
        monkeypatch.setattr(redis_batch, "get_redis_connection", broken)
    else:
        monkeypatch.setattr(projection_drain, "apply_async", broken)
    [statement_id] = store(principal, cmi5.Session().launched())
    assert statement_id
    assert queue_size() == 1
    assert queued_tasks(broker) == []


def test_the_cache_bump_and_the_nudge_share_one_redis_round_trip(principal, broker, monkeypatch):
    """After commit the write talks to the cache's Redis once: the tenant's generation bump
    and the nudge mark go in one pipeline (``progress_site.redis_batch``)."""
    cache_db = get_redis_connection("default").connection_pool.connection_kwargs["db"]
    sent = []
    original = RedisConnection.send_packed_command

    def counting(self, command, check_health=True):
        if self.db == cache_db:
            sent.append(b"".join(command) if isinstance(command, list) else command)
        return original(self, command, check_health)

    monkeypatch.setattr(RedisConnection, "send_packed_command", counting)
    store(principal, cmi5.Session().launched())
    assert len(sent) == 1
    assert b"INCR" in sent[0]
    assert nudge._KEY.encode() in sent[0]
    assert queued_tasks(broker) == ["attempts.tasks.projection_drain"]


def test_the_sweeper_is_scheduled_on_the_projection_queue():
    entry = app.conf.beat_schedule["projection-sweep"]
    assert entry["task"] == "attempts.tasks.projection_sweep"
    assert entry["schedule"] == settings.PROGRESS_PROJECTION_SWEEP_SECONDS
    route = app.amqp.router.route({}, entry["task"])
    assert route["queue"].name == "projection"


@pytest.mark.slow
def test_statements_posted_over_http_are_projected_by_a_real_worker(credential, broker):
    """End to end: POST /xapi/statements commits the statements and their queue rows,
    nudges after commit, and a worker consuming only ``projection`` projects them."""
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "progress_site.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "progress_site", "worker", "-Q", "projection",
         "--pool", "solo", "-n", f"projection-test-{os.getpid()}@%h", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        session = cmi5.Session()
        response = XAPIClient(credential).request(
            "post",
            "/xapi/statements",
            data=orjson.dumps(session.normal()),
            content_type="application/json",
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not table("completions", credential.tenant_id):
            time.sleep(0.2)
        [completion] = table("completions", credential.tenant_id)
        assert completion["basis"] == "completed_and_passed"
        [attempt] = table("attempts", credential.tenant_id)
        assert attempt["status"] == "passed"
        assert queue_size() == 0
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert b"Traceback" not in errors, errors.decode()[-3000:]


def test_the_api_exports_the_projection_lag_and_backlog(principal, client):
    """ARCHITECTURE.md §6: "Lag = age of the oldest unprojected statement; exported as a
    metric", read from the shared queue by whichever pod is scraped."""
    store(principal, cmi5.Session().launched())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE statement_projection_queue SET stored = now() - interval '12 s'")
    body = client.get("/metrics").content.decode()
    lag = next(line for line in body.splitlines() if line.startswith("progress_projection_lag"))
    assert 12 <= float(lag.split()[-1]) < 30
    assert "progress_projection_backlog 1.0" in body


def test_a_projector_worker_serves_its_own_metrics(settings):
    import socket
    import urllib.request

    from attempts import metrics

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.PROGRESS_PROJECTION_METRICS_PORT = port
    metrics._serve_worker_metrics()
    metrics.PROJECTED.inc(3)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    assert "progress_projection_statements_total" in body
