"""progress-projector benchmark: lag under sustained ingest, catch-up, rebuild.

One command (``make bench-projection``; ``--quick`` for a smoke run) that, in a scratch
database, with statements from ``bench/generator.py`` stored through the one write path
(``statements_store``, validation included, batches of ``--batch``) and projected by a real
Celery worker on queue ``projection`` with ``--workers`` pool processes (as deploy/ runs
it), nudged after commit as in production, plus the sweeper's work done by the same task:

1. **Maximum ingest rate**: one writer stores as fast as it can while no projector runs.
   The backlog it leaves is then drained by the workers alone, timed from their first
   claim: the projector's own throughput with nothing else running.
2. **Sustained ingest at 50 % and 80 %** of that rate, the workers running: the projection
   lag (``projection_lag_seconds``, the exported metric: age of the oldest unprojected
   statement) sampled every 50 ms, p50/p99/max, and whether it grows (mean lag of the last
   third of the run against the first third).
3. **Catch-up**: at 50 % ingest, the workers are stopped for ``--outage`` seconds, then
   restarted while ingest goes on; the time from the restart (worker start-up included)
   until less than half a second of work is left gives the catch-up throughput (backlog
   plus what arrived meanwhile, per second), reported against the ingest rate; reported
   too: the start-up (until the first claim) and the throughput from the first claim.
4. **Rebuild** of the tenant: from empty tables in one and in two processes, and over
   current tables in two (``projection_rebuild_parallel``): statements per second.

Figures print as Markdown and go to ``bench/results/projection.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.statements_http import drop_database, log, percentile, prepare_database  # noqa: E402

DB_NAME = "progress_bench_projection"
RESULTS = ROOT / "bench" / "results" / "projection.json"


class Workers:
    """A Celery worker consuming only ``projection``, on the benchmark database, run as
    deploy/ runs the projector: one worker process with ``count`` pool processes forked
    from it (prefork), which load the application once between them."""

    def __init__(self, count: int, env: dict):
        self.count, self.env, self.processes = count, env, []

    def start(self, settle: float = 3.0) -> None:
        celery = str(ROOT / ".venv" / "bin" / "celery")
        argv = [celery, "-A", "progress_site", "worker", "-Q", "projection", "--concurrency",
                str(self.count), "-n", "bench-projection@%h", "--without-gossip",
                "--without-mingle", "--loglevel", "WARNING"]  # fmt: skip
        self.processes.append(
            subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL)  # noqa: S603
        )
        time.sleep(settle)  # connect to the broker before the first nudge is sent

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(60)
        self.processes = []


class Writer:
    """Stores generated statements in batches, at a given rate (None: as fast as it can)."""

    def __init__(self, principal, generator, batch: int):
        from statements.xapi.validate import validate_statement

        self.principal, self.generator, self.batch = principal, generator, batch
        self.validate = validate_statement
        self.stored = 0

    def store(self, count: int) -> None:
        from statements.services import statements_store

        documents = self.generator.statements(count)
        statements = [self.validate(d, v2=False) for d in documents]
        statements_store(principal=self.principal, statements=statements, v2=False)
        self.stored += count

    def run(self, seconds: float, rate: float | None) -> float:
        """Store for ``seconds``; returns the rate achieved."""
        started = time.perf_counter()
        stored_before = self.stored
        while (now := time.perf_counter()) - started < seconds:
            if rate is not None:
                due = (self.stored - stored_before) / rate
                if now - started < due:
                    time.sleep(min(due - (now - started), 0.05))
                    continue
            self.store(self.batch)
        return (self.stored - stored_before) / (time.perf_counter() - started)


class LagSampler:
    """Samples the exported lag every 50 ms on a connection of its own."""

    def __init__(self):
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        from attempts.selectors import projection_lag_seconds

        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), projection_lag_seconds()))
            time.sleep(0.05)
        connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def lag_summary(samples: list[tuple[float, float]]) -> dict:
    lags = [lag for _, lag in samples]
    third = max(len(lags) // 3, 1)
    first, last = lags[:third], lags[-third:]
    return {
        "p50_s": round(percentile(lags, 0.5), 3),
        "p99_s": round(percentile(lags, 0.99), 3),
        "max_s": round(max(lags), 3),
        "first_third_mean_s": round(sum(first) / len(first), 3),
        "last_third_mean_s": round(sum(last) / len(last), 3),
        "samples": len(lags),
    }


def backlog() -> int:
    from attempts.selectors import projection_backlog

    return projection_backlog()


def backlog_above(threshold: int) -> bool:
    """Whether more than ``threshold`` statements wait, counting no further than that.

    The waits poll this, so it must cost little whatever the backlog: ``count(*)`` over the
    queue (``backlog``) reads every row the projector deleted and no vacuum has removed yet
    (this machine's PostgreSQL runs without autovacuum), about 27 ms of three processes
    at 1,500,000 deleted rows. Polled every 20 ms, it took most of a core from the
    projector it was timing: the drain measured 2,351 statements/s with it, 3,585/s
    with this probe.
    """
    from django.db import connection

    from statements.feed import QUEUE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {QUEUE_TABLE} ORDER BY seq LIMIT %s) q",  # noqa: S608
            [threshold + 1],
        )
        return cursor.fetchone()[0] > threshold


def wait_drained(timeout: float, threshold: int = 0) -> float:
    started = time.perf_counter()
    while backlog_above(threshold):
        if time.perf_counter() - started > timeout:
            raise RuntimeError("the projector did not drain the queue in time")
        time.sleep(0.05)
    return time.perf_counter() - started


def oldest_queued() -> int | None:
    """The ``seq`` of the oldest queue row (an index walk to the first live entry)."""
    from django.db import connection

    from statements.feed import QUEUE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq FROM {QUEUE_TABLE} ORDER BY seq LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def wait_first_claim(before: int | None, timeout: float) -> float:
    """Seconds until the oldest queue row is no longer ``before``: the workers' first
    claim, which only comes once a process has started and taken its first task."""
    started = time.perf_counter()
    while oldest_queued() == before:
        if time.perf_counter() - started > timeout:
            raise RuntimeError("no worker claimed anything in time")
        time.sleep(0.01)
    return time.perf_counter() - started


def nudge() -> None:
    from attempts.nudge import projection_nudge

    projection_nudge()


def render(results: dict) -> str:
    ingest = results["max_ingest"]
    lines = [
        "## progress-projector benchmark",
        "",
        f"{results['workers']} projector worker(s), ingest batches of {results['batch']}, "
        f"{results['date']}.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| maximum ingest (no projector) | {ingest['statements_per_s']:,.0f} statements/s |",
        f"| projector alone, draining {ingest['backlog']:,} | "
        f"{ingest['drain_per_s']:,.0f} statements/s "
        f"({ingest['drain_per_s'] / ingest['statements_per_s']:.2f}x max ingest) |",
    ]
    for run in results["sustained"]:
        lag = run["lag"]
        lines.append(
            f"| lag at {run['share']:.0%} ingest ({run['rate']:,.0f}/s) | p50 {lag['p50_s']} s, "
            f"p99 {lag['p99_s']} s, max {lag['max_s']} s; mean first third "
            f"{lag['first_third_mean_s']} s, last third {lag['last_third_mean_s']} s |"
        )
    catch = results["catch_up"]
    lines += [
        f"| catch-up after {catch['outage_s']} s stopped, ingest at {catch['rate']:,.0f}/s | "
        f"backlog {catch['backlog']:,} cleared in {catch['seconds']} s: "
        f"{catch['throughput_per_s']:,.0f} statements/s = "
        f"{catch['over_ingest']:.2f}x the ingest rate |",
        f"| of which process start-up until the first claim | {catch['start_up_s']} s; "
        f"from the first claim {catch['running_throughput_per_s']:,.0f} statements/s = "
        f"{catch['running_over_ingest']:.2f}x the ingest rate |",
    ]
    for run in results["rebuild"]:
        lines.append(
            f"| rebuild, {run['processes']} process(es), {run['tables']} tables "
            f"({run['statements']:,} statements) | {run['statements_per_s']:,.0f} statements/s |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short phases)")
    parser.add_argument("--seconds", type=float, default=60.0, help="each sustained phase")
    parser.add_argument("--outage", type=float, default=20.0, help="projector stopped, s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="statements per write")
    parser.add_argument("--preload", type=int, default=200_000, help="statements before")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    seconds = 8.0 if args.quick else args.seconds
    outage = 4.0 if args.quick else args.outage
    preload = 10_000 if args.quick else args.preload

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from progress_site.env import Env

    base = Env().str("DATABASE_URL", default="postgres://progress:progress@127.0.0.1:5432/progress")
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{DB_NAME}"
    # A broker database of its own: the benchmark's tasks never meet a running service's.
    redis_base = Env().str("REDIS_URL", default="redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    os.environ["CELERY_BROKER_URL"] = f"{redis_base}/12"
    os.environ["REDIS_URL"] = f"{redis_base}/13"
    prepare_database(base, DB_NAME)
    import django
    import orjson
    import redis

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    for url in (os.environ["CELERY_BROKER_URL"], os.environ["REDIS_URL"]):
        redis.Redis.from_url(url).flushdb()
    from attempts.services import projection_rebuild_parallel
    from bench.generator import StatementGenerator
    from partitions.services import partition_ensure_months
    from tenants import services as tenancy
    from tenants.auth import Principal

    partition_ensure_months(months_ahead=2)
    tenant = tenancy.tenant_create(slug="bench", home_region=settings.PROGRESS_REGION)
    issued = tenancy.credential_create(tenant=tenant, key="bench-writer", scopes=["all"])
    principal = Principal(
        issued.credential.pk, "bench-writer", tenant.pk, "bench", frozenset(["all"]), "normal"
    )
    generator = StatementGenerator(seed=23, learners=5000, activities=200, courses=20)
    writer = Writer(principal, generator, args.batch)
    workers = Workers(args.workers, dict(os.environ))
    results: dict = {
        "date": dt.date.today().isoformat(),
        "workers": args.workers,
        "batch": args.batch,
        "machine": {"cpus": os.cpu_count()},
    }
    try:
        log(f"preload: {preload:,} statements, projected")
        workers.start()
        for _ in range(preload // 10_000 or 1):
            writer.store(10_000)
            nudge()
        wait_drained(600)

        log("maximum ingest rate, projector stopped")
        workers.stop()
        rate = writer.run(seconds, None)
        left = backlog()
        # Timed from the workers' first claim: the writer's own nudges are waiting in the
        # broker, so the workers start draining as soon as they are up, and a clock started
        # after a settling pause would miss what they drained during it.
        oldest = oldest_queued()
        workers.start(settle=0.0)
        nudge()
        wait_first_claim(oldest, 120)
        started = time.perf_counter()
        wait_drained(600)
        drained = time.perf_counter() - started
        results["max_ingest"] = {
            "statements_per_s": round(rate),
            "backlog": left,
            "drain_per_s": round(left / drained),
            "drain_seconds": round(drained, 2),
        }
        results["sustained"] = []
        for share in (0.5, 0.8):
            log(f"sustained ingest at {share:.0%}")
            with LagSampler() as sampler:
                achieved = writer.run(seconds, rate * share)
            wait_drained(600)
            results["sustained"].append(
                {"share": share, "rate": round(achieved), "lag": lag_summary(sampler.samples)}
            )

        log("catch-up after an outage of the projector")
        half = rate * 0.5
        workers.stop()
        writer.run(outage, half)
        left = backlog()
        stop_ingest = threading.Event()

        def ingest():
            # Ingest goes on at half rate while the projector restarts and catches up.
            while not stop_ingest.is_set():
                writer.run(0.2, half)
            connection.close()

        stored_before = writer.stored
        ingesting = threading.Thread(target=ingest)
        ingesting.start()
        oldest = oldest_queued()
        started = time.perf_counter()
        workers.start(settle=0.0)  # the restart itself (process start-up) is part of it
        nudge()
        start_up = wait_first_claim(oldest, 120)
        wait_drained(600, threshold=int(half / 2))  # under half a second of work left
        seconds = time.perf_counter() - started
        stop_ingest.set()
        ingesting.join()
        arrived = writer.stored - stored_before
        cleared = left + arrived - backlog()
        # Statements that arrived during start-up are part of the backlog the projector
        # clears once running: ``cleared`` counts them either way.
        running = seconds - start_up
        results["catch_up"] = {
            "outage_s": outage,
            "rate": round(half),
            "backlog": left,
            "seconds": round(seconds, 2),
            "throughput_per_s": round(cleared / seconds),
            "over_ingest": round(cleared / seconds / half, 2),
            "start_up_s": round(start_up, 2),
            "running_throughput_per_s": round(cleared / running),
            "running_over_ingest": round(cleared / running / half, 2),
        }
        wait_drained(600)
        workers.stop()

        results["rebuild"] = []
        for processes, empty in ((1, True), (2, True), (2, False)):
            log(f"rebuild, {processes} process(es), {'empty' if empty else 'current'} tables")
            if empty:
                with connection.cursor() as cursor:
                    cursor.execute("TRUNCATE attempts, completions")
            progress = projection_rebuild_parallel(tenant_id=tenant.pk, processes=processes)
            results["rebuild"].append(
                {
                    "processes": processes,
                    "tables": "empty" if empty else "current",
                    "statements": progress.statements,
                    "groups": progress.groups,
                    "seconds": round(progress.seconds, 2),
                    "statements_per_s": round(progress.statements_per_second),
                }
            )
    finally:
        workers.stop()
        if not args.keep_db:
            drop_database(base, DB_NAME)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    sys.stdout.write(render(results))


if __name__ == "__main__":
    main()
