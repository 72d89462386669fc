"""Reading statements: by id, and the filtered, keyset-paged query (Communication §2.1.3).

Every query filters on ``tenant_id`` first and never returns voided statements except by
``voidedStatementId`` (§2.1.4). Results are ordered by ``(stored, statement_id)``, newest
first unless ``ascending``; a page continues strictly after the position of the previous
page's last statement.

The StatementRef rule (§2.1.3 "Filter Conditions for StatementRefs"): for every filter other
than since/until/limit, a statement whose object is a StatementRef also matches when the
statement it targets matches, recursively along chains of references. Statements with a
StatementRef object are a small minority (voiding, comments on statements), so the rule is a
second branch over just those (``statements_ref_idx``), each checked by following its chain,
and the two branches are merged in order.
"""

from __future__ import annotations

# SQL here is assembled from fixed fragments chosen by the query's shape; every value is a
# bound parameter (ruff S608 cannot see that).
# ruff: noqa: S608
import datetime as dt
from dataclasses import dataclass

import orjson
from django.db import connections

from statements.xapi.multipart import AttachmentPart

_MAX_REFERENCE_DEPTH = 16


@dataclass(frozen=True, slots=True)
class StatementQuery:
    """A normalised statements query. ``agent`` is an IFI key (``statements.xapi.ifi``)."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    ascending: bool = False
    authority: str | None = None  # statements/read/mine: only statements with this authority

    @property
    def filters_content(self) -> bool:
        return any((self.agent, self.verb, self.activity, self.registration))


@dataclass(frozen=True, slots=True)
class StoredStatement:
    statement_id: str
    stored: dt.datetime
    payload: str
    attachment_sha2: list[str]


@dataclass(frozen=True, slots=True)
class Page:
    statements: list[StoredStatement]
    has_more: bool


_SELECT = "SELECT s.statement_id, s.stored, s.payload, s.attachment_sha2 FROM statements s"


def statement_get(
    *,
    tenant_id: int,
    statement_id: str,
    voided: bool,
    authority: str | None = None,
    using: str = "default",
) -> StoredStatement | None:
    """One statement by id: a registry probe for its ``stored`` time, then one partition.

    With ``voided=False`` a voided statement is not found; with ``voided=True`` only a voided
    one is (§2.1.4: voided statements are retrievable only by voidedStatementId).
    """
    sql = (
        f"{_SELECT} JOIN statement_ids i ON s.tenant_id = i.tenant_id AND s.stored = i.stored "
        "AND s.statement_id = i.statement_id "
        "WHERE i.tenant_id = %s AND i.statement_id = %s AND s.voided = %s"
    )
    params: list = [tenant_id, statement_id, voided]
    if authority is not None:
        sql += " AND s.authority_ifi = %s"
        params.append(authority)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return _row(row) if row else None


def statements_find(
    *,
    tenant_id: int,
    query: StatementQuery,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
    using: str = "default",
) -> Page:
    """Up to ``limit`` statements matching ``query`` strictly after position ``after``.

    Each branch is an ordered, limited index walk; their union is ordered and cut again.
    An ``agent`` filter splits the statement's own match into the Actor (b-tree on
    ``actor_ifi``) and the other places the Agent can be (GIN on ``agents`` or
    ``related_agents``, see ``statements.xapi.lookups``).
    """
    order = "ASC" if query.ascending else "DESC"
    common, common_params = _common_conditions(tenant_id, query, after)
    tail = f" ORDER BY stored {order}, statement_id {order} LIMIT %s"
    own_tail = f" ORDER BY s.stored {order}, s.statement_id {order} LIMIT %s"
    branches = []
    for agent_place in ("actor", "others") if query.agent is not None else (None,):
        own, own_params = _content_conditions(query, "s", agent_place)
        where = f"{common} AND {own}" if own else common
        if agent_place == "others":
            branches.append(_rare_branch(where, [*own_params], common_params, tail, limit))
        else:
            branches.append(
                (
                    f"SELECT s.stored, s.statement_id FROM statements s WHERE {where}{own_tail}",
                    [*common_params, *own_params, limit + 1],
                )
            )
    if query.filters_content:
        target, target_params = _content_conditions(query, "t", "anywhere")
        where = (
            f"{common} AND s.statement_ref IS NOT NULL AND EXISTS ("
            "WITH RECURSIVE chain(id, depth) AS ("
            " SELECT s.statement_ref, 1"
            " UNION ALL"
            " SELECT t.statement_ref, c.depth + 1 FROM chain c"
            " JOIN statement_ids i ON i.tenant_id = %s AND i.statement_id = c.id"
            " JOIN statements t ON t.tenant_id = i.tenant_id AND t.stored = i.stored"
            "  AND t.statement_id = i.statement_id"
            f" WHERE t.statement_ref IS NOT NULL AND c.depth < {_MAX_REFERENCE_DEPTH})"
            " SELECT 1 FROM chain c"
            " JOIN statement_ids i ON i.tenant_id = %s AND i.statement_id = c.id"
            " JOIN statements t ON t.tenant_id = i.tenant_id AND t.stored = i.stored"
            f"  AND t.statement_id = i.statement_id WHERE {target})"
        )
        branches.append(
            _rare_branch(where, [tenant_id, tenant_id, *target_params], common_params, tail, limit)
        )
    if len(branches) == 1:
        keys_sql, keys_params = branches[0]
    else:
        keys_sql = " UNION ".join(f"({sql})" for sql, _ in branches)
        keys_params = [param for _, params in branches for param in params]
    sql = (
        f"WITH page AS (SELECT * FROM ({keys_sql}) k "
        f"ORDER BY stored {order}, statement_id {order} LIMIT %s) "
        f"{_SELECT} JOIN page p ON s.tenant_id = %s AND s.stored = p.stored "
        f"AND s.statement_id = p.statement_id ORDER BY s.stored {order}, s.statement_id {order}"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*keys_params, limit + 1, tenant_id])
        rows = [_row(row) for row in cursor.fetchall()]
    return Page(statements=rows[:limit], has_more=len(rows) > limit)


def _rare_branch(where: str, params: list, common_params: list, tail: str, limit: int):
    """A branch whose matches are few (statements with the Agent elsewhere than as Actor,
    statements targeting others): find them all through their own index, then order and
    cut. ``OFFSET 0`` keeps the planner from pushing the outer LIMIT inside, where it would
    rather walk the primary key in order hoping to meet matches early, and read the whole
    tenant when there are none."""
    return (
        "SELECT stored, statement_id FROM ("
        f"SELECT s.stored, s.statement_id FROM statements s WHERE {where} OFFSET 0"
        f") rare{tail}",
        [*common_params, *params, limit + 1],
    )


def _common_conditions(tenant_id, query: StatementQuery, after):
    conditions = ["s.tenant_id = %s", "NOT s.voided"]
    params: list = [tenant_id]
    if query.since is not None:
        conditions.append("s.stored > %s")
        params.append(query.since)
    if query.until is not None:
        conditions.append("s.stored <= %s")
        params.append(query.until)
    if after is not None:
        conditions.append(f"(s.stored, s.statement_id) {'>' if query.ascending else '<'} (%s, %s)")
        params.extend(after)
    if query.authority is not None:
        conditions.append("s.authority_ifi = %s")
        params.append(query.authority)
    return " AND ".join(conditions), params


def _content_conditions(query: StatementQuery, alias: str, agent_place: str | None):
    """Conditions on ``alias`` for the content filters. ``agent_place`` says where the
    ``agent`` filter looks: ``actor``, ``others`` (the array for the filter's breadth), or
    ``anywhere`` (both, for a single row check)."""
    conditions: list[str] = []
    params: list = []
    if query.agent is not None:
        column = "related_agents" if query.related_agents else "agents"
        actor = f"{alias}.actor_ifi = %s"
        others = f"{alias}.{column} @> ARRAY[%s]::text[]"
        if agent_place == "actor":
            conditions.append(actor)
            params.append(query.agent)
        elif agent_place == "others":
            conditions.append(others)
            params.append(query.agent)
        else:
            conditions.append(f"({actor} OR {others})")
            params.extend([query.agent, query.agent])
    if query.verb is not None:
        conditions.append(f"{alias}.verb_id = %s")
        params.append(query.verb)
    if query.activity is not None:
        if query.related_activities:
            conditions.append(f"{alias}.related_activities @> ARRAY[%s]")
        else:
            conditions.append(f"{alias}.activity_id = %s")
        params.append(query.activity)
    if query.registration is not None:
        conditions.append(f"{alias}.registration = %s::uuid")
        params.append(query.registration)
    return " AND ".join(conditions), params


def _row(row) -> StoredStatement:
    return StoredStatement(
        statement_id=str(row[0]), stored=row[1], payload=row[2], attachment_sha2=list(row[3])
    )


def attachments_get(*, tenant_id: int, sha2s: list[str], using: str = "default"):
    """Attachment bodies by digest, for ``attachments=true`` responses."""
    if not sha2s:
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT sha2, content_type, content FROM statement_attachments "
            "WHERE tenant_id = %s AND sha2 = ANY(%s) ORDER BY sha2",
            [tenant_id, sorted(set(sha2s))],
        )
        return [
            AttachmentPart(sha2, content_type, bytes(content))
            for sha2, content_type, content in cursor.fetchall()
        ]


# --- what statements told about Activities and Agents (statements.facts) -------------------


def activity_definition_get(
    *, tenant_id: int, activity_id: str, using: str = "default"
) -> tuple[str, dt.datetime] | None:
    """The canonical definition of an Activity as JSON text, and when it last changed."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT definition::text, updated FROM activity_definitions "
            "WHERE tenant_id = %s AND activity_id = %s",
            [tenant_id, activity_id],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def activity_definitions_get(
    *, tenant_id: int, activity_ids: list[str], using: str = "default"
) -> dict[str, dict]:
    """Canonical definitions by Activity id, for the ids that have one."""
    if not activity_ids:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT activity_id, definition::text FROM activity_definitions "
            "WHERE tenant_id = %s AND activity_id = ANY(%s)",
            [tenant_id, activity_ids],
        )
        return {activity_id: orjson.loads(text) for activity_id, text in cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class KnownAgent:
    names: list[str]
    mboxes: list[str]


def known_agent_get(
    *, tenant_id: int, ifi: str, mbox_sha1sum: str | None, using: str = "default"
) -> KnownAgent:
    """The names seen with an Agent identifier and, when it was asked for by
    ``mbox_sha1sum``, the mboxes known to hash to it (with their names)."""
    with connections[using].cursor() as cursor:
        if mbox_sha1sum is None:
            cursor.execute(
                "SELECT names, NULL FROM known_agents WHERE tenant_id = %s AND ifi = %s",
                [tenant_id, ifi],
            )
        else:
            cursor.execute(
                "SELECT names, NULL FROM known_agents WHERE tenant_id = %s AND ifi = %s "
                "UNION ALL "
                "SELECT names, mbox FROM known_agents WHERE tenant_id = %s AND mbox_sha1sum = %s",
                [tenant_id, ifi, tenant_id, mbox_sha1sum],
            )
        rows = cursor.fetchall()
    names = list(dict.fromkeys(name for row in rows for name in row[0]))
    return KnownAgent(names=names, mboxes=[row[1] for row in rows if row[1]])
