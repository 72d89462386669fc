"""progress-ingest end to end: real NATS JetStream, real PostgreSQL, the real consumer.

Each test gets streams of its own (unique names and subjects), so tests never see each
other's messages, and deletes them afterwards. The consumer runs on its own event loop in a
thread, as it runs in its own process in production; the test thread publishes and checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import socket
import threading
import time
import uuid

import nats
import orjson
import psycopg
import psycopg.conninfo
import pytest
from django.conf import settings
from django.db import connection

from ingest import consumer as consumer_module
from ingest.consumer import ConsumerSettings, IngestConsumer
from ingest.contract import (
    CREDENTIAL_HEADER,
    DETAIL_HEADER,
    DROPPED_HEADER,
    REASON_HEADER,
    SHA256_HEADER,
    SUBJECT_HEADER,
    TRUNCATED_HEADER,
)
from ingest.services import DatabaseUnavailable, ingest_caches_clear
from tests.factories import CredentialFactory
from tests.statements import builders

pytestmark = pytest.mark.django_db(transaction=True)


def run_async(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def config(settings):
    suffix = uuid.uuid4().hex[:10]
    config = ConsumerSettings.from_django(
        stream=f"TEST_INGEST_{suffix}",
        subject_prefix=f"test{suffix}.ingest",
        deadletter_stream=f"TEST_DEADLETTER_{suffix}",
        deadletter_subject=f"test{suffix}.deadletter.ingest",
        batch=50,
        max_wait=0.1,
        ack_wait=2.0,
    )
    settings.PROGRESS_INGEST_SUBJECT_PREFIX = config.subject_prefix
    ingest_caches_clear()
    yield config

    async def cleanup():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        for stream in (config.stream, config.deadletter_stream):
            with contextlib.suppress(Exception):  # a test that failed early made none
                await js.delete_stream(stream)
        await nc.close()

    run_async(cleanup())


@pytest.fixture
def producer(db):
    return CredentialFactory(key="delivery-service")


class Running:
    """The consumer on its own loop in a thread; ``stop`` is SIGTERM's path."""

    def __init__(self, config: ConsumerSettings):
        self.consumer = IngestConsumer(config)
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.consumer.ready.wait(20), f"the consumer did not start: {self.error!r}"

    def _run(self):
        try:
            self.loop.run_until_complete(self.consumer.run())
        except BaseException as exc:
            self.error = exc

    def stop(self, timeout: float = 30):
        self.loop.call_soon_threadsafe(self.consumer.stop)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the consumer did not stop"
        if self.error:
            raise self.error


def publish(config, producer, bodies, *, headers=None, subject=None):
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        for body in bodies:
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            await js.publish(
                subject or f"{config.subject_prefix}.{producer.tenant.slug}",
                data,
                headers={CREDENTIAL_HEADER: producer.key} if headers is None else headers,
            )
        await nc.close()

    run_async(go())


def consumer_state(config) -> tuple[int, int, int]:
    """(pending, ack pending, messages left in the stream)."""

    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        info = await js.consumer_info(config.stream, config.durable)
        stream = await js.stream_info(config.stream)
        await nc.close()
        return info.num_pending, info.num_ack_pending, stream.state.messages

    return run_async(go())


def dead_letters(config) -> list:
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        subscription = await js.pull_subscribe(
            f"{config.deadletter_subject.rsplit('.', 1)[0]}.>", stream=config.deadletter_stream
        )
        try:
            messages = await subscription.fetch(100, timeout=1)
        except Exception:
            messages = []
        out = [(m.data, dict(m.headers or {})) for m in messages]
        await nc.close()
        return out

    return run_async(go())


