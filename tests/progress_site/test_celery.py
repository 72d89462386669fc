"""The Celery app: named queues, routing, serialization, and a real worker."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from partitions.services import month_add, month_table
from partitions.tasks import partitions_ensure
from progress_site.celery import QUEUES, app

ROOT = Path(__file__).resolve().parents[2]


def test_queues_are_the_named_workloads():
    assert QUEUES == ("projection", "outbox", "partitions", "default")
    assert {queue.name for queue in app.conf.task_queues} == set(QUEUES)


def test_tasks_are_json_acks_late_and_prefetch_one():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


def test_each_app_routes_to_its_own_queue():
    router = app.amqp.router
    assert router.route({}, "partitions.tasks.partitions_ensure")["queue"].name == "partitions"
    assert router.route({}, "attempts.tasks.anything")["queue"].name == "projection"
    assert router.route({}, "outbox.tasks.anything")["queue"].name == "outbox"
    assert router.route({}, "elsewhere.tasks.anything")["queue"].name == "default"


def test_beat_schedule_names_registered_tasks():
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


def drop_month(month: dt.date) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {month_table(month)}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_partitions_task_runs_on_a_real_worker_of_the_partitions_queue():
    """The task travels through the real Redis broker to a worker that consumes only
    ``partitions``, and creates the months ahead in the (test) database."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    horizon = month_add(
        dt.datetime.now(dt.UTC).date().replace(day=1), settings.PROGRESS_PARTITION_MONTHS_AHEAD
    )
    drop_month(horizon)
    db = connection.settings_dict
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "progress_site.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "progress_site",
            "worker",
            "-Q",
            "partitions",
            "--pool",
            "solo",
            "-n",
            f"test-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        partitions_ensure.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [month_table(horizon)])
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.3)
        else:
            worker.terminate()
            pytest.fail(
                "worker did not create the month: " + worker.communicate()[1].decode()[-2000:]
            )
    finally:
        worker.terminate()
        worker.wait(30)
        drop_month(horizon)
