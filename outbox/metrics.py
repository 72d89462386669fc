"""Prometheus metrics of progress-outbox-relay (served on ``PROGRESS_OUTBOX_METRICS_PORT`` by
relay processes).

``progress_outbox_backlog`` is the autoscaling signal (ARCHITECTURE.md §1: a relay replica
per 5,000 waiting events); every relay process reports the same table-wide figure, so
dashboards and the scaler take the ``max`` across pods.
"""

from prometheus_client import Counter, Gauge, Histogram

BACKLOG = Gauge(
    "progress_outbox_backlog",
    "Outbox events not yet published (pending, not dead): the scaling signal",
)
DEAD = Gauge("progress_outbox_dead_events", "Outbox events given up after the maximum attempts")
PUBLISH_LATENCY = Histogram(
    "progress_outbox_publish_latency_seconds",
    "From the event's commit (row created) to JetStream's ack",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
PUBLISHED = Counter(
    "progress_outbox_published_total", "Events acked by JetStream, by type", ["event_type"]
)
FAILURES = Counter(
    "progress_outbox_failures_total",
    "Publish failures: 'rejected' counts an attempt against the event, 'outage' (NATS "
    "unreachable or no ack in time) does not",
    ["kind"],
)
