"""Keeping ``activity_definitions`` and ``known_agents`` current from the write path.

``facts_sql`` turns a batch into at most two upserts that run inside the batch's own
transaction (so they never describe statements that were not stored), and ``facts_applied``
records them once that transaction has committed.

Cost on the write path: Activities and Agents repeat across statements far more often than
they change, so each process remembers, for a while, what it last wrote for each Activity
and Agent and leaves out what would change nothing. A batch whose Activities
and Agents are all known costs no SQL at all. A change made in another process can be
overwritten by an older definition arriving here within ``PROGRESS_FACTS_CACHE_SECONDS``;
"latest wins" is only ever as exact as the order writers commit in.

Upserts lock rows in sorted key order, definitions before agents, so concurrent batches
touching the same Activities queue instead of deadlocking.

Data §2.4.4.1.s4.b3 and the ``define`` scope (Communication §4.2.s2): a credential without
``define`` (or ``all``) has its statements stored, but they do not change the LRS's
definitions of Activities and Agents.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from django.conf import settings

from progress_site.ttlcache import TTLCache
from statements.xapi.definitions import batch_agents, batch_definitions
from tenants import scopes
from tenants.auth import Principal

# Key: "d<tenant> <activity id>" or "a<tenant> <agent IFI>"; value: the definition (a dict)
# or the sorted names (a tuple) last written. Plain equality decides a repeat: cheaper
# than hashing, and these are small.
_written: TTLCache[object] = TTLCache(max_entries=100_000)

_DEFINITIONS_SQL = """
INSERT INTO activity_definitions (tenant_id, activity_id, definition, updated)
SELECT %s, d.activity_id, d.definition, clock_timestamp()
FROM jsonb_to_recordset(%s::jsonb) AS d(activity_id text, definition jsonb)
ORDER BY d.activity_id
ON CONFLICT (tenant_id, activity_id) DO UPDATE
SET definition = progress_definition_merge(activity_definitions.definition, EXCLUDED.definition),
    updated = EXCLUDED.updated
WHERE progress_definition_merge(activity_definitions.definition, EXCLUDED.definition)
      IS DISTINCT FROM activity_definitions.definition
"""

# A name list is capped: an identifier seen with ever new names must not grow a row forever.
_AGENTS_SQL = """
INSERT INTO known_agents (tenant_id, ifi, names, mbox, mbox_sha1sum, updated)
SELECT %s, a.ifi, a.names, a.mbox, a.mbox_sha1sum, clock_timestamp()
FROM jsonb_to_recordset(%s::jsonb) AS a(ifi text, names text[], mbox text, mbox_sha1sum text)
ORDER BY a.ifi
ON CONFLICT (tenant_id, ifi) DO UPDATE
SET names = (SELECT coalesce((array_agg(DISTINCT n))[1:32], '{}')
             FROM unnest(known_agents.names || EXCLUDED.names) AS n),
    updated = EXCLUDED.updated
WHERE NOT known_agents.names @> EXCLUDED.names
"""


_NUL_ESCAPE = b"\\u0000"


def may_define(principal: Principal) -> bool:
    return scopes.DEFINE in principal.scopes or scopes.ALL in principal.scopes


def facts_sql(
    principal: Principal, statements: Iterable[dict]
) -> tuple[list[tuple[str, list]], list[tuple[str, object]]]:
    """The upserts a stored batch calls for, and what to remember once they committed."""
    if not may_define(principal):
        return [], []
    statements = list(statements)
    tenant_id = principal.tenant_id
    ttl = settings.PROGRESS_FACTS_CACHE_SECONDS
    marks: list[tuple[str, object]] = []
    definitions = []
    for activity_id, definition in sorted(batch_definitions(statements).items()):
        try:
            encoded = orjson.dumps(definition)
        except orjson.JSONEncodeError:
            # An extension value nested deeper than orjson writes (and than a comparison
            # below recurses): such a definition is not kept; the statement itself is.
            continue
        if _NUL_ESCAPE in encoded:
            continue  # jsonb cannot hold U+0000; the statement itself keeps it
        key = f"d{tenant_id} {activity_id}"
        if ttl and _written.get(key) == (True, definition):
            continue
        definitions.append({"activity_id": activity_id, "definition": definition})
        marks.append((key, definition))
    agents = []
    for ifi, facts in sorted(batch_agents(statements).items()):
        if not facts.names and facts.mbox is None:
            continue  # nothing to tell beyond the identifier itself
        names = tuple(sorted(name for name in facts.names if "\x00" not in name))
        key = f"a{tenant_id} {ifi}"
        if ttl and _written.get(key) == (True, names):
            continue
        agents.append(
            {
                "ifi": ifi,
                "names": names,
                "mbox": facts.mbox,
                "mbox_sha1sum": facts.mbox_sha1sum,
            }
        )
        marks.append((key, names))
    queries = []
    if definitions:
        queries.append((_DEFINITIONS_SQL, [tenant_id, orjson.dumps(definitions).decode()]))
    if agents:
        queries.append((_AGENTS_SQL, [tenant_id, orjson.dumps(agents).decode()]))
    return queries, marks


def facts_applied(marks: list[tuple[str, object]]) -> None:
    """After commit: what this process wrote need not be written again for a while."""
    ttl = settings.PROGRESS_FACTS_CACHE_SECONDS
    if ttl:
        for key, value in marks:
            _written.put(key, value, ttl)


def facts_forget() -> None:
    """Drop the process's memory of what it wrote (tests; a table restored from backup)."""
    _written.clear()
