"""Storing a fetched batch of ingest messages: the part of progress-ingest that talks to
PostgreSQL, and nothing of NATS (``ingest.consumer`` does that).

``ingest_batch`` decides, for every message, stored or dead-lettered (with a reason), and
raises ``DatabaseUnavailable`` when PostgreSQL cannot be reached, in which case nothing
is decided and the caller retries the whole batch later. Statements go through the one
write service the HTTP API uses (``statements.services.statements_store``), so a statement
is stored (and projected) the same way whichever way it came.

One transaction stores the valid messages of one credential and xAPI version together. When
that transaction is refused (a known id with different content, a voiding rule, a row the
database will not take), the group is split in halves and each half retried, down to the
single message at fault, which is dead-lettered; the others are stored. A batch with one
bad message therefore costs about 2·log2(n) extra transactions, never a blocked stream.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from ingest.contract import CREDENTIAL_HEADER, Incoming, Reason, Refused, decode, tenant_slug
from lrs.errors import Conflict, XAPIError
from progress_site.ttlcache import TTLCache
from statements.services import statements_store
from tenants import scopes
from tenants.auth import Principal
from tenants.models import KEY_RE, SLUG_RE, Tenant
from tenants.selectors import credential_record_get

logger = logging.getLogger(__name__)

# SQLSTATE classes that mean "the database is not there", not "this row is wrong":
# connection exceptions, operator intervention (shutdown), insufficient resources.
_OUTAGE_SQLSTATE_PREFIXES = ("08", "57P", "53")


_DATABASE_ERRORS = (DatabaseError, psycopg.Error)


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached; nothing of the batch was decided."""


@dataclass(slots=True)
class BatchOutcome:
    stored: list[Incoming] = field(default_factory=list)
    dead: list[tuple[Incoming, Reason, str]] = field(default_factory=list)

    @property
    def statements_stored(self) -> int:
        return sum(len(message.statements) for message in self.stored)


def ingest_batch(messages: list[Incoming]) -> BatchOutcome:
    """Store what can be stored; name the reason for everything else."""
    outcome = BatchOutcome()
    groups: dict[tuple[int, bool], tuple[Principal, list[Incoming]]] = {}
    # Who sent it, decided once per (subject, credential) a batch: a producer's messages
    # share both, and the decision (two cache lookups, a dozen checks) is otherwise paid
    # again by every message, most of which carry one statement.
    senders: dict[tuple[str, str | None], Principal | Refused] = {}
    try:
        for message in messages:
            try:
                sender = (message.subject, message.headers.get(CREDENTIAL_HEADER))
                principal = senders.get(sender)
                if principal is None:
                    try:
                        principal = senders[sender] = _principal_for(message)
                    except Refused as refused:
                        principal = senders[sender] = refused
                if isinstance(principal, Refused):
                    raise Refused(principal.reason, principal.detail)
                decode(message)
            except Refused as refused:
                outcome.dead.append((message, refused.reason, refused.detail))
                continue
            key = (principal.credential_id, message.v2)
            groups.setdefault(key, (principal, []))[1].append(message)
        for principal, group in groups.values():
            for part in _rounds(group):
                _store(principal, part, outcome)
    except _DATABASE_ERRORS as exc:
        if _is_outage(exc):
            close_old_connections()
            raise DatabaseUnavailable(str(exc)) from exc
        raise
    return outcome


def _rounds(messages: list[Incoming]) -> list[list[Incoming]]:
    """Split messages so that no statement id appears twice in one part (a re-published
    message next to its original); later copies go to later parts, which then find the id
    stored and compare it, as a redelivery does."""
    rounds: list[tuple[set[str], list[Incoming]]] = []
    for message in messages:
        ids = {statement["id"].lower() for statement in message.statements}
        for seen, part in rounds:
            if seen.isdisjoint(ids):
                seen.update(ids)
                part.append(message)
                break
        else:
            rounds.append((set(ids), [message]))
    return [part for _, part in rounds]


def _store(principal: Principal, messages: list[Incoming], outcome: BatchOutcome) -> None:
    try:
        statements_store(
            principal=principal,
            statements=[s for message in messages for s in message.statements],
            v2=messages[0].v2,
            received=[r for message in messages for r in message.received],
        )
    except XAPIError as exc:
        _split_or_refuse(principal, messages, outcome, _reason(exc), exc.message)
        return
    except _DATABASE_ERRORS as exc:
        if _is_outage(exc):
            raise
        detail = _sqlstate(exc) or type(exc).__name__
        logger.warning("the database refused an ingest transaction (%s)", detail)
        _split_or_refuse(principal, messages, outcome, Reason.DATABASE_REJECTED, detail)
        return
    outcome.stored.extend(messages)


