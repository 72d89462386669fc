"""Reads of tenants and credentials, including the per-process credential cache."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.conf import settings

from progress_site.ttlcache import TTLCache
from tenants.models import KEY_RE, Credential

_KEY = re.compile(KEY_RE)


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """What authentication needs to know about a credential, detached from the ORM."""

    credential_id: int
    key: str
    secret_hash: str
    scopes: frozenset[str]
    enabled: bool
    kind: str
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    peer_key_hash: str
    tenant_id: int
    tenant_slug: str
    tenant_enabled: bool
    tenant_region: str


_cache: TTLCache[CredentialRecord | None] = TTLCache()


def credential_record_load(key: str) -> CredentialRecord | None:
    """One query: the credential with its tenant, or None."""
    try:
        credential = Credential.objects.select_related("tenant").get(key=key)
    except Credential.DoesNotExist:
        return None
    tenant = credential.tenant
    return CredentialRecord(
        credential_id=credential.pk,
        key=credential.key,
        secret_hash=credential.secret_hash,
        scopes=frozenset(credential.scopes),
        enabled=credential.enabled,
        kind=credential.kind,
        allowed_networks=tuple(
            ipaddress.ip_network(network, strict=False) for network in credential.allowed_networks
        ),
        peer_key_hash=credential.peer_key_hash,
        tenant_id=tenant.pk,
        tenant_slug=tenant.slug,
        tenant_enabled=tenant.enabled,
        tenant_region=tenant.home_region,
    )


def credential_record_get(key: str) -> CredentialRecord | None:
    """The credential for ``key``, served from the process cache when fresh; None for a
    key no credential can have.

    Changes made elsewhere (disabling, rotating) reach this process within
    ``PROGRESS_AUTH_CACHE_SECONDS``; services that change a credential drop it from the
    cache of the process they run in at once.
    """
    if _KEY.match(key) is None:
        # No credential has such a key (the table's constraint), and one with a NUL is
        # text PostgreSQL refuses: answered without a query, as an unknown key.
        return None
    ttl = settings.PROGRESS_AUTH_CACHE_SECONDS
    if ttl > 0:
        hit, record = _cache.get(key)
        if hit:
            return record
    record = credential_record_load(key)
    if ttl > 0:
        _cache.put(key, record, ttl)
    return record


def credential_cache_discard(key: str) -> None:
    _cache.discard(key)


def credential_cache_clear() -> None:
    _cache.clear()
