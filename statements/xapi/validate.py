"""Statement validation against the xAPI Data section (1.0.3, and the 2.0 deltas).

Public API:

- ``validate_statement(doc, *, v2, path="") -> dict``: one Statement.
- ``validate_statements(body, *, v2) -> list[dict]``: a POST body, one Statement or an array.
- ``validate_agent(doc, *, v2, path="") -> dict``: an Agent or identified Group given as a
  query parameter.

Every function is pure: it never mutates its input and returns a new, deep-copied document.
Every broken rule raises ``StatementError(message, path)`` and nothing else, whatever JSON
value is passed in. The only normalisations (everything else is returned as sent, in the
order sent):

- a ``context.contextActivities`` value given as a single Activity becomes a one-element
  array (Data §2.4.6.2, also inside a SubStatement);
- under 2.0, ``timestamp`` and ``stored`` (a SubStatement's ``timestamp`` too) are written
  in UTC as ``YYYY-MM-DDThh:mm:ss[.fff]Z``: a non-zero offset is converted, ``+00:00``
  becomes ``Z`` and a lowercase ``t``/``z`` uppercase; the fractional seconds are kept
  exactly as sent. A value already in that form is returned unchanged. Under 1.0.x both
  keep the string as sent.

Readings of the specification this module rests on (where the text leaves a choice):

- Unknown properties are rejected at every level, in both versions (Data §2.2.s4.b8 is a
  SHOULD* in 1.0.3, SHALL in 2.0). ``contextAgents``/``contextGroups`` are 2.0-only, so
  under 1.0.x they are unknown properties.
- Empty objects (``{}``) are accepted where nothing inside is required: Data §2.2.s2.b1 is a
  plain SHOULD NOT addressed to the sender. A Language Map is the exception: it pairs "a
  language tag" with "a string" (Data §4.2), so an empty one is no Language Map and is
  rejected. ``null`` is rejected everywhere except inside extension values (Data
  §2.2.s4.b1.b1).
- ``version``: under 1.0.x it must be ``1.0`` or ``1.0.<patch>`` ("formatted as laid out
  for the API version header", Data §2.4.10.s2.b1, which takes ``1.0`` as ``1.0.0``,
  Communication §3.3.s3.b3; the patch must be digits). Under 2.0 ``2.0`` or
  ``2.0.<patch>``, and the 1.0 forms too: a 2.0 LRS serves 1.0.x statements and keeps the
  version a statement was accepted with, so one forwarded by a 2.0 client is accepted when
  it validates under 2.0's rules. A 2.0 version on a 1.0.x request is rejected.
- Timestamps need a time zone in both versions (Data §4.5 SHOULD*, SHALL in 2.0). 1.0.x
  takes the ISO 8601 extended format ``YYYY-MM-DDThh:mm:ss[.fff]`` with ``Z``, ``±hh:mm``
  or ``±hh`` (``,`` also allowed as the decimal sign); a zero offset is written ``+`` in
  ISO 8601, so ``-00`` and ``-00:00`` are rejected. 2.0 takes RFC 3339 ``date-time`` only
  (``Z`` or ``±hh:mm``, ``.`` as the decimal sign; a space instead of ``T``, which RFC 3339
  §5.6 permits, becomes ``T`` once converted to UTC) and rejects ``-00:00`` (the
  unknown-offset convention cannot be converted to UTC). ``T``/``Z`` may be lowercase (RFC
  3339 §5.6); seconds may be 60 for a leap second only, that is in the last minute of a
  month in UTC (RFC 3339 §5.7; which months had one is not checked).
- Durations follow ISO 8601:2004 §4.4.3.2 strictly (Data §4.6): ``PnYnMnDTnHnMnS`` (each
  part optional, at least one present, ``T`` only before a time part) or ``PnW`` alone; a
  decimal fraction (``.`` or ``,``) only on the last part present. The spec's example
  ``P16559.14S`` lacks the ``T`` that ISO 8601 requires before seconds and is rejected.
- IRIs and IRLs are checked against the RFC 3987 absolute-IRI grammar (scheme, optional
  authority, path, query, fragment; non-ASCII characters where RFC 3987 allows them;
  percent signs must start a ``%XX`` escape; no whitespace, ASCII or Unicode, no
  ``<>"{}|\\^``` and no controls or bidirectional formatting characters, RFC 3987 §4.1).
  An IRL gets the same check (resolvability is not checkable). ``openid`` is a URI: ASCII
  only.
- ``mbox`` is ``mailto:`` (lowercase, as the Data §2.4.2.3 format reads) followed by one
  address ``local@domain`` and nothing else (no ``?`` headers, no second address).
- Language map keys are checked against the RFC 5646 ``Language-Tag`` grammar (well-formed,
  including private-use and grandfathered tags), case-insensitively, and the rules of
  validity that need no registry: no variant and no extension singleton twice, and no
  second or third extended language subtag, positions that are permanently reserved
  (RFC 5646 §2.2.2, §2.2.5, §2.2.6, §2.2.9).
- ``context.contextAgents`` (2.0): an array of ``{"objectType": "contextAgent", "agent":
  <Agent>, "relevantTypes": [<IRI>, ...]}``; ``contextGroups`` likewise with
  ``"contextGroup"`` and ``"group": <Group>`` (anonymous or identified). ``objectType`` and
  ``agent``/``group`` are required; ``relevantTypes`` is optional (2.0 marks it optional)
  but when present must be a non-empty array of IRIs ("a collection of 1 or more").
- ``authority`` is an Agent, or an anonymous Group of exactly two member Agents (Data
  §2.4.9, 3-legged OAuth: the Group stands for the pair of application and user, and
  has no identifier of its own); only the structure is checked here.
- A Statement whose verb is ``http://adlnet.gov/expapi/verbs/voided`` must have a
  StatementRef object (Data §2.3.2); the rule is applied to SubStatements too, since a
  SubStatement is validated as a Statement (Data §2.4.4.3.s8.b2).
- ``context.revision``/``platform`` are rejected unless the object of the Statement (or of
  the SubStatement that carries the context) is an Activity (Data §2.4.6.s4).
- Interaction Activities: the component lists allowed per ``interactionType`` are those of
  Data §2.4.4.1.s15 (choice/sequencing: choices; likert: scale; matching: source, target;
  performance: steps; the rest none); interaction properties without ``interactionType``
  are rejected; component ids must be distinct within a list; response patterns are not
  parsed (Data §2.4.4.1.s12: not validated by the LRS).
- Attachments: ``length`` must be a JSON integer (``1.0`` is rejected); ``sha2`` must be
  the hex form of a SHA-224/256/384/512 digest; ``contentType`` must be a media type
  ``type/subtype[; param=value]...``; a signature attachment
  (``http://adlnet.gov/expapi/attachments/signature``) must have the media type
  ``application/octet-stream`` (Data §2.6.s4.b1). JWS checks belong to ``signature``.
- Batches (Communication §2.1.2): an empty array is rejected; a repeated ``id`` (compared
  case-insensitively, as UUIDs are) is reported at the later occurrence.
"""

