"""Process endpoints: liveness, readiness and Prometheus metrics.

They are answered by ``ProcessEndpointsMiddleware`` ahead of the rest of the stack: no
DRF, no auth, and no ``ALLOWED_HOSTS`` check, because kubelet probes and Prometheus
scrapes address the pod by its IP. ``/metrics`` is not routed by the public ingress.
"""

from __future__ import annotations

import logging
import os
import time

from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from progress_site.nats_client import jetstream_ping
from progress_site.observability import scrape_collectors

logger = logging.getLogger(__name__)

# Readiness answers within a probe's usual 1-2 s timeout even when a dependency hangs.
_CHECK_TIMEOUT = 0.5


def healthz(request):
    """The process is up and serving requests; checks nothing else."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """200 when PostgreSQL, Redis and NATS JetStream all answer; 503 naming what failed."""
    checks = {
        "postgres": _check_postgres,
        "redis": _check_redis,
        "nats": _check_nats,
    }
    results = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception:
            # The reason goes to the log, not to the unauthenticated caller.
            logger.warning("readiness check failed", extra={"check": name}, exc_info=True)
            results[name] = {"ok": False}
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 2)
    ready = all(result["ok"] for result in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
    )


def _check_postgres() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 500")
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    client = cache.client.get_client(write=True)
    if not client.ping():
        raise ConnectionError("redis did not answer PING")


def _check_nats() -> None:
    jetstream_ping(timeout=_CHECK_TIMEOUT)


def metrics(request):
    """Prometheus text exposition; aggregates gunicorn's worker processes when they share a
    ``PROMETHEUS_MULTIPROC_DIR``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    shared = CollectorRegistry()
    for collector in scrape_collectors():
        shared.register(collector)
    try:
        body += generate_latest(shared)
    except Exception:
        # A scrape still reports the process's own metrics when the database is away.
        logger.warning("shared-state metrics unavailable", exc_info=True)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


ENDPOINTS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}


class ProcessEndpointsMiddleware:
    """Serves ``ENDPOINTS`` before any middleware that validates the Host header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = ENDPOINTS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        request.metrics_route = request.path_info.lstrip("/")
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request)
