"""Tenants and their credentials: the control plane.

These two tables are global (a credential is looked up by key before its tenant is known),
so unlike every data table they are not keyed by ``tenant_id``; under a Citus-style
distribution they would be reference tables. Every data table carries ``tenant_id`` first
in its primary key (ARCHITECTURE.md §3).
"""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from tenants.scopes import XAPI_SCOPES

# A slug names the tenant in NATS subjects (``progress.ingest.<slug>``), so it must be a
# single subject token: no dots, wildcards or whitespace.
SLUG_RE = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
# A key is the HTTP Basic user name: no colon (RFC 7617), nothing that needs escaping.
KEY_RE = r"^[A-Za-z0-9._-]{3,64}$"
REGION_RE = r"^[a-z0-9][a-z0-9-]{0,31}$"


class Tenant(models.Model):
    slug = models.CharField(
        max_length=63,
        unique=True,
        validators=[RegexValidator(SLUG_RE, "lowercase letters, digits and inner hyphens")],
    )
    name = models.CharField(max_length=200)
    home_region = models.CharField(
        max_length=32, validators=[RegexValidator(REGION_RE, "lowercase region name")]
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("slug",)
        constraints = [
            models.CheckConstraint(condition=Q(slug__regex=SLUG_RE), name="tenant_slug_format"),
        ]

    def __str__(self) -> str:
        return self.slug


class Credential(models.Model):
    """An xAPI credential: HTTP Basic key and secret, scoped, owned by one tenant.

    ``secret_hash`` is a keyed hash of the secret (see ``tenants.secrets``); the secret itself
    is shown once at creation and never stored. A ``peer`` credential belongs to an
    allowlisted third-party LRS: it must also present its API key header and come from an
    address inside ``allowed_networks``.
    """

    class Kind(models.TextChoices):
        NORMAL = "normal", "normal"
        PEER = "peer", "peer LRS"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="credentials")
    key = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(KEY_RE, "3-64 letters, digits, '.', '_' or '-'")],
    )
    secret_hash = models.CharField(max_length=128)
    scopes = ArrayField(
        models.CharField(max_length=32, choices=[(scope, scope) for scope in XAPI_SCOPES])
    )
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NORMAL)
    allowed_networks = ArrayField(
        models.CharField(max_length=49),
        default=list,
        blank=True,
        help_text="CIDR networks the credential may be used from; empty means anywhere.",
    )
    peer_key_hash = models.CharField(max_length=128, blank=True, default="")
    label = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    secret_rotated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("tenant__slug", "key")
        constraints = [
            models.CheckConstraint(condition=Q(key__regex=KEY_RE), name="credential_key_format"),
            models.CheckConstraint(
                condition=Q(scopes__len__gt=0) & Q(scopes__contained_by=list(XAPI_SCOPES)),
                name="credential_scopes_known",
            ),
            models.CheckConstraint(
                condition=Q(kind="normal")
                | (Q(kind="peer") & ~Q(peer_key_hash="") & Q(allowed_networks__len__gt=0)),
                name="credential_peer_requirements",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.tenant_id})"
