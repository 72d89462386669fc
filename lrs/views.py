"""The base view for every xAPI resource, and the About resource (Communication §2.8)."""

from __future__ import annotations

import hashlib

import orjson
from django.conf import settings
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.versioning import BaseVersioning
from rest_framework.views import APIView

from lrs import alternate
from lrs.errors import BadRequest, UnsupportedMediaType
from lrs.renderers import AlwaysJSON
from lrs.versioning import HEADER, SUPPORTED, VersionError, XAPIVersion, negotiate

_NO_ALTERNATE_IN_2_0 = "the alternate request syntax (?method=) is not part of xAPI 2.0"


class XAPIVersioning(BaseVersioning):
    """Negotiates ``X-Experience-API-Version`` before authentication runs.

    Missing or unsupported versions are a 400 (§3.3.s3.b7). The negotiated version is also
    left on the Django request so the headers middleware can echo it on any response.
    """

    def determine_version(self, request, *args, **kwargs):
        try:
            version = negotiate(request.headers.get(HEADER))
        except VersionError as exc:
            raise BadRequest(str(exc)) from None
        request._request.xapi_version = version
        if version.is_2_0 and getattr(request._request, "xapi_alternate", False):
            # ARCHITECTURE.md §8: 2.0 removed the alternate request syntax.
            raise BadRequest(_NO_ALTERNATE_IN_2_0)
        return version


class LenientXAPIVersioning(BaseVersioning):
    """About must not reject a request for its version header (§2.8.s5.b4): a missing or
    unsupported one leaves ``request.version`` None. A tunnelled request (§1.3) that names
    2.0 is refused for its syntax, which 2.0 does not have (ARCHITECTURE.md §8), as on
    every other resource."""

    def determine_version(self, request, *args, **kwargs):
        try:
            version = negotiate(request.headers.get(HEADER))
        except VersionError:
            return None
        request._request.xapi_version = version
        if version.is_2_0 and getattr(request._request, "xapi_alternate", False):
            raise BadRequest(_NO_ALTERNATE_IN_2_0)
        return version


def _options(view, request, *args, **kwargs):
    """OPTIONS outside a CORS preflight (which the CORS middleware answers): ``Allow``
    alone, added by DRF's ``finalize_response``. DRF's default body describes the view from
    its docstring, which is no part of the xAPI."""
    return Response(status=204)


class _XAPIEdge:
    """What every xAPI resource does before DRF's own checks (docs/xapi.md, "The xAPI
    edge")."""

    def initial(self, request, *args, **kwargs):
        # RFC 9110 §8.4: a coded body (gzip, say) is not the document or statement it
        # encodes; stored as sent it would come back as bytes no client asked for. Refused
        # with 415 naming the one coding taken (§15.5.16).
        coding = request._request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if coding not in ("", "identity"):
            raise UnsupportedMediaType(
                "request bodies are taken without a Content-Encoding",
                headers={"Accept-Encoding": "identity"},
            )
        # Unwrap the alternate request syntax (Communication §1.3) before the version,
        # credentials and scopes are checked; DRF picks the handler from the rewritten
        # method afterwards, so the tunnelled call is handled like any other. §1.3.s3.b15
        # "The LRS MUST support the syntax above" holds for About as for the rest.
        if alternate.is_alternate(request._request):
            alternate.rewrite(request._request)
        # A method the resource does not have is a 405 whoever asks (Communication
        # §3.2.s3.b1): which methods a resource takes is no secret, so it is answered
        # before the credentials are looked at.
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class XAPIView(_XAPIEdge, APIView):
    """Base of every authenticated xAPI resource.

    Order of checks: version header (400), credentials (401, or 421 for a tenant homed in
    another region), scopes (403). ``request.version`` is an ``XAPIVersion`` and
    ``request.user`` a ``tenants.auth.Principal`` inside handlers. Subclasses declare
    ``read_scopes`` and ``write_scopes`` (see ``lrs.permissions.HasXAPIScope``).
    """

    versioning_class = XAPIVersioning
    content_negotiation_class = AlwaysJSON
    read_scopes: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] = ()
    options = _options


class AboutView(_XAPIEdge, APIView):
    """GET /xapi/about: versions served and deployment facts (§2.8), no credentials."""

    versioning_class = LenientXAPIVersioning
    content_negotiation_class = AlwaysJSON
    authentication_classes = ()
    permission_classes = (AllowAny,)
    options = _options

    def get(self, request):
        # §2.8.s5.b1 asks for the latest version of each major version. A request that
        # negotiated 1.0.x gets the 1.0 line only: 1.0.3 clients (TinCanPython, for one)
        # refuse an About listing a version they do not know, and a 1.0.3 reader must not be
        # sent what it cannot parse (ARCHITECTURE.md §8). Without a usable header, or under
        # 2.0, every supported version is listed.
        versions = [XAPIVersion.V1_0.value] if request.version is XAPIVersion.V1_0 else SUPPORTED
        # §2.8.s5.b2: nothing outside "extensions", whose keys are IRIs.
        body = {
            "version": list(versions),
            "extensions": {"urn:progress-service:about:region": settings.PROGRESS_REGION},
        }
        # §3.1.s4.b1-b4: every GET answers a quoted ETag, the SHA-1 of the body as the
        # renderer (lrs.renderers.JSONRenderer, orjson) writes it.
        etag = hashlib.sha1(orjson.dumps(body), usedforsecurity=False).hexdigest()
        return Response(body, headers={"ETag": f'"{etag}"'})