from __future__ import annotations

import re
from math import isfinite
from typing import NoReturn

from statements.xapi.errors import StatementError, join_path

__all__ = ["is_iri", "validate_agent", "validate_statement", "validate_statements"]

_MISSING = object()

_VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
_SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"

# --------------------------------------------------------------------------------------------
# Formats (regular expressions compiled once; ASCII classes spelled out, because ``\d``,
# ``\w`` and case-insensitive ``[a-z]`` also match non-ASCII characters in ``str`` patterns).

_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
).fullmatch

# RFC 3987 §2.2 character classes.
_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_SUB_DELIMS = "!$&'()*+,;="
_IP_LITERAL = r"\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~" + _SUB_DELIMS + r":]+)\]"


def _iri_pattern(unreserved: str, private: str) -> re.Pattern[str]:
    """RFC 3987 ``absolute-IRI`` with ``%`` allowed wherever ``pct-encoded`` may appear;
    that every ``%`` starts a ``%XX`` escape is checked apart (``_BAD_PERCENT``), which
    keeps each part a single character class and the match fast."""
    pchar = f"{unreserved}{_SUB_DELIMS}:@%"
    return re.compile(
        r"[A-Za-z][A-Za-z0-9+.\-]*:"
        f"(?://(?:[{unreserved}{_SUB_DELIMS}:%]*@)?(?:{_IP_LITERAL}|[{unreserved}{_SUB_DELIMS}%]*)"
        f"(?::[0-9]*)?(?:/[{pchar}/]*)?|(?!//)[{pchar}/]*)"
        f"(?:\\?[{pchar}{private}/?]*)?"
        f"(?:#[{pchar}/?]*)?"
    )


_IRI_ASCII = _iri_pattern("A-Za-z0-9\\-._~", "").fullmatch
_IRI_UNICODE = _iri_pattern("A-Za-z0-9\\-._~" + _UCSCHAR, _IPRIVATE).fullmatch
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})").search
# Unicode whitespace (which ``ucschar`` admits: U+00A0, U+2028, U+3000, ...) and the
# bidirectional formatting characters RFC 3987 §4.1 forbids in IRIs.
_NOT_IN_IRI = re.compile("[\\s\u200e\u200f\u202a-\u202e]").search


def _is_iri(value: str) -> bool:
    if value.isascii():
        match = _IRI_ASCII(value)
    else:
        match = _IRI_UNICODE(value)
        if match is not None and _NOT_IN_IRI(value) is not None:
            return False
    return match is not None and ("%" not in value or _BAD_PERCENT(value) is None)


# ``mailto:`` with exactly one address: RFC 6068 ``addr-spec`` with the characters an IRI
# allows unescaped.
_MAIL_ATOM = f"(?:[A-Za-z0-9\\-_~!$&'*+={_UCSCHAR}]|%[0-9A-Fa-f]{{2}})+"
_MAIL_LABEL = f"(?:[A-Za-z0-9\\-_{_UCSCHAR}]|%[0-9A-Fa-f]{{2}})+"
_MBOX = re.compile(
    f"mailto:{_MAIL_ATOM}(?:\\.{_MAIL_ATOM})*@"
    f"(?:{_MAIL_LABEL}(?:\\.{_MAIL_LABEL})*|\\[[0-9A-Fa-f:.]+\\])"
).fullmatch

_SHA1_HEX = re.compile(r"[0-9A-Fa-f]{40}").fullmatch
_SHA2_HEX = re.compile(r"[0-9A-Fa-f]{56}(?:[0-9A-Fa-f]{8}(?:[0-9A-Fa-f]{32}){0,2})?").fullmatch

# RFC 5646 §2.1 Language-Tag.
_LANGTAG = re.compile(
    r"(?:"
    # language, and one extlang at most: the ABNF admits three, but the second and third
    # positions are permanently reserved, so a tag using them is never valid (§2.2.2).
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3})?|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"  # private use
    r"|[xX](?:-[A-Za-z0-9]{1,8})+"  # private use tag
    r"|(?i:en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo"
    r"|i-navajo|i-pwn|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE"  # irregular
    r"|zh-min-nan)"  # the one regular grandfathered tag with two extlangs
    r")",
    re.ASCII,
).fullmatch

# ISO 8601:2004 §4.4.3.2 durations; the fraction rule is checked after the match.
_DUR_NUM = "[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    f"P(?:{_DUR_NUM}W|(?=[0-9T])(?:{_DUR_NUM}Y)?(?:{_DUR_NUM}M)?(?:{_DUR_NUM}D)?"
    f"(?:T(?=[0-9])(?:{_DUR_NUM}H)?(?:{_DUR_NUM}M)?(?:{_DUR_NUM}S)?)?)"
).fullmatch
_DURATION_LAST_FRACTION = re.compile(r"[.,][0-9]+[YMWDHS]").fullmatch

_TIMESTAMP_V1 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})([.,][0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2})(?::([0-9]{2}))?)"
).fullmatch
_TIMESTAMP_V2 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
).fullmatch
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_VERSION_V1 = re.compile(r"1\.0(?:\.[0-9]+)?").fullmatch
_VERSION_V2 = re.compile(r"[12]\.0(?:\.[0-9]+)?").fullmatch

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+"
_MEDIA_TYPE = re.compile(
    f"{_TCHARS}/{_TCHARS}"
    f'(?:[ \\t]*;[ \\t]*{_TCHARS}=(?:{_TCHARS}|"(?:[^"\\\\\\x00-\\x08\\x0a-\\x1f\\x7f]|\\\\.)*"))*'
).fullmatch

# --------------------------------------------------------------------------------------------
# Property sets.

