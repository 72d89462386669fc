"""Query parameter parsers shared by the xAPI resources (Communication §2).

Pure: each turns parameter text into a value or raises ``BadRequest`` naming the parameter
(Data §2.2.s4.b4: parameters are validated as the same values in Statements).
"""

from __future__ import annotations

import datetime as dt
import re

from lrs.errors import BadRequest

# fullmatch: ``$`` would also accept a trailing newline.
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def iri_param(value: str, name: str) -> str:
    """An absolute IRI, checked as the same value in a Statement is (Data §2.2.s4.b4:
    "validate parameter values to the same standards required for values of the same
    types in Statements"), which rejects IRIs without a scheme and non-format-following
    ones (§2.2.s4.b1.b4, b1.b8): ``{"key":"value"}`` or ``1:2`` is a 400 here too."""
    from statements.xapi.validate import is_iri

    if not is_iri(value):
        raise BadRequest(f"{name} must be an absolute IRI", path=name)
    return value


def uuid_param(value: str, name: str) -> str:
    if not _UUID_RE.fullmatch(value):
        raise BadRequest(f"{name} must be a UUID", path=name)
    return value.lower()


def boolean_param(params, name: str) -> bool:
    """A Boolean parameter: ``true`` or ``false``, in any case. The spec names the type,
    not its spelling in a query string, and clients write what their language prints
    (TinCanPython sends Python's ``True``); anything else is a 400."""
    value = params.get(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false", path=name)
    return lowered == "true"


def timestamp_param(params, name: str) -> dt.datetime | None:
    value = params.get(name)
    if value is None:
        return None
    # An unencoded "+" in an offset arrives as a space: "...T10:00:00 01:00". RFC 3339
    # §5.6 lets the "Z" be lowercase, which Python's parser does not take.
    if value.endswith("z"):
        value = value[:-1] + "Z"
    candidates = [value]
    head, space, tail = value.rpartition(" ")
    if space and head:
        candidates.append(f"{head}+{tail}")
    for candidate in candidates:
        try:
            parsed = dt.datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    else:
        raise BadRequest(f"{name} must be an ISO 8601 timestamp", path=name)
    if parsed.tzinfo is None:
        raise BadRequest(f"{name} must have a time zone", path=name)
    if value.endswith(("-00:00", "-0000", "-00")) and parsed.utcoffset() == dt.timedelta(0):
        # RFC 3339 §4.3: "-00:00" says the offset to UTC is unknown, so the instant cannot
        # be compared with ``stored``; a Statement's timestamp is refused for it too (Data
        # §2.2.s4.b4: parameters are validated to the same standards).
        raise BadRequest(f"{name} must not have a negative zero offset (-00:00)", path=name)
    try:
        # Compared and stored in UTC, where a time near year 1 or 9999 may fall outside
        # the calendar (0001-01-01T00:30:00+01:00). Returned in UTC too: PostgreSQL takes
        # offsets up to 15:59 only, and Python up to 23:59.
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise BadRequest(f"{name} is out of range in UTC", path=name) from None


def agent_param(value: str, name: str = "agent", *, allow_group: bool) -> dict:
    """An Agent given as JSON, validated as in a Statement (Data §2.4.2); an identified
    Group too when ``allow_group``. Returns the validated copy."""
    # Imported here: the xAPI rules are pure but large, and most parameters never need them.
    import orjson

    from statements.xapi.errors import StatementError
    from statements.xapi.validate import validate_agent

    try:
        agent = validate_agent(orjson.loads(value), v2=True, path=name)
    except orjson.JSONDecodeError:
        raise BadRequest(f"{name} must be an Agent as JSON", path=name) from None
    except StatementError as exc:
        raise BadRequest(exc.message, path=exc.path or name) from None
    if agent.get("objectType") == "Group" and not allow_group:
        raise BadRequest(f"{name} must be an Agent, not a Group", path=f"{name}.objectType")
    reject_nul(agent, name)
    return agent


def reject_nul(agent: dict, name: str) -> None:
    """BadRequest when a validated Agent or Group holds U+0000 in any string.

    PostgreSQL text and jsonb cannot hold the character, so an identifier with it can be
    neither stored nor looked up (a Statement with one is refused too), and a document's
    Agent could not be kept."""
    pending: list[object] = [agent]
    while pending:
        value = pending.pop()
        if type(value) is dict:
            pending.extend(value.keys())
            pending.extend(value.values())
        elif type(value) is list:
            pending.extend(value)
        elif type(value) is str and "\x00" in value:
            raise BadRequest(f"{name} cannot contain the character U+0000", path=name)


def content_length(request) -> int:
    """The request's ``Content-Length`` (0 when absent); BadRequest when it is not a
    decimal number, which Django would fail on when reading the body."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()):
        raise BadRequest("the Content-Length header must be a number of bytes")
    digits = length.lstrip("0")
    # Past 18 digits it exceeds every limit; int() refuses more than 4,300 digits.
    return int(digits or "0") if len(digits) <= 18 else 10**18


def limit_param(text: str, maximum: int, name: str = "limit") -> int:
    """A page size: a Nonnegative Integer in ASCII digits (``str.isdigit`` also holds for
    "²", which int() refuses, and "١٢", which it reads as 12), where 0 and anything past
    ``maximum`` mean ``maximum`` (Communication §2.1.3). A number longer than the maximum's
    digits is past it and is not converted: int() refuses more than 4,300 digits."""
    if not (text.isascii() and text.isdigit()):
        raise BadRequest(f"{name} must be a non-negative integer", path=name)
    digits = text.lstrip("0")
    if len(digits) > len(str(maximum)):
        return maximum
    return min(int(digits or "0"), maximum) or maximum
