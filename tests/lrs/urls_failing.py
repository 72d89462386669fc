"""URLs for error-handling tests: resources that fail in ways real code might."""

from django.urls import include, path

from lrs.views import XAPIView
from progress_site.urls import handler400, handler404, handler500  # noqa: F401 - read by Django


class ExplodingView(XAPIView):
    read_scopes = ("all/read",)

    def get(self, request):
        raise RuntimeError("connection string postgres://admin:hunter2@db/secret leaked")


class ExplodingMiddleware:
    """Fails on its own path, and on any path asked to with an ``X-Explode`` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/xapi/middleware-explodes" or "HTTP_X_EXPLODE" in request.META:
            raise KeyError("internal-detail-from-middleware")
        return self.get_response(request)


urlpatterns = [
    path("xapi/explodes", ExplodingView.as_view()),
    path("", include("progress_site.urls")),
]