def stored_count(producer) -> int:
    """Statements of the producer's tenant (statements is not a Django model, so a
    transactional test's flush leaves other tests' rows there)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM statements WHERE tenant_id = %s",
                       [producer.tenant_id])  # fmt: skip
        return cursor.fetchone()[0]


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_batch_is_stored_then_acked(config, producer):
    bodies = [builders.statement() for _ in range(20)] + [[builders.statement()] * 1]
    running = Running(config)
    publish(config, producer, bodies)
    wait_for(lambda: stored_count(producer) == 21, what="21 statements")
    wait_for(lambda: consumer_state(config) == (0, 0, 0), what="all acked")
    running.stop()


def test_invalid_messages_are_dead_lettered_with_body_headers_and_reason(config, producer):
    good = builders.statement()
    running = Running(config)
    publish(config, producer, [b"{broken", good])
    publish(config, producer, [builders.statement()], headers={CREDENTIAL_HEADER: "nobody",
                                                               "Trace-Id": "t-1"})  # fmt: skip
    wait_for(lambda: stored_count(producer) == 1, what="the valid statement")
    wait_for(lambda: consumer_state(config)[1:] == (0, 0), what="all acked")
    running.stop()
    letters = sorted(dead_letters(config), key=lambda letter: letter[1][REASON_HEADER])
    assert [headers[REASON_HEADER] for _, headers in letters] == [
        "bad_json", "unknown_credential",
    ]  # fmt: skip
    assert letters[0][0] == b"{broken"
    assert letters[1][1]["Trace-Id"] == "t-1"
    assert letters[1][1][CREDENTIAL_HEADER] == "nobody"
    assert letters[1][1][SUBJECT_HEADER] == f"{config.subject_prefix}.{producer.tenant.slug}"
    assert "nobody" in letters[1][1][DETAIL_HEADER]


def publish_raw(subject: str, header_lines: list[str], body: bytes) -> None:
    """A publish written in the NATS protocol itself, as a producer whose client is not
    nats-py may send it: header names nats-py would refuse to write go through."""
    url = settings.NATS_SERVERS[0].split("://", 1)[1]
    host, port = url.rsplit(":", 1)
    headers = ("NATS/1.0\r\n" + "".join(f"{line}\r\n" for line in header_lines) + "\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.recv(4096)  # INFO
        sock.sendall(b'CONNECT {"verbose":false,"headers":true}\r\n')
        sock.sendall(
            f"HPUB {subject} {len(headers)} {len(headers) + len(body)}\r\n".encode()
            + headers
            + body
            + b"\r\nPING\r\n"
        )
        reply = b""
        while b"PONG" not in reply:
            reply += sock.recv(4096)


def test_a_header_name_nats_py_cannot_publish_still_lets_the_message_be_dead_lettered(
    config, producer
):
    """Bad input never blocks the stream (docs/ingest.md): a message whose header name
    nats-py receives but refuses to publish (``X(1)``) is dead-lettered with its other
    headers and the dropped name listed, then acked, instead of failing every publish of
    its dead letter and coming back until its deliveries run out."""
    running = Running(config)
    # The consumer has made the stream; JetStream keeps what is published on its subjects.
    publish_raw(
        f"{config.subject_prefix}.{producer.tenant.slug}",
        [f"{CREDENTIAL_HEADER}: {producer.key}", "X(1): odd", "Trace-Id: t-2"],
        b"{broken",
    )
    wait_for(lambda: consumer_state(config)[1:] == (0, 0), what="the message acked")
    running.stop()
    ((body, headers),) = dead_letters(config)
    assert body == b"{broken"
    assert headers[REASON_HEADER] == "bad_json"
    assert headers["Trace-Id"] == "t-2"
    assert headers[DROPPED_HEADER] == "X(1)"
    assert "X(1)" not in headers


def test_a_dead_letter_too_large_for_nats_is_cut_to_fit_and_the_stream_flows_on(config, producer):
    """Bad input never blocks the stream (docs/ingest.md): NATS counts a message's headers
    with its body, so the dead letter of an invalid message that itself just fits (its
    reason headers added) would not; the server would close the consumer's connection. The
    dead letter's body is cut to fit, its headers give the original length and SHA-256, the
    message is acked, and the next one is stored."""
    running = Running(config)
    max_payload = running.consumer._nc.max_payload
    # Fits with the producer's one header; not with the dead letter's reason headers.
    body = b"{broken" + b"x" * (max_payload - 200)
    publish(config, producer, [body])
    good = builders.statement()
    publish(config, producer, [good])
    wait_for(lambda: stored_count(producer) == 1, what="the statement after it")
    wait_for(lambda: consumer_state(config)[1:] == (0, 0), what="both acked")
    running.stop()
    ((letter, headers),) = dead_letters(config)
    assert headers[REASON_HEADER] == "bad_json"
    assert headers[TRUNCATED_HEADER] == str(len(body))
    assert headers[SHA256_HEADER] == hashlib.sha256(body).hexdigest()
    assert body.startswith(letter)
    assert len(letter) < len(body)


def test_a_connection_the_server_closed_is_replaced_and_storing_goes_on(config, producer):
    """A connection closed for good (the client gives up one the server closed for a
    protocol error) is replaced by a new one; later messages are stored."""
    running = Running(config)
    publish(config, producer, [builders.statement()])
    wait_for(lambda: stored_count(producer) == 1, what="the first statement")
    closed = asyncio.run_coroutine_threadsafe(running.consumer._nc.close(), running.loop)
    closed.result(10)
    publish(config, producer, [builders.statement()])
    wait_for(lambda: stored_count(producer) == 2, timeout=40, what="a statement after it")
    running.stop()


def test_a_crash_between_commit_and_ack_stores_nothing_twice(config, producer, monkeypatch):
    """Redelivery: the first consumer stores the batch and dies before acking; JetStream
    delivers the messages again after ack_wait, and the next consumer acks them without
    storing anything twice."""
    bodies = [builders.statement(with_id=False) for _ in range(10)]

    async def no_ack(self):
        return None

    from nats.aio.msg import Msg

    monkeypatch.setattr(Msg, "ack", no_ack)
    first = Running(config)
    publish(config, producer, bodies)
    wait_for(lambda: stored_count(producer) == 10, what="first storing")
    first.stop()
    monkeypatch.undo()
    assert consumer_state(config)[1] == 10  # delivered, never acked
    second = Running(config)
    wait_for(lambda: consumer_state(config) == (0, 0, 0), timeout=30, what="redelivered, acked")
    second.stop()
    assert stored_count(producer) == 10


def test_a_database_outage_is_waited_out_without_loss(config, producer, monkeypatch):
    """PostgreSQL drops the consumer's connection mid-run (terminated by the server, as in
    a restart or failover): the store step finds the connection dead, the batch waits with
    backoff and is retried on a new connection, and every statement is stored once."""
    real = consumer_module.ingest_batch
    kills = {"left": 2, "outages": 0}

    def disconnected_first(messages):
        if kills["left"]:
            kills["left"] -= 1
            # This thread's own connection, ended by the server.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            with psycopg.connect(admin_dsn(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        try:
            return real(messages)
        except DatabaseUnavailable:
            kills["outages"] += 1
            raise

    monkeypatch.setattr(consumer_module, "ingest_batch", disconnected_first)
    running = Running(config)
    publish(config, producer, [builders.statement() for _ in range(15)])
    wait_for(lambda: stored_count(producer) == 15, timeout=30, what="stored after the outage")
    wait_for(lambda: consumer_state(config) == (0, 0, 0), what="all acked")
    running.stop()
    assert kills["left"] == 0
    assert kills["outages"] >= 1


def admin_dsn() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    )


def test_graceful_shutdown_finishes_and_acks_the_batch_in_flight(config, producer, monkeypatch):
    real = consumer_module.ingest_batch
    started = threading.Event()

    def slow(messages):
        started.set()
        time.sleep(1.0)
        return real(messages)

    monkeypatch.setattr(consumer_module, "ingest_batch", slow)
    ensure(config)  # the messages wait in the stream, so the first fetch takes all eight
    publish(config, producer, [builders.statement() for _ in range(8)])
    running = Running(config)
    assert started.wait(20)
    running.stop()  # SIGTERM arrives while the batch is being stored
    assert stored_count(producer) == 8
    assert consumer_state(config) == (0, 0, 0)


def ensure(config) -> None:
    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        await consumer_module.ensure_streams(nc.jetstream(), config)
        await nc.close()

    run_async(go())


def test_streams_and_consumer_are_created_idempotently(config):
    ensure(config)
    ensure(config)

    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        info = await js.consumer_info(config.stream, config.durable)
        stream = await js.stream_info(config.stream)
        await nc.close()
        return info.config, stream.config

    consumer_config, stream_config = run_async(go())
    assert getattr(consumer_config.ack_policy, "value", consumer_config.ack_policy) == "explicit"
    assert consumer_config.ack_wait == config.ack_wait
    assert consumer_config.max_deliver == config.max_deliver
    assert stream_config.subjects == [f"{config.subject_prefix}.*"]


def test_batches_hold_about_the_configured_number_of_statements(config):
    """Producers sending arrays get fewer messages per fetch, so a batch (and the latency
    of its statements) stays the configured size."""
    consumer = IngestConsumer(config)
    assert consumer._fetch_size() == config.batch
    consumer._per_message = 20.0
    assert consumer._fetch_size() == round(config.batch / 20)
    consumer._per_message = 10_000.0
    assert consumer._fetch_size() == 1


def test_a_pull_takes_a_full_batch_at_once_and_a_partial_one_after_its_wait(config, producer):
    """ingest.pull: one request per batch; a full batch comes back without waiting, a
    short one when the server ends the request, and none from an empty stream."""
    from ingest.pull import BatchPuller

    ensure(config)
    publish(config, producer, [builders.statement() for _ in range(30)])

    async def go():
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        puller = BatchPuller(nc, stream=config.stream, durable=config.durable)
        await puller.start()
        started = time.perf_counter()
        full = await puller.fetch(20, timeout=5.0)
        full_seconds = time.perf_counter() - started
        partial = await puller.fetch(20, timeout=0.3)
        for message in full + partial:
            await message.ack()
        empty = await puller.fetch(5, timeout=0.2)
        await puller.stop()
        await nc.flush()
        await nc.close()
        return len(full), full_seconds, len(partial), len(empty)

    full, full_seconds, partial, empty = run_async(go())
    assert (full, partial, empty) == (20, 10, 0)
    assert full_seconds < 2.0
    wait_for(lambda: consumer_state(config) == (0, 0, 0), what="all acked")


class CuttableProxy:
    """A TCP relay to NATS that a test can cut (every connection dropped, new ones
    refused) and restore: a NATS outage as the consumer sees it, without touching the
    server other tests share."""

    def __init__(self, target=("127.0.0.1", 4222)):
        import socket

        self._socket = socket
        self.target = target
        self.port = self._free_port()
        self._connections: list = []
        self._lock = threading.Lock()
        self._listener = None
        self.restore()

    def _free_port(self) -> int:
        with self._socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def restore(self) -> None:
        listener = self._socket.socket()
        listener.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(self._socket.SHUT_RDWR)
                connection.close()
            self._connections.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = self._socket.create_connection(self.target)
            with self._lock:
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.close()


def test_a_nats_outage_is_waited_out_without_loss_or_duplicates(config, producer):
    """NATS goes away mid-run (every connection of the consumer dropped, reconnections
    refused for two seconds) while producers keep publishing: the consumer reconnects,
    and every statement is stored exactly once."""
    proxy = CuttableProxy()
    running = Running(dataclasses.replace(config, servers=[f"nats://127.0.0.1:{proxy.port}"]))
    first = [builders.statement(with_id=False) for _ in range(10)]
    publish(config, producer, first)
    wait_for(lambda: stored_count(producer) == 10, what="the first ten")
    proxy.cut()
    publish(config, producer, [builders.statement(with_id=False) for _ in range(10)])
    time.sleep(2)
    proxy.restore()
    wait_for(lambda: stored_count(producer) == 20, timeout=30, what="the rest after the outage")
    wait_for(lambda: consumer_state(config) == (0, 0, 0), timeout=30, what="all acked")
    running.stop()
    assert stored_count(producer) == 20


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.PROGRESS_INGEST.progress-ingest.3.1207.96.1764590000123456789.41",
        "$JS.ACK.hub.ACCOUNTHASH.PROGRESS_INGEST.progress-ingest.3.1207.96.1764590000123456789.41",
        "$JS.ACK.hub.ACCOUNTHASH.PROGRESS_INGEST.progress-ingest.3.1207.96.1764590000123456789.41.x7",
        "$JS.ACK._.ACCOUNTHASH.PROGRESS_INGEST.progress-ingest.3.1207.96.1764590000123456789.41.x7",
    ],
)
def test_the_stream_position_is_read_as_nats_py_reads_it(reply):
    """Both reply subject layouts (with and without domain and account hash) give the
    stream and stream sequence that nats-py's own metadata gives."""
    from nats.aio.msg import Msg

    message = Msg(_client=None, subject="progress.ingest.t", reply=reply)
    metadata = Msg(_client=None, reply=reply).metadata
    assert consumer_module.stream_position(message) == (
        metadata.stream, metadata.sequence.stream,
    ) == ("PROGRESS_INGEST", 1207)  # fmt: skip


