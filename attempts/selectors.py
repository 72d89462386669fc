"""Reads of the projection: the verb mapping, the read API's queries, the lag.

The list queries are keyset-paged: attempts in ``(last_activity_at, attempt_id)`` order,
completions in ``(satisfied_at, completion_id)`` order, each with an index per filter that
ends in that order. A page is "the next N after this position", never an OFFSET.
"""

from __future__ import annotations

# Column and table names come from module constants only; values are bound parameters.
# ruff: noqa: S608
import datetime as dt
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import connection

from attempts.models import VerbOutcome
from attempts.vocabulary import DEFAULT_OUTCOMES, Outcome
from progress_site.ttlcache import TTLCache
from statements.feed import QUEUE_TABLE
from tenants.models import Tenant

_outcomes: TTLCache[dict[str, Outcome]] = TTLCache(max_entries=10_000)
_slugs: TTLCache[str] = TTLCache(max_entries=10_000)


def outcomes_for_tenant(tenant_id: int) -> dict[str, Outcome]:
    """The defaults (``attempts.vocabulary``) overridden by the tenant's own mapping;
    cached per process for ``PROGRESS_PROJECTION_MAPPING_SECONDS``."""
    key = str(tenant_id)
    hit, mapping = _outcomes.get(key)
    if hit:
        return mapping
    mapping = dict(DEFAULT_OUTCOMES)
    for verb_id, outcome in VerbOutcome.objects.filter(tenant_id=tenant_id).values_list(
        "verb_id", "outcome"
    ):
        mapping[verb_id] = Outcome(outcome)
    _outcomes.put(key, mapping, settings.PROGRESS_PROJECTION_MAPPING_SECONDS)
    return mapping


def tenant_slug(tenant_id: int) -> str | None:
    """A tenant's slug (immutable once created, so cached for long); None when the tenant
    no longer exists."""
    key = str(tenant_id)
    hit, slug = _slugs.get(key)
    if hit:
        return slug
    slug = Tenant.objects.filter(pk=tenant_id).values_list("slug", flat=True).first()
    _slugs.put(key, slug, 3600 if slug is not None else 60)
    return slug


def projection_caches_clear() -> None:
    _outcomes.clear()
    _slugs.clear()


def projection_lag_seconds() -> float:
    """Age of the oldest unprojected statement (0 when the queue is empty): how far the
    projection is behind the log, the projector's scaling signal. The head of the queue in
    ``seq`` order is the oldest row within the spread of concurrent commits."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT extract(epoch FROM clock_timestamp() - stored) FROM {QUEUE_TABLE} "
            "ORDER BY seq LIMIT 1"
        )
        row = cursor.fetchone()
    return max(float(row[0]), 0.0) if row else 0.0


def projection_failures_list(*, limit: int = 100) -> list[dict]:
    """Quarantined statements, most recent first (``services.projection_quarantine_head``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tenant_id, statement_id::text, stored, error, failed_at "
            "FROM projection_failures ORDER BY failed_at DESC LIMIT %s",
            [limit],
        )
        columns = ("tenant_id", "statement_id", "stored", "error", "failed_at")
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def projection_failures_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM projection_failures")
        return cursor.fetchone()[0]


def projection_backlog() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {QUEUE_TABLE}")
        return cursor.fetchone()[0]


# --- the read API --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressFilter:
    learner: str | None = None
    activity_id: str | None = None
    registration: str | None = None
    status: str | None = None
    since: dt.datetime | None = None


_ATTEMPT_FIELDS = (
    "attempt_id", "learner", "activity_id", "registration", "session_id", "status",
    "completion", "success", "launch_mode", "move_on", "started_at", "last_activity_at",
    "ended_at", "finished_at", "best_scaled", "best_raw", "best_min", "best_max",
    "last_scaled", "last_raw", "last_min", "last_max", "duration_seconds",
    "statement_count", "outcome_statements", "parents",
)  # fmt: skip
_COMPLETION_FIELDS = (
    "completion_id", "learner", "activity_id", "registration", "satisfied_at", "basis",
    "move_on", "score_scaled", "score_raw", "score_min", "score_max", "statement_id",
    "attempt_id", "parents",
)  # fmt: skip


