"""progress-outbox-relay benchmark: outbox rows to JetStream, one and two relay processes.

One command (``make bench-outbox``; ``--quick`` for a smoke run) that, in a scratch database
and on a stream of its own (``BENCH_EVENTS``, subjects ``bench.events.>``):

1. enqueues ``--count`` realistic events (the four v1 types, payloads as the projector
   writes them) over ``--keys`` aggregate keys, in transactions of 500 through
   ``outbox_enqueue_many``, with no relay running: the enqueue rate;
2. starts one ``manage.py outbox relay`` process and waits until the backlog is empty:
   relay throughput in events/s, measured from the first to the last ``sent_at`` (process
   start-up excluded), with the CPU each side used;
3. the same with two relay processes, on a fresh table and stream;
4. latency: a Celery worker of queue ``outbox`` (the production relay role) fed by
   on-commit nudges, events committed at a steady ``--rate`` in transactions of 20, and a
   JetStream consumer on the stream recording when each arrives: commit-to-consume p50/p99.

Figures print as Markdown and go to ``bench/results/outbox.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_nats import CpuMeter  # noqa: E402 - after the path set-up
from bench.statements_http import (  # noqa: E402
    drop_database,
    log,
    percentile,
    prepare_database,
)

DB_NAME = "progress_bench_outbox"
RESULTS = ROOT / "bench" / "results" / "outbox.json"
STREAM = {
    "PROGRESS_OUTBOX_STREAM": "BENCH_EVENTS",
    "PROGRESS_OUTBOX_SUBJECT_PREFIX": "bench.events",
}
TENANTS = [(101, "acme"), (102, "globex"), (103, "initech"), (104, "umbrella")]
PYTHON = str(ROOT / ".venv" / "bin" / "python")


# --- events ---------------------------------------------------------------------------------


def make_events(count: int, keys: int, rng: random.Random) -> list:
    """``count`` events over ``keys`` attempts: each attempt starts, has statements stored,
    finishes, and some complete, in that order per key (as the projector writes them)."""
    from outbox.events import (
        ATTEMPT_FINISHED,
        ATTEMPT_STARTED,
        COMPLETION_RECORDED,
        STATEMENT_STORED,
        OutboxEvent,
    )

    per_key = max(1, count // keys)
    now = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    out = []
    for index in range(keys):
        tenant_id, slug = TENANTS[index % len(TENANTS)]
        attempt = uuid.UUID(int=rng.getrandbits(128), version=4)
        learner = f"mbox:mailto:learner-{rng.randrange(50_000)}@{slug}.example.org"
        activity = (
            f"https://courses.{slug}.example.org/course-{rng.randrange(200)}/au-{rng.randrange(12)}"
        )
        registration = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        started = now + dt.timedelta(seconds=rng.randrange(86400))
        key = f"attempt:{tenant_id}:{attempt}"
        common = {"attempt_id": str(attempt), "learner": learner, "activity_id": activity,
                  "registration": registration}  # fmt: skip
        for step in range(per_key):
            statement_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            at = (started + dt.timedelta(seconds=30 * step)).isoformat().replace("+00:00", "Z")
            if step == 0:
                event_type, data = ATTEMPT_STARTED, common | {
                    "session_id": f"session-{rng.randrange(10**9)}", "started_at": at,
                    "launch_mode": "Normal", "statement_id": statement_id,
                }  # fmt: skip
            elif step == per_key - 1 and per_key > 2:
                event_type, data = COMPLETION_RECORDED, {
                    "completion_id": str(uuid.uuid5(attempt, "completion")), "learner": learner,
                    "activity_id": activity, "registration": registration, "satisfied_at": at,
                    "basis": "completed_and_passed", "move_on": "CompletedAndPassed",
                    "score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100},
                    "statement_id": statement_id, "attempt_id": str(attempt),
                }  # fmt: skip
            elif step == per_key - 2 and per_key > 2:
                event_type, data = ATTEMPT_FINISHED, common | {
                    "session_id": None, "outcome": "passed", "started_at": at,
                    "finished_at": at, "score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100},
                    "duration_seconds": 30.0 * step, "statement_id": statement_id,
                }  # fmt: skip
            else:
                event_type, data = STATEMENT_STORED, {
                    "statement_id": statement_id, "stored": at, "timestamp": at, "actor": learner,
                    "verb": "http://adlnet.gov/expapi/verbs/answered", "object_type": "Activity",
                    "activity_id": f"{activity}/question-{step}", "registration": registration,
                    "voids": None,
                }  # fmt: skip
            out.append(
                OutboxEvent(
                    event_type=event_type,
                    tenant_id=tenant_id,
                    tenant_slug=slug,
                    aggregate_key=key,
                    payload=data,
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                )
            )
    # Interleave keys the way concurrent projector transactions would, keeping each key's
    # own order: round-robin over the keys.
    by_key: dict[str, list] = {}
    for event in out:
        by_key.setdefault(event.aggregate_key, []).append(event)
    queues = list(by_key.values())
    interleaved = []
    for step in range(per_key):
        interleaved += [queue[step] for queue in queues if step < len(queue)]
    return interleaved


def enqueue(events: list, per_transaction: int = 500) -> float:
    from django.db import transaction

    from outbox.services import outbox_enqueue_many

    started = time.perf_counter()
    for start in range(0, len(events), per_transaction):
        with transaction.atomic():
            outbox_enqueue_many(events[start : start + per_transaction])
    return len(events) / (time.perf_counter() - started)


# --- NATS -------------------------------------------------------------------------------------


def reset_stream() -> None:
    from django.conf import settings

    async def go():
        import nats

        nc = await nats.connect(servers=settings.NATS_SERVERS)
        with contextlib.suppress(Exception):  # absent on a first run
            await nc.jetstream().delete_stream(settings.PROGRESS_OUTBOX_STREAM)
        await nc.close()

    asyncio.run(go())


def stream_messages() -> int:
    from django.conf import settings

    async def go():
        import nats

        nc = await nats.connect(servers=settings.NATS_SERVERS)
        info = await nc.jetstream().stream_info(settings.PROGRESS_OUTBOX_STREAM)
        await nc.close()
        return info.state.messages

    return asyncio.run(go())


class Consumer:
    """A JetStream consumer (ordered, new messages only) on its own loop, recording the
    wall-clock time each event id arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self._stop = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._run(),), daemon=True
        )
        self._thread.start()
        assert self.ready.wait(20), "the consumer did not start"

    async def _run(self) -> None:
        import nats
        from django.conf import settings
        from nats.js import api

        from outbox.relay import RelaySettings, ensure_stream

        self._stop = asyncio.Event()
        nc = await nats.connect(servers=settings.NATS_SERVERS)
        js = nc.jetstream()
        await ensure_stream(js, RelaySettings.from_django())

        async def arrived(message) -> None:
            self.arrived[message.headers["Nats-Msg-Id"]] = time.time()

        await js.subscribe(
            f"{settings.PROGRESS_OUTBOX_SUBJECT_PREFIX}.>", cb=arrived, ordered_consumer=True,
            deliver_policy=api.DeliverPolicy.NEW,
        )  # fmt: skip
        self.ready.set()
        await self._stop.wait()
        await nc.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# --- phases ------------------------------------------------------------------------------------


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE outbox_events")


