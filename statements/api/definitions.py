"""The Activities and Agents resources (Communication §2.5, §2.4): what the LRS knows of an
Activity or an Agent, from the statements it stored (``statements.facts``).

Both answer for anything asked: an Activity never defined is still an Activity Object
(§2.5.s2.b1), an Agent never seen still a Person Object holding what the request gave
(§2.4.s3.b3). Responses carry an ETag (SHA-1 of the body, §3.1.s4.b1-b4) and, when the
LRS has something stored, Last-Modified.
"""

from __future__ import annotations

import orjson
from django.http import HttpResponse
from django.utils.http import http_date

from documents.keys import etag_of
from lrs.errors import BadRequest
from lrs.params import agent_param, iri_param
from lrs.views import XAPIView
from statements import selectors
from statements.consistency import read_alias
from statements.xapi.definitions import person
from statements.xapi.ifi import ifi_key
from tenants import scopes

_NO_WAL_FLOOR = "0/0"


class _DefinitionView(XAPIView):
    # Reading what statements defined: "define" (Communication §4.2.s2), or any read of
    # statements, which carry the same definitions.
    read_scopes = (scopes.DEFINE, scopes.STATEMENTS_READ)
    parameter = ""

    def _value(self, request) -> str:
        query = request.query_params
        for name in query:
            if name != self.parameter:
                raise BadRequest(f"parameter {name!r} is not recognised here", path=name)
            if len(query.getlist(name)) > 1:
                raise BadRequest(f"parameter {name!r} is given more than once", path=name)
        value = query.get(self.parameter)
        if value is None:
            raise BadRequest(f"{self.parameter} is required", path=self.parameter)
        return value

    def _alias(self, request) -> str:
        return read_alias(credential_id=request.user.credential_id, floor_lsn=_NO_WAL_FLOOR)


def _json_response(body: bytes, updated=None) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = f'"{etag_of(body)}"'
    if updated is not None:
        response["Last-Modified"] = http_date(updated.timestamp())
    return response


class ActivitiesView(_DefinitionView):
    """GET /xapi/activities?activityId= (Communication §2.5)."""

    parameter = "activityId"

    def get(self, request):
        activity_id = iri_param(self._value(request), "activityId")
        found = selectors.activity_definition_get(
            tenant_id=request.user.tenant_id, activity_id=activity_id, using=self._alias(request)
        )
        head = b'{"objectType":"Activity","id":' + orjson.dumps(activity_id)
        if found is None:
            return _json_response(head + b"}")
        definition, updated = found
        return _json_response(head + b',"definition":' + definition.encode() + b"}", updated)


class AgentsView(_DefinitionView):
    """GET /xapi/agents?agent= (Communication §2.4): the Person Object for an Agent."""

    parameter = "agent"

    def get(self, request):
        agent = agent_param(self._value(request), allow_group=False)
        principal = request.user
        # §2.4.s3.b1: another identifier of the same Person (the mbox behind an
        # mbox_sha1sum) only for credentials explicitly given broad read access.
        elevated = not principal.scopes.isdisjoint({scopes.ALL, scopes.ALL_READ})
        known = selectors.known_agent_get(
            tenant_id=principal.tenant_id,
            ifi=ifi_key(agent),
            mbox_sha1sum=agent.get("mbox_sha1sum", "").lower() or None if elevated else None,
            using=self._alias(request),
        )
        return _json_response(orjson.dumps(person(agent, names=known.names, mboxes=known.mboxes)))
