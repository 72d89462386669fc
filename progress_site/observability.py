"""Request ids, JSON logs and HTTP metrics shared by every process role.

The request id travels in a context variable so that any log line written while a request
is handled carries it, without passing the request around. Metrics are labelled by the URL
route pattern (``xapi/statements``), never by the raw path, to keep their cardinality fixed.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import traceback
import uuid
from datetime import UTC, datetime

import orjson
from prometheus_client import Counter, Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
tenant_var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="-")

# A caller-supplied id is kept only if it is short and plain, so it cannot inject anything
# into log lines or response headers.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

HTTP_REQUESTS = Counter(
    "progress_http_requests_total",
    "HTTP requests handled, by route pattern, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "progress_http_request_duration_seconds",
    "Time to produce an HTTP response, by route pattern and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# Collectors that read shared state (a queue's depth in PostgreSQL, say) when Prometheus
# scrapes, rather than counting in the process that serves the scrape. Apps register theirs
# from ``ready()``; ``/metrics`` adds them to whatever registry it renders.
_scrape_collectors: list = []


def scrape_collector_register(collector) -> None:
    """Idempotent per collector type."""
    if not any(type(c) is type(collector) for c in _scrape_collectors):
        _scrape_collectors.append(collector)


def scrape_collectors() -> list:
    return list(_scrape_collectors)


class RequestContextMiddleware:
    """Outermost middleware: assigns the request id, then records count and latency."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        tenant_token = tenant_var.set("-")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            tenant_var.reset(tenant_token)
        elapsed = time.perf_counter() - started
        # The URL resolver names the route; endpoints served before it set metrics_route.
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else getattr(request, "metrics_route", None)
        route = route or "<unmatched>"
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route, request.method).observe(elapsed)
        response["X-Request-ID"] = request_id
        return response


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``tenant`` to every record so formatters can rely on them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.tenant = tenant_var.get()
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "tenant",
}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, tenant, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "tenant": getattr(record, "tenant", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(entry, default=str).decode()
