"""The relay end to end (ARCHITECTURE.md §7): real PostgreSQL, real NATS JetStream.

Every test has a stream and subject prefix of its own (``relay_config``); committed rows
are relayed by ``Relay.drain`` on the test thread, or by a second thread with its own
database connection where a test needs two workers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
import threading
import time
import uuid

import nats
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from outbox import metrics
from outbox import relay as relay_module
from outbox.events import (
    ATTEMPT_FINISHED,
    ATTEMPT_STARTED,
    COMPLETION_RECORDED,
    EVENT_TYPES,
    STATEMENT_STORED,
    OutboxEvent,
)
from outbox.models import OutboxRecord
from outbox.relay import ensure_stream, stream_config
from outbox.schemas import validate_event
from outbox.services import outbox_delete_expired, outbox_enqueue_many
from tests.outbox import builders
from tests.outbox.conftest import TENANT, TENANT_ID, received, run_async, stream_info
from tests.outbox.proxy import CuttableProxy

pytestmark = pytest.mark.django_db(transaction=True)


def events_for(keys: list[str], per_key: int, types=EVENT_TYPES) -> list[OutboxEvent]:
    """``per_key`` events of each key, interleaved across keys as a projector writes them."""
    out = []
    for index in range(per_key):
        for key in keys:
            event_type = types[index % len(types)]
            out.append(
                OutboxEvent(
                    event_type=event_type,
                    tenant_id=TENANT_ID,
                    tenant_slug=TENANT,
                    aggregate_key=key,
                    payload=builders.BUILDERS[event_type](),
                    event_id=uuid.uuid4(),
                )
            )
    return out


def commit(events: list[OutboxEvent]) -> None:
    with transaction.atomic():
        outbox_enqueue_many(events)


def order_by_key(messages) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for message in sorted(messages, key=lambda m: m.stream_seq):
        by_key.setdefault(message.body["aggregate_key"], []).append(message.body["id"])
    return by_key


def expected_order(events: list[OutboxEvent]) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for event in events:
        by_key.setdefault(event.aggregate_key, []).append(str(event.event_id))
    return by_key


def test_a_relay_run_publishes_every_event_with_subject_headers_and_envelope(
    relay_config, make_relay
):
    events = events_for([f"attempt:{index}" for index in range(5)], per_key=8)
    commit(events)
    result = make_relay().drain()
    assert (result.published, result.rejected, result.outage) == (40, 0, False)

    got = received(relay_config)
    assert len(got) == 40
    rows = {row.event_id: row for row in OutboxRecord.objects.all()}
    by_id = {message.headers["Nats-Msg-Id"]: message for message in got}
    for event in events:
        message = by_id[str(event.event_id)]
        row = rows[event.event_id]
        assert message.subject == f"{relay_config.subject_prefix}.{event.event_type}.{TENANT}"
        assert message.headers == {
            "Nats-Msg-Id": str(event.event_id),
            "Progress-Event-Type": event.event_type,
            "Progress-Schema-Version": "1",
            "Progress-Tenant": TENANT,
            "Progress-Aggregate-Key": event.aggregate_key,
        }
        body = message.body
        assert set(body) == {"id", "type", "schema_version", "tenant", "aggregate_key",
                             "occurred_at", "data"}  # fmt: skip
        assert (body["id"], body["type"], body["schema_version"]) == (
            str(event.event_id), event.event_type, 1,
        )  # fmt: skip
        assert (body["tenant"], body["aggregate_key"]) == (TENANT, event.aggregate_key)
        assert body["occurred_at"].endswith("Z")
        assert dt.datetime.fromisoformat(body["occurred_at"]) == row.created_at
        assert body["data"] == event.payload
        validate_event(body["type"], body["schema_version"], body["data"])
        assert row.sent_at is not None
    assert order_by_key(got) == expected_order(events)
    assert metrics.BACKLOG._value.get() == 0


def test_a_crash_between_the_acks_and_the_mark_republishes_with_the_same_id_seen_once(
    relay_config, make_relay, monkeypatch
):
    """The relay dies after JetStream acked a batch and before the rows were marked sent:
    the rows stay pending, a restarted relay publishes them again with the same
    Nats-Msg-Id, and JetStream keeps one copy of each."""
    events = events_for(["attempt:1", "attempt:2", "attempt:3"], per_key=4)
    commit(events)
    acked_before_crash = []

    def crash(seqs):
        acked_before_crash.extend(seqs)
        raise RuntimeError("relay process killed")

    monkeypatch.setattr(relay_module, "after_acks_hook", crash)
    with pytest.raises(RuntimeError, match="killed"):
        make_relay().drain()
    assert acked_before_crash
    assert OutboxRecord.objects.filter(sent_at__isnull=False).count() == 0
    assert stream_info(relay_config).state.messages == len(acked_before_crash)

    monkeypatch.setattr(relay_module, "after_acks_hook", None)
    assert make_relay().drain().published == len(events)
    got = received(relay_config)
    assert sorted(message.headers["Nats-Msg-Id"] for message in got) == sorted(
        str(event.event_id) for event in events
    )
    assert stream_info(relay_config).state.messages == len(events)
    assert order_by_key(got) == expected_order(events)


def test_a_nats_outage_delays_delivery_without_loss_duplicates_or_reordering(
    relay_config, make_relay
):
    """NATS goes away (the relay's connection dropped, reconnections refused) with events
    waiting: the drain stops without holding the outage against the events, and once NATS
    is back every event is delivered once, in order per aggregate key."""
    proxy = CuttableProxy()
    relay = make_relay(servers=[proxy.url], ack_timeout=1.0)
    keys = [f"attempt:{index}" for index in range(6)]
    first = events_for(keys, per_key=3)
    commit(first)
    assert relay.drain().published == len(first)

    proxy.cut()
    second = events_for(keys, per_key=5)
    commit(second)
    during = relay.drain(budget=10)
    assert during.outage
    assert OutboxRecord.objects.filter(sent_at__isnull=True).count() >= 1
    assert not OutboxRecord.objects.filter(attempts__gt=0).exists()

    proxy.restore()
    deadline = time.monotonic() + 30
    while OutboxRecord.objects.filter(sent_at__isnull=True).exists():
        assert time.monotonic() < deadline, "not delivered after NATS came back"
        relay.drain(budget=5)
    got = received(relay_config)
    assert len(got) == len(first) + len(second)
    assert len({message.headers["Nats-Msg-Id"] for message in got}) == len(got)
    assert order_by_key(got) == expected_order(first + second)
    assert not OutboxRecord.objects.filter(attempts__gt=0).exists()


def test_two_relay_workers_at_once_keep_the_order_of_each_aggregate(
    relay_config, make_relay, settings
):
    """Two workers (threads, each with its own database connection and NATS connection)
    drain the same table concurrently; shards are taken with an advisory lock, so each
    aggregate's events reach the stream in the order they were enqueued, once each. Small
    batches, two shards that both workers start on, and three rounds give them many
    chances to collide."""
    settings.PROGRESS_OUTBOX_SHARDS = 2
    keys = [f"attempt:{index}" for index in range(40)]
    relays = [make_relay(batch=10, shards=2), make_relay(batch=10, shards=2)]
    for relay in relays:
        slow_down(relay)
        relay._next_shard = 0
    everything: list[OutboxEvent] = []
    published = [0, 0]
    for _ in range(3):
        events = events_for(keys, per_key=10)
        commit(events)
        everything += events
        results = run_concurrently([relay.drain for relay in relays])
        assert sum(result.published for result in results) == len(events)
        for index, result in enumerate(results):
            published[index] += result.published
    assert all(count > 0 for count in published), "one worker did all the work"
    got = received(relay_config)
    assert len(got) == len(everything)
    assert order_by_key(got) == expected_order(everything)


def slow_down(relay, seconds: float = 0.03) -> None:
    """Hold each wave a random moment before it is published, so a worker's batch stays
    claimed (and its shard locked) while the other worker tries the same shard, and a
    later claim may well be published first if nothing kept it from being claimed."""
    publish = relay._publish
    rng = random.Random(7)

    async def slowly(messages):
        await asyncio.sleep(rng.uniform(0, seconds))
        return await publish(messages)

    relay._publish = slowly


def run_concurrently(functions) -> list:
    """Call each function in its own thread (so with its own database connection), all
    released at once; their results in order."""
    results: list = [None] * len(functions)
    errors: list = []
    start = threading.Barrier(len(functions))

    def work(index: int) -> None:
        try:
            start.wait()
            results[index] = functions[index]()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def set_max_message_size(config, size: int) -> None:
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        stream = stream_config(config)
        stream.max_msg_size = size
        await js.update_stream(stream)
        await nc.close()

    run_async(go())


def large(event_type=ATTEMPT_STARTED, key="attempt:A") -> OutboxEvent:
    return OutboxEvent(
        event_type=event_type, tenant_id=TENANT_ID, tenant_slug=TENANT, aggregate_key=key,
        payload=builders.attempt_started(learner="mbox:mailto:" + "x" * 3000 + "@example.org"),
        event_id=uuid.uuid4(),
    )  # fmt: skip


def make_rejecting_relay(make_relay, relay_config, **overrides):
    """A relay whose stream refuses messages over 1 KiB (a real JetStream rejection)."""
    relay = make_relay(**overrides)
    relay.connect()
    set_max_message_size(relay_config, 1024)
    return relay


def command(*args) -> str:
    out = io.StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


def test_a_rejected_event_backs_off_then_dies_holding_back_only_its_aggregate(
    relay_config, make_relay
):
    relay = make_rejecting_relay(
        make_relay, relay_config, max_attempts=3, backoff_base=30.0, backoff_max=45.0
    )
    a1 = large(key="attempt:A")
    a2, b1 = events_for(["attempt:A", "attempt:B"], per_key=1)
    commit([a1, a2, b1])

    result = relay.drain()
    assert (result.published, result.rejected) == (1, 1)
    row = OutboxRecord.objects.get(event_id=a1.event_id)
    assert row.attempts == 1
    assert "maximum" in row.last_error
    backoff = (row.next_try_at - timezone.now()).total_seconds()
    assert 25 < backoff <= 30
    assert row.dead_at is None
    assert [m.body["id"] for m in received(relay_config)] == [str(b1.event_id)]

    # Backing off: neither the event nor the later one of its aggregate is tried.
    assert relay.drain().published == 0
    assert OutboxRecord.objects.get(event_id=a1.event_id).attempts == 1

    for attempt in (2, 3):
        OutboxRecord.objects.filter(event_id=a1.event_id).update(next_try_at=timezone.now())
        relay.drain()
        row = OutboxRecord.objects.get(event_id=a1.event_id)
        assert row.attempts == attempt
    # Capped: base * 2 ** (3 - 1) = 120 s, the maximum is 45 s.
    assert 40 < (row.next_try_at - timezone.now()).total_seconds() <= 45
    assert row.dead_at is not None
    assert row.state == "dead"
    OutboxRecord.objects.filter(event_id=a1.event_id).update(next_try_at=timezone.now())
    assert relay.drain().published == 0  # dead: not tried again, and A2 still waits
    assert OutboxRecord.objects.get(event_id=a2.event_id).sent_at is None
    relay.drain()
    assert metrics.DEAD._value.get() == 1
    assert metrics.BACKLOG._value.get() == 1  # A2

    listed = command("list", "--dead")
    assert str(a1.event_id) in listed
    assert "dead" in listed
    assert str(a2.event_id) not in listed
    assert str(a2.event_id) in command("list", "--tenant", TENANT)

    set_max_message_size(relay_config, -1)  # the operator fixes the cause
    assert "due again" in command("retry", str(a1.event_id))
    assert OutboxRecord.objects.get(event_id=a1.event_id).state == "pending"
    assert relay.drain().published == 2
    assert [m.body["id"] for m in received(relay_config)] == [
        str(b1.event_id), str(a1.event_id), str(a2.event_id),
    ]  # fmt: skip


def test_discarding_a_dead_event_lets_its_aggregate_flow_again(relay_config, make_relay):
    relay = make_rejecting_relay(make_relay, relay_config, max_attempts=1)
    a1 = large(key="attempt:A")
    (a2,) = events_for(["attempt:A"], per_key=1)
    commit([a1, a2])
    assert relay.drain().rejected == 1
    assert OutboxRecord.objects.get(event_id=a1.event_id).state == "dead"

    with pytest.raises(Exception, match="only dead events can be discarded"):
        command("discard", str(a2.event_id))
    assert "discarded" in command("discard", str(a1.event_id))
    assert relay.drain().published == 1
    assert [m.body["id"] for m in received(relay_config)] == [str(a2.event_id)]
    assert OutboxRecord.objects.get(event_id=a1.event_id).state == "discarded"


def test_retry_all_dead_makes_every_dead_event_due(relay_config, make_relay):
    relay = make_rejecting_relay(make_relay, relay_config, max_attempts=1)
    dead = [large(key=f"attempt:{index}") for index in range(3)]
    commit(dead)
    relay.drain()
    assert OutboxRecord.objects.filter(dead_at__isnull=False).count() == 3
    set_max_message_size(relay_config, -1)
    assert "3 dead events are due again" in command("retry", "--all-dead")
    assert relay.drain().published == 3


def test_the_sweep_deletes_sent_rows_past_retention_only(relay_config, make_relay):
    commit(events_for(["attempt:old", "attempt:new", "attempt:pending"], per_key=1))
    make_relay().drain()
    now = timezone.now()
    OutboxRecord.objects.filter(aggregate_key="attempt:old").update(
        sent_at=now - dt.timedelta(days=2)
    )
    OutboxRecord.objects.filter(aggregate_key="attempt:pending").update(
        sent_at=None, created_at=now - dt.timedelta(days=3)
    )
    assert outbox_delete_expired(retention_seconds=86400) == 1
    assert sorted(OutboxRecord.objects.values_list("aggregate_key", flat=True)) == [
        "attempt:new", "attempt:pending",
    ]  # fmt: skip
    assert outbox_delete_expired(retention_seconds=86400) == 0


def test_the_stream_is_created_idempotently_with_the_duplicate_window(relay_config):
    async def ensure(config):
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        await ensure_stream(nc.jetstream(), config)
        await nc.close()

    run_async(ensure(relay_config))
    run_async(ensure(relay_config))
    info = stream_info(relay_config)
    assert info.config.subjects == [f"{relay_config.subject_prefix}.>"]
    assert info.config.duplicate_window == pytest.approx(600.0)
    assert settings.PROGRESS_OUTBOX_DUPLICATE_WINDOW == 600.0

    # A changed setting is applied to the existing stream.
    import dataclasses

    run_async(ensure(dataclasses.replace(relay_config, duplicate_window=120.0)))
    assert stream_info(relay_config).config.duplicate_window == pytest.approx(120.0)


def test_the_duplicate_window_drops_a_second_publish_of_an_event_id(relay_config):
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        await ensure_stream(js, relay_config)
        subject = f"{relay_config.subject_prefix}.{COMPLETION_RECORDED}.{TENANT}"
        first = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "event-1"})
        again = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "event-1"})
        await nc.close()
        return first, again

    first, again = run_async(go())
    assert not first.duplicate
    assert again.duplicate
    assert stream_info(relay_config).state.messages == 1


def test_events_of_one_aggregate_are_never_in_flight_together(relay_config, make_relay):
    """Within a batch a key's events go out one wave apart: the next is published only once
    JetStream acked the previous one."""
    relay = make_relay()
    waves: list[list[str]] = []
    publish = relay._publish

    async def recording(messages):
        waves.append([headers["Progress-Aggregate-Key"] for _, _, headers in messages])
        return await publish(messages)

    relay._publish = recording
    commit(events_for(["attempt:1", "attempt:2"], per_key=3, types=(STATEMENT_STORED,)))
    assert relay.drain().published == 6
    assert all(len(wave) == len(set(wave)) for wave in waves)
    assert sum(len(wave) for wave in waves) == 6


def test_latency_and_published_counters_are_recorded(relay_config, make_relay):
    before = metrics.PUBLISHED.labels(ATTEMPT_FINISHED)._value.get()
    samples = _histogram_count()
    commit(events_for(["attempt:1"], per_key=2, types=(ATTEMPT_FINISHED,)))
    make_relay().drain()
    assert metrics.PUBLISHED.labels(ATTEMPT_FINISHED)._value.get() == before + 2
    assert _histogram_count() == samples + 2


def _histogram_count() -> float:
    for metric in metrics.PUBLISH_LATENCY.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                return sample.value
    return 0.0


def test_nothing_is_held_against_events_when_nats_cannot_be_reached(relay_config, make_relay):
    commit(events_for(["attempt:1"], per_key=2))
    result = make_relay(servers=["nats://127.0.0.1:1"]).drain()
    assert result.outage
    assert result.published == 0
    assert not OutboxRecord.objects.filter(attempts__gt=0).exists()
