"""What statements tell about Activities and Agents: the facts behind the Activities
resource (Communication §2.5) and the Agents resource (§2.4).

Pure: no Django, no database.

Activity definitions merge "latest wins per property" (Data §2.4.4.1.s4.b3: the LRS
updates its stored definition when a Learning Record Provider it trusts sends another one).
Language maps (``name``, ``description``) and ``extensions`` merge one level deeper, per
language tag and per extension, so that a statement naming an Activity in one language
does not erase its name in the others (Data §3.2.s4.b3: "while preserving names or
definitions not included"). Every other property, the interaction components included,
is replaced whole. ``progress_definition_merge`` in the database applies the same rule
between a batch and what is stored; ``definition_merge`` here folds a batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from statements.xapi.ifi import ifi_key

_MERGED_MAPS = ("name", "description", "extensions")


def definition_merge(old: dict, new: dict) -> dict:
    merged = old | new
    for key in _MERGED_MAPS:
        if key in old and key in new:
            merged[key] = old[key] | new[key]
    return merged


def _activities(statement: dict) -> Iterator[dict]:
    obj = statement.get("object") or {}
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        yield obj
    elif object_type == "SubStatement":
        yield from _activities(obj)
    context_activities = (statement.get("context") or {}).get("contextActivities") or {}
    for activities in context_activities.values():
        # Validation made each of these a list (Data §2.4.6.2).
        yield from activities


def statement_activity_ids(statement: dict) -> Iterator[str]:
    """The id of every Activity in the statement (object, context activities, and those
    of a SubStatement)."""
    for activity in _activities(statement):
        yield activity["id"]


def statement_definitions(statement: dict) -> Iterator[tuple[str, dict]]:
    """(activity id, definition) for every Activity the statement defines, in order."""
    for activity in _activities(statement):
        definition = activity.get("definition")
        if definition:
            yield activity["id"], definition


def batch_definitions(statements: list[dict]) -> dict[str, dict]:
    """Each defined Activity's definition as the batch leaves it (later statements win)."""
    folded: dict[str, dict] = {}
    for statement in statements:
        for activity_id, definition in statement_definitions(statement):
            previous = folded.get(activity_id)
            if previous is None or previous == definition:
                folded[activity_id] = definition
            else:
                folded[activity_id] = definition_merge(previous, definition)
    return folded


def _agents_in(actor: dict | None) -> Iterator[dict]:
    """An Agent, or a Group's member Agents (a Group is not a Person)."""
    if not actor:
        return
    if actor.get("objectType") == "Group":
        yield from actor.get("member") or ()
    else:
        yield actor


def statement_agents(statement: dict) -> Iterator[dict]:
    """Every Agent the statement names: actor, object, instructor, team, and the 2.0
    context agents and groups, in a SubStatement too. Not the authority: the LRS set it."""
    yield from _agents_in(statement.get("actor"))
    obj = statement.get("object") or {}
    object_type = obj.get("objectType")
    if object_type in ("Agent", "Group"):
        yield from _agents_in(obj)
    elif object_type == "SubStatement":
        yield from statement_agents(obj)
    context = statement.get("context") or {}
    yield from _agents_in(context.get("instructor"))
    yield from _agents_in(context.get("team"))
    for entry in context.get("contextAgents") or ():
        yield from _agents_in(entry.get("agent"))
    for entry in context.get("contextGroups") or ():
        yield from _agents_in(entry.get("group"))


@dataclass(slots=True)
class AgentFacts:
    """What the statements tell about one Agent identifier."""

    ifi: str
    names: set[str] = field(default_factory=set)
    # For an mbox identifier: the mbox as sent and its SHA-1 (Data §2.4.2.3: mbox_sha1sum
    # is "the hex-encoded SHA1 hash of a mailto IRI"), so a Person asked for by either
    # identifier can be found.
    mbox: str | None = None
    mbox_sha1sum: str | None = None


def mbox_sha1sum(mbox: str) -> str:
    return hashlib.sha1(mbox.encode(), usedforsecurity=False).hexdigest()


def batch_agents(statements: list[dict]) -> dict[str, AgentFacts]:
    facts: dict[str, AgentFacts] = {}
    for statement in statements:
        for agent in statement_agents(statement):
            key = ifi_key(agent)
            if key is None:
                continue
            entry = facts.get(key)
            if entry is None:
                entry = facts[key] = AgentFacts(key)
                if "mbox" in agent:
                    entry.mbox = agent["mbox"]
                    entry.mbox_sha1sum = mbox_sha1sum(agent["mbox"])
            name = agent.get("name")
            if name:
                entry.names.add(name)
    return facts


def person(agent: dict, *, names: list[str], mboxes: list[str]) -> dict:
    """The Person Object (Communication §2.4.s4-s6) for a requested Agent.

    Each property an array of values defined as in an Agent, each present once and only
    when it has values; the requested Agent's own identifier is always there (§2.4.s3.b3).
    ``mboxes`` are mailto IRIs known to belong to this Agent (its own, or the one whose
    SHA-1 it was asked by).
    """
    result: dict = {"objectType": "Person"}
    all_names = list(dict.fromkeys([*([agent["name"]] if agent.get("name") else []), *names]))
    if all_names:
        result["name"] = all_names
    mbox_values = list(dict.fromkeys([*([agent["mbox"]] if "mbox" in agent else []), *mboxes]))
    if mbox_values:
        result["mbox"] = mbox_values
    sha1s = [mbox_sha1sum(m) for m in mbox_values]
    if "mbox_sha1sum" in agent:
        sha1s.insert(0, agent["mbox_sha1sum"].lower())
    if sha1s:
        result["mbox_sha1sum"] = list(dict.fromkeys(sha1s))
    if "openid" in agent:
        result["openid"] = [agent["openid"]]
    if "account" in agent:
        result["account"] = [
            {"homePage": agent["account"]["homePage"], "name": agent["account"]["name"]}
        ]
    return result
