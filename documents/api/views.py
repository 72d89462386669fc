"""The document resources: State, Activity Profile and Agent Profile (Communication
§2.2-2.7), one base view and three key shapes.

Thin: parse and check parameters, call ``documents.services`` or ``documents.selectors``,
render. Documents go out byte for byte with the Content-Type they came in with, a quoted
ETag (the SHA-1 of the bytes, §3.1.s4.b1-b4) and Last-Modified (§2.2.s6).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import http_date

from documents import selectors, services
from documents.keys import (
    DocumentScope,
    activity_profile_scope,
    agent_profile_scope,
    state_scope,
)
from documents.preconditions import preconditions_from_headers
from lrs.errors import BadRequest, NotFound, PayloadTooLarge
from lrs.params import agent_param, content_length, iri_param, timestamp_param, uuid_param
from lrs.views import XAPIView
from statements.consistency import read_alias
from statements.xapi.ifi import ifi_key
from tenants import scopes

_NO_WAL_FLOOR = "0/0"


class DocumentView(XAPIView):
    """What the three resources share; subclasses say how a request names its scope."""

    id_param = ""
    scope_params: frozenset[str] = frozenset()
    multiple_delete = False
    # xAPI 1.0.3 binds the "no precondition on PUT over a document" 409 to the Profile
    # resources only; 2.0 to every document resource (documents.preconditions).
    put_needs_precondition_v1 = True
    # §3.1.s3.b1: a PUT to a Profile resource carries If-Match or If-None-Match, in
    # both versions; without either it is a 400 where no document exists (and the 409
    # above where one does).
    put_requires_header = True

    def scope_of(self, query) -> tuple[DocumentScope, dict | None]:
        raise NotImplementedError

    # --- parameters -------------------------------------------------------------------

    def _query(self, request, extra: set[str]):
        query = request.query_params
        allowed = self.scope_params | extra
        for name in query:
            if name not in allowed:
                raise BadRequest(f"parameter {name!r} is not recognised here", path=name)
            if len(query.getlist(name)) > 1:
                raise BadRequest(f"parameter {name!r} is given more than once", path=name)
        return query

    def _document_id(self, query, *, required: bool) -> str | None:
        value = query.get(self.id_param)
        if value is None:
            if required:
                raise BadRequest(f"{self.id_param} is required", path=self.id_param)
            return None
        if not value:
            raise BadRequest(f"{self.id_param} must not be empty", path=self.id_param)
        if "\x00" in value:
            # Ids are kept as PostgreSQL text, which cannot hold U+0000.
            raise BadRequest(
                f"{self.id_param} cannot contain the character U+0000", path=self.id_param
            )
        return value

    def _content(self, request) -> tuple[bytes, str]:
        limit = settings.PROGRESS_MAX_DOCUMENT_BYTES
        if content_length(request) > limit:
            raise PayloadTooLarge(f"a document may hold at most {limit} bytes")
        content = request.body
        if len(content) > limit:
            raise PayloadTooLarge(f"a document may hold at most {limit} bytes")
        content_type = request.META.get("CONTENT_TYPE")
        if not content and not content_type:
            # Neither bytes nor a media type: no document was sent (§2.2.s2: a document's
            # contents are "the HTTP document itself"). An empty body that names its type
            # is stored.
            raise BadRequest("the request carries no document: send a body or a Content-Type")
        content_type = content_type or "application/octet-stream"
        if not _servable_content_type(content_type):
            # The alternate request syntax (§1.3) lets a form field carry any Content-Type,
            # but the document goes back out with it: a CR or LF cannot be in a header (a
            # GET of the document would fail), U+0000 not in PostgreSQL text either.
            raise BadRequest(
                "the Content-Type header cannot contain control characters (such as CR, LF "
                "or U+0000) or characters past U+00FF"
            )
        return content, content_type

    def _target(self, query, *, document_id: str) -> services.DocumentTarget:
        scope, agent = self.scope_of(query)
        return services.DocumentTarget(scope=scope, document_id=document_id, agent=agent)

    # --- handlers ---------------------------------------------------------------------

    def get(self, request):
        query = self._query(request, {self.id_param, "since"})
        scope, _ = self.scope_of(query)
        principal = request.user
        alias = read_alias(credential_id=principal.credential_id, floor_lsn=_NO_WAL_FLOOR)
        document_id = self._document_id(query, required=False)
        since = timestamp_param(query, "since")
        if document_id is not None:
            # With the id, the request names one document: ``since`` belongs to the list
            # form (§2.3.s4, §2.6.s4, §2.7.s4) and has nothing to filter here, so a valid
            # one is ignored (an invalid one is still a 400, above).
            found = selectors.document_get(
                tenant_id=principal.tenant_id, scope=scope, document_id=document_id, using=alias
            )
            if found is None:
                raise NotFound(f"no document {document_id!r} here")
            content_type = found.content_type
            if not _servable_content_type(content_type):
                # Stored before writes were checked for it; served rather than a 500.
                content_type = "application/octet-stream"
            response = HttpResponse(found.content, content_type=content_type)
            response["ETag"] = f'"{found.etag}"'
            response["Last-Modified"] = http_date(found.updated.timestamp())
            return response
        ids, last_modified = selectors.document_ids(
            tenant_id=principal.tenant_id,
            scope=scope,
            since=since,
            using=alias,
        )
        response = HttpResponse(selectors.ids_body(ids), content_type="application/json")
        response["ETag"] = f'"{selectors.ids_etag(ids)}"'
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        return response

    def put(self, request):
        """Store the document, replacing any (§2.3.s3, §2.6.s3, §2.7.s3); 204 with its ETag."""
        put_needs_precondition = request.version.is_2_0 or self.put_needs_precondition_v1
        return self._write(
            request,
            services.document_put,
            put_needs_precondition=put_needs_precondition,
            put_requires_header=self.put_requires_header,
        )

    def post(self, request):
        """Create the document or merge JSON into it (§2.2.s7); 204 with its ETag."""
        return self._write(request, services.document_post)

    def _write(self, request, store, **options):
        query = self._query(request, {self.id_param})
        target = self._target(query, document_id=self._document_id(query, required=True))
        content, content_type = self._content(request)
        etag = store(
            tenant_id=request.user.tenant_id,
            credential_id=request.user.credential_id,
            target=target,
            content=content,
            content_type=content_type,
            preconditions=preconditions_from_headers(request.headers),
            **options,
        )
        response = HttpResponse(status=204)
        response["ETag"] = f'"{etag}"'
        return response

    def delete(self, request):
        query = self._query(request, {self.id_param})
        document_id = self._document_id(query, required=not self.multiple_delete)
        principal = request.user
        if document_id is None:
            scope, _ = self.scope_of(query)
            services.documents_delete(
                tenant_id=principal.tenant_id,
                credential_id=principal.credential_id,
                scope=scope,
                preconditions=preconditions_from_headers(request.headers),
            )
        else:
            services.document_delete(
                tenant_id=principal.tenant_id,
                credential_id=principal.credential_id,
                target=self._target(query, document_id=document_id),
                preconditions=preconditions_from_headers(request.headers),
            )
        return HttpResponse(status=204)


def _servable_content_type(value: str) -> bool:
    """Whether ``value`` can be sent back as the ``Content-Type`` header exactly as it came:
    a field value is octets with no control character but HTAB (RFC 9110 §5.5), so nothing
    past U+00FF (Django would MIME-encode it) and no CR or LF (which would end the header)."""
    return all(char == "\t" or (" " <= char <= "\xff" and char != "\x7f") for char in value)


def _required(query, name: str) -> str:
    value = query.get(name)
    if value is None:
        raise BadRequest(f"{name} is required", path=name)
    return value


def _agent(query) -> tuple[str, dict]:
    # "The agent parameter is an Agent Object and not a Group" (§2.6.s3); the same Agent
    # is what a State belongs to (§2.3.s3).
    agent = agent_param(_required(query, "agent"), allow_group=False)
    return ifi_key(agent), agent


class StateView(DocumentView):
    """/xapi/activities/state (Communication §2.3)."""

    read_scopes = write_scopes = (scopes.STATE,)
    id_param = "stateId"
    scope_params = frozenset({"activityId", "agent", "registration"})
    multiple_delete = True
    # §3.1.s3: "The State Resource will permit PUT, POST and DELETE requests without
    # concurrency headers" in 1.0.3 (2.0 keeps the 409 over an existing document only).
    put_needs_precondition_v1 = False
    put_requires_header = False

    def scope_of(self, query):
        activity_id = iri_param(_required(query, "activityId"), "activityId")
        agent_ifi, agent = _agent(query)
        registration = query.get("registration")
        if registration is not None:
            registration = uuid_param(registration, "registration")
        return state_scope(activity_id, agent_ifi, registration), agent


class ActivityProfileView(DocumentView):
    """/xapi/activities/profile (Communication §2.7)."""

    read_scopes = write_scopes = (scopes.PROFILE,)
    id_param = "profileId"
    scope_params = frozenset({"activityId"})

    def scope_of(self, query):
        return activity_profile_scope(iri_param(_required(query, "activityId"), "activityId")), None


class AgentProfileView(DocumentView):
    """/xapi/agents/profile (Communication §2.6)."""

    read_scopes = write_scopes = (scopes.PROFILE,)
    id_param = "profileId"
    scope_params = frozenset({"agent"})

    def scope_of(self, query):
        agent_ifi, agent = _agent(query)
        return agent_profile_scope(agent_ifi), agent
