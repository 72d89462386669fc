import orjson
from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.models import Credential, Tenant
from tenants.scopes import DEFAULT_SCOPES, XAPI_SCOPES


class Command(BaseCommand):
    help = (
        "Create an xAPI credential for a tenant and print it as JSON. Without --secret a "
        "secret is generated and printed this once; it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("--key", required=True, help="the HTTP Basic user name")
        parser.add_argument("--secret", default=None, help="chosen secret (>= 16 characters)")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=list(DEFAULT_SCOPES),
            metavar="SCOPE",
            help=(
                f"xAPI scopes, from: {' '.join(XAPI_SCOPES)} (default: {' '.join(DEFAULT_SCOPES)})"
            ),
        )
        parser.add_argument("--kind", choices=Credential.Kind.values, default="normal")
        parser.add_argument(
            "--allow-network",
            action="append",
            default=[],
            metavar="CIDR",
            help="restrict use to this network (repeatable; required for --kind peer)",
        )
        parser.add_argument("--label", default="")

    def handle(self, *args, slug, key, secret, scopes, kind, allow_network, label, **options):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}")
        try:
            issued = services.credential_create(
                tenant=tenant,
                key=key,
                secret=secret,
                scopes=scopes,
                kind=kind,
                allowed_networks=allow_network,
                label=label,
            )
        except services.TenancyError as exc:
            raise CommandError(str(exc)) from None
        credential = issued.credential
        printed = {
            "tenant": tenant.slug,
            "key": credential.key,
            "scopes": credential.scopes,
            "kind": credential.kind,
            "allowed_networks": credential.allowed_networks,
        }
        if issued.generated:
            printed["secret"] = issued.secret
        if issued.peer_key:
            printed["api_key"] = issued.peer_key
        self.stdout.write(orjson.dumps(printed).decode())
