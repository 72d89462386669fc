"""Statement comparison (Data §2.3.1 "Statement Comparison Requirements").

A re-sent statement id is a no-op when the two statements are equivalent and a ``409``
when they are not (Communication §2.1.1, §2.1.2). The registry (``statement_ids``) keeps
``fingerprint(statement)``; a re-send is settled by comparing fingerprints.

Equivalence is defined through one canonical value, ``equivalence_form``: two statements
are equivalent exactly when their forms serialise to the same bytes. The rules follow the
two comparison requirements: differences "which could have been caused by exceptions to
Statement immutability MUST be ignored", and differences "relating to a different
serialization of any properties not listed as exceptions MUST not be ignored".

Ignored (the exceptions of §2.3.1):

- ``id``, ``stored``, ``authority``, ``version`` and ``timestamp`` of the statement:
  "Potential or required assignments of properties during LRS processing" (§2.3.1.b1).
  ``timestamp`` is dropped whole, not only when absent. The LRS fills a missing timestamp
  with the stored time (§2.4.7) and serves a client's timestamp unchanged, so a served
  statement alone does not tell whose its timestamp is: it must equal both a re-send
  carrying that timestamp and a re-send omitting it. Equivalence is transitive (and a
  fingerprint can express nothing else), so "omitted" would equal every timestamp and any
  two timestamps each other. Dropping it is within the rules: the second requirement
  protects only properties *not* listed as exceptions, and ``timestamp`` is listed.
  Consequence: two sends of one id that differ only in their timestamps are the same
  statement, and the first one stored stands. ``id`` is dropped
  because the registry compares statements under the same id; a caller comparing
  statements whose ids may differ (the signature check) compares the ids itself.
  Because every LRS-set property is dropped, the fingerprint is the same whether computed
  from the statement as received, as stored, or as served and sent back.
- Activity Definitions, wherever an Activity appears (Object, context Activities, and in a
  SubStatement): "not considered part of the Statement itself" (§2.3.1.b2).
- The Verb's ``display`` (§2.3.1.b3).
- Timestamp serialisation (§2.3.1.b4): a SubStatement's ``timestamp`` (kept: the LRS
  never sets it) is compared as an instant in UTC, to the millisecond, since an LRS "MAY
  be truncated or rounded to a precision of at least 3 decimal digits" (§4.5.s1.b7).
- The order of a Group's ``member`` list, "not considered to be an ordered list"
  (§2.3.1.b5): members are sorted. Duplicates are kept (an unordered list, not a set).
- Attachments (§2.3.1.b6): the attachment *data* is not part of the statement. The
  ``attachments`` property (usage, display, type, length, hash, URL) is, and is compared.
- Case of case-insensitive values (§2.3.1.b7): the ``mbox`` domain and ``mailto`` scheme
  and the ``mbox_sha1sum`` hex digits (as in ``ifi``); UUIDs (``context.registration``,
  StatementRef ids; RFC 4122 §3); language tags, as language-map keys and as
  ``context.language`` (RFC 5646 §2.1.1); attachment ``sha2`` (hex); the type/subtype of
  an attachment ``contentType`` (RFC 2045 §5.1). IRIs are compared as sent (simple string
  comparison, Data §3.1.s2.b1).

Not ignored: everything else. ``result.duration`` is "considered a string" (§2.3.1.b8):
``PT1M`` and ``PT60S`` differ. Only "precision beyond 0.01 second" is left out
(§4.6.s1.b5): the seconds fraction is truncated to two digits, as the LRS may truncate it
(§4.6.s1.b4).

Not differences at all, because the two spellings are the same JSON value or the same
statement by the spec's own definition: the order of an object's keys (§2.2.s2.b4, keys
are sorted when serialised); ``1`` and ``1.0`` (integral numbers become integers);
an omitted ``objectType`` and its default (``Agent`` for Actors, members, Instructors and
Context Agents; ``Activity`` for Objects and context Activities, §2.4.2.1, §2.4.4.s2); a
context Activity given as one object rather than an array of one (§2.4.6.2.s4.b4).

Precondition: validated statements. Unknown properties are compared exactly (their numbers
normalised as above), so the functions are total on any JSON object.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from statements.xapi.ifi import mbox_key
from statements.xapi.serialize import json_bytes

__all__ = ["equivalence_form", "equivalent", "fingerprint"]

# Set by the LRS (Data §2.3.1.b1); a SubStatement never carries them (§2.4.4.3.s8.b3)
# except ``timestamp``, which a SubStatement keeps.
_LRS_ASSIGNED = frozenset({"id", "stored", "authority", "version", "timestamp"})
_INT_RANGE = 2**63


def _number(value: float) -> float | int:
    if value.is_integer() and -_INT_RANGE < value < _INT_RANGE:
        return int(value)
    return value


def _json(value: Any) -> Any:
    """Any JSON value, with integral floats as integers (``1.0`` and ``1`` are one number).

    Iterative: extension values may nest deeper than Python recursion goes (Data
    §4.1.s3.b2), and a new container replaces every one of the input, which is not changed.
    """
    kind = type(value)
    if kind is float:
        return _number(value)
    if kind is not dict and kind is not list:
        return value
    root = dict(value) if kind is dict else list(value)
    stack = [root]
    while stack:
        node = stack.pop()
        for key, child in node.items() if type(node) is dict else enumerate(node):
            child_kind = type(child)
            if child_kind is float:
                node[key] = _number(child)
            elif child_kind is dict or child_kind is list:
                copied = dict(child) if child_kind is dict else list(child)
                node[key] = copied
                stack.append(copied)
    return root


def _dump(value: object) -> bytes:
    # Not orjson.dumps itself: extension values may nest deeper than it writes.
    return json_bytes(value, sort_keys=True)


def _language_map(value: Any) -> Any:
    if type(value) is not dict:
        return _json(value)
    out: dict[str, object] = {}
    for tag, text in value.items():
        key = tag.lower() if type(tag) is str else tag
        if key in out:  # "en-US" and "en-us" both sent: keep both texts, in a fixed order
            previous = out[key]
            texts = previous if type(previous) is list else [previous]
            out[key] = sorted([*texts, text], key=_dump)
        else:
            out[key] = text
    return out


def _instant(value: Any) -> Any:
    """A timestamp as a UTC instant to the millisecond; other values unchanged.

    ``t``/``z`` may be lowercase (RFC 3339 §5.6); a leap second (``:60``) is the instant
    after ``:59``, as POSIX time counts it. Every four-digit year is covered, 0000 and
    instants that an offset or a leap second moves past 9999-12-31 included.
    """
    if type(value) is not str:
        return value
    text = value.upper()
    leap = text[16:19] == ":60"
    if leap:
        text = text[:17] + "59" + text[19:]
    # ``datetime`` spans years 1-9999 only. The Gregorian calendar repeats every 400 years,
    # so a year at either end is computed 400 years inward and written back.
    year = text[:4]
    shift = 400 if year in ("0000", "0001") else -400 if year == "9999" else 0
    if shift:
        text = f"{int(year) + shift:04d}{text[4:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value
    if leap:
        moment += timedelta(seconds=1)
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if moment.tzinfo is None:  # no zone given (Data §4.5.s1.b4 only SHOULDs one in 1.0.3)
        out = moment.isoformat(timespec="milliseconds")
    else:
        out = moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"{int(out[:4]) - shift:04d}{out[4:]}" if shift else out


def _duration(value: Any) -> Any:
    """Seconds fraction truncated to two digits: ``PT1.239S`` -> ``PT1.23S``."""
    if type(value) is not str or not value.endswith("S"):
        return value
    mark = max(value.rfind("."), value.rfind(","))
    if mark < 0 or len(value) - mark <= 4 or not value[mark + 1 : -1].isdigit():
        return value
    return value[: mark + 3] + "S"


def _lower(value: Any) -> Any:
    return value.lower() if type(value) is str else value


def _content_type(value: Any) -> Any:
    if type(value) is not str:
        return value
    media, sep, parameters = value.partition(";")
    return media.strip().lower() + sep + parameters


def _agent(actor: dict) -> dict:
    """An Agent or Group: IFI case rules, members sorted, objectType defaulted."""
    out: dict[str, object] = {}
    for key, value in actor.items():
        if key == "mbox" and type(value) is str:
            out[key] = mbox_key(value)
        elif key == "mbox_sha1sum":
            out[key] = _lower(value)
        elif key == "member" and type(value) is list:
            members = [_agent(m) if type(m) is dict else _json(m) for m in value]
            out[key] = sorted(members, key=_dump)
        else:
            out[key] = _json(value)
    out.setdefault("objectType", "Agent")
    return out


def _activity(activity: dict) -> dict:
    out = {k: _json(v) for k, v in activity.items() if k != "definition"}
    out.setdefault("objectType", "Activity")
    return out


def _statement_ref(ref: Any) -> Any:
    if type(ref) is not dict:
        return _json(ref)
    out = {k: _json(v) for k, v in ref.items()}
    if "id" in ref:
        out["id"] = _lower(ref["id"])
    return out


def _object(obj: dict) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _activity(obj)
    if kind == "Agent" or kind == "Group":
        return _agent(obj)
    if kind == "StatementRef":
        return _statement_ref(obj)
    if kind == "SubStatement":
        return _statement(obj, _SUBSTATEMENT_SKIP)
    return _json(obj)


def _context_activities(value: Any) -> Any:
    if type(value) is not dict:
        return _json(value)
    out = {}
    for kind, listed in value.items():
        if type(listed) is dict:
            listed = [listed]
        if type(listed) is list:
            out[kind] = [_activity(a) if type(a) is dict else _json(a) for a in listed]
        else:
            out[kind] = _json(listed)
    return out


def _context_members(value: Any, role: str) -> Any:
    """2.0 ``contextAgents`` (role ``agent``) or ``contextGroups`` (role ``group``)."""
    if type(value) is not list:
        return _json(value)
    out = []
    for entry in value:
        if type(entry) is dict and type(entry.get(role)) is dict:
            normalised = {k: _json(v) for k, v in entry.items()}
            normalised[role] = _agent(entry[role])
            out.append(normalised)
        else:
            out.append(_json(entry))
    return out


def _context(context: dict) -> dict:
    out: dict[str, object] = {}
    for key, value in context.items():
        if key == "registration" or key == "language":
            out[key] = _lower(value)
        elif (key == "instructor" or key == "team") and type(value) is dict:
            out[key] = _agent(value)
        elif key == "contextActivities":
            out[key] = _context_activities(value)
        elif key == "statement":
            out[key] = _statement_ref(value)
        elif key == "contextAgents":
            out[key] = _context_members(value, "agent")
        elif key == "contextGroups":
            out[key] = _context_members(value, "group")
        else:
            out[key] = _json(value)
    return out


def _result(result: dict) -> dict:
    out = _json(result)
    if "duration" in result:
        out["duration"] = _duration(result["duration"])
    return out


def _attachment(attachment: dict) -> dict:
    out: dict[str, object] = {}
    for key, value in attachment.items():
        if key == "display" or key == "description":
            out[key] = _language_map(value)
        elif key == "sha2":
            out[key] = _lower(value)
        elif key == "contentType":
            out[key] = _content_type(value)
        else:
            out[key] = _json(value)
    return out


def _attachments(value: Any) -> Any:
    if type(value) is not list:
        return _json(value)
    return [_attachment(a) if type(a) is dict else _json(a) for a in value]


def _verb(verb: dict) -> dict:
    return {k: _json(v) for k, v in verb.items() if k != "display"}


_SUBSTATEMENT_SKIP: frozenset[str] = frozenset()


def _statement(statement: dict, skip: frozenset[str]) -> dict:
    out: dict[str, object] = {}
    for key, value in statement.items():
        if key in skip:
            continue
        if type(value) is not dict:
            if key == "attachments":
                out[key] = _attachments(value)
            elif key == "timestamp":
                out[key] = _instant(value)
            else:
                out[key] = _json(value)
        elif key == "actor":
            out[key] = _agent(value)
        elif key == "verb":
            out[key] = _verb(value)
        elif key == "object":
            out[key] = _object(value)
        elif key == "context":
            out[key] = _context(value)
        elif key == "result":
            out[key] = _result(value)
        else:
            out[key] = _json(value)
    return out


def equivalence_form(statement: dict) -> object:
    """The canonical value two equivalent statements share (see the module docstring).

    JSON-able; serialise with sorted keys (``fingerprint`` does). Never mutates its input.
    """
    return _statement(statement, _LRS_ASSIGNED)


def fingerprint(statement: dict) -> bytes:
    """SHA-256 of the equivalence form serialised by orjson with sorted keys (32 bytes)."""
    return hashlib.sha256(_dump(equivalence_form(statement))).digest()


def equivalent(a: dict, b: dict) -> bool:
    """Whether ``b`` re-sent under ``a``'s id is the same statement (no-op, not ``409``).

    Exactly ``fingerprint(a) == fingerprint(b)``: both compare the serialised forms.
    """
    return _dump(equivalence_form(a)) == _dump(equivalence_form(b))
