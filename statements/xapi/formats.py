"""What GET Statements serves of a stored statement (Communication §2.1.3).

- ``format_ids``: the ``ids`` format.
- ``parse_accept_language`` and ``format_canonical``: the ``canonical`` format and its
  language filtering (§2.1.3 "Language Filtering Requirements for Canonical Format
  Statements").
- ``for_reader``: what a reader of one version is served of a statement stored under the
  other (ARCHITECTURE.md §8).

``exact`` is the stored statement itself and needs no function.

All functions are pure: they never mutate their input and return new dicts along the path
to every change. Unchanged nested values (an Agent, ``result``, extensions) are shared with
the input rather than copied, so treat input and output as read-only.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["for_reader", "format_canonical", "format_ids", "parse_accept_language"]

_IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_V2_CONTEXT_PROPERTIES = ("contextAgents", "contextGroups")
# The ISO 8601 notations 1.0.x validation keeps as sent that RFC 3339 does not have: a comma
# as the decimal sign, and an offset of hours alone. Groups: head, fraction digits after a
# comma, offset hours (of an offset without minutes).
_ISO_ONLY_TIMESTAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.([0-9]+)|,([0-9]+))?"
    r"([Zz]|[+-][0-9]{2}(?::[0-9]{2})?)"
).fullmatch


# -- ids --------------------------------------------------------------------------------


def _ids_actor(actor: dict) -> dict:
    """An Agent or Identified Group: objectType (when sent) and its IFI; an Anonymous
    Group: objectType and each member reduced so."""
    out = {}
    if "objectType" in actor:
        out["objectType"] = actor["objectType"]
    for prop in _IFI_PROPERTIES:
        if prop in actor:
            out[prop] = actor[prop]
            return out
    members = actor.get("member")
    if members is not None:
        out["member"] = [_ids_actor(m) for m in members]
    return out


def _ids_activity(activity: dict) -> dict:
    # An Activity's objectType is optional and can only be "Activity" (Data §2.4.4.1):
    # the id alone identifies it, so the minimum is the id alone.
    return {"id": activity["id"]}


def _ids_context(context: dict) -> dict:
    out = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            out[key] = _ids_actor(context[key])
    activities = context.get("contextActivities")
    if activities:
        out["contextActivities"] = {
            kind: [_ids_activity(a) for a in _as_list(listed)]
            for kind, listed in activities.items()
        }
    for key, role in (("contextAgents", "agent"), ("contextGroups", "group")):
        entries = context.get(key)
        if entries:
            out[key] = [{**entry, role: _ids_actor(entry[role])} for entry in entries]
    return out


def _ids_object(obj: dict) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _ids_activity(obj)
    if kind == "Agent" or kind == "Group":
        return _ids_actor(obj)
    if kind == "SubStatement":
        return _ids_statement(obj)
    return obj  # StatementRef: objectType and id are all it has


def _ids_statement(statement: dict) -> dict:
    out = dict(statement)
    out["actor"] = _ids_actor(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _ids_object(statement["object"])
    context = statement.get("context")
    if context is not None:
        out["context"] = _ids_context(context)
    authority = statement.get("authority")
    if authority is not None:
        out["authority"] = _ids_actor(authority)
    return out


def format_ids(statement: dict) -> dict:
    """The ``ids`` format: "only include minimum information necessary in Agent, Activity,
    Verb and Group Objects to identify them. For Anonymous Groups this means including the
    minimum information needed to identify each member" (§2.1.3).

    - Agents and Identified Groups keep ``objectType`` (when the statement has it: a
      Group, or an Agent as Object, always does) and their one IFI; ``name`` and an
      Identified Group's ``member`` go.
    - Anonymous Groups keep ``objectType`` and ``member``, each member reduced as above.
    - Activities keep ``id`` alone: the definition goes, and so does an ``objectType``,
      which for an Activity is optional and implied.
    - Verbs keep ``id``: "the LRS SHOULD* NOT include the display property" (Data
      §2.4.3.s6.b2).

    This applies wherever such Objects appear: Actor, Object, Authority, the context's
    Instructor, Team, context Activities and (2.0) Context Agents and Groups, and the same
    inside a SubStatement. StatementRefs, ``result``, attachments, timestamps and the
    other properties are not Agent, Activity, Verb or Group Objects and stay as they are.
    Idempotent.
    """
    return _ids_statement(statement)


# -- Accept-Language ---------------------------------------------------------------------

# RFC 2616 §14.4: language-range = ( ( 1*8ALPHA *( "-" 1*8ALPHA ) ) | "*" ). Subtags after
# the first may hold digits too (RFC 4647 §2.1, e.g. "es-419"), which browsers send.
_LANGUAGE_RANGE = re.compile(r"\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*")
_MAX_RANGES = 64


def parse_accept_language(header: str | None) -> list[str]:
    """Language ranges of an ``Accept-Language`` header, most preferred first (RFC 2616
    §14.4), lowercased (language tags are case-insensitive, RFC 5646 §2.1.1).

    Ordered by ``q`` (default 1), then by position in the header; a range listed twice
    keeps its best place; ``q=0`` ("not acceptable") ranges are left out; ``*`` is kept.
    Tolerant: an entry that is not a valid range, or has a ``q`` that is not a number in
    [0, 1], is skipped; other parameters are ignored; at most 64 entries are read. ``None``
    or an empty header gives ``[]``.

    >>> parse_accept_language("da, en-gb;q=0.8, en;q=0.7")
    ['da', 'en-gb', 'en']
    """
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(header.split(",")[:_MAX_RANGES]):
        language_range, *parameters = entry.split(";")
        language_range = language_range.strip().lower()
        if not _LANGUAGE_RANGE.fullmatch(language_range):
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = math.nan
        if not 0.0 < quality <= 1.0:  # also false for NaN
            continue
        ranked.append((-quality, position, language_range))
    ranked.sort()
    return list(dict.fromkeys(language_range for _, _, language_range in ranked))


# -- canonical ---------------------------------------------------------------------------


def _choose_language(language_map: dict, ranges: list[str]) -> str | None:
    """The key of the one entry to serve from a language map; None when it is empty.

    RFC 2616 §14.4 applied to this map alone (§2.1.3.s4.b5): a range matches a tag that
    equals it or that it is a prefix of, followed by "-" (``en`` matches ``en-US``); ``*``
    matches every tag; a tag takes the rank of the longest range that matches it. The best
    ranked tag wins; on a tie, the tag equal to the range beats longer ones, then the
    earlier key in the map.

    When no range matches: a tag of the same primary language as a range, by the range's
    rank (``en-GB`` asked, ``en`` or ``en-US`` present) — the RFC lets a server serve a
    response that is not acceptable rather than none, and this is the nearest; failing
    that, the first key in the map, i.e. the language its author listed first. Either
    way the result is deterministic for a given map and list of ranges.
    """
    if not language_map:
        return None
    tags = list(language_map)
    if len(tags) == 1 or not ranges:
        return tags[0]
    best: tuple[int, int, int] | None = None
    chosen = None
    for position, tag in enumerate(tags):
        lowered = tag.lower()
        longest, rank = -1, -1
        for index, language_range in enumerate(ranges):
            if language_range == "*":
                length = 0
            elif lowered == language_range or lowered.startswith(language_range + "-"):
                length = len(language_range)
            else:
                continue
            if length > longest:
                longest, rank = length, index
        if rank < 0:
            continue
        score = (rank, 0 if lowered == ranges[rank] else 1, position)
        if best is None or score < best:
            best, chosen = score, tag
    if chosen is not None:
        return chosen
    primaries = [tag.lower().split("-", 1)[0] for tag in tags]
    for language_range in ranges:
        primary = language_range.split("-", 1)[0]
        if primary in primaries:
            return tags[primaries.index(primary)]
    return tags[0]


def _one_language(language_map: Any, ranges: list[str]) -> Any:
    if type(language_map) is not dict:
        return language_map
    tag = _choose_language(language_map, ranges)
    return {} if tag is None else {tag: language_map[tag]}


def _canonical_definition(definition: dict, ranges: list[str]) -> dict:
    out = dict(definition)
    for key in ("name", "description"):
        if key in definition:
            out[key] = _one_language(definition[key], ranges)
    for key in _COMPONENT_LISTS:
        components = definition.get(key)
        if components:
            out[key] = [
                {**c, "description": _one_language(c["description"], ranges)}
                if "description" in c
                else c
                for c in components
            ]
    return out


def _canonical_activity(
    activity: dict, ranges: list[str], definitions: dict[str, dict] | None
) -> dict:
    definition = activity.get("definition")
    if definitions is not None:
        definition = definitions.get(activity["id"], definition)
    if definition is None:
        return activity
    return {**activity, "definition": _canonical_definition(definition, ranges)}


def _canonical_attachments(attachments: list, ranges: list[str]) -> list:
    out = []
    for attachment in attachments:
        attachment = dict(attachment)
        for key in ("display", "description"):
            if key in attachment:
                attachment[key] = _one_language(attachment[key], ranges)
        out.append(attachment)
    return out


def _canonical_statement(
    statement: dict, ranges: list[str], definitions: dict[str, dict] | None
) -> dict:
    out = dict(statement)
    verb = statement["verb"]
    if "display" in verb:
        out["verb"] = {**verb, "display": _one_language(verb["display"], ranges)}
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = _canonical_activity(obj, ranges, definitions)
    elif kind == "SubStatement":
        out["object"] = _canonical_statement(obj, ranges, definitions)
    context = statement.get("context")
    if context is not None and context.get("contextActivities"):
        out["context"] = {
            **context,
            "contextActivities": {
                kind: [_canonical_activity(a, ranges, definitions) for a in _as_list(listed)]
                for kind, listed in context["contextActivities"].items()
            },
        }
    attachments = statement.get("attachments")
    if attachments:
        out["attachments"] = _canonical_attachments(attachments, ranges)
    return out


def format_canonical(
    statement: dict, languages: list[str], definitions: dict[str, dict] | None = None
) -> dict:
    """The ``canonical`` format: one language per language map (§2.1.3.s4).

    ``languages``: preferred language ranges, best first (``parse_accept_language``).
    ``definitions``: the LRS's canonical Activity Definitions by Activity id; an Activity
    whose id is there is served with that definition instead of its own ("return Activity
    Objects ... populated with the canonical definition ... as determined by the LRS"),
    then filtered. Without it, or for ids not in it, the statement's own definition is
    filtered.

    Reduced to one entry (see ``_choose_language`` for the choice): the Verb's
    ``display``, each Activity Definition's ``name`` and ``description`` and the
    ``description`` of each interaction component (``choices``, ``scale``, ``source``,
    ``target``, ``steps``), and attachments' ``display`` and ``description``, in the
    statement and in a SubStatement. Agents and Groups are served "as in exact mode".
    Language maps inside extensions are left alone (their shape is the extension's own).
    """
    ranges = [language_range.lower() for language_range in languages]
    return _canonical_statement(statement, ranges, definitions)


# -- version of the reader -----------------------------------------------------------------


def _without_v2_context(container: dict) -> dict | None:
    """``container`` without 2.0 context properties; None when it has none."""
    context = container.get("context")
    if context is None or not any(key in context for key in _V2_CONTEXT_PROPERTIES):
        return None
    out = dict(container)
    reduced = {k: v for k, v in context.items() if k not in _V2_CONTEXT_PROPERTIES}
    if reduced:
        out["context"] = reduced
    else:  # an empty context: "SHOULD NOT include properties with ... an empty object"
        del out["context"]
    return out


def _rfc3339(timestamp: Any) -> Any:
    """A 1.0.x timestamp in RFC 3339 notation: the same instant, the same offset.

    ``,`` as the decimal sign becomes ``.`` and an offset of hours alone (``+01``) gains
    its minutes (``+01:00``); anything else is returned as it is.
    """
    if type(timestamp) is not str:
        return timestamp
    match = _ISO_ONLY_TIMESTAMP(timestamp)
    if match is None:
        return timestamp
    head, point, comma, offset = match.groups()
    hours_only = len(offset) == 3
    if comma is None and not hours_only:
        return timestamp
    digits = comma if comma is not None else point
    fraction = "" if digits is None else f".{digits}"
    return f"{head}{fraction}{offset}:00" if hours_only else f"{head}{fraction}{offset}"


def _with_rfc3339_timestamp(container: dict) -> dict | None:
    """``container`` with its timestamp in RFC 3339 notation; None when it is already."""
    timestamp = container.get("timestamp")
    written = _rfc3339(timestamp)
    if written is timestamp:
        return None
    return {**container, "timestamp": written}


def for_reader(statement: dict, *, v2: bool) -> dict:
    """What a reader of the given version is served of a stored statement.

    A 1.0.x reader "must not receive 2.0-only properties it cannot parse" (ARCHITECTURE.md
    §8); a 1.0.3 reader rejects unknown properties (Data §2.2.s4.b1.b7). The 2.0-only
    statement properties are:

    - ``context.contextAgents``
    - ``context.contextGroups``

    both removed, in the statement and in a SubStatement; a context left empty is removed
    too. Timestamps of statements stored under 2.0 are RFC 3339 in UTC already, which is
    ISO 8601 as 1.0.3 readers parse it.

    A 2.0 reader parses timestamps as RFC 3339 (ARCHITECTURE.md §8). A statement stored
    under 1.0.x keeps its timestamp as sent, and two ISO 8601 notations 1.0.x accepts are
    not RFC 3339: ``,`` as the decimal sign and an offset of hours alone. A 2.0 reader is
    served those in RFC 3339 notation (``.``, ``±hh:mm``): the same instant and offset, so
    the statement is equivalent to the stored one (Data §2.3.1 compares timestamps as
    instants), and it validates as the 2.0 statement a 2.0 client may send on. The
    statement's and a SubStatement's ``timestamp`` are rewritten; ``stored`` is the LRS's
    own and always RFC 3339 in UTC.

    Returns the input itself, not a copy, when nothing changes (most reads). Idempotent.
    """
    rewrite = _with_rfc3339_timestamp if v2 else _without_v2_context
    out = rewrite(statement)
    obj = statement["object"]
    if obj.get("objectType") == "SubStatement":
        sub = rewrite(obj)
        if sub is not None:
            if out is None:
                out = dict(statement)
            out["object"] = sub
    return statement if out is None else out


def _as_list(value: Any) -> list:
    """A context Activities value as a list (validation already makes it one)."""
    return [value] if type(value) is dict else value
