"""Prometheus metrics of progress-ingest (served on ``PROGRESS_INGEST_METRICS_PORT``)."""

from prometheus_client import Counter, Gauge, Histogram

PENDING = Gauge(
    "progress_ingest_pending_messages",
    "Messages of the durable consumer not yet delivered or not yet acked (the scaling signal)",
)
BATCH_SIZE = Histogram(
    "progress_ingest_batch_messages",
    "Messages per fetched batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000),
)
BATCH_SECONDS = Histogram(
    "progress_ingest_batch_seconds",
    "From fetch to ack of a batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
STORED = Counter("progress_ingest_statements_stored_total", "Statements stored from NATS")
DEADLETTERED = Counter(
    "progress_ingest_deadlettered_total", "Messages sent to dead-letter, by reason", ["reason"]
)
OUTAGES = Counter(
    "progress_ingest_backoffs_total", "Waits on an unreachable dependency", ["dependency"]
)
