"""Query parameters of GET /xapi/statements (Communication §2.1.3), parsed and checked.

Pure parsing: each function turns parameter text into a value or raises ``BadRequest``
naming the parameter, so the view stays orchestration only.
"""

from __future__ import annotations

import orjson
from django.conf import settings

from lrs.errors import BadRequest
from lrs.params import (
    boolean_param,
    iri_param,
    limit_param,
    reject_nul,
    timestamp_param,
    uuid_param,
)
from statements.consistency import format_timestamp
from statements.xapi.errors import StatementError
from statements.xapi.ifi import ifi_key
from statements.xapi.validate import validate_agent

GET_PARAMETERS = {
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "more",
}
# §2.1.3: with statementId or voidedStatementId only these may accompany it.
SINGLE_PARAMETERS = {"statementId", "voidedStatementId", "attachments", "format"}
FORMATS = ("exact", "ids", "canonical")


def statement_error(exc: StatementError) -> BadRequest:
    return BadRequest(exc.message, path=exc.path or None)


def query_spec(params, v2: bool) -> dict:
    """Validate GET parameters into the JSON-able spec a ``more`` token carries."""
    spec: dict = {"format": output_format(params)}
    if "agent" in params:
        try:
            agent = validate_agent(orjson.loads(params["agent"]), v2=v2, path="agent")
        except orjson.JSONDecodeError:
            raise BadRequest("agent must be an Agent or Group as JSON", path="agent") from None
        except StatementError as exc:
            raise statement_error(exc) from None
        spec["agent"] = ifi_key(agent)
        if spec["agent"] is None:
            raise BadRequest(
                "agent must be identified (an anonymous Group cannot be)", path="agent"
            )
        reject_nul(agent, "agent")
    for name in ("verb", "activity"):
        if name in params:
            spec[name] = iri_param(params[name], name)
    if "registration" in params:
        spec["registration"] = uuid_param(params["registration"], "registration")
    for name in ("related_activities", "related_agents", "ascending", "attachments"):
        spec[name] = boolean_param(params, name)
    for name in ("since", "until"):
        value = timestamp_param(params, name)
        if value is not None:
            spec[name] = format_timestamp(value)
    spec["limit"] = limit_param(params.get("limit", "0"), settings.PROGRESS_STATEMENT_LIMIT_MAX)
    return spec


def output_format(params) -> str:
    value = params.get("format", "exact")
    if value not in FORMATS:
        raise BadRequest("format must be ids, exact or canonical", path="format")
    return value
