"""progress-ingest: the JetStream pull consumer that feeds ``ingest.services``.

Loop: fetch a batch of about ``batch`` statements with one pull request (``ingest.pull``,
waiting at most ``max_wait``), store it in a worker thread (Django's database code is
synchronous) while the next batch is fetched, publish dead letters, then ack every message
of the batch. A message is acked only once its fate is durable: its statements committed, or
its dead letter accepted by JetStream. Anything short of that leaves it unacked, and
JetStream delivers it again after ``ack_wait``; the statement id registry makes that
harmless (``ingest.contract``: even statements without ids get stable ones).

Outages: with PostgreSQL unreachable the batch is retried with exponential backoff (telling
JetStream the messages are still in progress, so they are not handed out again meanwhile);
with NATS unreachable the client reconnects by itself and fetches back off. SIGTERM stops
the loop after the batch in flight has been stored and acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import nats
from django.conf import settings
from django.db import connections
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError

from ingest import metrics
from ingest.contract import DETAIL_HEADER, REASON_HEADER, SUBJECT_HEADER, Incoming
from ingest.pull import BatchPuller
from ingest.services import DatabaseUnavailable, ingest_batch
from progress_site.gc_tuning import tune_gc_for_batches

logger = logging.getLogger(__name__)

_MAX_BACKOFF = 30.0


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    servers: list[str]
    stream: str
    subject_prefix: str
    durable: str
    deadletter_stream: str
    deadletter_subject: str
    batch: int
    max_wait: float
    ack_wait: float
    max_deliver: int

    @classmethod
    def from_django(cls, **overrides) -> ConsumerSettings:
        values = {
            "servers": settings.NATS_SERVERS,
            "stream": settings.PROGRESS_INGEST_STREAM,
            "subject_prefix": settings.PROGRESS_INGEST_SUBJECT_PREFIX,
            "durable": settings.PROGRESS_INGEST_CONSUMER,
            "deadletter_stream": settings.PROGRESS_DEADLETTER_STREAM,
            "deadletter_subject": settings.PROGRESS_INGEST_DEADLETTER_SUBJECT,
            "batch": settings.PROGRESS_INGEST_BATCH,
            "max_wait": settings.PROGRESS_INGEST_MAX_WAIT,
            "ack_wait": settings.PROGRESS_INGEST_ACK_WAIT,
            "max_deliver": settings.PROGRESS_INGEST_MAX_DELIVER,
        }
        return cls(**(values | overrides))


async def ensure_streams(js, config: ConsumerSettings) -> None:
    """Create or update the ingest stream, its durable consumer and the dead-letter stream.

    Idempotent: every process role may run it at start. The ingest stream is a work queue
    (a message leaves it once acked: the statements table is the record, the stream only a
    buffer), with a two-minute duplicate window for producers that set ``Nats-Msg-Id``.
    """
    streams = [
        api.StreamConfig(
            name=config.stream,
            subjects=[f"{config.subject_prefix}.*"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            duplicate_window=120.0,
            max_age=7 * 86400.0,
        ),
        api.StreamConfig(
            name=config.deadletter_stream,
            subjects=[f"{config.deadletter_subject.rsplit('.', 1)[0]}.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=30 * 86400.0,
        ),
    ]
    for stream in streams:
        try:
            await js.add_stream(stream)
        except BadRequestError:
            await js.update_stream(stream)
    consumer = api.ConsumerConfig(
        durable_name=config.durable,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=config.ack_wait,
        max_deliver=config.max_deliver,
        deliver_policy=api.DeliverPolicy.ALL,
        max_ack_pending=max(4 * config.batch, 1000),
        filter_subject=f"{config.subject_prefix}.*",
    )
    await js.add_consumer(config.stream, consumer)


class IngestConsumer:
    def __init__(self, config: ConsumerSettings) -> None:
        self.config = config
        self.stopping = asyncio.Event()
        # Set once the streams exist and the consumer is bound (thread-safe to wait on).
        self.ready = threading.Event()
        # One thread: its database connection is reused batch after batch.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-db")
        self._nc = None
        self._js = None
        # Statements per message, a moving average (see _fetch_size).
        self._per_message = 1.0

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        config = self.config
        self._nc = await nats.connect(
            servers=config.servers,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            name="progress-ingest",
        )
        self._js = self._nc.jetstream()
        await self._until_done(lambda: ensure_streams(self._js, config), "nats")
        puller = BatchPuller(self._nc, stream=config.stream, durable=config.durable)
        await puller.start()
        self.ready.set()
        pending_task = asyncio.create_task(self._watch_pending())
        backoff = 0.5
        # Pipelined: the batch fetched last is being stored (in the database thread) while
        # the next one is fetched; it is finished (dead letters, acks) once the next fetch
        # returns. At most two batches are unacked at a time.
        in_flight: asyncio.Task | None = None
        try:
            while not self.stopping.is_set():
                try:
                    messages = await puller.fetch(self._fetch_size(), timeout=config.max_wait)
                except Exception:
                    # NATS unreachable or restarting: the client reconnects on its own.
                    metrics.OUTAGES.labels("nats").inc()
                    logger.warning("fetch failed; retrying in %.1fs", backoff, exc_info=True)
                    if in_flight is not None:
                        await in_flight
                        in_flight = None
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
                    continue
                backoff = 0.5
                if in_flight is not None:
                    await in_flight
                    in_flight = None
                if messages:
                    in_flight = asyncio.create_task(self.handle(messages))
            if in_flight is not None:
                await in_flight  # SIGTERM: the batch in flight is finished first
        finally:
            pending_task.cancel()
            # Acks are plain publishes: flush them out, then close.
            with contextlib.suppress(Exception):
                await puller.stop()
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=5)
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._executor.submit(connections.close_all).result()
            self._executor.shutdown()

    def _fetch_size(self) -> int:
        """Messages to fetch so that a batch holds about ``batch`` statements: producers
        that send arrays would otherwise make batches (and latency) many times larger."""
        return max(1, min(self.config.batch, round(self.config.batch / self._per_message)))

    async def handle(self, messages) -> None:
        """Store, dead-letter and ack one fetched batch."""
        started = time.perf_counter()
        metrics.BATCH_SIZE.observe(len(messages))
        incoming = [_incoming(message) for message in messages]
        outcome = await self._store(messages, incoming)
        statements = sum(len(message.statements) for message in incoming)
        self._per_message = 0.7 * self._per_message + 0.3 * max(1.0, statements / len(incoming))
        refused = set()
        for index, reason, detail in outcome:
            message = messages[index]
            try:
                await self._js.publish(
                    self.config.deadletter_subject,
                    message.data,
                    headers=(message.headers or {})
                    | {
                        REASON_HEADER: str(reason),
                        DETAIL_HEADER: detail[:1000],
                        SUBJECT_HEADER: message.subject,
                    },
                )
                metrics.DEADLETTERED.labels(str(reason)).inc()
            except Exception:
                # Not acked: JetStream delivers it again, and it is dead-lettered then.
                logger.warning("dead letter not published", exc_info=True)
                refused.add(index)
        for index, message in enumerate(messages):
            if index not in refused:
                with contextlib.suppress(Exception):
                    await message.ack()
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _store(self, messages, incoming: list[Incoming]):
        """Run ``ingest_batch`` until it decides; returns (index, reason, detail) of the
        dead letters. Waits out a database outage, keeping the messages in progress."""
        loop = asyncio.get_running_loop()
        backoff = 0.5
        while True:
            try:
                outcome = await loop.run_in_executor(self._executor, ingest_batch, incoming)
                break
            except DatabaseUnavailable:
                metrics.OUTAGES.labels("postgresql").inc()
                logger.warning("database unavailable; retrying the batch in %.1fs", backoff)
                for message in messages:
                    with contextlib.suppress(Exception):
                        await message.in_progress()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
        metrics.STORED.inc(outcome.statements_stored)
        positions = {id(message): index for index, message in enumerate(incoming)}
        return [(positions[id(m)], reason, detail) for m, reason, detail in outcome.dead]

    async def _watch_pending(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                info = await self._js.consumer_info(self.config.stream, self.config.durable)
                metrics.PENDING.set(info.num_pending + info.num_ack_pending)
            await asyncio.sleep(5)

    async def _until_done(self, step, dependency: str) -> None:
        backoff = 0.5
        while True:
            try:
                await step()
                return
            except (NotFoundError, BadRequestError):
                raise
            except Exception:
                metrics.OUTAGES.labels(dependency).inc()
                logger.warning("%s not ready; retrying in %.1fs", dependency, backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


def _incoming(message) -> Incoming:
    metadata = message.metadata
    return Incoming(
        subject=message.subject,
        data=message.data,
        headers=dict(message.headers or {}),
        stream=metadata.stream,
        sequence=metadata.sequence.stream,
    )


def run_consumer(config: ConsumerSettings) -> None:
    """Run until SIGTERM or SIGINT, then finish the batch in flight and return."""

    async def main() -> None:
        tune_gc_for_batches()
        consumer = IngestConsumer(config)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, consumer.stop)
        await consumer.run()

    asyncio.run(main())
