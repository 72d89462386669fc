import os
from pathlib import Path

import orjson
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Credential, Tenant
from tenants.scopes import ALL
from tenants.secrets import secret_matches

DEMO_SLUG = "demo"
DEMO_KEY = "demo"


class Command(BaseCommand):
    help = (
        "Local runs only: ensure the 'demo' tenant and an all-scopes 'demo' credential, keep "
        "its secret in .run/demo-credential.json, and print ready-to-use curl lines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, port, **options):
        if not settings.LOCAL:
            raise CommandError("demo_setup only runs with PROGRESS_ENV=local")
        store = Path(settings.BASE_DIR) / ".run" / "demo-credential.json"
        tenant, _ = Tenant.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={"name": "Demo tenant", "home_region": settings.PROGRESS_REGION},
        )
        if tenant.home_region != settings.PROGRESS_REGION or not tenant.enabled:
            Tenant.objects.filter(pk=tenant.pk).update(
                home_region=settings.PROGRESS_REGION, enabled=True
            )
        secret = self._known_secret(store)
        credential = Credential.objects.filter(key=DEMO_KEY).first()
        if credential is None:
            secret = services.credential_create(
                tenant=tenant, key=DEMO_KEY, scopes=[ALL], label="local demo"
            ).secret
        elif secret is None or not secret_matches(
            key=DEMO_KEY, secret=secret, stored_hash=credential.secret_hash
        ):
            secret = services.credential_rotate_secret(credential=credential).secret
        if credential is not None and not credential.enabled:
            services.credential_set_enabled(credential=credential, enabled=True)
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_bytes(orjson.dumps({"key": DEMO_KEY, "secret": secret}))
        store.chmod(0o600)
        base = f"http://127.0.0.1:{port}/xapi"
        auth = f"-u {DEMO_KEY}:{secret}"
        self.stdout.write(
            "\n".join(
                [
                    f"demo tenant '{DEMO_SLUG}', credential key '{DEMO_KEY}', secret '{secret}'",
                    "try:",
                    f"  curl -s {auth} -H 'X-Experience-API-Version: 2.0.0' {base}/about",
                    f"  curl -s -i {auth} {base}/statements   # 400: no version header",
                ]
            )
        )

    def _known_secret(self, store: Path) -> str | None:
        try:
            return orjson.loads(store.read_bytes()).get("secret")
        except (OSError, orjson.JSONDecodeError, AttributeError):
            return None
