import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from progress_site.request_body import RequestBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")

application = RequestBodyMiddleware(
    get_wsgi_application(),
    limit=settings.PROGRESS_MAX_REQUEST_BYTES,
    timeout=settings.PROGRESS_REQUEST_BODY_TIMEOUT,
)
