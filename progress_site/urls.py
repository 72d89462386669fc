from django.contrib import admin
from django.urls import include, path

# /healthz, /readyz and /metrics are served by progress_site.views.ProcessEndpointsMiddleware.
urlpatterns = [
    path("xapi/", include("statements.api.urls")),
    path("xapi/", include("documents.api.urls")),
    path("xapi/", include("lrs.urls")),
    path("api/v1/", include("attempts.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "lrs.errors.bad_request"
handler404 = "lrs.errors.not_found"
handler500 = "lrs.errors.server_error"
