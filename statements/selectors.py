"""Reading statements: by id, and the filtered, keyset-paged query (Communication §2.1.3).

Every query filters on ``tenant_id`` first and never returns voided statements except by
``voidedStatementId`` (§2.1.4). Results are ordered by ``(stored, statement_id)``, newest
first unless ``ascending``; a page continues strictly after the position of the previous
page's last statement.

The StatementRef rule (§2.1.3 "Filter Conditions for StatementRefs"): for every filter other
than since/until/limit, a statement whose object is a StatementRef also matches when the
statement it targets matches, recursively along chains of references. Statements with a
StatementRef object are a small minority (voiding, comments on statements), so the rule is a
second branch over just those (``statement_refs``, outside the partitions), each checked by
following its chain, and the two branches are merged in order.
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

# How many StatementRef hops the StatementRef rule follows. Clients choose statement ids,
# so a chain can loop (a statement may target an id that is stored later, targeting it
# back); the bound ends such loops. Real chains (voiding, a comment on a comment) are a few
# hops long.
_MAX_REFERENCE_DEPTH = 16
# Past this many referring statements in a page's range, a page of one learner or one
# registration finds them back from its matches instead of following every chain forward
# (migration 0012): forward costs about 4 µs per referring statement in range (44 ms for
# 10,000 on the 2-core machine), back about as much per matching statement, which are few
# for these filters (3-4 ms for a learner among those 10,000).
_WALK_BACK_ABOVE = 200


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
    # One partition's plan, not every month's: see migration 0009.
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT * FROM statement_by_id(%s, %s, %s, %s)",
            [tenant_id, statement_id, voided, authority],
        )
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

    A query is planned for every month it may read, and with a year of monthly partitions
    attached that planning cost more than running it (migration 0009). So a page whose
    matches are spread over the whole tenant (no filter, ``verb``, ``activity``) is read
    window by window in its order (``_windows``), each query bounded by literal ``stored``
    times that the planner prunes months with; the first window, the month of the page's
    starting point, fills most pages. A page of one learner's or one registration's
    statements, a few a month, would read every window to fill up: it is one query. The
    windows together cover all time once, so a page is the same whatever the windows.
    """
    rows: list[StoredStatement] = []
    for low, below in _windows(query, after, dt.datetime.now(dt.UTC)):
        if query.since is not None and below is not None and below <= query.since:
            break  # nothing after ``since`` from here on
        if query.until is not None and low is not None and low > query.until:
            break  # nothing up to ``until`` from here on
        rows += _find_in_window(tenant_id, query, limit + 1 - len(rows), after, low, below, using)
        if len(rows) > limit:
            break
    return Page(statements=rows[:limit], has_more=len(rows) > limit)


def _windows(query: StatementQuery, after, now: dt.datetime):
    """``[low, below)`` ``stored`` ranges (``None``: unbounded) in the page's order, covering
    all time once: the month of the page's starting point and everything beyond it, the
    month next to it, then the rest. The starting point is the newest a page can reach
    (now, ``until``, the cursor) or, ascending, the oldest (``since``, the cursor). One
    window for a learner's or a registration's statements, and for an ascending page
    without a starting point."""
    if query.agent is not None or query.registration is not None:
        return [(None, None)]
    if query.ascending:
        points = [p for p in (query.since, after and after[0]) if p is not None]
        edge = _month_add(max(points), 1) if points else None
        if edge is None:
            return [(None, None)]
        later = _month_add(edge, 1)
        return (
            [(None, edge), (edge, later), (later, None)] if later else [(None, edge), (edge, None)]
        )
    points = [p for p in (now, query.until, after and after[0]) if p is not None]
    edge = _month_add(min(points), 0)
    earlier = _month_add(edge, -1)
    return (
        [(edge, None), (earlier, edge), (None, earlier)]
        if earlier
        else [(edge, None), (None, edge)]
    )


def _month_add(moment: dt.datetime, months: int) -> dt.datetime | None:
    """The start (UTC) of the month ``months`` after the one holding ``moment``: the bounds
    of the monthly partitions. ``None`` past the calendar's ends (years 1 and 9999)."""
    moment = moment.astimezone(dt.UTC)
    index = moment.year * 12 + moment.month - 1 + months
    if not 12 <= index < 10000 * 12:
        return None
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


_COLUMNS = "s.statement_id, s.stored, s.payload, s.attachment_sha2"


def _find_in_window(tenant_id, query: StatementQuery, wanted: int, after, low, below, using):
    """Up to ``wanted`` matches with ``low <= stored < below``, in the page's order.

    Each branch is an ordered, limited index walk returning whole rows (each reads the
    payloads of at most ``wanted`` rows); their union is ordered and cut again. An
    ``agent`` filter splits the statement's own match into the Actor (b-tree on
    ``actor_ifi``) and the other places the Agent can be (GIN on ``agents`` or
    ``related_agents``, see ``statements.xapi.lookups``).
    """
    order = "ASC" if query.ascending else "DESC"
    common, common_params = _common_conditions(tenant_id, query, after)
    window, window_params = _window_conditions(low, below)
    common, common_params = f"{common}{window}", [*common_params, *window_params]
    tail = f" ORDER BY stored {order}, statement_id {order} LIMIT %s"
    own_tail = f" ORDER BY s.stored {order}, s.statement_id {order} LIMIT %s"
    branches = []
    for agent_place in ("actor", "others") if query.agent is not None else (None,):
        own, own_params = _content_conditions(query, agent_place)
        where = f"{common} AND {own}" if own else common
        if agent_place == "others":
            branches.append(_rare_branch(where, [*common_params, *own_params], tail, wanted))
        else:
            branches.append(
                (
                    f"SELECT {_COLUMNS} FROM statements s WHERE {where}{own_tail}",
                    [*common_params, *own_params, wanted],
                )
            )
    if query.filters_content:
        branches.append(_referencing_branch(tenant_id, query, after, low, below, tail, wanted))
    if len(branches) == 1:
        sql, params = branches[0]
    else:
        union = " UNION ".join(f"({sql})" for sql, _ in branches)
        sql = f"SELECT * FROM ({union}) k{tail}"
        params = [*(param for _, params in branches for param in params), wanted]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return [_row(row) for row in cursor.fetchall()]