_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset(("objectType", "name", *_IFI_KEYS))
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACCOUNT_KEYS = frozenset(("homePage", "name"))
_VERB_KEYS = frozenset(("id", "display"))
_ACTIVITY_KEYS = frozenset(("objectType", "id", "definition"))
_STATEMENT_REF_KEYS = frozenset(("objectType", "id"))
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_INTERACTION_KEYS = frozenset(("correctResponsesPattern", *_COMPONENT_LISTS))
_DEFINITION_KEYS = (
    frozenset(("name", "description", "type", "moreInfo", "extensions", "interactionType"))
    | _INTERACTION_KEYS
)
_LISTS_FOR_INTERACTION = {
    "true-false": frozenset(),
    "choice": frozenset(("choices",)),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset(("source", "target")),
    "performance": frozenset(("steps",)),
    "sequencing": frozenset(("choices",)),
    "likert": frozenset(("scale",)),
    "numeric": frozenset(),
    "other": frozenset(),
}
_COMPONENT_KEYS = frozenset(("id", "description"))
_RESULT_KEYS = frozenset(("score", "success", "completion", "response", "duration", "extensions"))
_SCORE_KEYS = frozenset(("scaled", "raw", "min", "max"))
_CONTEXT_KEYS_V1 = frozenset(
    (
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    )
)
_CONTEXT_ONLY_V2 = frozenset(("contextAgents", "contextGroups"))
_CONTEXT_KEYS_V2 = _CONTEXT_KEYS_V1 | _CONTEXT_ONLY_V2
_CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")
_CONTEXT_ACTIVITIES_KEYS = frozenset(_CONTEXT_ACTIVITY_KEYS)
_CONTEXT_AGENT_KEYS = frozenset(("objectType", "agent", "relevantTypes"))
_CONTEXT_GROUP_KEYS = frozenset(("objectType", "group", "relevantTypes"))
_ATTACHMENT_KEYS = frozenset(
    ("usageType", "display", "description", "contentType", "length", "sha2", "fileUrl")
)
_STATEMENT_KEYS = frozenset(
    (
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    )
)
_SUBSTATEMENT_KEYS = frozenset(
    ("objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments")
)
_NOT_IN_SUBSTATEMENT = frozenset(("id", "stored", "version", "authority"))

# --------------------------------------------------------------------------------------------
# Memo of strings already found well-formed. IRIs, extension keys and language tags repeat
# across statements (verbs, activity types, profile IRIs), and matching is the bulk of the
# cost. Bounded in entries and in the length of what is kept.

_MEMO_MAX_ENTRIES = 8192
_MEMO_MAX_LENGTH = 512
_IRI_OK: set[str] = set()
_LANG_OK: set[str] = set()


def _remember(memo: set[str], value: str) -> None:
    if len(value) <= _MEMO_MAX_LENGTH:
        if len(memo) >= _MEMO_MAX_ENTRIES:
            memo.clear()
        memo.add(value)


# --------------------------------------------------------------------------------------------
# Errors.


