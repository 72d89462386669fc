import factory
from django.conf import settings

from tenants.models import Credential, Tenant
from tenants.scopes import ALL
from tenants.secrets import secret_hash

DEFAULT_SECRET = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: f"Tenant {o.slug}")
    home_region = factory.LazyFunction(lambda: settings.PROGRESS_REGION)


class CredentialFactory(factory.django.DjangoModelFactory):
    """A credential whose secret is ``DEFAULT_SECRET`` unless ``secret=`` is passed."""

    class Meta:
        model = Credential
        exclude = ("secret",)

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"key-{n}")
    secret = DEFAULT_SECRET
    secret_hash = factory.LazyAttribute(lambda o: secret_hash(key=o.key, secret=o.secret))
    scopes = factory.LazyFunction(lambda: [ALL])
