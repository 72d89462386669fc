"""Credential secrets: generation and keyed hashing.

A secret is checked on every xAPI request, so its hash must cost microseconds, not the
hundreds of milliseconds of a password KDF (which would also hand attackers a cheap way to
burn CPU). It is an HMAC-SHA256 keyed with ``PROGRESS_CREDENTIAL_PEPPER``, a secret kept
outside the database: a stolen table without the pepper gives nothing to brute-force.
The credential key is mixed in so two credentials with the same secret hash differently.
Generated secrets carry 256 bits of entropy; chosen ones must be at least
``MIN_SECRET_LENGTH`` characters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

SCHEME = "hmac-sha256"
MIN_SECRET_LENGTH = 16


def secret_generate() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(*, key: str, secret: str) -> str:
    digest = hmac.new(
        settings.PROGRESS_CREDENTIAL_PEPPER.encode(),
        key.encode() + b"\x00" + secret.encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"{SCHEME}${digest}"


def secret_matches(*, key: str, secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(secret_hash(key=key, secret=secret).encode(), stored_hash.encode())


def peer_key_hash(*, key: str, peer_key: str) -> str:
    """Hash of a peer LRS credential's API key, domain-separated from its secret's."""
    return secret_hash(key=f"{key}#peer", secret=peer_key)