def _j(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(key: object) -> str:
    text = key if type(key) is str else repr(key)
    return text if len(text) <= 40 else text[:40] + "..."


def _fail(message: str, path: str) -> NoReturn:
    raise StatementError(message, path)


def _wrong_type(value: object, expected: str, path: str) -> NoReturn:
    if value is None:
        raise StatementError("must not be null", path)
    raise StatementError(f"must be {expected}", path)


def _unknown(doc: dict, allowed: frozenset, path: str, what: str) -> NoReturn:
    for key in doc:
        if key not in allowed:
            raise StatementError(f"is not a property of {what}", join_path(path, _short(key)))
    raise StatementError(f"has a property not allowed in {what}", path)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Scalars.


def _string(doc: dict, key: str, path: str) -> None:
    value = doc[key]
    if type(value) is not str:
        _wrong_type(value, "a string", _j(path, key))


def _boolean(doc: dict, key: str, path: str) -> None:
    value = doc[key]
    if type(value) is not bool:
        _wrong_type(value, "a boolean", _j(path, key))


def _number(value: object, path: str) -> float:
    kind = type(value)
    if kind is int:
        return value  # type: ignore[return-value]
    if kind is float:
        if isfinite(value):  # type: ignore[arg-type]
            return value  # type: ignore[return-value]
        _fail("must be a finite number", path)
    _wrong_type(value, "a number", path)


def _iri(value: object, path: str) -> None:
    """Data §3.1, §2.2.s4.b1.b8: an absolute IRI (RFC 3987)."""
    if type(value) is not str:
        _wrong_type(value, "an IRI string", path)
    if value in _IRI_OK:
        return
    if not _is_iri(value):
        _fail("must be an absolute IRI", path)
    _remember(_IRI_OK, value)


def _uuid(value: object, path: str) -> None:
    """Data §4.4: a UUID in standard string form."""
    if type(value) is not str:
        _wrong_type(value, "a UUID string", path)
    if _UUID(value) is None:
        _fail("must be a UUID in standard string form", path)


def _language_tag(value: str, path: str) -> None:
    if value in _LANG_OK:
        return
    if _LANGTAG(value) is None:
        _fail("must be an RFC 5646 language tag", path)
    if "-" in value and _repeats_a_subtag(value):
        _fail("must be a valid RFC 5646 language tag: a variant or extension repeats", path)
    _remember(_LANG_OK, value)


def _repeats_a_subtag(tag: str) -> bool:
    """RFC 5646 §2.2.9: a valid tag has no duplicate variant (§2.2.5) and no duplicate
    extension singleton (§2.2.6). Private use (after ``x``) is free text and not looked at;
    ``tag`` is well-formed already."""
    subtags = tag.lower().split("-")
    if subtags[0] == "x":
        return False
    seen_variants: set[str] = set()
    seen_singletons: set[str] = set()
    in_extension = False
    for subtag in subtags[1:]:
        if len(subtag) == 1:
            if subtag == "x":
                return False
            if subtag in seen_singletons:
                return True
            seen_singletons.add(subtag)
            in_extension = True
        elif not in_extension and (len(subtag) >= 5 or (len(subtag) == 4 and subtag[0].isdigit())):
            if subtag in seen_variants:
                return True
            seen_variants.add(subtag)
    return False


def _language_map(value: object, path: str) -> dict:
    """Data §4.2: RFC 5646 tags to strings, at least one pair."""
    if type(value) is not dict:
        _wrong_type(value, "a language map (object)", path)
    if not value:
        _fail("must hold at least one language tag and its string", path)
    for tag, text in value.items():
        if type(tag) is not str:
            _fail("language map keys must be strings", path)
        if tag not in _LANG_OK:
            _language_tag(tag, join_path(path, _short(tag)))
        if type(text) is not str:
            _wrong_type(text, "a string", join_path(path, _short(tag)))
    return dict(value)


def _copy_json(value: object) -> object:
    """A deep copy of a JSON value, iterative so that nesting depth is no limit."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return value
    root = dict(value) if kind is dict else list(value)  # type: ignore[call-overload]
    stack = [root]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, child in items:
            child_kind = type(child)
            if child_kind is dict:
                copied: dict | list = dict(child)
            elif child_kind is list:
                copied = list(child)
            else:
                continue
            node[key] = copied
            stack.append(copied)
    return root


def _extensions(value: object, path: str) -> dict:
    """Data §4.1: keys are IRIs; values are any JSON and never a reason to reject."""
    if type(value) is not dict:
        _wrong_type(value, "an extensions object", path)
    out = {}
    for key, item in value.items():
        if key not in _IRI_OK:
            if type(key) is not str:
                _fail("extension keys must be IRIs", path)
            _iri(key, join_path(path, _short(key)))
        kind = type(item)
        out[key] = _copy_json(item) if kind is dict or kind is list else item
    return out


def _duration(value: object, path: str) -> None:
    """Data §4.6: ISO 8601:2004 §4.4.3.2 duration."""
    if type(value) is not str:
        _wrong_type(value, "an ISO 8601 duration string", path)
    if _DURATION(value) is None:
        _fail("must be an ISO 8601 duration (PnYnMnDTnHnMnS or PnW)", path)
    if "." in value or "," in value:
        # Only the lowest-order component present may carry a decimal fraction.
        start = max(value.find("."), value.find(","))
        several = value.count(".") + value.count(",") > 1
        if several or _DURATION_LAST_FRACTION(value, start) is None:
            _fail("only the last component of a duration may have a fraction", path)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month]


def _timestamp(value: object, path: str, v2: bool) -> str:
    """Data §4.5 (1.0.3: ISO 8601 with a time zone) and 2.0 (RFC 3339, converted to UTC)."""
    if type(value) is not str:
        _wrong_type(value, "a timestamp string", path)
    match = (_TIMESTAMP_V2 if v2 else _TIMESTAMP_V1)(value)
    if match is None:
        if v2:
            _fail("must be an RFC 3339 date-time with a time zone", path)
        _fail("must be an ISO 8601 date-time with a time zone", path)
    year_s, month_s, day_s, hour_s, minute_s, second_s, fraction, sign, off_h, off_m = (
        match.groups()
    )
    year = int(year_s)
    month = int(month_s)
    day = int(day_s)
    hour = int(hour_s)
    minute = int(minute_s)
    if not 1 <= month <= 12:
        _fail("has an invalid month", path)
    if day < 1 or (day > 28 and day > _days_in_month(year, month)):
        _fail("has an invalid day of the month", path)
    if hour > 23 or minute > 59 or int(second_s) > 60:
        _fail("has an invalid time of day", path)
    offset = 0
    if sign is not None:
        offset_minutes = int(off_m) if off_m is not None else 0
        if int(off_h) > 23 or offset_minutes > 59:
            _fail("has an invalid time zone offset", path)
        offset = int(off_h) * 60 + offset_minutes
        if sign == "-":
            offset = -offset
            if offset == 0:
                # RFC 3339 §4.3: -00:00 means "offset unknown", which cannot be converted
                # to UTC (2.0); ISO 8601 writes a zero offset with "+" (1.0.x).
                _fail("must not have a negative zero offset (-00:00)", path)
    if second_s == "60":
        # RFC 3339 §5.7, ISO 8601:2004 §4.2.1: second 60 is a leap second, which is the last
        # second of a month in UTC (23:59:60Z on its last day), shifted by the offset. At
        # any other minute ":60" names no instant.
        utc_minute = hour * 60 + minute - offset
        if not (
            (utc_minute == 1439 and day == _days_in_month(year, month))
            or (utc_minute == -1 and day == 1)
        ):
            _fail("has a leap second (:60) outside the last minute of a month in UTC", path)
    if not v2:
        return value
    if sign is None and value[10] == "T" and value[-1] == "Z":
        return value  # the common form, kept as it is
    fraction = fraction or ""
    if offset == 0:
        return f"{value[:10]}T{value[11:19]}{fraction}Z"
    # An offset is less than a day, so UTC is at most one calendar day away. Seconds (and a
    # leap second 60) are untouched by whole-minute offsets.
    minutes = hour * 60 + minute - offset
    if minutes < 0:
        minutes += 1440
        day -= 1
        if day == 0:
            month -= 1
            if month == 0:
                month = 12
                year -= 1
            day = _days_in_month(year, month)
    elif minutes >= 1440:
        minutes -= 1440
        day += 1
        if day > _days_in_month(year, month):
            day = 1
            month += 1
            if month == 13:
                month = 1
                year += 1
    if not 0 <= year <= 9999:
        _fail("is out of range once converted to UTC", path)
    return (
        f"{year:04d}-{month:02d}-{day:02d}T{minutes // 60:02d}:{minutes % 60:02d}:"
        f"{second_s}{fraction}Z"
    )


# --------------------------------------------------------------------------------------------
# Agents and Groups (Data §2.4.2).


def _ifis(doc: dict, out: dict, path: str) -> int:
    """Validates the Inverse Functional Identifiers present (Data §2.4.2.3); returns how many."""
    count = 0
    value = doc.get("mbox", _MISSING)
    if value is not _MISSING:
        count += 1
        if type(value) is not str:
            _wrong_type(value, 'a "mailto:" IRI', _j(path, "mbox"))
        if _MBOX(value) is None or (not value.isascii() and _NOT_IN_IRI(value) is not None):
            _fail('must be a "mailto:" IRI with one email address', _j(path, "mbox"))
    value = doc.get("mbox_sha1sum", _MISSING)
    if value is not _MISSING:
        count += 1
        if type(value) is not str:
            _wrong_type(value, "a string", _j(path, "mbox_sha1sum"))
        if _SHA1_HEX(value) is None:
            _fail("must be a hex-encoded SHA-1 hash (40 hex digits)", _j(path, "mbox_sha1sum"))
    value = doc.get("openid", _MISSING)
    if value is not _MISSING:
        count += 1
        _iri(value, _j(path, "openid"))
        if not value.isascii():  # type: ignore[union-attr]
            _fail("must be a URI (ASCII characters only)", _j(path, "openid"))
    value = doc.get("account", _MISSING)
    if value is not _MISSING:
        count += 1
        out["account"] = _account(value, _j(path, "account"))
    if count > 1:
        _fail("must have exactly one inverse functional identifier, not several", path)
    return count


def _account(value: object, path: str) -> dict:
    """Data §2.4.2.4: homePage (IRL) and name (string), both required."""
    if type(value) is not dict:
        _wrong_type(value, "an account object", path)
    if not value.keys() <= _ACCOUNT_KEYS:
        _unknown(value, _ACCOUNT_KEYS, path, "an account")
    if "homePage" not in value:
        _fail("is required", _j(path, "homePage"))
    _iri(value["homePage"], _j(path, "homePage"))
    if "name" not in value:
        _fail("is required", _j(path, "name"))
    _string(value, "name", path)
    return dict(value)


def _agent_body(doc: dict, path: str) -> dict:
    """An Agent (``objectType`` already known to be absent or ``Agent``)."""
    if not doc.keys() <= _AGENT_KEYS:
        if "member" in doc:
            _fail('is only allowed in a Group (objectType "Group")', _j(path, "member"))
        _unknown(doc, _AGENT_KEYS, path, "an Agent")
    out = dict(doc)
    if _ifis(doc, out, path) == 0:
        _fail(
            "an Agent must have exactly one inverse functional identifier "
            "(mbox, mbox_sha1sum, openid or account)",
            path,
        )
    if "name" in doc:
        _string(doc, "name", path)
    return out


def _group_body(doc: dict, path: str, *, identified: bool = False) -> dict:
    """A Group (``objectType`` already known to be ``Group``), Data §2.4.2.2."""
    if not doc.keys() <= _GROUP_KEYS:
        _unknown(doc, _GROUP_KEYS, path, "a Group")
    out = dict(doc)
    ifi_count = _ifis(doc, out, path)
    if ifi_count == 0 and identified:
        _fail("must be an identified Group (exactly one inverse functional identifier)", path)
    if "name" in doc:
        _string(doc, "name", path)
    members = doc.get("member", _MISSING)
    member_path = _j(path, "member")
    if members is _MISSING:
        if ifi_count == 0:
            _fail("is required in an anonymous Group", member_path)
        return out
    if type(members) is not list:
        _wrong_type(members, "an array of Agents", member_path)
    if not members and ifi_count == 0:
        _fail("must list at least one Agent in an anonymous Group", member_path)
    out["member"] = [_member(m, f"{member_path}[{i}]") for i, m in enumerate(members)]
    return out


def _member(doc: object, path: str) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "an Agent object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is not _MISSING and object_type != "Agent":
        if object_type == "Group":
            _fail("a Group's members must be Agents, not Groups", _j(path, "objectType"))
        _fail('must be "Agent"', _j(path, "objectType"))
    return _agent_body(doc, path)


def _actor(doc: object, path: str) -> dict:
    """An Agent or a Group; ``objectType`` absent means Agent (Data §2.4.2)."""
    if type(doc) is not dict:
        _wrong_type(doc, "an Agent or Group object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is _MISSING or object_type == "Agent":
        return _agent_body(doc, path)
    if object_type == "Group":
        return _group_body(doc, path)
    _fail('must be "Agent" or "Group"', _j(path, "objectType"))


def _agent_only(doc: object, path: str) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "an Agent object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is not _MISSING and object_type != "Agent":
        _fail('must be "Agent"', _j(path, "objectType"))
    return _agent_body(doc, path)


def _group_only(doc: object, path: str) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "a Group object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type != "Group":
        if object_type is _MISSING:
            _fail('is required: must be "Group"', _j(path, "objectType"))
        _fail('must be "Group"', _j(path, "objectType"))
    return _group_body(doc, path)


def _authority(doc: object, path: str) -> dict:
    """Data §2.4.9.s3.b1: an Agent, or (3-legged OAuth) a Group of exactly two Agents,
    anonymous: the pair has no identifier of its own."""
    out = _actor(doc, path)
    if doc.get("objectType") == "Group":  # type: ignore[union-attr]
        for prop in _IFI_KEYS:
            if prop in out:
                _fail("an authority Group is anonymous: it has no identifier", _j(path, prop))
        members = out.get("member")
        if members is None or len(members) != 2:
            _fail("an authority Group must have exactly two member Agents", _j(path, "member"))
    return out


# --------------------------------------------------------------------------------------------
# Verb and objects (Data §2.4.3, §2.4.4).


def _verb(doc: object, path: str) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "a Verb object", path)
    if not doc.keys() <= _VERB_KEYS:
        _unknown(doc, _VERB_KEYS, path, "a Verb")
    if "id" not in doc:
        _fail("is required", f"{path}.id")
    _iri(doc["id"], f"{path}.id")
    out = dict(doc)
    display = doc.get("display", _MISSING)
    if display is not _MISSING:
        out["display"] = _language_map(display, f"{path}.display")
    return out


def _activity(doc: object, path: str, *, statement_object: bool = False) -> dict:
    """Data §2.4.4.1: ``id`` (IRI) required, ``definition`` optional."""
    if type(doc) is not dict:
        _wrong_type(doc, "an Activity object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is not _MISSING and object_type != "Activity":
        _fail('must be "Activity"', f"{path}.objectType")
    if not doc.keys() <= _ACTIVITY_KEYS:
        for key in _IFI_KEYS if statement_object else ():
            if key in doc:
                _fail(
                    "an Agent or Group used as an object must have its objectType",
                    f"{path}.objectType",
                )
        _unknown(doc, _ACTIVITY_KEYS, path, "an Activity")
    if "id" not in doc:
        _fail("is required", f"{path}.id")
    _iri(doc["id"], f"{path}.id")
    out = dict(doc)
    definition = doc.get("definition", _MISSING)
    if definition is not _MISSING:
        out["definition"] = _definition(definition, f"{path}.definition")
    return out


def _definition(doc: object, path: str) -> dict:
    """Activity Definition, with the Interaction Activity rules (Data §2.4.4.1.s2, s8-s16)."""
    if type(doc) is not dict:
        _wrong_type(doc, "an Activity Definition object", path)
    if not doc.keys() <= _DEFINITION_KEYS:
        _unknown(doc, _DEFINITION_KEYS, path, "an Activity Definition")
    out = dict(doc)
    value = doc.get("name", _MISSING)
    if value is not _MISSING:
        out["name"] = _language_map(value, f"{path}.name")
    value = doc.get("description", _MISSING)
    if value is not _MISSING:
        out["description"] = _language_map(value, f"{path}.description")
    value = doc.get("type", _MISSING)
    if value is not _MISSING:
        _iri(value, f"{path}.type")
    value = doc.get("moreInfo", _MISSING)
    if value is not _MISSING:
        _iri(value, f"{path}.moreInfo")
    value = doc.get("extensions", _MISSING)
    if value is not _MISSING:
        out["extensions"] = _extensions(value, f"{path}.extensions")
    interaction_type = doc.get("interactionType", _MISSING)
    if interaction_type is _MISSING:
        if not doc.keys().isdisjoint(_INTERACTION_KEYS):
            for key in doc:
                if key in _INTERACTION_KEYS:
                    _fail("requires interactionType", f"{path}.{key}")
        return out
    if type(interaction_type) is not str or interaction_type not in _LISTS_FOR_INTERACTION:
        if interaction_type is None:
            _fail("must not be null", f"{path}.interactionType")
        _fail("is not an interaction type of the specification", f"{path}.interactionType")
    value = doc.get("correctResponsesPattern", _MISSING)
    if value is not _MISSING:
        pattern_path = f"{path}.correctResponsesPattern"
        if type(value) is not list:
            _wrong_type(value, "an array of strings", pattern_path)
        for i, item in enumerate(value):
            if type(item) is not str:
                _wrong_type(item, "a string", f"{pattern_path}[{i}]")
        out["correctResponsesPattern"] = list(value)
    allowed = _LISTS_FOR_INTERACTION[interaction_type]
    for key in _COMPONENT_LISTS:
        value = doc.get(key, _MISSING)
        if value is _MISSING:
            continue
        if key not in allowed:
            _fail(f'is not allowed for interactionType "{interaction_type}"', f"{path}.{key}")
        out[key] = _components(value, f"{path}.{key}")
    return out


def _components(value: object, path: str) -> list:
    """Interaction components: ``id`` (string) required and distinct, ``description``."""
    if type(value) is not list:
        _wrong_type(value, "an array of interaction components", path)
    seen: set[str] = set()
    out = []
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        if type(item) is not dict:
            _wrong_type(item, "an interaction component object", item_path)
        if not item.keys() <= _COMPONENT_KEYS:
            _unknown(item, _COMPONENT_KEYS, item_path, "an interaction component")
        if "id" not in item:
            _fail("is required", f"{item_path}.id")
        component_id = item["id"]
        if type(component_id) is not str:
            _wrong_type(component_id, "a string", f"{item_path}.id")
        if component_id in seen:
            _fail("must be distinct within the list", f"{item_path}.id")
        seen.add(component_id)
        copied = dict(item)
        description = item.get("description", _MISSING)
        if description is not _MISSING:
            copied["description"] = _language_map(description, f"{item_path}.description")
        out.append(copied)
    return out


def _statement_ref(doc: object, path: str) -> dict:
    """Data §2.4.4.3: ``objectType`` "StatementRef" and a UUID ``id``, nothing else."""
    if type(doc) is not dict:
        _wrong_type(doc, "a StatementRef object", path)
    if not doc.keys() <= _STATEMENT_REF_KEYS:
        _unknown(doc, _STATEMENT_REF_KEYS, path, "a StatementRef")
    object_type = doc.get("objectType", _MISSING)
    if object_type != "StatementRef":
        if object_type is _MISSING:
            _fail('is required: must be "StatementRef"', f"{path}.objectType")
        _fail('must be "StatementRef"', f"{path}.objectType")
    if "id" not in doc:
        _fail("is required", f"{path}.id")
    _uuid(doc["id"], f"{path}.id")
    return dict(doc)


# --------------------------------------------------------------------------------------------
# Result and context (Data §2.4.5, §2.4.6).


def _result(doc: object, path: str) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "a Result object", path)
    if not doc.keys() <= _RESULT_KEYS:
        _unknown(doc, _RESULT_KEYS, path, "a Result")
    out = dict(doc)
    value = doc.get("score", _MISSING)
    if value is not _MISSING:
        out["score"] = _score(value, f"{path}.score")
    if "success" in doc:
        _boolean(doc, "success", path)
    if "completion" in doc:
        _boolean(doc, "completion", path)
    if "response" in doc:
        _string(doc, "response", path)
    if "duration" in doc:
        _duration(doc["duration"], f"{path}.duration")
    value = doc.get("extensions", _MISSING)
    if value is not _MISSING:
        out["extensions"] = _extensions(value, f"{path}.extensions")
    return out


def _score(doc: object, path: str) -> dict:
    """Data §2.4.5.1: scaled in [-1, 1]; min < max; min <= raw <= max where given."""
    if type(doc) is not dict:
        _wrong_type(doc, "a Score object", path)
    if not doc.keys() <= _SCORE_KEYS:
        _unknown(doc, _SCORE_KEYS, path, "a Score")
    if "scaled" in doc:
        scaled = _number(doc["scaled"], f"{path}.scaled")
        if not -1 <= scaled <= 1:
            _fail("must be between -1 and 1 inclusive", f"{path}.scaled")
    low = _number(doc["min"], f"{path}.min") if "min" in doc else None
    high = _number(doc["max"], f"{path}.max") if "max" in doc else None
    if low is not None and high is not None and not low < high:
        _fail("must be less than max", f"{path}.min")
    if "raw" in doc:
        raw = _number(doc["raw"], f"{path}.raw")
        if low is not None and raw < low:
            _fail("must not be less than min", f"{path}.raw")
        if high is not None and raw > high:
            _fail("must not be greater than max", f"{path}.raw")
    return dict(doc)


def _context(doc: object, path: str, v2: bool) -> dict:
    if type(doc) is not dict:
        _wrong_type(doc, "a Context object", path)
    allowed = _CONTEXT_KEYS_V2 if v2 else _CONTEXT_KEYS_V1
    if not doc.keys() <= allowed:
        if not v2:
            for key in doc:
                if key in _CONTEXT_ONLY_V2:
                    _fail("is an xAPI 2.0 property, not allowed in 1.0.x", f"{path}.{key}")
        _unknown(doc, allowed, path, "a Context")
    out = dict(doc)
    if "registration" in doc:
        _uuid(doc["registration"], f"{path}.registration")
    value = doc.get("instructor", _MISSING)
    if value is not _MISSING:
        out["instructor"] = _actor(value, f"{path}.instructor")
    value = doc.get("team", _MISSING)
    if value is not _MISSING:
        out["team"] = _group_only(value, f"{path}.team")
    value = doc.get("contextActivities", _MISSING)
    if value is not _MISSING:
        out["contextActivities"] = _context_activities(value, f"{path}.contextActivities")
    if "revision" in doc:
        _string(doc, "revision", path)
    if "platform" in doc:
        _string(doc, "platform", path)
    value = doc.get("language", _MISSING)
    if value is not _MISSING:
        if type(value) is not str:
            _wrong_type(value, "an RFC 5646 language tag", f"{path}.language")
        _language_tag(value, f"{path}.language")
    value = doc.get("statement", _MISSING)
    if value is not _MISSING:
        out["statement"] = _statement_ref(value, f"{path}.statement")
    value = doc.get("extensions", _MISSING)
    if value is not _MISSING:
        out["extensions"] = _extensions(value, f"{path}.extensions")
    if v2:
        value = doc.get("contextAgents", _MISSING)
        if value is not _MISSING:
            out["contextAgents"] = _context_relations(
                value, f"{path}.contextAgents", "contextAgent", "agent"
            )
        value = doc.get("contextGroups", _MISSING)
        if value is not _MISSING:
            out["contextGroups"] = _context_relations(
                value, f"{path}.contextGroups", "contextGroup", "group"
            )
    return out


def _context_activities(doc: object, path: str) -> dict:
    """Data §2.4.6.2: keys parent/grouping/category/other; values returned as arrays."""
    if type(doc) is not dict:
        _wrong_type(doc, "a contextActivities object", path)
    if not doc.keys() <= _CONTEXT_ACTIVITIES_KEYS:
        _unknown(doc, _CONTEXT_ACTIVITIES_KEYS, path, "contextActivities")
    out = {}
    for key, value in doc.items():
        key_path = f"{path}.{key}"
        if type(value) is dict:
            out[key] = [_activity(value, key_path)]
        elif type(value) is list:
            out[key] = [_activity(a, f"{key_path}[{i}]") for i, a in enumerate(value)]
        else:
            _wrong_type(value, "an Activity or an array of Activities", key_path)
    return out


def _context_relations(value: object, path: str, object_type: str, member: str) -> list:
    """2.0 ``contextAgents`` / ``contextGroups``: see the module docstring."""
    if type(value) is not list:
        _wrong_type(value, f"an array of {object_type} objects", path)
    allowed = _CONTEXT_AGENT_KEYS if member == "agent" else _CONTEXT_GROUP_KEYS
    out = []
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        if type(item) is not dict:
            _wrong_type(item, f"a {object_type} object", item_path)
        kind = item.get("objectType", _MISSING)
        if kind != object_type:
            if kind is _MISSING:
                _fail(f'is required: must be "{object_type}"', f"{item_path}.objectType")
            _fail(f'must be "{object_type}"', f"{item_path}.objectType")
        if not item.keys() <= allowed:
            _unknown(item, allowed, item_path, f"a {object_type}")
        copied = dict(item)
        if member not in item:
            _fail("is required", f"{item_path}.{member}")
        if member == "agent":
            copied["agent"] = _agent_only(item["agent"], f"{item_path}.agent")
        else:
            copied["group"] = _group_only(item["group"], f"{item_path}.group")
        types = item.get("relevantTypes", _MISSING)
        if types is not _MISSING:
            types_path = f"{item_path}.relevantTypes"
            if type(types) is not list:
                _wrong_type(types, "an array of IRIs", types_path)
            if not types:
                _fail("must list at least one IRI", types_path)
            for j, iri in enumerate(types):
                _iri(iri, f"{types_path}[{j}]")
            copied["relevantTypes"] = list(types)
        out.append(copied)
    return out


# --------------------------------------------------------------------------------------------
# Attachments (Data §2.4.11, §2.6).


def _attachments(value: object, path: str) -> list:
    if type(value) is not list:
        _wrong_type(value, "an array of Attachment objects", path)
    out = []
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        if type(item) is not dict:
            _wrong_type(item, "an Attachment object", item_path)
        if not item.keys() <= _ATTACHMENT_KEYS:
            _unknown(item, _ATTACHMENT_KEYS, item_path, "an Attachment")
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in item:
                _fail("is required", f"{item_path}.{key}")
        copied = dict(item)
        usage_type = item["usageType"]
        _iri(usage_type, f"{item_path}.usageType")
        copied["display"] = _language_map(item["display"], f"{item_path}.display")
        description = item.get("description", _MISSING)
        if description is not _MISSING:
            copied["description"] = _language_map(description, f"{item_path}.description")
        content_type = item["contentType"]
        if type(content_type) is not str:
            _wrong_type(content_type, "an Internet media type string", f"{item_path}.contentType")
        if _MEDIA_TYPE(content_type) is None:
            _fail("must be an Internet media type", f"{item_path}.contentType")
        length = item["length"]
        if type(length) is not int:
            _wrong_type(length, "an integer", f"{item_path}.length")
        if length < 0:
            _fail("must not be negative", f"{item_path}.length")
        sha2 = item["sha2"]
        if type(sha2) is not str:
            _wrong_type(sha2, "a hex SHA-2 string", f"{item_path}.sha2")
        if _SHA2_HEX(sha2) is None:
            _fail("must be a hex-encoded SHA-2 hash", f"{item_path}.sha2")
        if "fileUrl" in item:
            _iri(item["fileUrl"], f"{item_path}.fileUrl")
        if usage_type == _SIGNATURE_USAGE:
            media_type = content_type.split(";", 1)[0].strip().lower()
            if media_type != "application/octet-stream":
                _fail(
                    'a signature attachment must have contentType "application/octet-stream"',
                    f"{item_path}.contentType",
                )
        out.append(copied)
    return out


# --------------------------------------------------------------------------------------------
# Statements.


def _object(doc: object, path: str, v2: bool, in_substatement: bool) -> tuple[dict, str]:
    """Data §2.4.4: the object and its kind; ``objectType`` absent means Activity."""
    if type(doc) is not dict:
        _wrong_type(doc, "an object (Activity, Agent, Group, StatementRef or SubStatement)", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is _MISSING or object_type == "Activity":
        return _activity(doc, path, statement_object=True), "Activity"
    if object_type == "Agent":
        return _agent_body(doc, path), "Agent"
    if object_type == "Group":
        return _group_body(doc, path), "Group"
    if object_type == "StatementRef":
        return _statement_ref(doc, path), "StatementRef"
    if object_type == "SubStatement":
        if in_substatement:
            _fail("a SubStatement must not contain a SubStatement", _j(path, "objectType"))
        return _statement(doc, path, v2, in_substatement=True), "SubStatement"
    _fail(
        'must be "Activity", "Agent", "Group", "StatementRef" or "SubStatement"',
        _j(path, "objectType"),
    )


def _statement(doc: dict, path: str, v2: bool, *, in_substatement: bool = False) -> dict:
    allowed = _SUBSTATEMENT_KEYS if in_substatement else _STATEMENT_KEYS
    if not doc.keys() <= allowed:
        if in_substatement:
            for key in doc:
                if key in _NOT_IN_SUBSTATEMENT:
                    _fail("is not allowed in a SubStatement", _j(path, key))
        _unknown(doc, allowed, path, "a SubStatement" if in_substatement else "a Statement")
    for key in ("actor", "verb", "object"):
        if key not in doc:
            _fail("is required", _j(path, key))
    out = dict(doc)
    if "id" in doc:
        _uuid(doc["id"], _j(path, "id"))
    out["actor"] = _actor(doc["actor"], _j(path, "actor"))
    verb = out["verb"] = _verb(doc["verb"], _j(path, "verb"))
    object_path = _j(path, "object")
    out["object"], kind = _object(doc["object"], object_path, v2, in_substatement)
    if verb["id"] == _VOIDED_VERB and kind != "StatementRef":
        _fail("the object of a voiding Statement must be a StatementRef", object_path)
    value = doc.get("result", _MISSING)
    if value is not _MISSING:
        out["result"] = _result(value, _j(path, "result"))
    value = doc.get("context", _MISSING)
    if value is not _MISSING:
        context_path = _j(path, "context")
        context = out["context"] = _context(value, context_path, v2)
        if kind != "Activity":
            for key in ("revision", "platform"):
                if key in context:
                    _fail("is only allowed when the object is an Activity", _j(context_path, key))
    if "timestamp" in doc:
        out["timestamp"] = _timestamp(doc["timestamp"], _j(path, "timestamp"), v2)
    if "stored" in doc:
        out["stored"] = _timestamp(doc["stored"], _j(path, "stored"), v2)
    value = doc.get("authority", _MISSING)
    if value is not _MISSING:
        out["authority"] = _authority(value, _j(path, "authority"))
    value = doc.get("version", _MISSING)
    if value is not _MISSING:
        version_path = _j(path, "version")
        if type(value) is not str:
            _wrong_type(value, "a version string", version_path)
        if v2:
            if _VERSION_V2(value) is None:
                _fail('must start with "2.0." or "1.0." under xAPI 2.0', version_path)
        elif _VERSION_V1(value) is None:
            _fail('must start with "1.0." under xAPI 1.0.x', version_path)
    value = doc.get("attachments", _MISSING)
    if value is not _MISSING:
        out["attachments"] = _attachments(value, _j(path, "attachments"))
    return out


def validate_statement(doc: object, *, v2: bool, path: str = "") -> dict:
    """Checks one Statement (Data §2.2-§2.6, §4) and returns a normalised deep copy.

    ``v2`` selects the xAPI 2.0 rules (ARCHITECTURE.md §8), otherwise 1.0.x. ``path`` is
    prefixed to every error path (``[3]`` inside a batch). Never mutates ``doc``. Raises
    ``StatementError`` for every broken rule, and nothing else for any JSON value.
    """
    if type(doc) is not dict:
        _wrong_type(doc, "a Statement object", path)
    return _statement(doc, path, v2)


def validate_statements(body: object, *, v2: bool) -> list[dict]:
    """Checks a POST body: one Statement object, or a non-empty array of them.

    Errors inside element ``i`` carry paths prefixed ``[i]``; two Statements with the same
    ``id`` in one batch are rejected at ``[j].id`` of the later one (Communication
    §2.1.2.s2.b6). Returns the normalised copies in the order received.
    """
    if type(body) is dict:
        return [_statement(body, "", v2)]
    if type(body) is not list:
        _wrong_type(body, "a Statement object or an array of Statements", "")
    if not body:
        _fail("must contain at least one Statement", "")
    out = []
    seen: set[str] = set()
    for i, item in enumerate(body):
        item_path = f"[{i}]"
        if type(item) is not dict:
            _wrong_type(item, "a Statement object", item_path)
        statement = _statement(item, item_path, v2)
        statement_id = statement.get("id")
        if statement_id is not None:
            key = statement_id.lower()
            if key in seen:
                _fail("repeats the id of another Statement in the batch", f"{item_path}.id")
            seen.add(key)
        out.append(statement)
    return out


def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (RFC 3987, with a scheme), by the rule that
    Statements are held to (Data §2.2.s4.b1.b4, b8): for parameters that carry IRIs."""
    return _is_iri(value)


def validate_agent(doc: object, *, v2: bool, path: str = "") -> dict:
    """Checks an Agent or identified Group given as a query parameter (``agent``).

    Communication §2.1.3 and the document resources take an Agent, or an identified Group,
    identified by exactly one inverse functional identifier (Data §2.4.2.3); an anonymous
    Group identifies nothing and is rejected. Data §2.2.s4.b4: parameters are validated
    as the same values in Statements. ``v2`` is accepted for symmetry: the Agent rules are
    the same in both versions. Returns a deep copy.
    """
    del v2
    if type(doc) is not dict:
        _wrong_type(doc, "an Agent or Group object", path)
    object_type = doc.get("objectType", _MISSING)
    if object_type is _MISSING or object_type == "Agent":
        return _agent_body(doc, path)
    if object_type == "Group":
        return _group_body(doc, path, identified=True)
    _fail('must be "Agent" or "Group"', _j(path, "objectType"))
