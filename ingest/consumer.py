"""progress-ingest: the JetStream pull consumer that feeds ``ingest.services``.

Loop: fetch a batch of about ``batch`` statements with one pull request (``ingest.pull``,
waiting at most ``max_wait``), store it in a worker thread (Django's database code is
synchronous) while the next batch is fetched, publish dead letters, then ack every message
of the batch. A message is acked only once its fate is durable: its statements committed, or
its dead letter accepted by JetStream. Anything short of that leaves it unacked, and
JetStream delivers it again after ``ack_wait``; the statement id registry makes that
harmless (``ingest.contract``: even statements without ids get stable ones).

Up to ``store_threads`` batches are stored at once, each by a thread of its own with a
database connection of its own. A batch spends about a third of its time waiting on
PostgreSQL (COPY, the id claim, commit), with the GIL released; a second thread validates
and encodes the next batch meanwhile. Concurrent batches are concurrent transactions, as
two consumer processes are: the id registry decides duplicates between them, and nothing
here depends on the order in which they commit.

Outages: with PostgreSQL unreachable the batch is retried with exponential backoff (telling
JetStream the messages are still in progress, so they are not handed out again meanwhile);
with NATS unreachable the client reconnects by itself and fetches back off. SIGTERM stops
the loop after the batch in flight has been stored and acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
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
from ingest.contract import (
    DETAIL_HEADER,
    DROPPED_HEADER,
    REASON_HEADER,
    SHA256_HEADER,
    SUBJECT_HEADER,
    TRUNCATED_HEADER,
    Incoming,
)
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
    store_threads: int

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
            "store_threads": settings.PROGRESS_INGEST_STORE_THREADS,
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
        # The batches being stored, the one being fetched, and room to spare.
        max_ack_pending=max((config.store_threads + 2) * config.batch, 1000),
        filter_subject=f"{config.subject_prefix}.*",
    )
    await js.add_consumer(config.stream, consumer)


class IngestConsumer:
    def __init__(self, config: ConsumerSettings) -> None:
        self.config = config
        self.stopping = asyncio.Event()
        # Set once the streams exist and the consumer is bound (thread-safe to wait on).
        self.ready = threading.Event()
        # One executor of one thread per concurrent batch: each thread's database
        # connection is reused batch after batch, and closed by that same thread.
        self._executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ingest-db-{index}")
            for index in range(max(1, config.store_threads))
        ]
        self._nc = None
        self._js = None
        # Statements per message, a moving average (see _fetch_size).
        self._per_message = 1.0

    def stop(self) -> None:
        self.stopping.set()

    async def _connect(self) -> BatchPuller:
        """A connection, the streams and consumer ensured, and a puller on them."""
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
        return puller

    async def run(self) -> None:
        config = self.config
        puller = await self._connect()
        self.ready.set()
        pending_task = asyncio.create_task(self._watch_pending())
        backoff = 0.5
        # Pipelined: the batches fetched last are being stored (one per database thread)
        # while the next one is fetched; a fetched batch waits for a free thread. Each is
        # finished (dead letters, acks) by its own task. At most ``store_threads`` + 1
        # batches are unacked at a time.
        idle = list(self._executors)
        in_flight: set[asyncio.Task] = set()
        try:
            while not self.stopping.is_set():
                try:
                    messages = await puller.fetch(self._fetch_size(), timeout=config.max_wait)
                except Exception:
                    # NATS unreachable or restarting: the client reconnects on its own.
                    metrics.OUTAGES.labels("nats").inc()
                    logger.warning("fetch failed; retrying in %.1fs", backoff, exc_info=True)
                    await _finish(in_flight, until_idle=len(in_flight))
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
                    if self._nc.is_closed and not self.stopping.is_set():
                        # A connection the server closed for a protocol error is given up
                        # by the client for good: a new one. Unacked messages of the old
                        # one come back after their ack wait and are stored once.
                        logger.warning("NATS connection closed; connecting again")
                        with contextlib.suppress(Exception):
                            await puller.stop()
                        with contextlib.suppress(Exception):
                            puller = await self._connect()
                    continue
                backoff = 0.5
                # Collect what has finished (a failed batch raises here); wait for a
                # thread when none is free.
                await _finish(in_flight, until_idle=1 if messages and not idle else 0)
                if messages:
                    executor = idle.pop()
                    in_flight.add(asyncio.create_task(self._handle_on(executor, messages, idle)))
            # SIGTERM: the batches in flight are finished first.
            await _finish(in_flight, until_idle=len(in_flight))
        finally:
            pending_task.cancel()
            # Acks are plain publishes: flush them out, then close.
            with contextlib.suppress(Exception):
                await puller.stop()
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=5)
            with contextlib.suppress(Exception):
                await self._nc.close()
            for executor in self._executors:
                executor.submit(connections.close_all).result()
                executor.shutdown()

    def _fetch_size(self) -> int:
        """Messages to fetch so that a batch holds about ``batch`` statements: producers
        that send arrays would otherwise make batches (and latency) many times larger."""
        return max(1, min(self.config.batch, round(self.config.batch / self._per_message)))

    async def _handle_on(self, executor, messages, idle: list[ThreadPoolExecutor]) -> None:
        """``handle`` on ``executor``'s thread, back in ``idle`` once the batch is done."""
        try:
            await self.handle(messages, executor)
        finally:
            idle.append(executor)

    async def handle(self, messages, executor: ThreadPoolExecutor | None = None) -> None:
        """Store, dead-letter and ack one fetched batch (stored by ``executor``'s thread,
        the first one when not given)."""
        started = time.perf_counter()
        metrics.BATCH_SIZE.observe(len(messages))
        incoming = [_incoming(message) for message in messages]
        outcome = await self._store(messages, incoming, executor or self._executors[0])
        statements = sum(len(message.statements) for message in incoming)
        self._per_message = 0.7 * self._per_message + 0.3 * max(1.0, statements / len(incoming))
        refused = set()
        for index, reason, detail in outcome:
            message = messages[index]
            headers = deadletter_headers(message.headers, str(reason), detail, message.subject)
            body, headers = fit_deadletter(message.data, headers, self._nc.max_payload)
            try:
                await self._js.publish(self.config.deadletter_subject, body, headers=headers)
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

    async def _store(self, messages, incoming: list[Incoming], executor: ThreadPoolExecutor):
        """Run ``ingest_batch`` until it decides; returns (index, reason, detail) of the
        dead letters. Waits out a database outage, keeping the messages in progress."""
        loop = asyncio.get_running_loop()
        backoff = 0.5
        while True:
            try:
                outcome = await loop.run_in_executor(executor, ingest_batch, incoming)
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