def _split_or_refuse(principal, messages, outcome, reason: Reason, detail: str) -> None:
    if len(messages) == 1:
        outcome.dead.append((messages[0], reason, detail))
        return
    middle = len(messages) // 2
    _store(principal, messages[:middle], outcome)
    _store(principal, messages[middle:], outcome)


def _reason(exc: XAPIError) -> Reason:
    return Reason.CONFLICT if isinstance(exc, Conflict) else Reason.REJECTED


def _sqlstate(exc: Exception) -> str | None:
    # Django wraps psycopg's errors (the original is the cause); the COPY path raises
    # psycopg's own.
    return getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)


def _is_outage(exc: Exception) -> bool:
    sqlstate = _sqlstate(exc)
    if sqlstate is None:
        # No answer from the server at all (connection refused, closed, reset).
        return not _connection_usable()
    return sqlstate.startswith(_OUTAGE_SQLSTATE_PREFIXES)


def _connection_usable() -> bool:
    connection = connections["default"]
    try:
        return connection.connection is not None and connection.is_usable()
    except Exception:
        return False


# --- who sent it -------------------------------------------------------------------------

_tenants: TTLCache[tuple[bool, str] | None] = TTLCache(max_entries=10_000)
_SLUG = re.compile(SLUG_RE)
_KEY = re.compile(KEY_RE)


def _tenant(slug: str) -> tuple[bool, str] | None:
    """(enabled, home region) of the tenant with ``slug``, cached like credentials."""
    hit, value = _tenants.get(slug)
    if hit:
        return value
    row = Tenant.objects.filter(slug=slug).values_list("enabled", "home_region").first()
    _tenants.put(slug, row, settings.PROGRESS_AUTH_CACHE_SECONDS or 1)
    return row


def _principal_for(message: Incoming) -> Principal:
    """The credential that published the message, checked against the subject's tenant
    (ARCHITECTURE.md §3: residency; NATS permissions decide who may publish where)."""
    slug = tenant_slug(message.subject, settings.PROGRESS_INGEST_SUBJECT_PREFIX)
    # Subjects and header values are any text, but PostgreSQL refuses a query whose text
    # holds U+0000, and that error would escape the batch undecided. A token that is no
    # slug, or a key that is no key, names no row (both formats are database constraints),
    # so the answer is known without asking.
    tenant = _tenant(slug) if _SLUG.fullmatch(slug) else None
    if tenant is None:
        raise Refused(Reason.UNKNOWN_TENANT, f"no tenant {slug!r}")
    key = message.headers.get(CREDENTIAL_HEADER)
    if not key:
        raise Refused(Reason.MISSING_CREDENTIAL, f"the {CREDENTIAL_HEADER} header is required")
    record = credential_record_get(key) if _KEY.fullmatch(key) else None
    if record is None:
        raise Refused(Reason.UNKNOWN_CREDENTIAL, f"no credential {key!r}")
    if record.tenant_slug != slug:
        raise Refused(
            Reason.CREDENTIAL_MISMATCH, f"credential {key!r} does not belong to tenant {slug!r}"
        )
    if not record.enabled:
        raise Refused(Reason.CREDENTIAL_DISABLED, f"credential {key!r} is disabled")
    if not record.tenant_enabled:
        raise Refused(Reason.TENANT_DISABLED, f"tenant {slug!r} is disabled")
    if record.tenant_region != settings.PROGRESS_REGION:
        raise Refused(
            Reason.WRONG_REGION,
            f"tenant {slug!r} is homed in {record.tenant_region}, not {settings.PROGRESS_REGION}",
        )
    if not scopes.scopes_allow(
        record.scopes, method="POST", read_scopes=(), write_scopes=(scopes.STATEMENTS_WRITE,)
    ):
        raise Refused(Reason.NOT_ALLOWED, f"credential {key!r} may not write statements")
    # A producer names its key and nothing more (NATS account permissions decide who may
    # publish): no peer key, no network, so no peer's trust to keep a submitted authority.
    # The credential is the authority of what it publishes (docs/ingest.md).
    return Principal(
        record.credential_id, record.key, record.tenant_id, record.tenant_slug, record.scopes,
        "normal",
    )  # fmt: skip


def ingest_caches_clear() -> None:
    _tenants.clear()
