"""progress-ingest benchmark: NATS JetStream to stored statements, against binary COPY.

One command (``make bench-ingest``; ``--quick`` for a smoke run) that, in a scratch
database and on streams of its own:

1. measures the reference: binary COPY of the same kind of prepared rows into a table
   indexed like ``statements`` (what PostgreSQL absorbs on this machine), once before the
   drains and once after them; ratios are to the mean of both;
2. publishes ``--count`` realistic statements (``bench/generator.py``, one per message, as
   the delivery service does) while no consumer runs, then starts one ``ingest_consumer``
   process and times it until the consumer has acked every message: end-to-end stored
   statements per second, with the CPU each side used (consumer, PostgreSQL, NATS);
3. the same with two consumer processes;
4. latency: one consumer, messages published at half the one-consumer rate, and a sample of
   statements (about 50 a second) polled over ``GET /xapi/statements?statementId=`` until
   readable: publish-to-readable p50/p99, and the CPU of each side meanwhile;
5. with ``--profile``, py-spy samples the one-consumer process during its run: where the
   consumer's CPU goes, per thread (the event loop talking to NATS, the thread storing).

Figures print as Markdown and go to ``bench/results/ingest_nats.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.statements_http import (  # noqa: E402 - after the path set-up
    Server,
    copy_reference,
    drop_database,
    log,
    percentile,
    prepare_database,
)

DB_NAME = "progress_bench_ingest"
RESULTS = ROOT / "bench" / "results" / "ingest_nats.json"
STREAMS = {
    "PROGRESS_INGEST_STREAM": "BENCH_INGEST",
    "PROGRESS_INGEST_SUBJECT_PREFIX": "bench.ingest",
    "PROGRESS_INGEST_CONSUMER": "bench-ingest",
    "PROGRESS_DEADLETTER_STREAM": "BENCH_DEADLETTER",
    "PROGRESS_INGEST_DEADLETTER_SUBJECT": "bench.deadletter.ingest",
}
TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU accounting from /proc -----------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds used by the consumer processes, PostgreSQL and NATS over a phase."""

    def __init__(self, consumer_pids: list[int], api_pids: list[int] = ()):
        self.consumers = consumer_pids
        self.api = list(api_pids)
        self.start = self._sample()
        self.started = time.perf_counter()

    def _sample(self) -> dict[str, dict[int, float]]:
        return {
            "consumer": {pid: _cpu_seconds(pid) for pid in self.consumers},
            "postgresql": {pid: _cpu_seconds(pid) for pid in _pids_named("postgres")},
            "nats": {pid: _cpu_seconds(pid) for pid in _pids_named("nats-server")},
            **({"api": {pid: _cpu_seconds(pid) for pid in self.api}} if self.api else {}),
        }

    def stop(self) -> dict:
        end, wall = self._sample(), time.perf_counter() - self.started
        used = {
            side: sum(seconds - self.start[side].get(pid, 0.0) for pid, seconds in pids.items())
            for side, pids in end.items()
        }
        return {f"{side}_cores": round(seconds / wall, 2) for side, seconds in used.items()}


# --- NATS ---------------------------------------------------------------------------------


async def _connect():
    import nats
    from django.conf import settings

    return await nats.connect(servers=settings.NATS_SERVERS)


def reset_streams() -> None:
    from ingest.consumer import ConsumerSettings, ensure_streams

    async def go():
        nc = await _connect()
        js = nc.jetstream()
        for stream in (STREAMS["PROGRESS_INGEST_STREAM"], STREAMS["PROGRESS_DEADLETTER_STREAM"]):
            with contextlib.suppress(Exception):  # absent on a first run
                await js.delete_stream(stream)
        await ensure_streams(js, ConsumerSettings.from_django())
        await nc.close()

    asyncio.run(go())


def publish_all(subject: str, headers: dict, bodies: list[bytes]) -> float:
    """Publish every body (core NATS publishes, captured by the stream); returns msgs/s."""
    from django.conf import settings

    async def go():
        nc = await _connect()
        started = time.perf_counter()
        for index, body in enumerate(bodies):
            await nc.publish(subject, body, headers=headers)
            if index % 2000 == 1999:
                await nc.flush()
        await nc.flush()
        js = nc.jetstream()
        while (await js.stream_info(settings.PROGRESS_INGEST_STREAM)).state.messages < len(bodies):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await nc.close()
        return len(bodies) / elapsed

    return asyncio.run(go())


def backlog() -> int:
    """Messages the consumer has not acked yet (pending plus in flight)."""
    from django.conf import settings

    async def go():
        nc = await _connect()
        info = await nc.jetstream().consumer_info(
            settings.PROGRESS_INGEST_STREAM, settings.PROGRESS_INGEST_CONSUMER
        )
        await nc.close()
        return info.num_pending + info.num_ack_pending

    return asyncio.run(go())


# --- phases ---------------------------------------------------------------------------------


