from django.apps import AppConfig


class AttemptsConfig(AppConfig):
    """Attempts and completions projected from statements (ARCHITECTURE.md §6)."""

    name = "attempts"

    def ready(self) -> None:
        from attempts.metrics import ProjectionQueueCollector
        from attempts.nudge import projection_nudge
        from progress_site.observability import scrape_collector_register
        from statements.feed import feed_subscribe

        feed_subscribe(projection_nudge)
        scrape_collector_register(ProjectionQueueCollector())
