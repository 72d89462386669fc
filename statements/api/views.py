"""The Statement resource, ``/xapi/statements`` (Communication §2.1).

Thin by design: parse the request, call ``statements.services`` to write or
``statements.selectors`` to read, render. The pure rules live in ``statements.xapi``.
Every response of this resource, errors included, carries
``X-Experience-API-Consistent-Through`` (§2.1.3).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import orjson
from django.conf import settings
from django.http import HttpResponse
from django.utils.http import http_date
from rest_framework.response import Response

from lrs.errors import BadRequest, NotFound, PayloadTooLarge
from lrs.params import content_length
from lrs.views import XAPIView
from statements import cache as query_cache
from statements import selectors, services
from statements.api import params
from statements.api.middleware import CONSISTENT_THROUGH, consistent_through_ensure
from statements.api.params import statement_error
from statements.consistency import (
    UNKNOWN,
    format_timestamp,
    read_alias,
    watermark,
    write_mark_key,
)
from statements.cursor import Cursor, CursorError, cursor_decode, cursor_encode
from statements.xapi import formats, multipart, signature
from statements.xapi.definitions import statement_activity_ids
from statements.xapi.errors import StatementError
from statements.xapi.ifi import ifi_key
from statements.xapi.serialize import json_bytes
from statements.xapi.validate import validate_statement, validate_statements
from tenants import scopes

_TWO_ZERO_ONLY = (b'"contextAgents"', b'"contextGroups"')
# A timestamp in a notation 1.0.x keeps and RFC 3339 lacks (a decimal comma, an offset of
# hours alone), as orjson writes the stored payload: see formats.for_reader. A match
# inside some other string only costs a parse.
_ISO_ONLY_TIMESTAMP = re.compile(rb'"timestamp":"[^"]*(?:,[0-9]|[+-][0-9]{2}")').search


def _vary(output_format: str) -> dict[str, str]:
    """``canonical`` answers depend on ``Accept-Language`` (Communication §2.1.3.s4.b5), and
    a cache that does not know it would serve one reader's language to another (RFC 9110
    §12.5.5)."""
    return {"Vary": "Accept-Language"} if output_format == "canonical" else {}


class StatementsView(XAPIView):
    read_scopes = (scopes.STATEMENTS_READ, scopes.STATEMENTS_READ_MINE)
    write_scopes = (scopes.STATEMENTS_WRITE,)

    # --- common -----------------------------------------------------------------------------

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        consistent_through_ensure(response)
        return response

    def _check_parameters(self, request, allowed: set[str]) -> None:
        """Every query parameter is one ``allowed`` here, spelt in its case, and given once.

        §3.2.s3.b7/b8: unknown parameters, and known ones in the wrong case, are a 400. A
        repeated one is too: each parameter of §2.1 has one value, and taking one of several
        (a PUT's ``statementId`` among two, say) would act on a value the client may not
        have meant.
        """
        query = request.query_params
        for name in query:
            if name not in allowed:
                raise BadRequest(f"parameter {name!r} is not recognised here", path=name)
            if len(query.getlist(name)) > 1:
                raise BadRequest(f"parameter {name!r} is given more than once", path=name)

    def _body(self, request) -> bytes:
        if content_length(request) > settings.PROGRESS_MAX_REQUEST_BYTES:
            raise PayloadTooLarge("the request is larger than this LRS accepts")
        return request.body

    def _parse_write(self, request):
        """The JSON document, the attachment parts (by sha2), of a PUT or POST body."""
        body = self._body(request)
        content_type = request.META.get("CONTENT_TYPE", "")
        media_type = content_type.split(";")[0].strip().lower()
        parts: list[multipart.AttachmentPart] | None = None
        if media_type == "multipart/mixed":
            try:
                body, parts = multipart.parse_statement_request(
                    body, content_type, max_attachment_bytes=settings.PROGRESS_MAX_ATTACHMENT_BYTES
                )
            except multipart.AttachmentTooLarge as exc:
                raise PayloadTooLarge(exc.message) from None
            except StatementError as exc:
                raise statement_error(exc) from None
        elif media_type != "application/json":
            raise BadRequest("statements are sent as application/json or multipart/mixed")
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not valid JSON") from None
        return document, parts

    def _attachments(self, statements: list[dict], parts, *, batch: bool):
        """Match parts to declarations and verify signatures; returns parts by sha2."""
        try:
            if parts is None:
                multipart.require_no_raw_attachments(statements, path_prefix_batch=batch)
                by_sha2 = {}
            else:
                by_sha2 = multipart.match_attachments(statements, parts, path_prefix_batch=batch)
            for index, statement in enumerate(statements):
                signature.verify_statement_signatures(
                    statement, by_sha2, path_prefix=f"[{index}]" if batch else ""
                )
        except StatementError as exc:
            raise statement_error(exc) from None
        return by_sha2

    # --- writes -------------------------------------------------------------------------------

    def put(self, request):
        """§2.1.1: store one statement under ``statementId``; 204, or 409 on a conflict."""
        self._check_parameters(request, {"statementId"})
        statement_id = request.query_params.get("statementId")
        if statement_id is None:
            raise BadRequest("PUT needs the statementId parameter", path="statementId")
        statement_id = params.uuid_param(statement_id, "statementId")
        document, parts = self._parse_write(request)
        if not isinstance(document, dict):
            raise BadRequest("PUT takes a single statement object")
        if "id" in document and str(document["id"]).lower() != statement_id:
            raise BadRequest("the statement id does not match statementId", path="id")
        v2 = request.version.is_2_0
        try:
            statement = validate_statement(document, v2=v2)
        except StatementError as exc:
            raise statement_error(exc) from None
        # The id is the statement's before its signature is checked: a signed payload naming
        # another id is not the statement stored under statementId (Data §2.6.s5.b3.b2).
        statement["id"] = statement_id
        attachments = self._attachments([statement], parts, batch=False)
        services.statements_store(
            principal=request.user,
            statements=[statement],
            v2=v2,
            received=[document],
            attachments=attachments,
        )
        return Response(status=204)

    def post(self, request):
        """§2.1.2: store a statement or a batch, all or nothing; 200 with the ids in order,
        or 204 for a single statement that was stored before."""
        self._check_parameters(request, set())
        document, parts = self._parse_write(request)
        v2 = request.version.is_2_0
        try:
            statements = validate_statements(document, v2=v2)
        except StatementError as exc:
            raise statement_error(exc) from None
        received = document if isinstance(document, list) else [document]
        attachments = self._attachments(statements, parts, batch=isinstance(document, list))
        ids = services.statements_store(
            principal=request.user,
            statements=statements,
            v2=v2,
            received=received,
            attachments=attachments,
        )
        if not ids.new and not isinstance(document, list):
            # §2.1.2.s2.b4: the one statement was stored before (with equivalent content:
            # a different one is a 409 already); nothing changed, "whether it responds
            # with 409 Conflict or 204 No Content". A batch keeps its 200 and id array:
            # clients that POST arrays read the ids from the answer.
            return Response(status=204)
        return Response(ids, status=200)

    # --- reads --------------------------------------------------------------------------------

    def get(self, request):
        """§2.1.3: one statement by id, or a StatementResult page."""
        query = request.query_params
        self._check_parameters(request, params.GET_PARAMETERS)
        principal = request.user
        mine = self._mine_only(principal)
        if "statementId" in query or "voidedStatementId" in query:
            mark = watermark()  # not older than the statement found: see _get_one
            alias = read_alias(credential_id=principal.credential_id, floor_lsn=mark.lsn)
            return self._get_one(request, query, mine, alias, mark)
        if "more" in query:
            if len(query) != 1:
                raise BadRequest("more is used on its own", path="more")
            try:
                cursor = cursor_decode(query["more"], tenant_id=principal.tenant_id)
            except CursorError as exc:
                raise BadRequest(str(exc), path="more") from None
            spec = cursor.query
            after = (dt.datetime.fromisoformat(cursor.stored), cursor.statement_id)
        else:
            spec = params.query_spec(query, request.version.is_2_0)
            after = None
        return self._get_page(request, spec, after, mine)

    def _read_at(self, principal, *, write_mark):
        """The database alias a read may use and its response headers, from the watermark
        it runs under: taken before its query, and not older than the caller's last write
        (see ``statements.consistency``)."""
        mark = watermark(credential_id=principal.credential_id, write_mark=write_mark)
        alias = read_alias(credential_id=principal.credential_id, floor_lsn=mark.lsn)
        return alias, {CONSISTENT_THROUGH: format_timestamp(mark.consistent_through)}

    def _mine_only(self, principal) -> str | None:
        """The authority to restrict to under statements/read/mine alone (§4.2)."""
        broad = {scopes.ALL, scopes.ALL_READ, scopes.STATEMENTS_READ}
        if principal.scopes.isdisjoint(broad):
            return ifi_key(principal.authority)
        return None

    def _get_one(self, request, query, mine, alias, mark):
        if "statementId" in query and "voidedStatementId" in query:
            raise BadRequest("use statementId or voidedStatementId, not both")
        extra = set(query) - params.SINGLE_PARAMETERS
        if extra:
            raise BadRequest(
                "statementId and voidedStatementId take only attachments and format",
                path=sorted(extra)[0],
            )
        voided = "voidedStatementId" in query
        name = "voidedStatementId" if voided else "statementId"
        statement_id = params.uuid_param(query[name], name)
        output_format = params.output_format(query)
        attachments = params.boolean_param(query, "attachments")
        found = selectors.statement_get(
            tenant_id=request.user.tenant_id,
            statement_id=statement_id,
            voided=voided,
            authority=mine,
            using=alias,
        )
        if found is None:
            raise NotFound(f"no statement {statement_id}")
        through = mark.consistent_through
        if found.stored >= through:
            # A statement newer than the reused watermark (one just written, typically).
            # One statement promises nothing about a page a client goes on from, so a
            # watermark read now, after the statement committed, is as honest, and
            # covers it: the reader never sees the statement beyond the header.
            through = watermark(fresh=True).consistent_through
        definitions = self._definitions(request, [found], output_format, alias)
        body = self._render(found.payload.encode(), request, output_format, definitions)
        headers = {
            CONSISTENT_THROUGH: format_timestamp(through),
            "Last-Modified": http_date(found.stored.timestamp()),
            **_vary(output_format),
        }
        return self._respond(request, body, attachments, [found], headers, alias)

    def _get_page(self, request, spec: dict, after, mine):
        principal = request.user
        languages = (
            request.headers.get("Accept-Language", "") if spec["format"] == "canonical" else ""
        )
        attachments = spec.get("attachments", False)
        material = orjson.dumps(
            [
                request.version.value,
                spec,
                after and [after[0].isoformat(), after[1]],
                mine,
                languages,
            ],
            option=orjson.OPT_SORT_KEYS,
        )
        body, write_mark = None, UNKNOWN
        if not attachments:
            # The caller's write mark comes in the cache's round trip.
            body, generation, write_mark = query_cache.query_cache_get(
                principal.tenant_id, material, also=write_mark_key(principal.credential_id)
            )
        alias, headers = self._read_at(principal, write_mark=write_mark)
        headers.update(_vary(spec["format"]))
        if body is not None:
            return HttpResponse(body, content_type="application/json", headers=headers)
        query = selectors.StatementQuery(
            agent=spec.get("agent"),
            verb=spec.get("verb"),
            activity=spec.get("activity"),
            registration=spec.get("registration"),
            related_activities=spec["related_activities"],
            related_agents=spec["related_agents"],
            since=dt.datetime.fromisoformat(spec["since"]) if "since" in spec else None,
            until=dt.datetime.fromisoformat(spec["until"]) if "until" in spec else None,
            ascending=spec["ascending"],
            authority=mine,
        )
        page = selectors.statements_find(
            tenant_id=principal.tenant_id,
            query=query,
            limit=spec["limit"],
            after=after,
            using=alias,
        )
        more = ""
        if page.has_more:
            last = page.statements[-1]
            token = cursor_encode(
                tenant_id=principal.tenant_id,
                cursor=Cursor(spec, format_timestamp(last.stored), last.statement_id),
            )
            more = f"{request.path}?more={quote(token)}"
        definitions = self._definitions(request, page.statements, spec["format"], alias)
        rendered = [
            self._render(s.payload.encode(), request, spec["format"], definitions)
            for s in page.statements
        ]
        body = b'{"statements":[' + b",".join(rendered) + b'],"more":' + orjson.dumps(more) + b"}"
        if not attachments:
            query_cache.query_cache_put(principal.tenant_id, material, generation, body)
        return self._respond(request, body, attachments, page.statements, headers, alias)

    def _definitions(self, request, found, output_format: str, alias: str) -> dict | None:
        """For ``canonical``: the LRS's definitions of the Activities on the page
        (Communication §2.1.3, format: "populated with the canonical definition of the
        Activity Objects ... as determined by the LRS")."""
        if output_format != "canonical":
            return None
        ids = sorted(
            {
                activity_id
                for stored in found
                for activity_id in statement_activity_ids(orjson.loads(stored.payload))
            }
        )
        return selectors.activity_definitions_get(
            tenant_id=request.user.tenant_id, activity_ids=ids, using=alias
        )

    def _render(
        self, payload: bytes, request, output_format: str, definitions: dict | None = None
    ) -> bytes:
        """A stored statement as this reader asked for it (format, version)."""
        v2 = request.version.is_2_0
        if v2:
            for_version = _ISO_ONLY_TIMESTAMP(payload) is not None
        else:
            for_version = any(marker in payload for marker in _TWO_ZERO_ONLY)
        if output_format == "exact" and not for_version:
            return payload
        statement = orjson.loads(payload)
        if output_format == "ids":
            statement = formats.format_ids(statement)
        elif output_format == "canonical":
            languages = formats.parse_accept_language(request.headers.get("Accept-Language"))
            statement = formats.format_canonical(statement, languages, definitions)
        if for_version:
            statement = formats.for_reader(statement, v2=v2)
        # Extension values may nest deeper than orjson writes (Data §4.1.s3.b2).
        return json_bytes(statement)

    def _respond(self, request, body: bytes, attachments: bool, found, headers, alias: str):
        if not attachments:
            return HttpResponse(body, content_type="application/json", headers=headers)
        # From the statements' own database: attachments commit with their statements, so
        # a replica that shows a statement holds its attachments too.
        sha2s = [sha2 for statement in found for sha2 in statement.attachment_sha2]
        parts = selectors.attachments_get(
            tenant_id=request.user.tenant_id, sha2s=sha2s, using=alias
        )
        content, content_type = multipart.render_multipart(body, parts)
        return HttpResponse(content, content_type=content_type, headers=headers)
