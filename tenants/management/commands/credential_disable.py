from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Credential


class Command(BaseCommand):
    help = "Disable (or with --enable, re-enable) a credential by key."

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("--enable", action="store_true", help="enable instead of disable")

    def handle(self, *args, key, enable, **options):
        credential = Credential.objects.filter(key=key).first()
        if credential is None:
            raise CommandError(f"no credential {key!r}")
        services.credential_set_enabled(credential=credential, enabled=enable)
        self.stdout.write(f"credential {key} {'enabled' if enable else 'disabled'}")
