"""Prometheus metrics of progress-projector.

The lag and backlog are read from PostgreSQL when Prometheus scrapes an API process
(``progress_site.observability.scrape_collector_register``): they describe the shared
queue, not one worker, and any pod can answer. Batch figures are counted in the worker
processes that project them; a projector worker started with
``PROGRESS_PROJECTION_METRICS_PORT`` (and ``PROMETHEUS_MULTIPROC_DIR``, so that its forked
children's figures add up) serves them from its main process.
"""

from __future__ import annotations

import logging
import os

from celery.signals import worker_init
from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

PROJECTED = Counter("progress_projection_statements_total", "Queue rows (statements) projected")
BATCH_SECONDS = Histogram(
    "progress_projection_batch_seconds",
    "One projection batch, claim to commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LEARNERS_DEFERRED = Counter(
    "progress_projection_learners_deferred_total",
    "Learners a batch found locked by another worker; their rows went back to the queue",
)
QUARANTINED = Counter(
    "progress_projection_quarantined_total",
    "Statements moved to projection_failures after failing to project on their own",
)
UNREADABLE = Counter(
    "progress_projection_unreadable_statements_total",
    "Stored statements the projection could not parse and left out",
)


class ProjectionQueueCollector:
    """``progress_projection_lag_seconds`` (the scaling signal, ARCHITECTURE.md §1),
    ``progress_projection_backlog`` and ``progress_projection_failures``, each one query at
    scrape time."""

    def describe(self):
        # Registration asks for the names only: no query then.
        return [
            GaugeMetricFamily("progress_projection_lag_seconds", ""),
            GaugeMetricFamily("progress_projection_backlog", ""),
            GaugeMetricFamily("progress_projection_failures", ""),
        ]

    def collect(self):
        from attempts.selectors import (
            projection_backlog,
            projection_failures_count,
            projection_lag_seconds,
        )

        lag = GaugeMetricFamily(
            "progress_projection_lag_seconds", "Age of the oldest unprojected statement"
        )
        lag.add_metric([], projection_lag_seconds())
        backlog = GaugeMetricFamily(
            "progress_projection_backlog", "Statements waiting to be projected"
        )
        backlog.add_metric([], projection_backlog())
        failures = GaugeMetricFamily(
            "progress_projection_failures", "Statements quarantined in projection_failures"
        )
        failures.add_metric([], projection_failures_count())
        return [lag, backlog, failures]


@worker_init.connect
def _serve_worker_metrics(**kwargs) -> None:
    """In the Celery main process of a projector worker (the only role that sets the port)."""
    port = settings.PROGRESS_PROJECTION_METRICS_PORT
    if not port:
        return
    registry = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, registry=registry) if registry else start_http_server(port)
    except OSError:
        logger.warning("projection metrics port %s is taken; not serving metrics here", port)
