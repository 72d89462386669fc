"""``python manage.py ingest_consumer``: the progress-ingest process role."""

from django.conf import settings
from django.core.management.base import BaseCommand
from prometheus_client import start_http_server

from ingest.consumer import ConsumerSettings, run_consumer


class Command(BaseCommand):
    help = "Consume statements from NATS JetStream (PROGRESS_INGEST) until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, help="messages per fetch")
        parser.add_argument("--max-wait", type=float, help="longest wait to fill a batch (s)")
        parser.add_argument(
            "--metrics-port", type=int, default=settings.PROGRESS_INGEST_METRICS_PORT,
            help="Prometheus metrics port (0: none)",
        )  # fmt: skip

    def handle(self, *args, batch, max_wait, metrics_port, **options):
        overrides = {}
        if batch:
            overrides["batch"] = batch
        if max_wait:
            overrides["max_wait"] = max_wait
        if metrics_port:
            start_http_server(metrics_port)
        run_consumer(ConsumerSettings.from_django(**overrides))
