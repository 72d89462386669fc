"""Writes to tenants and credentials. Keyword-only; each is one transaction."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import KEY_RE, REGION_RE, SLUG_RE, Credential, Tenant
from tenants.scopes import DEFAULT_SCOPES, XAPI_SCOPES
from tenants.secrets import MIN_SECRET_LENGTH, peer_key_hash, secret_generate, secret_hash
from tenants.selectors import credential_cache_discard


class TenancyError(ValueError):
    """A request to change tenants or credentials that cannot be carried out as asked."""


@dataclass(frozen=True)
class IssuedCredential:
    """A credential just created or rotated, with the secrets to hand over once."""

    credential: Credential
    secret: str
    generated: bool
    peer_key: str | None = None


def tenant_create(*, slug: str, name: str = "", home_region: str) -> Tenant:
    if not re.match(SLUG_RE, slug):
        raise TenancyError(f"tenant slug {slug!r} must be lowercase letters, digits and hyphens")
    if not re.match(REGION_RE, home_region):
        raise TenancyError(f"region {home_region!r} must be a lowercase region name")
    try:
        with transaction.atomic():
            return Tenant.objects.create(slug=slug, name=name or slug, home_region=home_region)
    except IntegrityError:
        raise TenancyError(f"tenant {slug!r} already exists") from None


def tenant_set_enabled(*, tenant: Tenant, enabled: bool) -> Tenant:
    tenant.enabled = enabled
    tenant.save(update_fields=["enabled"])
    for key in tenant.credentials.values_list("key", flat=True):
        credential_cache_discard(key)
    return tenant


def scopes_normalize(scopes: Iterable[str] | None) -> list[str]:
    """Known scopes only, deduplicated in §4.2's order; none given means the default."""
    requested = list(scopes or DEFAULT_SCOPES)
    unknown = sorted(set(requested) - set(XAPI_SCOPES))
    if unknown:
        raise TenancyError(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(XAPI_SCOPES)}"
        )
    return [scope for scope in XAPI_SCOPES if scope in requested]


def networks_normalize(networks: Iterable[str] | None) -> list[str]:
    result = []
    for network in networks or ():
        try:
            result.append(str(ipaddress.ip_network(network.strip(), strict=False)))
        except ValueError:
            raise TenancyError(f"{network!r} is not a CIDR network") from None
    return result


def credential_create(
    *,
    tenant: Tenant,
    key: str,
    secret: str | None = None,
    scopes: Iterable[str] | None = None,
    kind: str = Credential.Kind.NORMAL,
    allowed_networks: Iterable[str] | None = None,
    label: str = "",
) -> IssuedCredential:
    """Create a credential; generates the secret (and a peer's API key) when not given.

    The returned secrets are the only time they exist in clear: only keyed hashes are
    stored.
    """
    if not re.match(KEY_RE, key):
        raise TenancyError(f"key {key!r} must be 3-64 letters, digits, '.', '_' or '-'")
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise TenancyError(f"a chosen secret must be at least {MIN_SECRET_LENGTH} characters")
    if kind not in Credential.Kind.values:
        raise TenancyError(f"kind must be one of {', '.join(Credential.Kind.values)}")
    networks = networks_normalize(allowed_networks)
    if kind == Credential.Kind.PEER and not networks:
        raise TenancyError("a peer LRS credential needs at least one allowed network")
    generated = secret is None
    secret = secret_generate() if secret is None else secret
    peer_key = secret_generate() if kind == Credential.Kind.PEER else None
    try:
        with transaction.atomic():
            credential = Credential.objects.create(
                tenant=tenant,
                key=key,
                secret_hash=secret_hash(key=key, secret=secret),
                scopes=scopes_normalize(scopes),
                kind=kind,
                allowed_networks=networks,
                peer_key_hash=peer_key_hash(key=key, peer_key=peer_key) if peer_key else "",
                label=label,
            )
    except IntegrityError:
        raise TenancyError(f"credential key {key!r} is already taken") from None
    credential_cache_discard(key)
    return IssuedCredential(credential, secret, generated, peer_key)


def credential_rotate_secret(
    *, credential: Credential, secret: str | None = None
) -> IssuedCredential:
    """Replace the secret; the old one stops working (in other processes within the
    credential cache TTL)."""
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        raise TenancyError(f"a chosen secret must be at least {MIN_SECRET_LENGTH} characters")
    generated = secret is None
    secret = secret_generate() if secret is None else secret
    credential.secret_hash = secret_hash(key=credential.key, secret=secret)
    credential.secret_rotated_at = timezone.now()
    credential.save(update_fields=["secret_hash", "secret_rotated_at"])
    credential_cache_discard(credential.key)
    return IssuedCredential(credential, secret, generated)


def credential_set_enabled(*, credential: Credential, enabled: bool) -> Credential:
    credential.enabled = enabled
    credential.save(update_fields=["enabled"])
    credential_cache_discard(credential.key)
    return credential
