"""The internal progress API, ``/api/v1/``: attempts, completions and rollups.

For the platform's own services (certification, assignment, dashboards), authenticated
with the same tenant credentials as xAPI (HTTP Basic; the tenant comes from the
credential) and readable with ``statements/read``, ``all/read`` or ``all``: progress is
derived from all of a tenant's statements, so reading it needs what reading them needs.
Not an xAPI resource: no version header. Errors use the service's JSON error body.

Paging is keyset: ``next`` is an opaque, signed, tenant-bound token (the one the
Statements resource uses for ``more``) holding the filters and the position; a page is
stable while rows are added.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from attempts import selectors
from lrs.errors import BadRequest
from lrs.params import agent_param, iri_param, limit_param, timestamp_param, uuid_param
from lrs.renderers import AlwaysJSON
from statements.cursor import Cursor, CursorError, cursor_decode, cursor_encode
from statements.xapi.ifi import ifi_key
from tenants import scopes

ATTEMPT_STATUSES = (
    "launched", "in progress", "completed", "passed", "failed", "abandoned", "waived",
    "terminated",
)  # fmt: skip
COMPLETION_BASES = (
    "completed", "passed", "completed_and_passed", "completed_or_passed", "waived",
    "satisfied", "not_applicable",
)  # fmt: skip


# Cursors are statements.cursor tokens, signed with the key of the Statements resource's
# ``more`` tokens, and that resource takes any well-signed token for its own query: given
# a cursor of this API as ``more`` it failed with a 500. The prefix adds a third
# dot-separated part, which it refuses as malformed (a 400).
_CURSOR_PREFIX = "progress."


class ProgressView(APIView):
    content_negotiation_class = AlwaysJSON
    versioning_class = None
    read_scopes = (scopes.STATEMENTS_READ,)
    write_scopes = ()
    resource = ""
    parameters = frozenset(("learner", "activity", "registration", "status", "since"))

    def _check(self, request, allowed: frozenset[str]) -> None:
        query = request.query_params
        for name in query:
            if name not in allowed:
                raise BadRequest(f"parameter {name!r} is not recognised here", path=name)
            # Each parameter has one value; reading the last of several would answer a
            # query the client did not ask (``status=failed&status=passed``), as the
            # Statement and document resources refuse it too.
            if len(query.getlist(name)) > 1:
                raise BadRequest(f"parameter {name!r} is given more than once", path=name)


def learner_param(value: str) -> str:
    """A learner as an xAPI Agent in JSON (Data §2.4.2), or as its canonical identifier
    string (``account:<homePage> <name>``, ``mbox:mailto:...``), as the API returns it."""
    if value.lstrip().startswith("{"):
        key = ifi_key(agent_param(value, "learner", allow_group=True))
        if key is None:  # an anonymous Group: no identifier, so no learner to look up
            raise BadRequest("learner must have an identifier", path="learner")
        return key
    if value.split(":", 1)[0] not in ("mbox", "mbox_sha1sum", "openid", "account"):
        raise BadRequest("learner must be an Agent as JSON or an identifier", path="learner")
    # PostgreSQL text cannot hold U+0000 (the driver refuses the query), so no stored
    # learner has it: the JSON form is refused for it by agent_param, this one here.
    if "\x00" in value:
        raise BadRequest("learner cannot contain the character U+0000", path="learner")
    return value


class _ListView(ProgressView):
    statuses: tuple[str, ...] = ()

    def get(self, request):
        self._check(request, self.parameters | {"limit", "cursor"})
        limit = _limit(request.query_params.get("limit"))
        token = request.query_params.get("cursor")
        tenant_id = request.user.tenant_id
        if token is not None:
            if set(request.query_params) - {"cursor", "limit"}:
                raise BadRequest("cursor carries the query; send it alone", path="cursor")
            try:
                # Unprefixed tokens are those minted before the prefix, until they expire.
                cursor = cursor_decode(token.removeprefix(_CURSOR_PREFIX), tenant_id=tenant_id)
            except CursorError as exc:
                raise BadRequest(str(exc), path="cursor") from None
            if cursor.query.get("resource") != self.resource:
                raise BadRequest("the cursor belongs to another resource", path="cursor")
            query = cursor.query
            after = (cursor.stored, cursor.statement_id)
        else:
            query = self._query(request.query_params)
            after = None
        filters = selectors.ProgressFilter(
            learner=query.get("learner"),
            activity_id=query.get("activity"),
            registration=query.get("registration"),
            status=query.get("status"),
            since=dt.datetime.fromisoformat(query["since"]) if query.get("since") else None,
        )
        rows = self.page(tenant_id=tenant_id, filters=filters, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_url = None
        if more:
            last = rows[-1]
            position = Cursor(
                query=query,
                stored=last[self.order[0]].isoformat(),
                statement_id=str(last[self.order[1]]),
            )
            token = _CURSOR_PREFIX + cursor_encode(tenant_id=tenant_id, cursor=position)
            next_url = f"{request.path}?cursor={token}&limit={limit}"
        return Response({self.resource: [_render(row) for row in rows], "next": next_url})

    def _query(self, params) -> dict:
        query: dict = {"resource": self.resource}
        if "learner" in params:
            query["learner"] = learner_param(params["learner"])
        if "activity" in params:
            query["activity"] = iri_param(params["activity"], "activity")
        if "registration" in params:
            query["registration"] = uuid_param(params["registration"], "registration")
        if "status" in params:
            if params["status"] not in self.statuses:
                raise BadRequest(
                    f"status must be one of: {', '.join(self.statuses)}", path="status"
                )
            query["status"] = params["status"]
        since = timestamp_param(params, "since")
        if since is not None:
            # In UTC, the same instant: PostgreSQL refuses offsets past 15:59 or with a
            # fraction of a second, which RFC 3339 (to 23:59) and Python (any) allow.
            query["since"] = since.astimezone(dt.UTC).isoformat()
        return query


def _limit(value: str | None) -> int:
    maximum = settings.PROGRESS_API_LIMIT_MAX
    if value is None:
        return min(100, maximum)
    # As for statements (Communication §2.1.3): 0 means the server's maximum.
    return limit_param(value, maximum)


def _render(row: dict) -> dict:
    rendered = {}
    for name, value in row.items():
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        elif name in ("attempt_id", "completion_id", "statement_id", "registration") and value:
            value = str(value)
        rendered[name] = value
    return rendered


class AttemptsView(_ListView):
    """GET /api/v1/attempts: ``learner``, ``activity``, ``registration``, ``status``,
    ``since`` (last activity after), ``limit``, ``cursor``; ordered by last activity."""

    resource = "attempts"
    statuses = ATTEMPT_STATUSES
    order = ("last_activity_at", "attempt_id")
    page = staticmethod(selectors.attempts_page)


class CompletionsView(_ListView):
    """GET /api/v1/completions: as attempts, ``status`` naming the basis and ``since``
    the satisfaction time; ordered by satisfaction time."""

    resource = "completions"
    statuses = COMPLETION_BASES
    order = ("satisfied_at", "completion_id")
    page = staticmethod(selectors.completions_page)


class RollupView(ProgressView):
    """GET /api/v1/rollups?learner=&activity=&registration=: a learner's progress under a
    parent Activity (course or block), see ``selectors.rollup_for``."""

    def get(self, request):
        self._check(request, frozenset(("learner", "activity", "registration")))
        params = request.query_params
        for required in ("learner", "activity"):
            if required not in params:
                raise BadRequest(f"{required} is required", path=required)
        registration = params.get("registration")
        rollup = selectors.rollup_for(
            tenant_id=request.user.tenant_id,
            learner=learner_param(params["learner"]),
            parent=iri_param(params["activity"], "activity"),
            registration=uuid_param(registration, "registration") if registration else None,
        )
        if rollup["completion"] is not None:
            rollup["completion"] = _render(rollup["completion"])
        return Response(_render(rollup))