async def _finish(in_flight: set[asyncio.Task], *, until_idle: int) -> None:
    """Wait until at least ``until_idle`` batches have finished (none: only collect those
    already done); a batch that failed raises here, as it would have if awaited alone."""
    finished = 0
    while in_flight and (finished < until_idle or any(task.done() for task in in_flight)):
        done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            in_flight.discard(task)
            finished += 1
            task.result()


# The header names nats-py publishes (RFC 7230 tokens); it receives others.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def deadletter_headers(original: dict | None, reason: str, detail: str, subject: str) -> dict:
    """The headers of a message's dead letter: its own, and why it was refused.

    nats-py receives header names it refuses to publish (``X(1)``, say): copied as they
    are, such a name would make every publish of the dead letter fail, and the message,
    never acked, would come back until its deliveries ran out. Those headers are left out
    and their names listed in ``Progress-Dropped-Headers``. (Values are safe: the publish
    turns line breaks into spaces.)
    """
    headers, dropped = {}, []
    for name, value in (original or {}).items():
        if _HEADER_NAME.fullmatch(name.strip()):
            headers[name] = value
        else:
            dropped.append(name)
    headers |= {REASON_HEADER: reason, DETAIL_HEADER: detail[:1000], SUBJECT_HEADER: subject}
    if dropped:
        headers[DROPPED_HEADER] = ", ".join(dropped)[:1000]
    return headers


def _header_bytes(headers: dict) -> int:
    """The size of ``headers`` as a NATS message carries them (``NATS/1.0`` and a line a
    header, names and values as UTF-8)."""
    lines = sum(len(f"{name}: {value}\r\n".encode()) for name, value in headers.items())
    return len(b"NATS/1.0\r\n\r\n") + lines


# Room for what the client and server add around a message besides its headers and body.
_PAYLOAD_MARGIN = 512


def fit_deadletter(body: bytes, headers: dict, max_payload: int) -> tuple[bytes, dict]:
    """The dead letter's body and headers within the server's ``max_payload``, which
    counts headers and body together: a publish over it makes the server close the
    connection. A body that does not fit is cut to what does, and the headers say so
    (``Progress-Deadletter-Truncated``: the original length) and identify the original
    (``Progress-Original-Sha256``)."""
    room = max_payload - _PAYLOAD_MARGIN - _header_bytes(headers)
    if len(body) <= room:
        return body, headers
    headers = headers | {
        TRUNCATED_HEADER: str(len(body)),
        SHA256_HEADER: hashlib.sha256(body).hexdigest(),
    }
    room = max(0, max_payload - _PAYLOAD_MARGIN - _header_bytes(headers))
    return body[:room], headers


def _incoming(message) -> Incoming:
    stream, sequence = stream_position(message)
    return Incoming(
        subject=message.subject,
        data=message.data,
        headers=dict(message.headers or {}),
        stream=stream,
        sequence=sequence,
    )


def stream_position(message) -> tuple[str, int]:
    """(stream, stream sequence) of a JetStream delivery, read off its reply subject:
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>``
    or, from servers that add a domain and an account hash after ``$JS.ACK``, the same
    shifted by two (and a trailing token). What nats-py's ``Msg.metadata`` reads, without
    its dataclasses and timestamp: about a tenth of the event loop's time per message."""
    tokens = message.reply.split(".")
    if tokens[0] == "$JS" and tokens[1:2] == ["ACK"]:
        if len(tokens) == 9:
            return tokens[2], int(tokens[5])
        if len(tokens) >= 11:
            return tokens[4], int(tokens[7])
    metadata = message.metadata  # not a JetStream delivery: nats-py says so
    return metadata.stream, metadata.sequence.stream


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
