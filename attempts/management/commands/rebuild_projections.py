"""``rebuild_projections [--tenant SLUG] [--learners N] [--processes N]``: replay the log.

Recomputes every attempt and completion of one tenant (or of all) from its statements,
online: the incremental projector keeps running, and each group is locked while it is
recomputed (``attempts.services.projection_rebuild``). Run it after changing a tenant's
verb mapping, after restoring statements, or to rebuild the tables from nothing (the
disaster-recovery path: the log is the source of truth). Idempotent; safe to interrupt.
``--processes`` splits each tenant's learners between that many processes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from attempts.selectors import projection_caches_clear
from attempts.services import projection_rebuild_parallel
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Rebuild attempts and completions from the statements (online, idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant's slug (default: every tenant)")
        parser.add_argument("--learners", type=int, help="learners per transaction")
        parser.add_argument(
            "--processes", type=int, default=1, help="processes per tenant (default 1)"
        )

    def handle(self, *args, tenant=None, learners=None, processes=1, **options):
        if learners is not None and learners < 1:
            raise CommandError("--learners must be at least 1")
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        tenants = Tenant.objects.order_by("pk")
        if tenant is not None:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"no tenant with slug {tenant!r}")
        projection_caches_clear()  # read the verb mapping as it is now
        for record in tenants:
            progress = projection_rebuild_parallel(
                tenant_id=record.pk, learners_per_batch=learners, processes=processes
            )
            self.stdout.write(
                f"{record.slug}: {progress.learners} learners, {progress.groups} groups, "
                f"{progress.statements} statements in {progress.seconds:.1f} s "
                f"({progress.statements_per_second:,.0f} statements/s)"
            )
