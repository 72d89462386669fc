"""``X-Experience-API-Consistent-Through`` on responses the Statement view never saw.

Communication §2.1.3.s2.b5: the LRS MUST include the header in every response of the
Statement resource. The view sets it on what it answers, errors included
(``StatementsView.finalize_response``); a response made before the view runs (a CORS
preflight, a refused Host header) or after it failed outside DRF gets it here. The
middleware sits outside every middleware that can answer on its own.
"""

from __future__ import annotations

from statements.consistency import format_timestamp, watermark

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
# Before every statement: true whatever is stored, for when the database is unreachable.
_EPOCH = "1970-01-01T00:00:00.000000Z"
# The resource's URL and any that begins like it: a client that appends a query without its
# "?" (``/xapi/statementslimit=1``, as one conformance suite's polling does) gets a 404 that
# still says how far the LRS is consistent.
_PREFIX = "/xapi/statements"


def consistent_through_ensure(response) -> None:
    """Set the header on ``response`` unless it has one: the process's current watermark
    (``statements.consistency.watermark``), or the epoch when it cannot be read."""
    if CONSISTENT_THROUGH in response:
        return
    try:
        response[CONSISTENT_THROUGH] = format_timestamp(watermark().consistent_through)
    except Exception:
        # The database is unreachable: the header must still be there and honest.
        response[CONSISTENT_THROUGH] = _EPOCH


class ConsistentThroughMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(_PREFIX):
            consistent_through_ensure(response)
        return response
