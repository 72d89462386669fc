"""Statement resource benchmark: the service over HTTP against the machine's physical limit.

One command (``make bench-statements``; ``--quick`` for a small smoke run) that:

1. creates a scratch database ``progress_bench``, migrates it, and starts gunicorn on it;
2. measures, in the same run, a binary COPY of prepared statement rows into a table indexed
   like ``statements`` (the reference: what PostgreSQL absorbs on this machine), before
   and after the POSTs, whose ratios are to the mean of the two;
3. POST throughput with batches of 1, 10, 100 and 1000 (concurrent clients), PUT latency,
   and 8 concurrent writers posting overlapping activities (5xx and deadlocks counted);
4. for each table size (``--rows``, default 1M and 10M), fills the tenant with realistic
   cmi5-style statements spread over several monthly partitions, then measures GET p50/p99
   per filter uncached and cached (after every request thread has read every filter
   once: connections in their steady state), GET by id, ``more`` page 1 against page 5,000, and
   batch-100 ingest into the full table against the empty-table rate; at the first size,
   the GETs again with 20 monthly partitions attached instead of 8.

Figures print as a table and go to ``bench/results/statements_http.json``. Ratios are what
compare across runs; absolute numbers drift with the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "progress_bench"
RESULTS = ROOT / "bench" / "results" / "statements_http.json"


def log(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(latencies: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "n": len(latencies),
    }


# --- set-up -----------------------------------------------------------------------------------


def _admin(base_url: str):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(base_url.replace("postgres://", "postgresql://", 1))
    return psycopg.connect(make_conninfo(**(params | {"dbname": "postgres"})), autocommit=True)


def prepare_database(base_url: str, name: str = DB_NAME) -> None:
    """A fresh, empty scratch database ``name`` on the server of ``base_url``."""
    with _admin(base_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(base_url: str, name: str = DB_NAME) -> None:
    from django.db import connections

    connections.close_all()
    with _admin(base_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """gunicorn serving the benchmark database, as ``make run`` would."""

    def __init__(self, port: int, workers: int, threads: int, env: dict):
        self.url = f"127.0.0.1:{port}"
        self.threads = workers * threads  # request threads, each with its own connection
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "progress_site.wsgi:application",
             "-c", "progress_site/gunicorn_conf.py"],
            cwd=ROOT,
            env=env | {"PROGRESS_BIND": self.url, "WEB_CONCURRENCY": str(workers),
                       "GUNICORN_THREADS": str(threads)},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection(self.url, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the server did not start")

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [pid, *map(int, children)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


class Client:
    """One keep-alive HTTP/1.1 connection with the xAPI headers, kept lean on purpose.

    The load generator shares the two cores with the service it measures, so whatever it
    spends is taken from the service. ``http.client`` builds a message object and parses
    every response header with the ``email`` package: 260 to 330 µs of the client's CPU a
    one-statement POST here, against 70 to 80 µs for this client, which sends each request
    as one buffer and reads only the status line, ``Content-Length`` and
    ``Transfer-Encoding``, which is all the benchmark needs of a response.
    """

    def __init__(self, host: str, authorization: str):
        self.host = host
        self._head = (
            f"Host: {host}\r\nAuthorization: {authorization}\r\nX-Experience-API-Version: 2.0.0\r\n"
        ).encode()
        self._socket: socket.socket | None = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        name, port = self.host.rsplit(":", 1)
        sock = socket.create_connection((name, int(port)), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""
        return sock

    def _fill(self, sock: socket.socket) -> None:
        data = sock.recv(262144)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._buffer += data

    def _read_until(self, sock: socket.socket, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._fill(sock)
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return found

    def _read_exactly(self, sock: socket.socket, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill(sock)
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _read_body(self, sock: socket.socket, method: str, status: int, head: bytes) -> bytes:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        lowered = head.lower()
        if b"\r\ntransfer-encoding: chunked" in lowered:
            chunks = []
            while size := int(self._read_until(sock, b"\r\n").split(b";")[0], 16):
                chunks.append(self._read_exactly(sock, size))
                self._read_exactly(sock, 2)
            self._read_until(sock, b"\r\n")  # no trailers are sent here
            return b"".join(chunks)
        start = lowered.find(b"\r\ncontent-length:")
        if start < 0:
            raise ConnectionError("a response without a length")
        end = lowered.find(b"\r\n", start + 2)
        return self._read_exactly(sock, int(head[start + 17 : end if end > 0 else None]))

    def request(self, method: str, path: str, body: bytes | None = None):
        message = b"%s %s HTTP/1.1\r\n%s" % (method.encode(), path.encode(), self._head)
        if body is not None:
            message += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
                len(body),
                body,
            )
        else:
            message += b"\r\n"
        started = time.perf_counter()
        try:
            sock = self._socket or self._connect()
            self._socket = sock
            sock.sendall(message)
            head = self._read_until(sock, b"\r\n\r\n")
            status = int(head[9:12])
            data = self._read_body(sock, method, status, head)
        except (OSError, ValueError):
            self.close()
            raise
        if b"\r\nconnection: close" in head.lower():
            self.close()
        return status, time.perf_counter() - started, data

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None


def run_concurrently(host, authorization, jobs: list, concurrency: int):
    """Run ``(method, path, body)`` jobs on ``concurrency`` connections; returns
    (wall seconds, latencies, statuses)."""
    latencies, statuses = [], []
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def worker():
        client = Client(host, authorization)
        while True:
            with lock:
                if not queue:
                    return
                method, path, body = queue.pop()
            status, elapsed, _ = client.request(method, path, body)
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return time.perf_counter() - started, latencies, statuses


# --- measurements -----------------------------------------------------------------------------


def copy_reference(principal, generator, rows: int) -> dict:
    """Binary COPY of prepared rows into a table indexed like ``statements``."""
    from django.db import connection, transaction

    from statements.services import statement_prepare, statements_copy
    from statements.xapi.validate import validate_statement

    now = dt.datetime.now(dt.UTC)
    prepared = [
        statement_prepare(validate_statement(s, v2=True), principal=principal, stored=now, v2=True)
        for s in generator.statements(rows)
    ]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_reference")
        cursor.execute("CREATE TABLE bench_copy_reference (LIKE statements INCLUDING ALL)")
    chunk = 5000
    started = time.perf_counter()
    for start in range(0, rows, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            statements_copy(
                cursor.cursor,
                tenant_id=principal.tenant_id,
                rows=prepared[start : start + chunk],
                table="bench_copy_reference",
            )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy_reference")
    return {"rows": rows, "rows_per_s": round(rows / elapsed)}


def post_throughput(server, authorization, generator, batch: int, statements: int, clients: int):
    import orjson

    jobs = []
    for _ in range(0, statements, batch):
        documents = generator.statements(batch)
        jobs.append(("POST", "/xapi/statements", orjson.dumps(documents)))
    wall, latencies, statuses = run_concurrently(server.url, authorization, jobs, clients)
    return {
        "batch": batch,
        "clients": clients,
        "statements_per_s": round(len(jobs) * batch / wall),
        **summary(latencies),
        "errors_5xx": sum(1 for s in statuses if s >= 500),
        "non_200": sum(1 for s in statuses if s != 200),
    }


def definition_upkeep(server, authorization, tenant, generator, scale: float) -> dict:
    """What keeping Activity definitions and Agent names current costs the write path:
    batch-100 POSTs by a credential with ``define`` (the statements update them) against
    one without (they do not), alternated so both see the same machine state."""
    import base64

    from tenants import services as tenancy

    issued = tenancy.credential_create(
        tenant=tenant, key="bench-no-define", scopes=["statements/write", "statements/read"]
    )
    plain = "Basic " + base64.b64encode(f"bench-no-define:{issued.secret}".encode()).decode()
    defining = authorization
    rates: dict[str, list[int]] = {"with_define": [], "without_define": []}
    for name, authorization in (("with_define", defining), ("without_define", plain)) * 2:
        entry = post_throughput(server, authorization, generator, 100, int(20_000 * scale), 4)
        rates[name].append(entry["statements_per_s"])
    with_define = statistics.mean(rates["with_define"])
    without_define = statistics.mean(rates["without_define"])
    return {
        "with_define_per_s": round(with_define),
        "without_define_per_s": round(without_define),
        "ratio": round(with_define / without_define, 3),
    }


def put_latency(server, authorization, generator, count: int):
    import orjson

    jobs = []
    for document in generator.statements(count):
        statement_id = document.pop("id")
        jobs.append(("PUT", f"/xapi/statements?statementId={statement_id}", orjson.dumps(document)))
    _, latencies, statuses = run_concurrently(server.url, authorization, jobs, 4)
    return {**summary(latencies), "non_204": sum(1 for s in statuses if s != 204)}


def overlapping_writers(server, authorization, generator, requests_per_writer: int):
    """8 writers, batches of 10 on the same 5 activities: no 5xx, no deadlock."""
    import orjson
    from django.db import connection

    activities = [f"https://courses.example.org/shared/au-{i}" for i in range(5)]
    jobs = []
    for _ in range(8 * requests_per_writer):
        documents = generator.statements(10)
        for document in documents:
            document["object"] = {"objectType": "Activity", "id": random.choice(activities)}
        jobs.append(("POST", "/xapi/statements", orjson.dumps(documents)))

    def deadlocks():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]

    before = deadlocks()
    _, latencies, statuses = run_concurrently(server.url, authorization, jobs, 8)
    time.sleep(0.6)  # statistics are flushed to pg_stat_database asynchronously
    return {
        "writers": 8,
        "requests": len(jobs),
        "errors_5xx": sum(1 for s in statuses if s >= 500),
        "deadlocks": deadlocks() - before,
        **summary(latencies),
    }


def fill(principal, generator, target_rows: int, samples: dict) -> float:
    """Bulk-load statements through the service's own row encoding, plus their registry
    rows. Returns rows/s.

    ``stored`` follows an arrival clock that runs once through the generator's 90-day
    window over the rows loaded here, so rows land in ``stored`` order as they do in
    service (the LRS stamps ``stored`` on arrival) and spread over several monthly
    partitions. Stamping ``stored`` from each statement's own ``timestamp`` instead would
    scatter every learner's recent statements over the whole heap: a layout no LRS has,
    which measures the disk rather than the service."""
    from django.db import connection, transaction

    from statements.services import statement_prepare, statement_refs_record, statements_copy
    from statements.xapi.validate import validate_statement

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM statements WHERE tenant_id = %s", [principal.tenant_id]
        )
        have = cursor.fetchone()[0]
    missing = target_rows - have
    window_end = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    window = dt.timedelta(days=90)
    step = window / max(missing, 1)
    chunk = 10_000
    started = time.perf_counter()
    loaded = 0
    while loaded < missing:
        size = min(chunk, missing - loaded)
        prepared = []
        for offset, document in enumerate(generator.statements(size)):
            stored = window_end - window + step * (loaded + offset)
            prepared.append(
                statement_prepare(
                    validate_statement(document, v2=True),
                    principal=principal,
                    stored=stored,
                    v2=True,
                )
            )
            if random.random() < 0.002:
                samples["ids"].append(prepared[-1].statement_id)
                lookups = prepared[-1].lookups
                samples["agents"].append(lookups.actor_ifi)
                samples["registrations"].append(lookups.registration)
                samples["activities"].append(lookups.activity_id)
                samples["parents"].extend(lookups.related_activities[1:2])
                samples["stored"].append(stored)
        with transaction.atomic(), connection.cursor() as cursor:
            statements_copy(cursor.cursor, tenant_id=principal.tenant_id, rows=prepared)
            statement_refs_record(cursor, tenant_id=principal.tenant_id, rows=prepared)
            with cursor.cursor.copy(
                "COPY statement_ids (tenant_id, statement_id, stored) FROM STDIN"
            ) as copy:
                for p in prepared:
                    copy.write_row((principal.tenant_id, p.statement_id, p.stored))
        loaded += size
        if loaded % 200_000 < chunk:
            log(f"  filled {have + loaded:,} rows")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        if not samples["ids"]:
            # The write phases alone filled the table (a quick run): sample what is there.
            cursor.execute(
                "SELECT statement_id, actor_ifi, registration, activity_id,"
                " related_activities[2:2], stored FROM statements"
                " WHERE tenant_id = %s AND registration IS NOT NULL"
                " ORDER BY random() LIMIT 200",
                [principal.tenant_id],
            )
            for statement_id, actor, registration, activity, parents, stored in cursor:
                samples["ids"].append(str(statement_id))
                samples["agents"].append(actor)
                samples["registrations"].append(str(registration))
                samples["activities"].append(activity)
                samples["parents"].extend(parents)
                samples["stored"].append(stored)
        cursor.execute("ANALYZE statements")
        cursor.execute("ANALYZE statement_ids")
    return round(loaded / elapsed) if loaded else 0.0


def get_latencies(server, authorization, principal, samples, repeats: int) -> dict:
    """Sequential GETs (latency, not throughput): each filter uncached, then cached."""
    import orjson

    from statements.cache import query_cache_invalidate

    client = Client(server.url, authorization)
    rng = random.Random(7)

    def agent_param(ifi: str) -> bytes:
        """The Agent JSON for an IFI key (statements.xapi.ifi's canonical string)."""
        if ifi.startswith("mbox:"):
            return orjson.dumps({"mbox": ifi.removeprefix("mbox:")})
        home_page, name = ifi.removeprefix("account:").split(" ", 1)
        return orjson.dumps({"account": {"homePage": home_page, "name": name}})

    queries = {
        "none": lambda: {},
        "agent": lambda: {"agent": agent_param(rng.choice(samples["agents"]))},
        "verb": lambda: {"verb": rng.choice(["http://adlnet.gov/expapi/verbs/completed",
                                             "http://adlnet.gov/expapi/verbs/passed",
                                             "http://adlnet.gov/expapi/verbs/progressed"])},
        "activity": lambda: {"activity": rng.choice(samples["activities"])},
        "registration": lambda: {"registration": rng.choice(samples["registrations"])},
        "related_activities": lambda: {"activity": rng.choice(samples["parents"]),
                                       "related_activities": "true"},
        "related_agents": lambda: {"agent": agent_param(rng.choice(samples["agents"])),
                                   "related_agents": "true"},
        "since": lambda: {"since": rng.choice(samples["stored"]).isoformat()},
    }  # fmt: skip
    # Each request thread holds its own PostgreSQL connection, and a connection's first
    # read of a month loads that month's partitions and indexes into its caches (about as
    # long as the read itself, per month). Production's connections live for an hour
    # behind PgBouncer; here they are replaced every DATABASE_CONN_MAX_AGE seconds, and the
    # fill outlasts them. So every thread reads every filter first, unmeasured, and the
    # figures below are of connections in their steady state.
    warm = [
        ("GET", "/xapi/statements?" + urlencode(make() | {"limit": "25"}), None)
        for make in queries.values()
        for _ in range(2 * server.threads)
    ]
    run_concurrently(server.url, authorization, warm, server.threads)
    results = {}
    for name, make in queries.items():
        uncached, cached = [], []
        for _ in range(repeats):
            path = "/xapi/statements?" + urlencode(make() | {"limit": "25"})
            query_cache_invalidate(principal.tenant_id)
            status, elapsed, _ = client.request("GET", path)
            assert status == 200, (name, status)
            uncached.append(elapsed)
            status, elapsed, _ = client.request("GET", path)
            cached.append(elapsed)
        results[name] = {"uncached": summary(uncached), "cached": summary(cached)}
    by_id = []
    for statement_id in rng.sample(samples["ids"], min(repeats, len(samples["ids"]))):
        status, elapsed, _ = client.request("GET", f"/xapi/statements?statementId={statement_id}")
        assert status == 200, status
        by_id.append(elapsed)
    results["by_id"] = summary(by_id)
    return results


def _p50(figures: dict) -> float:
    """An uncached GET's p50 (GET by id has no cached variant)."""
    return figures.get("uncached", figures)["p50_ms"]


def partition_count_effect(server, authorization, principal, samples, repeats: int) -> dict:
    """GET latencies again with twelve more (empty) monthly partitions attached, older than
    the filled ones: 20 months, as a year and a half of history would attach, against the
    8 of the rest of the run. The extra months are dropped afterwards."""
    from django.db import connection

    from partitions.services import month_add, month_table, partition_ensure_month

    first = month_add(dt.datetime.now(dt.UTC).date().replace(day=1), -4)
    extra = [month_add(first, -offset) for offset in range(1, 13)]
    for month in extra:
        partition_ensure_month(month=month)
    try:
        many = get_latencies(server, authorization, principal, samples, repeats)
    finally:
        with connection.cursor() as cursor:
            for month in extra:
                cursor.execute(f"DROP TABLE {month_table(month)}")
    return many


def deep_paging(server, authorization, principal, pages: int) -> dict:
    import orjson

    from statements.cache import query_cache_invalidate

    client = Client(server.url, authorization)
    query_cache_invalidate(principal.tenant_id)
    path = "/xapi/statements?limit=100"
    latencies = []
    for _ in range(pages):
        status, elapsed, data = client.request("GET", path)
        assert status == 200, status
        latencies.append(elapsed)
        path = orjson.loads(data)["more"]
        if not path:
            break
    first, last = latencies[:20], latencies[-20:]
    return {
        "pages": len(latencies),
        "first_pages_p50_ms": round(statistics.median(first) * 1000, 2),
        "last_pages_p50_ms": round(statistics.median(last) * 1000, 2),
        "last_over_first": round(statistics.median(last) / statistics.median(first), 3),
    }


# --- driver -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", default="1000000,10000000", help="table sizes, comma-separated; 0: writes only"
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run (20k rows)")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    sizes = [20_000] if args.quick else [int(s) for s in args.rows.split(",") if int(s) > 0]
    scale = 0.1 if args.quick else 1.0

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from progress_site.env import Env

    base = Env().str("DATABASE_URL", default="postgres://progress:progress@127.0.0.1:5432/progress")
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{DB_NAME}"
    prepare_database(base)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.generator import StatementGenerator
    from partitions.services import month_add, partition_ensure_month
    from tenants import services as tenancy
    from tenants.auth import Principal

    now = dt.datetime.now(dt.UTC)
    for offset in range(-4, 4):
        partition_ensure_month(month=month_add(now.date().replace(day=1), offset))
    tenant = tenancy.tenant_create(slug="bench", home_region=settings.PROGRESS_REGION)
    issued = tenancy.credential_create(tenant=tenant, key="bench", scopes=["all"])
    import base64

    authorization = "Basic " + base64.b64encode(f"bench:{issued.secret}".encode()).decode()
    principal = Principal(
        issued.credential.pk, "bench", tenant.pk, "bench", frozenset(["all"]), "normal"
    )
    generator = StatementGenerator(seed=1, learners=5000, activities=200, courses=20)

    env = dict(os.environ)
    server = Server(args.port, args.workers, args.threads, env)
    results: dict = {"machine": {"cpus": os.cpu_count(), "workers": args.workers,
                                 "threads": args.threads}}  # fmt: skip
    try:
        # Warm every worker thread's database connection and lazy imports first, so the
        # first measured phase does not carry start-up costs.
        log("warm-up")
        post_throughput(server, authorization, generator, 1, int(1000 * scale) or 100, 8)
        log("COPY reference")
        reference_rows = int(50_000 * scale)
        before = copy_reference(principal, generator, reference_rows)
        results["post"] = []
        for batch, statements, clients in ((1, 5000, 8), (10, 20_000, 4), (100, 50_000, 4),
                                           (1000, 50_000, 2)):  # fmt: skip
            log(f"POST batch {batch}")
            results["post"].append(
                post_throughput(
                    server, authorization, generator, batch, int(statements * scale), clients
                )
            )
        # The reference again after the POSTs: this machine's speed drifts by a quarter
        # within minutes, so the ratios are taken to the mean of both.
        log("COPY reference, again")
        after = copy_reference(principal, generator, reference_rows)
        copy_rate = round((before["rows_per_s"] + after["rows_per_s"]) / 2)
        results["copy_reference"] = {
            "rows": reference_rows,
            "rows_per_s": copy_rate,
            "before_per_s": before["rows_per_s"],
            "after_per_s": after["rows_per_s"],
        }
        for entry in results["post"]:
            entry["over_copy"] = round(entry["statements_per_s"] / copy_rate, 3)
        log("definition upkeep")
        results["definitions"] = definition_upkeep(server, authorization, tenant, generator, scale)
        log("PUT latency")
        results["put"] = put_latency(server, authorization, generator, int(2000 * scale))
        log("8 overlapping writers")
        results["overlapping_writers"] = overlapping_writers(
            server, authorization, generator, int(100 * scale) or 5
        )
        empty_rate = next(e for e in results["post"] if e["batch"] == 100)["statements_per_s"]
        samples: dict = {k: [] for k in ("ids", "agents", "registrations", "activities",
                                        "parents", "stored")}  # fmt: skip
        results["sizes"] = {}
        for rows in sizes:
            log(f"filling to {rows:,} rows")
            fill_rate = fill(principal, generator, rows, samples)
            log(f"GET latencies at {rows:,}")
            entry = {"fill_rows_per_s": fill_rate}
            entry["get"] = get_latencies(
                server, authorization, principal, samples, 200 if not args.quick else 30
            )
            if rows == sizes[0]:
                log(f"GET latencies at {rows:,} with 20 monthly partitions")
                many = partition_count_effect(
                    server, authorization, principal, samples, 200 if not args.quick else 30
                )
                entry["get_20_months"] = many
                entry["20_months_over_8_p50"] = {
                    name: round(_p50(many[name]) / _p50(entry["get"][name]), 3) for name in many
                }
            log(f"deep paging at {rows:,}")
            entry["more"] = deep_paging(
                server, authorization, principal, 5000 if not args.quick else 150
            )
            log(f"ingest at {rows:,}")
            full = post_throughput(server, authorization, generator, 100, int(50_000 * scale), 4)
            entry["post_batch_100"] = full
            entry["ingest_over_empty"] = round(full["statements_per_s"] / empty_rate, 3)
            results["sizes"][str(rows)] = entry
    finally:
        server.stop()
        if not args.keep_db:
            drop_database(base)
    if len(sizes) > 1:
        small, large = results["sizes"][str(sizes[0])], results["sizes"][str(sizes[-1])]
        results["large_over_small_p99"] = {
            name: round(
                large["get"][name]["uncached"]["p99_ms"] / small["get"][name]["uncached"]["p99_ms"],
                3,
            )
            for name in small["get"]
            if name != "by_id"
        } | {"by_id": round(large["get"]["by_id"]["p99_ms"] / small["get"]["by_id"]["p99_ms"], 3)}
    import orjson

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    sys.stdout.write(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
