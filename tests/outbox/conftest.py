"""Fixtures for the outbox tests: a JetStream stream and subject prefix of each test's own
(so tests never see each other's messages, deleted afterwards), a relay on them, and a
reader of what the stream holds."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid

import nats
import orjson
import pytest
from django.conf import settings

from outbox.relay import Relay, RelaySettings
from outbox.services import relay_nudge_reset

TENANT_ID = 7
TENANT = "acme"


@dataclasses.dataclass
class Received:
    subject: str
    headers: dict
    body: dict
    stream_seq: int


@pytest.fixture
def relay_config(settings):
    suffix = uuid.uuid4().hex[:10]
    config = RelaySettings.from_django(
        stream=f"TEST_EVENTS_{suffix}",
        subject_prefix=f"test{suffix}.events",
        batch=100,
        shards=4,
        ack_timeout=2.0,
        budget=20.0,
        linger=0.0,
    )
    settings.PROGRESS_OUTBOX_STREAM = config.stream
    settings.PROGRESS_OUTBOX_SUBJECT_PREFIX = config.subject_prefix
    settings.PROGRESS_OUTBOX_SHARDS = config.shards
    yield config
    run_async(_delete_stream(config.stream))


async def _delete_stream(stream: str) -> None:
    nc = await nats.connect(servers=settings.NATS_SERVERS)
    with contextlib.suppress(Exception):  # a test that failed early made none
        await nc.jetstream().delete_stream(stream)
    await nc.close()


@pytest.fixture
def make_relay(relay_config):
    """Relays on the test's stream (``overrides`` change its settings); closed afterwards."""
    relays = []

    def make(**overrides) -> Relay:
        relay = Relay(dataclasses.replace(relay_config, **overrides))
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()


@pytest.fixture(autouse=True)
def _fresh_nudge_debounce():
    relay_nudge_reset()
    yield
    relay_nudge_reset()


def run_async(coroutine):
    return asyncio.run(coroutine)


def received(config: RelaySettings, *, wait: float = 0.5) -> list[Received]:
    """Every message in the test's stream, in stream order, through a fresh consumer."""

    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        out: list[Received] = []
        try:
            await js.stream_info(config.stream)
        except Exception:
            await nc.close()
            return out
        subscription = await js.pull_subscribe(f"{config.subject_prefix}.>", stream=config.stream)
        while True:
            try:
                messages = await subscription.fetch(500, timeout=wait)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            for message in messages:
                out.append(
                    Received(
                        message.subject,
                        dict(message.headers or {}),
                        orjson.loads(message.data),
                        message.metadata.sequence.stream,
                    )
                )
                await message.ack()
        await subscription.unsubscribe()
        await nc.close()
        return out

    return run_async(go())


def stream_info(config: RelaySettings):
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        info = await nc.jetstream().stream_info(config.stream)
        await nc.close()
        return info

    return run_async(go())
