"""The error vocabulary of the HTTP API and the one place exceptions become responses.

Every error body has the same shape::

    {"status": 400, "error": "bad_request", "message": "...", "path": "...", "requestId": "..."}

``path`` is present when the problem is located inside a document (for example
``context.contextActivities.parent[0].id``). Only messages written for the caller reach the
body; an unexpected exception becomes a generic 500 and its details go to the log with the
request id, never to the response (Communication §3.2: the status code most appropriate to
the condition, with a message explaining the cause).
"""

from __future__ import annotations

import logging
import sys

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpResponse, UnreadablePostError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from progress_site.observability import request_id_var

logger = logging.getLogger("progress.errors")


class XAPIError(Exception):
    """An error whose message is meant for the client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, path: str | None = None, headers=None, extra=None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class BadRequest(XAPIError):
    status, code = 400, "bad_request"


class Forbidden(XAPIError):
    status, code = 403, "forbidden"


class NotFound(XAPIError):
    status, code = 404, "not_found"


class Conflict(XAPIError):
    status, code = 409, "conflict"


class PreconditionFailed(XAPIError):
    status, code = 412, "precondition_failed"


class PayloadTooLarge(XAPIError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(XAPIError):
    status, code = 415, "unsupported_media_type"


class MisdirectedRequest(XAPIError):
    """The tenant is homed in another region (ARCHITECTURE.md §3, residency)."""

    status, code = 421, "wrong_region"


def error_body(status: int, code: str, message: str, *, path: str | None = None, extra=None):
    body = {"status": status, "error": code, "message": message}
    if path is not None:
        body["path"] = path
    if extra:
        body.update(extra)
    body["requestId"] = request_id_var.get()
    return body


# DRF's own exceptions carry messages we control; map them to stable codes.
_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "unauthorized",
    drf_exceptions.AuthenticationFailed: "unauthorized",
    drf_exceptions.PermissionDenied: "forbidden",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.ParseError: "bad_request",
    drf_exceptions.ValidationError: "bad_request",
    drf_exceptions.Throttled: "too_many_requests",
}


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: always returns a response, never re-raises."""
    # Imported here: rest_framework.views imports the authentication classes, which import
    # this module, at class-definition time.
    from rest_framework.views import set_rollback

    set_rollback()
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE (§3.2.s3.b11).
        exc = PayloadTooLarge("the request is larger than this LRS accepts")
    elif isinstance(exc, UnreadablePostError):
        # The client closed or stalled before its body was whole (progress_site.request_body):
        # nothing of it is acted on.
        exc = BadRequest("the request body did not arrive whole")
    elif isinstance(exc, SuspiciousOperation):
        # A request Django itself finds malformed is the client's error, not ours; its
        # text is Django's, so the body says only that.
        exc = BadRequest("the request is malformed")
    if isinstance(exc, XAPIError):
        body = error_body(exc.status, exc.code, exc.message, path=exc.path, extra=exc.extra)
        return Response(body, status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        detail = exc.detail if isinstance(exc.detail, str) else "the request is invalid"
        return Response(
            error_body(exc.status_code, code, str(detail)), exc.status_code, headers=headers
        )
    logger.error("unhandled exception in %s", context["view"].__class__.__name__, exc_info=exc)
    return Response(server_error_body(), status=500)


def server_error_body() -> dict:
    return error_body(500, "internal_error", "an unexpected error occurred; quote the requestId")


def _json_response(body: dict, status: int) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


# Django's handlers for paths outside DRF views (unknown URLs, failures in middleware).
def bad_request(request, exception=None):
    return _json_response(error_body(400, "bad_request", "the request is malformed"), 400)


def not_found(request, exception=None):
    return _json_response(error_body(404, "not_found", "no resource at this URL"), 404)


def server_error(request):
    logger.error("unhandled exception outside the API views", exc_info=sys.exc_info())
    return _json_response(server_error_body(), 500)
