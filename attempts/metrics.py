"""Prometheus metrics of progress-projector.

The lag and backlog are read from PostgreSQL when Prometheus scrapes an API process
(``progress_site.observability.scrape_collector_register``): they describe the shared
queue, not one worker, and any pod can answer. Batch figures are counted in the worker that
projects them.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

PROJECTED = Counter("progress_projection_statements_total", "Queue rows (statements) projected")
BATCH_SECONDS = Histogram(
    "progress_projection_batch_seconds",
    "One projection batch, claim to commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNREADABLE = Counter(
    "progress_projection_unreadable_statements_total",
    "Stored statements the projection could not parse and left out",
)


class ProjectionQueueCollector:
    """``progress_projection_lag_seconds`` (the scaling signal, ARCHITECTURE.md §1) and
    ``progress_projection_backlog``, each one query at scrape time."""

    def describe(self):
        # Registration asks for the names only: no query then.
        return [
            GaugeMetricFamily("progress_projection_lag_seconds", ""),
            GaugeMetricFamily("progress_projection_backlog", ""),
        ]

    def collect(self):
        from attempts.selectors import projection_backlog, projection_lag_seconds

        lag = GaugeMetricFamily(
            "progress_projection_lag_seconds", "Age of the oldest unprojected statement"
        )
        lag.add_metric([], projection_lag_seconds())
        backlog = GaugeMetricFamily(
            "progress_projection_backlog", "Statements waiting to be projected"
        )
        backlog.add_metric([], projection_backlog())
        return [lag, backlog]
