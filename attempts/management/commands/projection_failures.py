"""``projection_failures [--retry] [--limit N]``: statements the projector quarantined.

A statement that fails to project on its own is moved out of the queue with its error
(docs/projection.md, "Failures"). List them; once the cause is fixed, ``--retry`` queues
them all again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from attempts.selectors import projection_failures_list
from attempts.services import projection_failures_retry


class Command(BaseCommand):
    help = "List statements the projector quarantined, or queue them again (--retry)."

    def add_arguments(self, parser):
        parser.add_argument("--retry", action="store_true", help="queue them all again")
        parser.add_argument("--limit", type=int, default=100, help="rows to list")

    def handle(self, *args, retry=False, limit=100, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        if retry:
            count = projection_failures_retry()
            self.stdout.write(f"{count} statement(s) queued for projection again")
            return
        rows = projection_failures_list(limit=limit)
        for row in rows:
            self.stdout.write(
                f"{row['failed_at'].isoformat()}  tenant {row['tenant_id']}  "
                f"{row['statement_id']}  {row['error']}"
            )
        if not rows:
            self.stdout.write("no quarantined statements")
