"""The outbox relay: outbox rows to NATS JetStream, exactly once per event id, in order per
aggregate key (ARCHITECTURE.md §7, docs/events.md).

One pass over a shard, in one transaction:

1. ``pg_try_advisory_xact_lock`` on the shard: one relay worker at a time owns a shard, so
   it owns every event of each aggregate key hashed there. A shard another worker holds is
   skipped, not waited for.
2. The keys held back in the shard: those with an event that failed and is backing off,
   or is dead. Their later events must wait, so they are excluded from the claim.
3. Claim up to ``batch`` pending events of the other keys in ``seq`` order with
   ``FOR UPDATE SKIP LOCKED``.
4. Publish in waves: a wave holds the next unpublished event of each key, published with
   async acks (the whole wave in flight at once), then every ack is awaited. The next wave
   holds each key's following event, but only for keys whose event was acked. So no event
   is published before the earlier event of its key has been acked, and a rejected event
   stops only its own key (in this batch; later batches exclude the key while it backs
   off or is dead).
5. Mark the acked events sent and record failures (attempts, exponential backoff, last
   error; dead after ``max_attempts``), then commit.

A crash between the acks and the commit leaves the rows pending: they are published again
with the same ``Nats-Msg-Id`` and JetStream drops the copy within its duplicate window.

Failures come in two kinds. JetStream rejecting one message (an API error in its ack)
counts an attempt against that event. NATS being unreachable, or acks not arriving within
``ack_timeout``, is an outage: no attempt is counted (a long outage must not kill events),
the acked part of the batch is marked, and the drain stops; the next nudge or sweep tries
again.

Publishing with async acks is JetStream's protocol used directly: each message is a core
publish with a reply subject under one inbox of the connection, and the stream's ack (or
error) is the reply. nats-py 2.16's ``js.publish_async`` speaks the same protocol, but its
reply handler raises on an error reply instead of failing the future, so a rejected message
would look like a lost ack (and it allocates a future and a random token per message).
``AckPublisher`` keeps one counter per wave instead.

Each process keeps one NATS connection on an event loop of its own, in a daemon thread, so
the connection answers server pings and reconnects between tasks; database work stays on
the calling thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats
import orjson
from django.conf import settings
from django.db import connection, transaction
from nats.js import api
from nats.js.errors import BadRequestError

from outbox import metrics
from outbox.selectors import outbox_backlog, outbox_dead_count
from outbox.services import SHARD_LOCK_CLASS

logger = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
TYPE_HEADER = "Progress-Event-Type"
VERSION_HEADER = "Progress-Schema-Version"
TENANT_HEADER = "Progress-Tenant"
AGGREGATE_HEADER = "Progress-Aggregate-Key"

# How long the event stream keeps messages for consumers (they read within minutes; a
# week covers a consumer's long outage).
STREAM_MAX_AGE = 7 * 86400.0

_BLOCKED_SQL = """
SELECT DISTINCT aggregate_key FROM outbox_events
WHERE shard = %s AND sent_at IS NULL AND discarded_at IS NULL AND attempts > 0
  AND (dead_at IS NOT NULL OR next_try_at > clock_timestamp())
"""
_CLAIM_SQL = """
SELECT seq, event_id, event_type, schema_version, tenant_slug, aggregate_key, payload,
       created_at, attempts
FROM outbox_events
WHERE shard = %s AND sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL
  AND NOT (aggregate_key = ANY(%s::text[]))
ORDER BY seq
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_MARK_SENT_SQL = "UPDATE outbox_events SET sent_at = clock_timestamp() WHERE seq = ANY(%s)"
# Backoff after the n-th failure: min(base * 2 ** (n - 1), max) seconds.
_MARK_FAILED_SQL = """
UPDATE outbox_events AS e
SET attempts = e.attempts + 1,
    last_error = f.error,
    next_try_at = clock_timestamp()
        + make_interval(secs => least(%s, %s * power(2, least(e.attempts, 40)))),
    dead_at = CASE WHEN e.attempts + 1 >= %s THEN clock_timestamp() END
FROM unnest(%s::bigint[], %s::text[]) AS f(seq, error)
WHERE e.seq = f.seq
"""

#: Called with the acked rows' seqs after the acks and before they are marked sent; lets a
#: test crash the relay at the worst moment.
after_acks_hook: Callable[[list[int]], None] | None = None


