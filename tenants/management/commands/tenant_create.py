from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants import services


class Command(BaseCommand):
    help = "Create a tenant. Fails if the slug is taken."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="lowercase letters, digits and hyphens; never changes")
        parser.add_argument("--name", default="", help="display name (defaults to the slug)")
        parser.add_argument(
            "--region",
            default=None,
            help="home region (defaults to this deployment's PROGRESS_REGION)",
        )

    def handle(self, *args, slug, name, region, **options):
        try:
            tenant = services.tenant_create(
                slug=slug, name=name, home_region=region or settings.PROGRESS_REGION
            )
        except services.TenancyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"tenant {tenant.slug} created (id {tenant.pk}, region {tenant.home_region})"
        )
