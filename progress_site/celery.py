"""The Celery app: one named queue per workload so each scales on its own signal.

Queues (ARCHITECTURE.md §1): ``projection`` (progress-projector), ``outbox``
(progress-outbox-relay), ``partitions`` (progress-partition-manager) and ``default``.
Every task is routed here by its module, so a task never lands on a queue by accident.
Settings come from Django's (``CELERY_*``): JSON only, ``acks_late``, prefetch of one.
"""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")
# Celery's Django fixup runs Django's system checks when a worker starts: they import every
# URL pattern and view, about a fifth of a worker's start-up CPU (0.15 of 0.8 s measured),
# paid again by every worker an autoscaler or a restart brings up while a backlog waits.
# The same checks run once per release, in ``manage.py migrate`` (deploy/, the migrate Job)
# and in the test suite; ``CELERY_SKIP_CHECKS=`` (empty) brings them back for a worker.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

QUEUES = ("projection", "outbox", "partitions", "default")

app = Celery("progress_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own direct exchange and routing key, so a task routed to one queue
# can never also be delivered to another.
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_default_queue = "default"
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.conf.task_routes = {
    "attempts.tasks.*": {"queue": "projection"},
    "outbox.tasks.*": {"queue": "outbox"},
    "partitions.tasks.*": {"queue": "partitions"},
}
app.conf.beat_schedule = {
    # Daily, and idempotent: months are created well ahead, so a missed day is harmless.
    "partitions-ensure": {
        "task": "partitions.tasks.partitions_ensure",
        "schedule": crontab(hour=3, minute=17),
    },
}


@app.on_after_configure.connect
def _periodic_sweeps(sender, **kwargs) -> None:
    """Entries whose periods are Django settings, added once Celery loads its configuration.

    Every import of ``progress_site`` imports this module; reading Django settings here at
    import time would load them before a caller (a benchmark, a test) has set its
    ``DATABASE_URL``, and bind the process to the wrong database.
    """
    from django.conf import settings

    sender.conf.beat_schedule.update(
        {
            # progress-projector: drains what lost nudges left (docs/projection.md); a sweep that
            # waited longer than its period is dropped, the next one does the same work.
            "projection-sweep": {
                "task": "attempts.tasks.projection_sweep",
                "schedule": settings.PROGRESS_PROJECTION_SWEEP_SECONDS,
                "options": {"expires": settings.PROGRESS_PROJECTION_SWEEP_SECONDS},
            },
            # --- progress-outbox-relay: the sweep guarantees delivery when a nudge was lost, and
            # deletes sent events past retention. A sweep older than its interval is dropped: the
            # next one does the same work.
            "outbox-sweep": {
                "task": "outbox.tasks.outbox_sweep",
                "schedule": settings.PROGRESS_OUTBOX_SWEEP_INTERVAL,
                "options": {"expires": settings.PROGRESS_OUTBOX_SWEEP_INTERVAL},
            },
        }
    )


app.autodiscover_tasks()