def _window_conditions(low, below) -> tuple[str, list]:
    """The window's bounds on ``s``, as literals the planner prunes months with (the cursor
    binds on the client: the query reaches PostgreSQL with its values in it)."""
    conditions, params = "", []
    if low is not None:
        conditions += " AND s.stored >= %s"
        params.append(low)
    if below is not None:
        conditions += " AND s.stored < %s"
        params.append(below)
    return conditions, params


def _rare_branch(where: str, params: list, tail: str, wanted: int):
    """A branch whose matches are few (statements with the Agent elsewhere than as Actor):
    find them all through their own index, then order and cut. ``OFFSET 0`` keeps the
    planner from pushing the outer LIMIT inside, where it would rather walk the primary key
    in order hoping to meet matches early, and read the whole tenant when there are none."""
    return (
        f"SELECT * FROM (SELECT {_COLUMNS} FROM statements s WHERE {where} OFFSET 0) rare{tail}",
        [*params, wanted],
    )


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def _referencing_branch(tenant_id, query: StatementQuery, after, low, below, tail, wanted):
    """The statements whose StatementRef chain reaches a match (the StatementRef rule), from
    ``statements_referencing_matches``, which follows the chains in ``statement_refs`` and
    reads the statements they reach by key (migration 0011), or walks them back from the
    matches of a learner's or a registration's page when the range holds many (0012); the
    cursor's position is applied here."""
    position, position_params = "", []
    if after is not None:
        position = f" WHERE (stored, statement_id) {'>' if query.ascending else '<'} (%s, %s)"
        position_params = list(after)
    return (
        "SELECT * FROM statements_referencing_matches("
        "%s, %s, %s, %s, %s, %s, %s::uuid, %s, %s, %s, %s, %s, %s, %s) rare"
        f"{position}{tail}",
        [
            tenant_id,
            query.agent,
            query.related_agents,
            query.verb,
            query.activity,
            query.related_activities,
            query.registration,
            low or _EARLIEST,
            below or _LATEST,
            query.since or _EARLIEST,
            query.until or _LATEST,
            query.authority,
            _MAX_REFERENCE_DEPTH,
            _WALK_BACK_ABOVE,
            *position_params,
            wanted,
        ],
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
        # The same bound on ``stored`` alone, which partition pruning understands.
        conditions.append(f"s.stored {'>=' if query.ascending else '<='} %s")
        params.extend([*after, after[0]])
    if query.authority is not None:
        conditions.append("s.authority_ifi = %s")
        params.append(query.authority)
    return " AND ".join(conditions), params


def _content_conditions(query: StatementQuery, agent_place: str | None):
    """Conditions on ``s`` for the content filters. ``agent_place`` says where the ``agent``
    filter looks: ``actor``, or ``others`` (the array for the filter's breadth)."""
    conditions: list[str] = []
    params: list = []
    if query.agent is not None:
        if agent_place == "actor":
            conditions.append("s.actor_ifi = %s")
        else:
            column = "related_agents" if query.related_agents else "agents"
            conditions.append(f"s.{column} @> ARRAY[%s]::text[]")
        params.append(query.agent)
    if query.verb is not None:
        conditions.append("s.verb_id = %s")
        params.append(query.verb)
    if query.activity is not None:
        if query.related_activities:
            conditions.append("s.related_activities @> ARRAY[%s]")
        else:
            conditions.append("s.activity_id = %s")
        params.append(query.activity)
    if query.registration is not None:
        conditions.append("s.registration = %s::uuid")
        params.append(query.registration)
    return " AND ".join(conditions), params


def _row(row) -> StoredStatement:
    return StoredStatement(
        statement_id=str(row[0]), stored=row[1], payload=row[2], attachment_sha2=list(row[3])
    )


def statement_stored_times(cursor, *, tenant_id: int, statement_ids: list[str]) -> list:
    """The distinct ``stored`` times of registered ids, from the registry alone.

    A read of those statements that then names the times as literals (``stored =
    ANY(...)``) is planned for the months that hold them; joined with the registry instead,
    it is planned for every month attached (docs/storage.md, "Planning over many months").
    Ids are unique per tenant, so ``stored = ANY(times) AND statement_id = ANY(ids)`` finds
    exactly the ids' rows. ``cursor`` is the caller's, so the read is in its transaction.
    """
    cursor.execute(
        "SELECT DISTINCT stored FROM statement_ids "
        "WHERE tenant_id = %s AND statement_id = ANY(%s::uuid[])",
        [tenant_id, statement_ids],
    )
    return [row[0] for row in cursor.fetchall()]


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