def start_consumers(count: int, env: dict) -> list:
    python = str(ROOT / ".venv" / "bin" / "python")
    argv = [python, "manage.py", "ingest_consumer", "--metrics-port", "0"]
    return [subprocess.Popen(argv, cwd=ROOT, env=env) for _ in range(count)]  # noqa: S603


def stop_consumers(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(60)


def drain(
    bodies, statements, subject, headers, env, consumers: int, profile: Path | None = None
) -> dict:
    """Publish with no consumer running, then time the consumers until all is acked."""
    reset_streams()
    publish_rate = publish_all(subject, headers, bodies)
    processes = start_consumers(consumers, env)
    meter = CpuMeter([p.pid for p in processes])
    started = time.perf_counter()
    sampler = None
    if profile is not None:
        sampler = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(ROOT / ".venv" / "bin" / "py-spy"), "record", "--pid", str(processes[0].pid),
             "--rate", "200", "--format", "raw", "--threads", "--nonblocking",
             "--output", str(profile)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    while backlog() > 0:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    if sampler is not None:
        sampler.send_signal(2)  # SIGINT: py-spy writes what it sampled
        sampler.wait(60)
    stop_consumers(processes)
    return {
        "consumers": consumers,
        "statements": statements,
        "messages": len(bodies),
        "publish_msgs_per_s": round(publish_rate),
        "stored_per_s": round(statements / elapsed),
        **cpu,
    }


def as_messages(documents: list[dict], per_message: int) -> list[bytes]:
    import orjson

    if per_message <= 1:
        return [orjson.dumps(document) for document in documents]
    return [
        orjson.dumps(documents[start : start + per_message])
        for start in range(0, len(documents), per_message)
    ]


def latency(
    generator, subject, headers, env, server, authorization, rate: float, seconds: float,
    per_message: int,
):  # fmt: skip
    """Publish ``rate`` statements per second (in messages of ``per_message``); poll
    sampled ids over HTTP until each is readable.

    About 50 statements a second are sampled. One poller asks for the waiting ids in the
    order they were published, stopping a pass at the first one not yet readable, and
    pauses 5 ms between passes: a later id found in a later pass is timed then, so each
    figure is an upper bound (by at most a pass). Polling every waiting id back to back
    would load the API with over a thousand GETs a second, about a core on this machine,
    and measure the benchmark's own load on the pipeline."""

    reset_streams()
    processes = start_consumers(1, env)
    time.sleep(3)  # connected and bound
    published: dict[str, float] = {}
    found: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()
    requests = [0]

    def poller():
        connection = http.client.HTTPConnection(server.url, timeout=10)
        request_headers = {"Authorization": authorization, "X-Experience-API-Version": "2.0.0"}
        while not done.is_set() or len(found) < len(published):
            with lock:
                waiting = [i for i in published if i not in found]
            for statement_id in waiting:
                connection.request(
                    "GET", f"/xapi/statements?statementId={statement_id}", headers=request_headers
                )
                response = connection.getresponse()
                response.read()
                requests[0] += 1
                if response.status != 200:
                    break
                with lock:
                    found.setdefault(statement_id, time.perf_counter())
            if done.is_set() and time.perf_counter() > deadline_after_done[0]:
                return
            time.sleep(0.005)

    deadline_after_done = [float("inf")]
    threads = [threading.Thread(target=poller)]
    for thread in threads:
        thread.start()
    total = int(rate * seconds)
    documents = generator.statements(total)
    bodies = as_messages(documents, per_message)
    first_ids = [documents[index]["id"] for index in range(0, len(documents), max(per_message, 1))]
    message_rate = rate / max(per_message, 1)
    sample_every = max(1, round(message_rate / 50))
    meter = CpuMeter([p.pid for p in processes], server.pids())

    async def publish_paced():
        nc = await _connect()
        started = time.perf_counter()
        for index, body in enumerate(bodies):
            target = started + index / message_rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await nc.publish(subject, body, headers=headers)
            if index % sample_every == 0:
                await nc.flush()
                with lock:
                    published[first_ids[index]] = time.perf_counter()
        await nc.flush()
        await nc.close()

    asyncio.run(publish_paced())
    cpu = meter.stop()
    done.set()
    deadline_after_done[0] = time.perf_counter() + 30
    for thread in threads:
        thread.join(60)
    stop_consumers(processes)
    latencies = [found[i] - published[i] for i in published if i in found]
    return {
        "rate_per_s": round(rate),
        "samples": len(published),
        "readable": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "gets_per_s": round(requests[0] / seconds),
        **cpu,
    }


def profile_summary(path: Path, top: int = 18) -> list[str]:
    """Share of CPU samples per thread, then the functions with the most samples of their
    own (py-spy's raw format: one ``frame;frame;...;leaf count`` line per stack)."""
    from collections import Counter

    threads: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        total += int(count)
        threads[
            frames[0].split("(")[0].strip()
            + (" (event loop)" if "MainThread" in frames[0] else " (database)")
        ] += int(count)
        leaves[frames[-1]] += int(count)
    lines = [f"{count / total:6.1%}  {name}" for name, count in threads.most_common()]
    lines.append("")
    lines += [f"{count / total:6.1%}  {name}" for name, count in leaves.most_common(top)]
    return lines


def render(results: dict) -> str:
    reference = results["copy_reference"]
    copy = reference["rows_per_s"]
    lines = [
        f"Reference, binary COPY into a table indexed like `statements`: **{copy:,} rows/s** "
        f"(mean of {reference['before_per_s']:,} before the drains and "
        f"{reference['after_per_s']:,} after).",
        "",
        "| consumers | statements | messages | stored/s | ÷ COPY | consumer cores | "
        "PostgreSQL cores | NATS cores |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in results["drain"]:
        lines.append(
            f"| {run['consumers']} | {run['statements']:,} | {run['messages']:,} | "
            f"{run['stored_per_s']:,} | "
            f"{run['over_copy']:.2f} | {run['consumer_cores']} | {run['postgresql_cores']} | "
            f"{run['nats_cores']} |"
        )
    lat = results["latency"]
    lines += [
        "",
        f"Publish to readable over GET, at {lat['rate_per_s']:,} statements/s in messages of "
        f"{results.get('per_message', 1)} (half the "
        f"one-consumer rate): p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms "
        f"({lat['readable']} of {lat['samples']} samples read; {lat['gets_per_s']:,} GETs/s; "
        f"cores: consumer {lat['consumer_cores']}, API {lat['api_cores']}, PostgreSQL "
        f"{lat['postgresql_cores']}, NATS {lat['nats_cores']}).",
    ]
    if results.get("profile"):
        lines += ["", "```", *results["profile"], "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="statements per drain run")
    parser.add_argument("--quick", action="store_true", help="smoke run (20,000 statements)")
    parser.add_argument(
        "--per-message", type=int, default=1, help="statements per message (a JSON array when > 1)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the one-consumer run")
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.count

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(STREAMS)
    from progress_site.env import Env

    base = Env().str("DATABASE_URL", default="postgres://progress:progress@127.0.0.1:5432/progress")
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{DB_NAME}"
    prepare_database(base, DB_NAME)
    import base64

    import django
    import orjson

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.generator import StatementGenerator
    from partitions.services import partition_ensure_months
    from tenants import services as tenancy
    from tenants.auth import Principal

    partition_ensure_months(months_ahead=2)
    tenant = tenancy.tenant_create(slug="bench", home_region=settings.PROGRESS_REGION)
    issued = tenancy.credential_create(tenant=tenant, key="bench-producer", scopes=["all"])
    authorization = "Basic " + base64.b64encode(f"bench-producer:{issued.secret}".encode()).decode()
    principal = Principal(
        issued.credential.pk, "bench-producer", tenant.pk, "bench", frozenset(["all"]), "normal"
    )
    subject = f"{settings.PROGRESS_INGEST_SUBJECT_PREFIX}.bench"
    headers = {"Progress-Credential": "bench-producer"}
    env = dict(os.environ)
    generator = StatementGenerator(seed=11, learners=5000, activities=200, courses=20)
    results: dict = {"machine": {"cpus": os.cpu_count()}, "date": dt.date.today().isoformat()}
    server = None
    try:
        log("COPY reference")
        reference_rows = min(count, 100_000)
        before = copy_reference(principal, generator, reference_rows)
        results["drain"] = []
        profile_path = RESULTS.parent / "ingest_profile.txt"
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        for consumers in (1, 2):
            log(f"{count:,} statements, {consumers} consumer(s)")
            bodies = as_messages(generator.statements(count), args.per_message)
            profile = profile_path if (args.profile and consumers == 1) else None
            run = drain(bodies, count, subject, headers, env, consumers, profile)
            results["drain"].append(run)
            if profile is not None:
                results["profile"] = profile_summary(profile)
        # The reference again after the drains: this machine's speed drifts by a quarter
        # within minutes, so the ratio is taken to the mean of both.
        log("COPY reference, again")
        after = copy_reference(principal, generator, reference_rows)
        results["copy_reference"] = {
            "rows": reference_rows,
            "rows_per_s": round((before["rows_per_s"] + after["rows_per_s"]) / 2),
            "before_per_s": before["rows_per_s"],
            "after_per_s": after["rows_per_s"],
        }
        for run in results["drain"]:
            run["over_copy"] = round(
                run["stored_per_s"] / results["copy_reference"]["rows_per_s"], 3
            )
        log("latency at half rate")
        server = Server(args.port, 2, 4, env)
        half = results["drain"][0]["stored_per_s"] / 2
        seconds = 5.0 if args.quick else args.latency_seconds
        results["latency"] = latency(
            generator, subject, headers, env, server, authorization, half, seconds,
            args.per_message,
        )  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        if not args.keep_db:
            drop_database(base, DB_NAME)
    results["per_message"] = args.per_message
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    sys.stdout.write(render(results))


if __name__ == "__main__":
    main()
