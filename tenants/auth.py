"""HTTP Basic authentication for the xAPI (Communication §4.0) resolving tenant and scopes.

The outcome of a request's credentials, in the order they are checked:

- no ``Authorization`` header: 401 with ``WWW-Authenticate`` (raised by the permission
  check, so resources that need no credentials are not affected);
- malformed header, unknown key, wrong secret, disabled credential or tenant, and for a
  peer LRS a missing or wrong API key: 401 (§3.2.s2.b2, "credentials refused");
- a source address outside the credential's allowlist: 403 (the credentials are valid but
  may not be used from there, §3.2.s2.b3);
- a tenant homed in another region: 421 naming that region's base URL, so nothing of that
  tenant is read or written here (ARCHITECTURE.md §3, residency).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from lrs.errors import Forbidden, MisdirectedRequest
from progress_site.observability import tenant_var
from tenants.secrets import peer_key_hash, secret_matches
from tenants.selectors import CredentialRecord, credential_record_get

PEER_KEY_HEADER = "X-API-Key"
# Compared against when the key is unknown, so a miss costs the same HMAC as a hit and
# response timing does not reveal which keys exist.
_DUMMY_HASH = "hmac-sha256$" + "0" * 64


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as views see it (``request.user``)."""

    credential_id: int
    credential_key: str
    tenant_id: int
    tenant_slug: str
    scopes: frozenset[str]
    kind: str

    is_authenticated = True

    @property
    def authority(self) -> dict:
        """The Agent the LRS records as ``authority`` for this credential (Data §2.4.9)."""
        return {
            "objectType": "Agent",
            "account": {
                "homePage": settings.PROGRESS_AUTHORITY_HOMEPAGE,
                "name": self.credential_key,
            },
        }


def client_address(
    meta: dict, trusted_proxies: list
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The caller's address: ``REMOTE_ADDR``, or when that is a trusted proxy, the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy.

    Entries left of an untrusted hop could have been written by the client, so they are
    never believed.
    """
    try:
        address = ipaddress.ip_address(meta.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    if not _in_any(address, trusted_proxies):
        return address
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        try:
            address = ipaddress.ip_address(hop.strip())
        except ValueError:
            return None
        if not _in_any(address, trusted_proxies):
            return address
    return address


def _in_any(address, networks) -> bool:
    return any(address in network for network in networks)


def parse_basic(header: str) -> tuple[str, str]:
    """``Basic base64(key:secret)`` to ``(key, secret)``; ``ValueError`` if malformed."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise ValueError("not HTTP Basic credentials")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("credentials are not valid base64 UTF-8") from None
    key, sep, secret = decoded.partition(":")
    if not sep or not key:
        raise ValueError("credentials must be key:secret")
    return key, secret


def authenticate_basic(
    *,
    key: str,
    secret: str,
    source: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    peer_key: str | None,
) -> Principal:
    """Resolve and check a credential; raises the DRF or xAPI error described above."""
    record = credential_record_get(key)
    stored = record.secret_hash if record is not None else _DUMMY_HASH
    if not secret_matches(key=key, secret=secret, stored_hash=stored) or record is None:
        raise exceptions.AuthenticationFailed("invalid credentials")
    if not record.enabled:
        raise exceptions.AuthenticationFailed("the credential is disabled")
    if not record.tenant_enabled:
        raise exceptions.AuthenticationFailed("the credential's tenant is disabled")
    if record.kind == "peer" and not _peer_key_ok(record, peer_key):
        raise exceptions.AuthenticationFailed(f"a peer LRS credential needs its {PEER_KEY_HEADER}")
    if record.allowed_networks and (source is None or not _in_any(source, record.allowed_networks)):
        raise Forbidden("the credential may not be used from this address")
    if record.tenant_region != settings.PROGRESS_REGION:
        raise _misdirected(record)
    return Principal(
        credential_id=record.credential_id,
        credential_key=record.key,
        tenant_id=record.tenant_id,
        tenant_slug=record.tenant_slug,
        scopes=record.scopes,
        kind=record.kind,
    )


def _peer_key_ok(record: CredentialRecord, peer_key: str | None) -> bool:
    if not peer_key:
        return False
    expected = peer_key_hash(key=record.key, peer_key=peer_key)
    return hmac.compare_digest(expected.encode(), record.peer_key_hash.encode())


def _misdirected(record: CredentialRecord) -> MisdirectedRequest:
    region = record.tenant_region
    base_url = settings.PROGRESS_REGION_URLS.get(region)
    return MisdirectedRequest(
        f"this tenant is served in region {region!r}, not {settings.PROGRESS_REGION!r}",
        extra={"region": region, "baseUrl": base_url},
    )


class XAPIBasicAuthentication(BaseAuthentication):
    """DRF authentication class for ``/xapi/`` (and the internal API)."""

    realm = "xAPI"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        try:
            key, secret = parse_basic(header)
        except ValueError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        principal = authenticate_basic(
            key=key,
            secret=secret,
            source=client_address(request.META, settings.PROGRESS_TRUSTED_PROXIES),
            peer_key=request.headers.get(PEER_KEY_HEADER),
        )
        tenant_var.set(principal.tenant_slug)
        return principal, None

    def authenticate_header(self, request) -> str:
        return f'Basic realm="{self.realm}", charset="UTF-8"'