def test_a_message_that_is_no_jetstream_delivery_is_refused_by_its_metadata():
    from nats.aio.msg import Msg
    from nats.errors import NotJSMessageError

    with pytest.raises(NotJSMessageError):
        consumer_module.stream_position(Msg(_client=None, reply="_INBOX.abc.1"))


@pytest.mark.parametrize("threads", [1, 2])
def test_batches_are_stored_concurrently_up_to_the_store_threads_each_on_its_own_connection(
    config, producer, monkeypatch, threads
):
    """``store_threads`` batches are stored at once (while one waits on PostgreSQL the
    next is validated), each thread on a database connection of its own; every message is
    stored once and acked."""
    config = dataclasses.replace(config, batch=10, store_threads=threads)
    real = consumer_module.ingest_batch
    lock = threading.Lock()
    state = {"now": 0, "most": 0, "backends": set()}

    def slow(messages):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                state["backends"].add((threading.get_ident(), cursor.fetchone()[0]))
            time.sleep(0.4)
            return real(messages)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(consumer_module, "ingest_batch", slow)
    ensure(config)
    publish(config, producer, [builders.statement() for _ in range(60)])
    running = Running(config)
    wait_for(lambda: stored_count(producer) == 60, timeout=30, what="60 statements")
    wait_for(lambda: consumer_state(config) == (0, 0, 0), what="all acked")
    running.stop()
    assert state["most"] == threads
    threads_seen = {thread for thread, _ in state["backends"]}
    backends_seen = {backend for _, backend in state["backends"]}
    assert len(threads_seen) == len(backends_seen) == threads
