"""Wait (up to a timeout) until PostgreSQL, Redis and NATS JetStream answer.

Uses the same settings as the service, so it checks what the service will connect to, and
says which dependency is missing and how it was reached.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from progress_site.nats_client import jetstream_ping  # noqa: E402


def check_postgres() -> None:
    try:
        connection.ensure_connection()
    finally:
        connection.close()


def check_redis() -> None:
    for url in (settings.REDIS_URL, settings.CELERY_BROKER_URL):
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()


def check_nats() -> None:
    jetstream_ping(timeout=2)


def main(timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    pending = {"PostgreSQL": check_postgres, "Redis": check_redis, "NATS JetStream": check_nats}
    errors: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        for name, check in list(pending.items()):
            try:
                check()
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
            else:
                pending.pop(name)
        if pending:
            time.sleep(1)
    for name in pending:
        sys.stderr.write(f"wait_services: {name} is not reachable: {errors.get(name)}\n")
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main())
