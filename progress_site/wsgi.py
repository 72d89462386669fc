import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from progress_site.chunked import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "progress_site.settings")

application = ChunkedBodyMiddleware(
    get_wsgi_application(), limit=settings.PROGRESS_MAX_REQUEST_BYTES
)
