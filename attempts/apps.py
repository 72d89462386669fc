from django.apps import AppConfig


class AttemptsConfig(AppConfig):
    """Attempts and completions projected from statements (ARCHITECTURE.md §6)."""

    name = "attempts"