@dataclass(frozen=True, slots=True)
class RelaySettings:
    servers: list[str]
    stream: str
    subject_prefix: str
    duplicate_window: float
    batch: int
    shards: int
    max_attempts: int
    backoff_base: float
    backoff_max: float
    ack_timeout: float
    budget: float
    linger: float

    @classmethod
    def from_django(cls, **overrides) -> RelaySettings:
        values = {
            "servers": settings.NATS_SERVERS,
            "stream": settings.PROGRESS_OUTBOX_STREAM,
            "subject_prefix": settings.PROGRESS_OUTBOX_SUBJECT_PREFIX,
            "duplicate_window": settings.PROGRESS_OUTBOX_DUPLICATE_WINDOW,
            "batch": settings.PROGRESS_OUTBOX_BATCH,
            "shards": settings.PROGRESS_OUTBOX_SHARDS,
            "max_attempts": settings.PROGRESS_OUTBOX_MAX_ATTEMPTS,
            "backoff_base": settings.PROGRESS_OUTBOX_BACKOFF_BASE,
            "backoff_max": settings.PROGRESS_OUTBOX_BACKOFF_MAX,
            "ack_timeout": settings.PROGRESS_OUTBOX_ACK_TIMEOUT,
            "budget": settings.PROGRESS_OUTBOX_RELAY_BUDGET,
            "linger": settings.PROGRESS_OUTBOX_NUDGE_DEBOUNCE,
        }
        return cls(**(values | overrides))


def stream_config(config: RelaySettings) -> api.StreamConfig:
    return api.StreamConfig(
        name=config.stream,
        subjects=[f"{config.subject_prefix}.>"],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        duplicate_window=config.duplicate_window,
        max_age=STREAM_MAX_AGE,
    )


async def ensure_stream(js, config: RelaySettings) -> None:
    """Create the event stream, or bring an existing one to this configuration (subjects,
    duplicate window). Idempotent: every relay runs it on connecting."""
    stream = stream_config(config)
    try:
        await js.add_stream(stream)
    except BadRequestError:
        await js.update_stream(stream)


@dataclass(slots=True)
class DrainResult:
    published: int = 0
    rejected: int = 0
    outage: bool = False


