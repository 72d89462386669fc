"""Redis query cache for statement reads (ARCHITECTURE.md §4).

An entry is keyed by tenant and a digest of everything that shapes a response (the
normalised query, format, version, language, the caller when ``statements/read/mine``
applies, the page position). Each tenant has a generation counter, bumped after every
committed write to that tenant; an entry records the generation it was computed under and
counts only while that is still current. So a write invalidates every cached query of its
tenant at once, without listing them, and an entry is read together with the generation in
one round trip (MGET).

The cache only ever speeds reads up: when Redis fails, reads go to PostgreSQL and a warning
is logged. A failed bump leaves entries of that tenant stale for at most their TTL.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django_redis import get_redis_connection

from progress_site.redis_batch import RedisBatch
from statements.consistency import UNKNOWN

logger = logging.getLogger(__name__)

_PREFIX = "progress:statements"


def _generation_key(tenant_id: int) -> str:
    return f"{_PREFIX}:gen:{tenant_id}"


def _entry_key(tenant_id: int, material: bytes) -> str:
    return f"{_PREFIX}:q:{tenant_id}:{hashlib.sha256(material).hexdigest()}"


def query_cache_get(
    tenant_id: int, material: bytes, *, also: str
) -> tuple[bytes | None, bytes, object]:
    """``(body, generation, value)``: the cached body if fresh, else None; the generation
    to store a new body under; and the value of the key ``also``, read in the same round
    trip for a caller that needs it (``UNKNOWN`` when Redis could not be read)."""
    try:
        generation, entry, value = get_redis_connection().mget(
            _generation_key(tenant_id), _entry_key(tenant_id, material), also
        )
    except Exception:
        logger.warning("query cache unavailable", exc_info=True)
        return None, b"", UNKNOWN
    generation = generation or b"0"
    if entry is not None:
        entry_generation, _, body = entry.partition(b"\n")
        if entry_generation == generation:
            return body, generation, value
    return None, generation, value


def query_cache_put(tenant_id: int, material: bytes, generation: bytes, body: bytes) -> None:
    if not generation:
        return  # the generation could not be read: do not store under an unknown one
    try:
        get_redis_connection().set(
            _entry_key(tenant_id, material),
            generation + b"\n" + body,
            ex=settings.PROGRESS_QUERY_CACHE_SECONDS,
        )
    except Exception:
        logger.warning("query cache unavailable", exc_info=True)


def query_cache_invalidate(tenant_id: int, batch: RedisBatch | None = None) -> None:
    """Bump the tenant's generation: every cached query of the tenant stops counting.

    With ``batch`` the bump is queued there, to go with the batch's other commands."""
    own = batch is None
    batch = RedisBatch() if own else batch
    batch.add(lambda pipeline: pipeline.incr(_generation_key(tenant_id)), failed=_not_bumped)
    if own:
        batch.run()


def _not_bumped(error: BaseException) -> None:
    logger.error("query cache generation not bumped", exc_info=error)
