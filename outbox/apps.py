from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The transactional outbox and its relay to NATS (ARCHITECTURE.md §7)."""

    name = "outbox"
