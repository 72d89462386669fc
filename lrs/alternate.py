"""Alternate request syntax (Communication §1.3): an xAPI call tunnelled through a form POST.

``POST /xapi/statements?method=PUT`` with an ``application/x-www-form-urlencoded`` body whose
fields carry the headers (Authorization, X-Experience-API-Version, Content-Type,
Content-Length, If-Match, If-None-Match), the content (``content``) and every query
parameter. ``rewrite`` turns such a request back into the call it stands for, before
version negotiation and authentication run, so the rest of the stack never knows. xAPI 2.0
drops the syntax (ARCHITECTURE.md §8): the rewritten request remembers that it was
tunnelled, and the version check refuses it under 2.0.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict

from lrs.errors import BadRequest, PayloadTooLarge
from lrs.params import content_length

_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
# Form fields the LRS MUST treat as headers (§1.3), by their META names.
_HEADER_FIELDS = {
    "authorization": "HTTP_AUTHORIZATION",
    "x-experience-api-version": "HTTP_X_EXPERIENCE_API_VERSION",
    "content-type": "CONTENT_TYPE",
    "content-length": "CONTENT_LENGTH",
    "if-match": "HTTP_IF_MATCH",
    "if-none-match": "HTTP_IF_NONE_MATCH",
}
_CONTENT_FIELDS = {"CONTENT_TYPE", "CONTENT_LENGTH"}
# The form's own media type is a SHOULD* (§1.3.s3.b9), and the clients the syntax exists for
# (browsers' cross-origin requests without preflight, such as XDomainRequest) can send only
# text/plain or nothing: those bodies are read as the form too. Anything else names a body
# that is not a form.
_FORM_TYPES = {"application/x-www-form-urlencoded", "text/plain", ""}


def is_alternate(request) -> bool:
    return request.method == "POST" and "method" in request.GET


def rewrite(request) -> None:
    """Rewrite a tunnelled Django request in place into the call it carries.

    Raises ``BadRequest`` when the tunnel itself breaks §1.3: other query parameters than
    ``method``, an unknown method, or a body that is not a form, or not UTF-8 (§1.3.s3.b5,
    §1.4.s1.b1); ``PayloadTooLarge`` for a form larger than a request may be (§3.2.s3.b11).
    """
    if len(request.GET.getlist("method")) > 1:
        # Which call is tunnelled must not depend on which of two values is read.
        raise BadRequest("the method parameter is given more than once", path="method")
    method = request.GET["method"].upper()
    if method not in _METHODS:
        raise BadRequest(f"method {request.GET['method']!r} is not an xAPI method", path="method")
    if set(request.GET) != {"method"}:
        raise BadRequest(
            "with the alternate request syntax every parameter but method goes in the form"
        )
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        raise BadRequest(
            "the alternate request syntax sends an application/x-www-form-urlencoded form"
        )
    # The form is read before the view's own size check runs on the content it carries.
    if content_length(request) > settings.PROGRESS_MAX_REQUEST_BYTES:
        raise PayloadTooLarge("the request is larger than this LRS accepts")
    # The content is interpreted as a UTF-8 string (§1.3.s3.b5): bytes that are not UTF-8,
    # raw or percent-encoded, are refused rather than replaced, which would store a
    # statement other than the one sent.
    try:
        fields = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the form of an alternate request must be UTF-8") from None
    query = QueryDict(mutable=True)
    content = ""
    # Headers the tunnel itself was sent with. The LRS treats the form's header fields as
    # header parameters (§1.3.s3.b7), so a field that names another value than the same
    # header of the request leaves the request saying two things: a 400 rather than a
    # guess at which one the client meant (the value is not echoed: it may be a
    # credential). The same value in both is one header. Content-Type and Content-Length
    # are the exception: in the HTTP header they describe the form, so the form's own
    # describe the content (§1.3.s3.b9-b12).
    sent = {
        meta: request.META[meta].strip()
        for meta in _HEADER_FIELDS.values()
        if meta not in _CONTENT_FIELDS and request.META.get(meta)
    }
    in_form: dict[str, str] = {}
    for name, value in fields:
        header = _HEADER_FIELDS.get(name.lower())
        if header in sent:
            if value.strip() != sent[header]:
                raise BadRequest(
                    f"the form's {name} field differs from the request's {name} header",
                    path=name,
                )
            continue
        if header is not None:
            if in_form.setdefault(header, value) != value:
                raise BadRequest(f"the form gives {name} twice, differently", path=name)
            request.META[header] = value
        elif name == "content":
            content = value
        else:
            query.appendlist(name, value)
    body = content.encode("utf-8")
    if "CONTENT_LENGTH" in request.META or body:
        request.META["CONTENT_LENGTH"] = str(len(body))
    if not any(name.lower() == "content-type" for name, _ in fields):
        request.META["CONTENT_TYPE"] = "application/json" if body else ""
    query._mutable = False
    request.GET = query
    request._body = body
    # request.headers is computed from META once and cached; drop it so the tunnelled
    # headers are seen.
    request.__dict__.pop("headers", None)
    request.method = method
    request.META["REQUEST_METHOD"] = method
    request.xapi_alternate = True
