"""Enqueueing (ARCHITECTURE.md §7: rows written in the same transaction as the change they
announce) and the after-commit, debounced nudge of the relay."""

from __future__ import annotations

import time
import uuid

import orjson
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from outbox import services
from outbox.events import ATTEMPT_FINISHED, ATTEMPT_STARTED, OutboxEvent
from outbox.models import OutboxRecord
from outbox.services import (
    OutboxError,
    outbox_enqueue,
    outbox_enqueue_many,
    relay_nudge,
    shard_of,
)
from tests.outbox import builders
from tests.outbox.conftest import TENANT, TENANT_ID, received


def event(key="attempt:1", event_type=ATTEMPT_STARTED, **overrides) -> OutboxEvent:
    fields = {
        "event_type": event_type,
        "tenant_id": TENANT_ID,
        "tenant_slug": TENANT,
        "aggregate_key": key,
        "payload": builders.BUILDERS.get(event_type, builders.attempt_started)(),
    }
    return OutboxEvent(**(fields | overrides))


def failed_business_change(events: list[OutboxEvent]) -> None:
    """A business transaction (or savepoint) that enqueues events, then fails."""
    with transaction.atomic():
        outbox_enqueue_many(events)
        raise RuntimeError("the business change failed")


@pytest.mark.django_db
def test_an_event_is_written_in_the_callers_transaction_with_every_column():
    payload = builders.attempt_finished()
    with transaction.atomic():
        event_id = outbox_enqueue(
            event_type=ATTEMPT_FINISHED, tenant_id=TENANT_ID, tenant_slug=TENANT,
            aggregate_key="attempt:9", payload=payload,
        )  # fmt: skip
    row = OutboxRecord.objects.get()
    assert row.event_id == event_id
    assert (row.event_type, row.schema_version, row.tenant_id, row.tenant_slug) == (
        ATTEMPT_FINISHED, 1, TENANT_ID, TENANT,
    )  # fmt: skip
    assert row.aggregate_key == "attempt:9"
    assert row.shard == shard_of("attempt:9")
    assert orjson.loads(row.payload) == payload
    assert row.created_at is not None
    assert (row.attempts, row.next_try_at, row.last_error, row.sent_at) == (0, None, "", None)
    assert row.state == "pending"


@pytest.mark.django_db(transaction=True)
def test_enqueueing_outside_a_transaction_raises_and_writes_nothing():
    with pytest.raises(TransactionManagementError):
        outbox_enqueue(
            event_type=ATTEMPT_STARTED, tenant_id=TENANT_ID, tenant_slug=TENANT,
            aggregate_key="attempt:1", payload=builders.attempt_started(),
        )  # fmt: skip
    with pytest.raises(TransactionManagementError):
        outbox_enqueue_many([event()])
    assert OutboxRecord.objects.count() == 0


@pytest.mark.django_db
def test_an_event_id_enqueued_twice_is_one_row():
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, "attempt:1/started")
    with transaction.atomic():
        outbox_enqueue_many([event(event_id=event_id), event(event_id=event_id)])
        outbox_enqueue(
            event_type=ATTEMPT_STARTED, tenant_id=TENANT_ID, tenant_slug=TENANT,
            aggregate_key="attempt:1", payload=builders.attempt_started(), event_id=event_id,
        )  # fmt: skip
    assert OutboxRecord.objects.filter(event_id=event_id).count() == 1


@pytest.mark.django_db
def test_many_events_are_one_statement_and_keep_the_given_order():
    events = [event(key=f"attempt:{index % 7}", event_id=uuid.uuid4()) for index in range(300)]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        outbox_enqueue_many(events)
    assert len(queries.captured_queries) == 1
    rows = list(OutboxRecord.objects.order_by("seq").values_list("event_id", flat=True))
    assert rows == [item.event_id for item in events]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"event_type": "attempt.paused"}, "unknown event type"),
        ({"schema_version": 2}, "unknown event type"),
        ({"tenant_slug": "acme.eu"}, "subject token"),
        ({"tenant_slug": "*"}, "subject token"),
        ({"aggregate_key": ""}, "aggregate key"),
        ({"aggregate_key": "attempt:1\r\nNats-Msg-Id: x"}, "aggregate key"),
        ({"payload": ["not", "a", "dict"]}, "JSON object"),
    ],
)
def test_events_that_cannot_be_relayed_are_refused(overrides, message):
    with transaction.atomic(), pytest.raises(OutboxError, match=message):
        outbox_enqueue_many([event(), event(**overrides)])
    assert OutboxRecord.objects.count() == 0


@pytest.mark.django_db
def test_the_nudge_is_registered_once_per_transaction_and_runs_only_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        outbox_enqueue_many([event()])
        outbox_enqueue_many([event(), event()])
        outbox_enqueue(
            event_type=ATTEMPT_STARTED, tenant_id=TENANT_ID, tenant_slug=TENANT,
            aggregate_key="attempt:2", payload=builders.attempt_started(),
        )  # fmt: skip
    assert callbacks == [relay_nudge]


@pytest.mark.django_db
def test_a_rolled_back_savepoint_takes_its_nudge_and_rows_with_it(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError):
            failed_business_change([event()])
        assert connection.run_on_commit == []
        outbox_enqueue_many([event(key="attempt:other")])
    assert callbacks == [relay_nudge]
    assert list(OutboxRecord.objects.values_list("aggregate_key", flat=True)) == ["attempt:other"]


def _broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("outbox")
    return client


def test_nudges_are_debounced_to_one_celery_send_per_interval(settings):
    settings.PROGRESS_OUTBOX_NUDGE_DEBOUNCE = 0.3
    broker = _broker()
    for _ in range(50):
        relay_nudge()
    assert broker.llen("outbox") == 1
    time.sleep(0.35)
    relay_nudge()
    relay_nudge()
    assert broker.llen("outbox") == 2
    task = orjson.loads(broker.lindex("outbox", 0))
    assert task["headers"]["task"] == "outbox.tasks.outbox_relay"
    broker.delete("outbox")


def test_a_nudge_that_cannot_be_sent_is_harmless(settings, monkeypatch, caplog):
    from outbox import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.outbox_relay, "apply_async", broker_down)
    relay_nudge()  # does not raise
    assert "nudge not sent" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_business_transaction_publishes_nothing(relay_config, make_relay):
    with pytest.raises(RuntimeError):
        failed_business_change([event(), event(key="attempt:2")])
    assert OutboxRecord.objects.count() == 0
    result = make_relay().drain()
    assert result.published == 0
    assert received(relay_config) == []


def test_shards_are_stable_and_spread():
    assert shard_of("attempt:1", 16) == shard_of("attempt:1", 16)
    assert len({shard_of(f"attempt:{index}", 16) for index in range(200)}) == 16
    assert services.shard_of("x", 1) == 0