def _page(
    *,
    table: str,
    fields: tuple[str, ...],
    order: tuple[str, str],
    tenant_id: int,
    where: list[tuple[str, object]],
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict]:
    clauses = ["tenant_id = %s"]
    params: list[object] = [tenant_id]
    for clause, value in where:
        clauses.append(clause)
        params.append(value)
    if after is not None:
        clauses.append(f"({order[0]}, {order[1]}) > (%s::timestamptz, %s::uuid)")
        params.extend(after)
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(fields)} FROM {table} WHERE {' AND '.join(clauses)} "
            f"ORDER BY {order[0]}, {order[1]} LIMIT %s",
            params,
        )
        rows = [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if "outcome_statements" in row:  # jsonb arrives as text through Django's cursor
            row["outcome_statements"] = orjson.loads(row["outcome_statements"])
    return rows


def _common(f: ProgressFilter, time_column: str) -> list[tuple[str, object]]:
    where: list[tuple[str, object]] = []
    if f.learner is not None:
        where.append(("learner = %s", f.learner))
    if f.activity_id is not None:
        where.append(("activity_id = %s", f.activity_id))
    if f.registration is not None:
        where.append(("registration = %s::uuid", f.registration))
    if f.since is not None:
        where.append((f"{time_column} > %s", f.since))
    return where


def attempts_page(
    *, tenant_id: int, filters: ProgressFilter, after: tuple[str, str] | None, limit: int
) -> list[dict]:
    """Attempts matching ``filters`` (``since``: last activity after), in keyset order."""
    where = _common(filters, "last_activity_at")
    if filters.status is not None:
        where.append(("status = %s", filters.status))
    return _page(
        table="attempts",
        fields=_ATTEMPT_FIELDS,
        order=("last_activity_at", "attempt_id"),
        tenant_id=tenant_id,
        where=where,
        after=after,
        limit=limit,
    )


def completions_page(
    *, tenant_id: int, filters: ProgressFilter, after: tuple[str, str] | None, limit: int
) -> list[dict]:
    """Completions matching ``filters`` (``since``: satisfied after), in keyset order.
    ``status`` filters on the basis of the completion."""
    where = _common(filters, "satisfied_at")
    if filters.status is not None:
        where.append(("basis = %s", filters.status))
    return _page(
        table="completions",
        fields=_COMPLETION_FIELDS,
        order=("satisfied_at", "completion_id"),
        tenant_id=tenant_id,
        where=where,
        after=after,
        limit=limit,
    )


def rollup_for(*, tenant_id: int, learner: str, parent: str, registration: str | None) -> dict:
    """A learner's progress under a parent Activity (a course or block): the child
    Activities with attempts whose statements name ``parent`` in ``contextActivities``
    ``parent`` or ``grouping``, how many of them are satisfied, and the parent's own
    completion when one was recorded (cmi5 §9.3.9: the LMS's "satisfied" for a block or a
    course). Computed on read from the projected rows, so it is never out of step."""
    registration_clause = (
        "registration = %s::uuid" if registration is not None else "registration IS NULL"
    )
    params = [tenant_id, learner, [parent]]
    if registration is not None:
        params.append(registration)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              (SELECT count(DISTINCT activity_id) FROM attempts
               WHERE tenant_id = %s AND learner = %s AND parents @> %s AND {registration_clause}),
              (SELECT count(*) FROM completions
               WHERE tenant_id = %s AND learner = %s AND parents @> %s AND {registration_clause}),
              (SELECT max(satisfied_at) FROM completions
               WHERE tenant_id = %s AND learner = %s AND parents @> %s AND {registration_clause})
            """,
            params * 3,
        )
        children, satisfied, last_satisfied = cursor.fetchone()
        cursor.execute(
            f"SELECT {', '.join(_COMPLETION_FIELDS)} FROM completions "
            f"WHERE tenant_id = %s AND learner = %s AND activity_id = %s AND {registration_clause}",
            [tenant_id, learner, parent, *params[3:]],
        )
        own = cursor.fetchone()
    return {
        "learner": learner,
        "activity_id": parent,
        "registration": registration,
        "children_started": children,
        "children_satisfied": satisfied,
        "last_child_satisfied_at": last_satisfied,
        "completion": dict(zip(_COMPLETION_FIELDS, own, strict=True)) if own else None,
    }
