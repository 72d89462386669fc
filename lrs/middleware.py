from django.utils.cache import patch_vary_headers

from lrs.versioning import HEADER, LATEST, VersionError, negotiate


class XAPIHeadersMiddleware:
    """Headers every response under ``/xapi/`` carries, errors included.

    - Query strings are read as UTF-8 whatever charset the body declares (§1.4.s1.b1).
    - ``X-Experience-API-Version`` (Communication §3.3.s3.b1): the latest patch of the
      version line the request negotiated, or the one its header names when it was refused
      before negotiation (a broken alternate-syntax tunnel, an unknown URL), or the latest
      supported version when the header is missing or unsupported.
    - ``Cache-Control: private, no-cache`` unless a view set its own: answers hold a
      learner's data and change with every write, so no shared cache keeps them and a
      browser asks again before reusing one (with ``Last-Modified`` and no directive, RFC
      9111 §4.2.2 would let it serve a stale State document heuristically).
    - HEAD answers as GET without the body (§1.1.s3.b1), keeping the GET's Content-Length;
      a HEAD tunnelled through the alternate syntax (§1.3) came as a POST, whose response
      the client reads by its Content-Length, so there it is 0.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # "/xapi" is the LRS's base URL too, without the slash its resources hang from.
        if not (request.path.startswith("/xapi/") or request.path == "/xapi"):
            return self.get_response(request)
        # Communication §1.4.s1.b1: strings are UTF-8, the query string's too. Django would
        # decode it with the body's Content-Type charset (a document sent as latin-1 would
        # be stored under a garbled id).
        request.encoding = "utf-8"
        response = self.get_response(request)
        version = getattr(request, "xapi_version", None) or _named_version(request)
        response[HEADER] = version.header
        patch_vary_headers(response, (HEADER,))
        if "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-cache"
        if request.method == "HEAD" and not response.streaming:
            length = 0 if getattr(request, "xapi_alternate", False) else len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        return response


def _named_version(request):
    try:
        return negotiate(request.headers.get(HEADER))
    except VersionError:
        return LATEST