def unsent() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM outbox_events WHERE sent_at IS NULL")
        return cursor.fetchone()[0]


def sent_span() -> tuple[int, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), extract(epoch FROM max(sent_at) - min(sent_at)) FROM outbox_events"
        )
        count, seconds = cursor.fetchone()
    return count, float(seconds or 0.0)


def order_holds() -> bool:
    """Sent times never go backwards within an aggregate key, in seq order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT sent_at < lag(sent_at) OVER (PARTITION BY "
            "aggregate_key ORDER BY seq) AS back FROM outbox_events) t WHERE back"
        )
        return cursor.fetchone()[0] == 0


def drain(events: list, relays: int, env: dict) -> dict:
    truncate()
    reset_stream()
    enqueue_rate = enqueue(events)
    argv = [PYTHON, "manage.py", "outbox", "relay", "--metrics-port", "0"]
    processes = [
        subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
        for _ in range(relays)
    ]
    meter = CpuMeter([process.pid for process in processes])
    started = time.perf_counter()
    while unsent() > 0:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a relay process died")
        time.sleep(0.2)
    wall = time.perf_counter() - started
    cpu = meter.stop()
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(60)
    count, seconds = sent_span()
    return {
        "relays": relays,
        "events": count,
        "enqueue_per_s": round(enqueue_rate),
        "relay_per_s": round(count / seconds) if seconds else None,
        "wall_seconds_with_startup": round(wall, 2),
        "stream_messages": stream_messages(),
        "order_per_key_holds": order_holds(),
        **{key.replace("consumer", "relay"): value for key, value in cpu.items()},
    }


def latency(rng: random.Random, rate: float, seconds: float, env: dict) -> dict:
    """Steady commits nudging a real Celery relay worker; a consumer timestamps arrivals."""
    import redis
    from django.conf import settings
    from django.db import transaction

    from outbox.services import outbox_enqueue_many

    truncate()
    reset_stream()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("outbox")
    consumer = Consumer()
    worker = subprocess.Popen(  # noqa: S603 - fixed argv
        [PYTHON, "-m", "celery", "-A", "progress_site", "worker", "-Q", "outbox",
         "--concurrency", "1", "-n", f"bench-outbox-{os.getpid()}@%h", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(4)  # the worker is up and consuming
    per_transaction = 20
    total = int(rate * seconds)
    events = make_events(total, max(1, total // 10), rng)
    committed: dict[str, float] = {}
    started = time.perf_counter()
    for index, start in enumerate(range(0, len(events), per_transaction)):
        target = started + index * per_transaction / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        chunk = events[start : start + per_transaction]
        with transaction.atomic():
            outbox_enqueue_many(chunk)
        now = time.time()
        for event in chunk:
            committed[str(event.event_id)] = now
    deadline = time.monotonic() + 60
    while len(consumer.arrived) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.1)
    consumer.stop()
    worker.terminate()
    worker.wait(60)
    latencies = [consumer.arrived[i] - committed[i] for i in committed if i in consumer.arrived]
    return {
        "rate_per_s": round(rate),
        "events": len(committed),
        "received": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def render(results: dict) -> str:
    lines = [
        "| relay processes | events | enqueue events/s | relay events/s | relay cores | "
        "PostgreSQL cores | NATS cores | order per key |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in results["drain"]:
        lines.append(
            f"| {run['relays']} | {run['events']:,} | {run['enqueue_per_s']:,} | "
            f"{run['relay_per_s']:,} | {run['relay_cores']} | {run['postgresql_cores']} | "
            f"{run['nats_cores']} | {'holds' if run['order_per_key_holds'] else 'BROKEN'} |"
        )
    lat = results["latency"]
    lines += [
        "",
        f"Commit to consume, {lat['rate_per_s']:,} events/s committed in transactions of 20, "
        f"relayed by a Celery worker of queue `outbox` on nudges: p50 {lat['p50_ms']} ms, "
        f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms ({lat['received']:,} of "
        f"{lat['events']:,} received).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="events per drain run")
    parser.add_argument("--keys", type=int, default=25_000, help="aggregate keys")
    parser.add_argument("--quick", action="store_true", help="smoke run (20,000 events)")
    parser.add_argument("--rate", type=float, default=2000.0, help="latency phase events/s")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.count
    keys = max(1, args.keys * count // args.count) if args.quick else args.keys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(STREAM)
    # A broker database of its own: the latency phase's worker must not take (or leave)
    # tasks on the broker of a `make run` or a test run.
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")
    from progress_site.env import Env

    base = Env().str("DATABASE_URL", default="postgres://progress:progress@127.0.0.1:5432/progress")
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{DB_NAME}"
    prepare_database(base, DB_NAME)
    import django
    import orjson

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    env = dict(os.environ)
    rng = random.Random(17)
    results: dict = {
        "machine": {"cpus": os.cpu_count()},
        "date": dt.date.today().isoformat(),
        "settings": {
            "batch": settings.PROGRESS_OUTBOX_BATCH,
            "shards": settings.PROGRESS_OUTBOX_SHARDS,
        },
        "drain": [],
    }
    try:
        events = make_events(count, keys, rng)
        for relays in (1, 2):
            log(f"{len(events):,} events over {keys:,} keys, {relays} relay process(es)")
            results["drain"].append(drain(events, relays, env))
        log(f"latency at {args.rate:,.0f} events/s")
        seconds = 5.0 if args.quick else args.latency_seconds
        results["latency"] = latency(rng, args.rate, seconds, env)
    finally:
        with contextlib.suppress(Exception):
            reset_stream()
        if not args.keep_db:
            drop_database(base, DB_NAME)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    sys.stdout.write(render(results))


if __name__ == "__main__":
    main()
