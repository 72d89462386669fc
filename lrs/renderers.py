import orjson
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer


class JSONRenderer(BaseRenderer):
    """Compact JSON via orjson; xAPI bodies are ``application/json`` without a charset."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data)


class AlwaysJSON(BaseContentNegotiation):
    """xAPI responses are JSON whatever the ``Accept`` header says (no 406 for ``text/*``)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
