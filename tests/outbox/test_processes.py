"""The relay as it runs in production: the Celery task on a real worker of queue ``outbox``
(through the real Redis broker), the periodic sweep, and ``manage.py outbox relay``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction

from outbox import services
from outbox.events import ATTEMPT_STARTED, OutboxEvent
from outbox.models import OutboxRecord
from outbox.services import outbox_enqueue_many
from outbox.tasks import outbox_relay, outbox_sweep
from progress_site.celery import app
from tests.outbox import builders
from tests.outbox.conftest import TENANT, TENANT_ID, received

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def events(count: int, key: str) -> list[OutboxEvent]:
    return [
        OutboxEvent(
            event_type=ATTEMPT_STARTED,
            tenant_id=TENANT_ID,
            tenant_slug=TENANT,
            aggregate_key=key,
            payload=builders.attempt_started(),
            event_id=uuid.uuid4(),
        )
        for _ in range(count)
    ]


def process_env(config) -> dict:
    db = connection.settings_dict
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "progress_site.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "PROGRESS_OUTBOX_STREAM": config.stream,
        "PROGRESS_OUTBOX_SUBJECT_PREFIX": config.subject_prefix,
        "PROGRESS_OUTBOX_SHARDS": str(config.shards),
        "LOG_LEVEL": "WARNING",
    }


def wait_until_sent(process, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not OutboxRecord.objects.filter(sent_at__isnull=True).exists():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.terminate()
    pytest.fail(f"{what}: not relayed; " + process.communicate()[1].decode()[-3000:])


def test_the_beat_schedule_sweeps_every_few_seconds():
    entry = app.conf.beat_schedule["outbox-sweep"]
    assert entry["task"] == outbox_sweep.name == "outbox.tasks.outbox_sweep"
    assert entry["schedule"] <= 10
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "outbox"


def test_the_relay_task_and_the_sweep_run_on_a_real_worker_of_the_outbox_queue(
    relay_config, settings, monkeypatch
):
    """Committing enqueues a nudge that a worker consuming only ``outbox`` turns into
    published events; with the nudge lost (the broker was unreachable), the sweep delivers."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "progress_site", "worker", "-Q", "outbox",
         "--concurrency", "1", "-n", f"outbox-test-{os.getpid()}@%h", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT, env=process_env(relay_config),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        nudged = events(5, "attempt:nudged")
        with transaction.atomic():
            outbox_enqueue_many(nudged)
        wait_until_sent(worker, "after the nudge")

        def broker_down(*args, **kwargs):
            raise ConnectionError("broker unreachable")

        monkeypatch.setattr(outbox_relay, "apply_async", broker_down)  # the nudge is lost
        services.relay_nudge_reset()
        time.sleep(1.5)  # the first relay task has finished (it lingers for a moment)
        swept = events(3, "attempt:swept")
        with transaction.atomic():
            outbox_enqueue_many(swept)
        time.sleep(1.0)
        assert OutboxRecord.objects.filter(sent_at__isnull=True).count() == 3
        monkeypatch.undo()
        outbox_sweep.delay()
        wait_until_sent(worker, "after the sweep")
    finally:
        worker.terminate()
        worker.wait(30)
    got = received(relay_config)
    assert [m.body["id"] for m in got] == [str(e.event_id) for e in nudged + swept]


def test_the_relay_command_runs_until_sigterm(relay_config):
    relay = subprocess.Popen(
        [sys.executable, "manage.py", "outbox", "relay", "--metrics-port", "0"],
        cwd=ROOT, env=process_env(relay_config),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        batch = events(20, "attempt:1") + events(20, "attempt:2")
        with transaction.atomic():
            outbox_enqueue_many(batch)
        wait_until_sent(relay, "by the relay command")
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(30) == 0, relay.communicate()[1].decode()[-2000:]
    assert len(received(relay_config)) == 40