class _Outage(Exception):
    """NATS unreachable or silent: nothing is held against the events."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """JetStream refused the message (its ack carried an error)."""

    code: int | None
    err_code: int | None
    description: str

    def text(self) -> str:
        return (
            f"JetStream rejected the message: {self.description} "
            f"(code {self.code}, err_code {self.err_code})"
        )[:1000]


class _Wave:
    __slots__ = ("done", "left", "results")

    def __init__(self, size: int) -> None:
        self.results: list = [None] * size
        self.left = size
        self.done = asyncio.Event()


class AckPublisher:
    """JetStream publishes with async acks on one connection: a wave of messages goes out
    back to back, then the acks are awaited together.

    ``publish_wave`` returns one result per message: ``True`` (stored, or a duplicate
    JetStream dropped), ``Rejected``, or ``None`` (no ack in time, or not sent: the
    outcome is unknown, and publishing again is safe thanks to ``Nats-Msg-Id``).
    """

    def __init__(self, nc) -> None:
        self._nc = nc
        self._prefix = nc.new_inbox()
        self._waiting: dict[str, tuple[_Wave, int]] = {}
        self._counter = 0

    async def start(self) -> None:
        await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)

    async def publish_wave(self, messages: list[tuple[str, bytes, dict]], *, timeout: float):
        wave = _Wave(len(messages))
        tokens = []
        publish, prefix = self._nc.publish, self._prefix
        try:
            for index, (subject, body, headers) in enumerate(messages):
                self._counter += 1
                token = str(self._counter)
                tokens.append(token)
                self._waiting[token] = (wave, index)
                await publish(subject, body, reply=f"{prefix}.{token}", headers=headers)
        except Exception:
            logger.warning("publishing to NATS failed", exc_info=True)
            wave.left -= len(messages) - len(tokens)
        if wave.left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wave.done.wait(), timeout)
        for token in tokens:
            self._waiting.pop(token, None)
        return wave.results

    async def _on_reply(self, msg) -> None:
        entry = self._waiting.pop(msg.subject.rpartition(".")[2], None)
        if entry is None:
            return  # a late ack of a wave given up on
        wave, index = entry
        headers = msg.headers
        if headers and headers.get("Status"):
            result = None  # 503: no stream answered (JetStream unavailable)
        else:
            try:
                reply = orjson.loads(msg.data)
            except orjson.JSONDecodeError:
                reply = {"error": {"description": f"unreadable ack {msg.data[:200]!r}"}}
            error = reply.get("error")
            if error:
                result = Rejected(error.get("code"), error.get("err_code"),
                                  str(error.get("description", error)))  # fmt: skip
            else:
                result = True
        wave.results[index] = result
        wave.left -= 1
        if wave.left <= 0:
            wave.done.set()


class Relay:
    """One per process: an event loop in a daemon thread, and one NATS connection on it."""

    def __init__(self, config: RelaySettings) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="outbox-nats", daemon=True
        )
        self._thread.start()
        self._nc = None
        self._js = None
        self._publisher: AckPublisher | None = None
        self._next_shard = random.randrange(config.shards)  # noqa: S311 - spreads workers

    # --- NATS, on the loop thread ---------------------------------------------------------

    def _call(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            return
        # Reconnects forever once connected; the first connection gets a few seconds (an
        # unbounded first connect would hold the task until NATS is back).
        self._nc = await asyncio.wait_for(
            nats.connect(
                servers=self.config.servers,
                name="progress-outbox-relay",
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
            ),
            timeout=5,
        )
        self._js = self._nc.jetstream()
        await ensure_stream(self._js, self.config)
        self._publisher = AckPublisher(self._nc)
        await self._publisher.start()

    def connect(self) -> None:
        """Connect (and ensure the stream) unless connected; raises ``_Outage``."""
        try:
            self._call(self._connect(), timeout=15)
        except Exception as exc:
            with contextlib.suppress(Exception):
                self._call(self._close(), timeout=5)
            raise _Outage(f"cannot connect to NATS: {exc!r}") from exc

    async def _publish(self, messages: list[tuple[str, bytes, dict]]) -> list:
        """Publish a wave and await its acks; one result per message (see ``AckPublisher``)."""
        return await self._publisher.publish_wave(messages, timeout=self.config.ack_timeout)

    async def _close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = self._js = self._publisher = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._close(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # --- relaying, on the calling thread ---------------------------------------------------

    def drain(self, *, budget: float | None = None) -> DrainResult:
        """Relay every due event, shard after shard, until a pass finds nothing (and one more
        after ``linger``, for commits whose nudge was debounced into this run) or the
        budget is spent. Idempotent and safe to run in any number of workers at once."""
        config = self.config
        deadline = time.monotonic() + (config.budget if budget is None else budget)
        result = DrainResult()
        try:
            self.connect()
            lingered = False
            while time.monotonic() < deadline:
                claimed = 0
                for _ in range(config.shards):
                    shard = self._next_shard
                    self._next_shard = (shard + 1) % config.shards
                    claimed += self.relay_shard(shard, result)
                    if time.monotonic() >= deadline:
                        break
                if claimed:
                    lingered = False
                    continue
                if lingered or config.linger <= 0:
                    break
                lingered = True
                time.sleep(min(config.linger, max(0.0, deadline - time.monotonic())))
        except _Outage as exc:
            metrics.FAILURES.labels("outage").inc()
            logger.warning("outbox relay stopped by a NATS outage: %s", exc)
            result.outage = True
        finally:
            refresh_gauges()
        return result

    def relay_shard(self, shard: int, result: DrainResult) -> int:
        """One batch of one shard (see the module docstring); returns how many events it
        claimed (0 when the shard is idle or another worker holds it)."""
        config = self.config
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [SHARD_LOCK_CLASS, shard])
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(_BLOCKED_SQL, [shard])
            blocked = [row[0] for row in cursor.fetchall()]
            cursor.execute(_CLAIM_SQL, [shard, blocked, config.batch])
            rows = cursor.fetchall()
            if not rows:
                return 0
            sent, failed, outage = self._publish_in_waves(rows)
            if after_acks_hook is not None:
                after_acks_hook([row[0] for row in sent])
            if sent:
                cursor.execute(_MARK_SENT_SQL, [[row[0] for row in sent]])
            if failed:
                cursor.execute(
                    _MARK_FAILED_SQL,
                    [config.backoff_max, config.backoff_base, config.max_attempts,
                     [row[0] for row, _ in failed], [error for _, error in failed]],
                )  # fmt: skip
        # Committed: only now do the events count as published.
        _observe(sent)
        result.published += len(sent)
        result.rejected += len(failed)
        if failed:
            metrics.FAILURES.labels("rejected").inc(len(failed))
        if outage:
            raise _Outage("no ack from JetStream within the ack timeout")
        return len(rows)

    def _publish_in_waves(self, rows: list[tuple]) -> tuple[list, list, bool]:
        by_key: dict[str, list[tuple]] = {}
        for row in rows:
            by_key.setdefault(row[5], []).append(row)
        queues = list(by_key.values())
        position = [0] * len(queues)
        wave = list(range(len(queues)))
        sent: list[tuple] = []
        failed: list[tuple[tuple, str]] = []
        timeout = self.config.ack_timeout * 2 + 5
        while wave:
            messages = [self._message(queues[index][position[index]]) for index in wave]
            try:
                results = self._call(self._publish(messages), timeout=timeout)
            except Exception:
                logger.warning("publish wave failed", exc_info=True)
                return sent, failed, True
            following = []
            outage = False
            for index, ack in zip(wave, results, strict=True):
                row = queues[index][position[index]]
                if ack is None:
                    outage = True
                elif isinstance(ack, Rejected):
                    failed.append((row, ack.text()))
                else:
                    sent.append(row)
                    position[index] += 1
                    if position[index] < len(queues[index]):
                        following.append(index)
            if outage:
                return sent, failed, True
            wave = following
        return sent, failed, False

    def _message(self, row: tuple) -> tuple[str, bytes, dict]:
        _, event_id, event_type, version, slug, key, payload, created_at, _ = row
        event_id = str(event_id)
        body = orjson.dumps(
            {
                "id": event_id,
                "type": event_type,
                "schema_version": version,
                "tenant": slug,
                "aggregate_key": key,
                "occurred_at": created_at,
                "data": orjson.Fragment(payload),
            },
            option=orjson.OPT_UTC_Z,
        )
        headers = {
            MSG_ID_HEADER: event_id,
            TYPE_HEADER: event_type,
            VERSION_HEADER: str(version),
            TENANT_HEADER: slug,
            AGGREGATE_HEADER: key,
        }
        return f"{self.config.subject_prefix}.{event_type}.{slug}", body, headers


def _observe(sent: list[tuple]) -> None:
    now = time.time()
    counts: dict[str, int] = {}
    for row in sent:
        counts[row[2]] = counts.get(row[2], 0) + 1
        metrics.PUBLISH_LATENCY.observe(max(0.0, now - row[7].timestamp()))
    for event_type, count in counts.items():
        metrics.PUBLISHED.labels(event_type).inc(count)


def refresh_gauges() -> None:
    """Backlog and dead gauges from the table; never fails the caller."""
    try:
        metrics.BACKLOG.set(outbox_backlog())
        metrics.DEAD.set(outbox_dead_count())
    except Exception:
        logger.warning("outbox gauges not refreshed", exc_info=True)


# --- the process's relay -------------------------------------------------------------------

_relay: Relay | None = None
_relay_pid: int | None = None
_relay_lock = threading.Lock()
_metrics_started = False


def process_relay() -> Relay:
    """This process's relay, created on first use (and anew in a forked child: a loop and a
    socket do not survive ``fork``)."""
    global _relay, _relay_pid
    with _relay_lock:
        if _relay is None or _relay_pid != os.getpid():
            _relay = Relay(RelaySettings.from_django())
            _relay_pid = os.getpid()
            start_metrics_server(settings.PROGRESS_OUTBOX_METRICS_PORT)
        return _relay


def start_metrics_server(port: int) -> None:
    global _metrics_started
    if not port or _metrics_started:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port)
    except OSError:
        logger.warning("outbox metrics port %s is taken; not serving metrics here", port)
    _metrics_started = True


def relay_drain(*, budget: float | None = None) -> DrainResult:
    """Drain with this process's relay (the relay task's body)."""
    return process_relay().drain(budget=budget)
