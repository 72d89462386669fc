"""Settings for every process role, configured only through environment variables.

``.env.example`` documents each variable. ``PROGRESS_ENV`` picks the defaults:

- ``local`` (the default): everything has a working default for the services on 127.0.0.1,
  so ``make run`` and ``make test`` need no variables at all.
- ``production``: secrets and hosts have no defaults; a missing or malformed value stops
  the process at import time with a message naming the variable.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from progress_site.env import REQUIRED, Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent

PROGRESS_ENV = env.choice("PROGRESS_ENV", ("local", "production"), default="local")
LOCAL = PROGRESS_ENV == "local"
TESTING = "pytest" in sys.modules

# --- Core --------------------------------------------------------------------------------


def _default(value):
    """A default that applies in local mode only: in production the variable is required."""
    return value if LOCAL else REQUIRED


SECRET_KEY = env.str("SECRET_KEY", default=_default("local-only-insecure-secret-key"))
if not LOCAL and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters in production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_default(["127.0.0.1", "localhost", "[::1]"]))
if not LOCAL and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list host names in production, not '*'")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "lrs",
    "tenants",
    "statements",
    "documents",
    "ingest",
    "partitions",
    "attempts",
    "outbox",
]

MIDDLEWARE = [
    "progress_site.observability.RequestContextMiddleware",
    "progress_site.views.ProcessEndpointsMiddleware",
    # Outside everything that can answer on its own, so every /xapi/ response, a CORS
    # preflight or a host error included, carries the xAPI headers.
    "lrs.middleware.XAPIHeadersMiddleware",
    "statements.api.middleware.ConsistentThroughMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The session, user and messages of the admin; API requests skip them (the module
    # says why).
    "progress_site.browser_middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "progress_site.browser_middleware.AuthenticationMiddleware",
    "progress_site.browser_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "progress_site.urls"
WSGI_APPLICATION = "progress_site.wsgi.application"
# xAPI resources are addressed without a trailing slash (``/xapi/statements``); never
# redirect a POST to a slash-suffixed URL.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- PostgreSQL --------------------------------------------------------------------------
_PG_SCHEMES = ("postgres", "postgresql")
DATABASE_URL = env.url(
    "DATABASE_URL",
    _PG_SCHEMES,
    default=_default("postgres://progress:progress@127.0.0.1:5432/progress"),
)
DATABASE_REPLICA_URLS = env.url_list("DATABASE_REPLICA_URLS", _PG_SCHEMES, default=[])
DATABASE_CONN_MAX_AGE = env.int("DATABASE_CONN_MAX_AGE", default=60, minimum=0)
# Ping a reused connection before each request. Off by default: it costs a round trip on
# every request, and behind pgbouncer server restarts are hidden anyway; without it, the
# first request on a connection broken by a database restart fails and the connection is
# replaced.
DATABASE_CONN_HEALTH_CHECKS = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=DATABASE_CONN_MAX_AGE)
    config["ENGINE"] = "django.db.backends.postgresql"
    config["CONN_HEALTH_CHECKS"] = DATABASE_CONN_HEALTH_CHECKS
    # Production runs behind pgbouncer in transaction mode: no server-side cursors and no
    # named prepared statements survive a transaction there (ARCHITECTURE.md §4).
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    config.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return config


DATABASES = {"default": _database(DATABASE_URL)}
# Read replicas get their own aliases; the test runner points them at the primary's test
# database instead of creating copies.
READ_REPLICA_ALIASES: list[str] = []
for _index, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _alias = f"replica{_index}"
    DATABASES[_alias] = _database(_url) | {"TEST": {"MIRROR": "default"}}
    READ_REPLICA_ALIASES.append(_alias)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: query cache and Celery broker ------------------------------------------------
REDIS_URL = env.url(
    "REDIS_URL", ("redis", "rediss", "unix"), default=_default("redis://127.0.0.1:6379/0")
)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "progress",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}

CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL",
    ("redis", "rediss", "unix"),
    default=_default("redis://127.0.0.1:6379/1"),
)

# --- NATS JetStream -----------------------------------------------------------------------
NATS_SERVERS = env.url_list("NATS_URL", ("nats", "tls"), default=["nats://127.0.0.1:4222"])

# --- progress-ingest (docs/ingest.md) ----------------------------------------------------
PROGRESS_INGEST_STREAM = env.str("PROGRESS_INGEST_STREAM", default="PROGRESS_INGEST")
PROGRESS_INGEST_SUBJECT_PREFIX = env.str(
    "PROGRESS_INGEST_SUBJECT_PREFIX", default="progress.ingest"
)
PROGRESS_INGEST_CONSUMER = env.str("PROGRESS_INGEST_CONSUMER", default="progress-ingest")
PROGRESS_DEADLETTER_STREAM = env.str("PROGRESS_DEADLETTER_STREAM", default="PROGRESS_DEADLETTER")
PROGRESS_INGEST_DEADLETTER_SUBJECT = env.str(
    "PROGRESS_INGEST_DEADLETTER_SUBJECT", default="progress.deadletter.ingest"
)
# Statements per batch (the fetch size adapts to producers that send arrays), and the
# longest a fetch waits to fill a batch (seconds).
PROGRESS_INGEST_BATCH = env.int("PROGRESS_INGEST_BATCH", default=500, minimum=1, maximum=5000)
PROGRESS_INGEST_MAX_WAIT = env.float("PROGRESS_INGEST_MAX_WAIT", default=0.2, minimum=0.01)
# Batches stored at once, each in its own thread and database connection: while one waits
# on PostgreSQL, the next one is validated (docs/ingest.md).
PROGRESS_INGEST_STORE_THREADS = env.int(
    "PROGRESS_INGEST_STORE_THREADS", default=2, minimum=1, maximum=8
)
# Longer than the slowest batch: a message not acked by then is delivered again.
PROGRESS_INGEST_ACK_WAIT = env.float("PROGRESS_INGEST_ACK_WAIT", default=120.0, minimum=5.0)
# Deliveries before JetStream gives a message up (it then stays in the stream, unacked).
PROGRESS_INGEST_MAX_DELIVER = env.int("PROGRESS_INGEST_MAX_DELIVER", default=20, minimum=2)
PROGRESS_INGEST_METRICS_PORT = env.int(
    "PROGRESS_INGEST_METRICS_PORT", default=9108, minimum=0, maximum=65535
)

# --- progress-outbox-relay (docs/events.md) ----------------------------------------------
PROGRESS_OUTBOX_STREAM = env.str("PROGRESS_OUTBOX_STREAM", default="PROGRESS_EVENTS")
# Events go to "<prefix>.<event type>.<tenant slug>"; the stream captures "<prefix>.>".
PROGRESS_OUTBOX_SUBJECT_PREFIX = env.str(
    "PROGRESS_OUTBOX_SUBJECT_PREFIX", default="progress.events"
)
# JetStream drops a second message with the same Nats-Msg-Id (the event id) within this
# window (seconds): longer than any relay crash-and-retry cycle.
PROGRESS_OUTBOX_DUPLICATE_WINDOW = env.float(
    "PROGRESS_OUTBOX_DUPLICATE_WINDOW", default=600.0, minimum=1.0
)
# Events claimed per shard and transaction.
PROGRESS_OUTBOX_BATCH = env.int("PROGRESS_OUTBOX_BATCH", default=1000, minimum=1, maximum=10000)
# Aggregate keys hash into this many shards, each relayed by one worker at a time. A row
# keeps the shard it was written with: change the count only with an empty backlog.
PROGRESS_OUTBOX_SHARDS = env.int("PROGRESS_OUTBOX_SHARDS", default=16, minimum=1, maximum=1024)
# Failed publishes before an event is dead (kept, no longer tried, blocks its aggregate).
PROGRESS_OUTBOX_MAX_ATTEMPTS = env.int("PROGRESS_OUTBOX_MAX_ATTEMPTS", default=12, minimum=1)
# Backoff after the n-th failure: min(base * 2 ** (n - 1), max) seconds.
PROGRESS_OUTBOX_BACKOFF_BASE = env.float("PROGRESS_OUTBOX_BACKOFF_BASE", default=1.0, minimum=0.0)
PROGRESS_OUTBOX_BACKOFF_MAX = env.float("PROGRESS_OUTBOX_BACKOFF_MAX", default=300.0, minimum=0.0)
# Sent (and discarded) events are deleted by the sweep once older than this (seconds).
PROGRESS_OUTBOX_RETENTION = env.float("PROGRESS_OUTBOX_RETENTION", default=86400.0, minimum=0.0)
# A process sends at most one relay nudge per this many seconds.
PROGRESS_OUTBOX_NUDGE_DEBOUNCE = env.float(
    "PROGRESS_OUTBOX_NUDGE_DEBOUNCE", default=0.2, minimum=0.0
)
# Seconds between periodic sweeps (beat), and the longest one relay task drains.
PROGRESS_OUTBOX_SWEEP_INTERVAL = env.float(
    "PROGRESS_OUTBOX_SWEEP_INTERVAL", default=5.0, minimum=0.5
)
PROGRESS_OUTBOX_RELAY_BUDGET = env.float("PROGRESS_OUTBOX_RELAY_BUDGET", default=30.0, minimum=0.1)
# Seconds to wait for JetStream's acks of one wave of publishes.
PROGRESS_OUTBOX_ACK_TIMEOUT = env.float("PROGRESS_OUTBOX_ACK_TIMEOUT", default=10.0, minimum=0.1)
# Prometheus metrics of a relay process (0: none; the relay role sets 9109).
PROGRESS_OUTBOX_METRICS_PORT = env.int(
    "PROGRESS_OUTBOX_METRICS_PORT", default=0, minimum=0, maximum=65535
)

# --- progress-projector (docs/projection.md) ---------------------------------------------
# Queue rows claimed per projection transaction.
PROGRESS_PROJECTION_BATCH = env.int(
    "PROGRESS_PROJECTION_BATCH", default=1000, minimum=1, maximum=10000
)
# How long one drain task keeps claiming batches before handing over to a fresh task.
PROGRESS_PROJECTION_DRAIN_SECONDS = env.float(
    "PROGRESS_PROJECTION_DRAIN_SECONDS", default=30.0, minimum=0.1
)
# Expiry of the "drain already requested" mark, in milliseconds (docs/projection.md).
PROGRESS_PROJECTION_NUDGE_MS = env.int("PROGRESS_PROJECTION_NUDGE_MS", default=2000, minimum=10)
# Period of the sweeper that drains what lost nudges left.
PROGRESS_PROJECTION_SWEEP_SECONDS = env.float(
    "PROGRESS_PROJECTION_SWEEP_SECONDS", default=5.0, minimum=0.5
)
# How long a process keeps a tenant's verb mapping before reading it again.
PROGRESS_PROJECTION_MAPPING_SECONDS = env.int(
    "PROGRESS_PROJECTION_MAPPING_SECONDS", default=30, minimum=0
)
# Learners per transaction in rebuild_projections.
PROGRESS_PROJECTION_REBUILD_LEARNERS = env.int(
    "PROGRESS_PROJECTION_REBUILD_LEARNERS", default=100, minimum=1
)
# Prometheus port of a projector worker (0: none; the projector role uses 9110).
PROGRESS_PROJECTION_METRICS_PORT = env.int(
    "PROGRESS_PROJECTION_METRICS_PORT", default=0, minimum=0, maximum=65535
)
# Largest page of the internal progress API.
PROGRESS_API_LIMIT_MAX = env.int("PROGRESS_API_LIMIT_MAX", default=500, minimum=1)

# --- Tenancy, residency and auth ----------------------------------------------------------
PROGRESS_REGION = env.str("PROGRESS_REGION", default=_default("local"))
# Base URL of every region's deployment, so a request for a tenant homed elsewhere can be
# told where to go (421, ARCHITECTURE.md §3).
PROGRESS_REGION_URLS = env.mapping("PROGRESS_REGION_URLS", default={})
PROGRESS_CREDENTIAL_PEPPER = env.str(
    "PROGRESS_CREDENTIAL_PEPPER",
    # Locally the pepper is derived from SECRET_KEY so that nothing has to be set; in
    # production it is its own secret, rotated independently of SECRET_KEY.
    default=_default(hashlib.sha256(b"credential-pepper:" + SECRET_KEY.encode()).hexdigest()),
)
PROGRESS_AUTH_CACHE_SECONDS = env.int("PROGRESS_AUTH_CACHE_SECONDS", default=5, minimum=0)
PROGRESS_TRUSTED_PROXIES = env.networks("PROGRESS_TRUSTED_PROXIES", default=[])
# The homePage of the Agent the LRS writes as a statement's authority (Data §2.4.9):
# ``{"account": {"homePage": PROGRESS_AUTHORITY_HOMEPAGE, "name": <credential key>}}``.
PROGRESS_AUTHORITY_HOMEPAGE = env.url(
    "PROGRESS_AUTHORITY_HOMEPAGE", ("http", "https"), default="https://progress-service.local/"
)

# --- Statements -------------------------------------------------------------------------
# The most statements one GET returns; "limit=0" asks for this many (Communication §2.1.3).
PROGRESS_STATEMENT_LIMIT_MAX = env.int("PROGRESS_STATEMENT_LIMIT_MAX", default=500, minimum=1)
PROGRESS_QUERY_CACHE_SECONDS = env.int("PROGRESS_QUERY_CACHE_SECONDS", default=60, minimum=0)
# After a write, reads by the same credential avoid replicas that have not replayed it.
PROGRESS_READ_YOUR_WRITES_SECONDS = env.int(
    "PROGRESS_READ_YOUR_WRITES_SECONDS", default=10, minimum=1
)
# Size limits answered with 413 (Communication §3.2.s3.b11); configurable so conformance
# runs are not limited (§3.2.s3.b16).
PROGRESS_MAX_REQUEST_BYTES = env.int(
    "PROGRESS_MAX_REQUEST_BYTES", default=64 * 1024 * 1024, minimum=1024
)
# Seconds a read of a request body may wait for the client (progress_site.request_body):
# a client that stops sending mid-body is answered 400 instead of holding a worker thread.
PROGRESS_REQUEST_BODY_TIMEOUT = env.int("PROGRESS_REQUEST_BODY_TIMEOUT", default=30, minimum=1)
PROGRESS_MAX_ATTACHMENT_BYTES = env.int(
    "PROGRESS_MAX_ATTACHMENT_BYTES", default=32 * 1024 * 1024, minimum=1024
)
# Seconds a process remembers the Activity definitions and Agent names it wrote, so that
# statements repeating them cost no SQL (statements.facts).
PROGRESS_FACTS_CACHE_SECONDS = env.int("PROGRESS_FACTS_CACHE_SECONDS", default=60, minimum=0)
# State and profile documents (Communication §2.2); larger ones are a 413.
PROGRESS_MAX_DOCUMENT_BYTES = env.int(
    "PROGRESS_MAX_DOCUMENT_BYTES", default=16 * 1024 * 1024, minimum=1024
)
# Django refuses bodies above this before our 413 check could run; keep them aligned.
DATA_UPLOAD_MAX_MEMORY_SIZE = PROGRESS_MAX_REQUEST_BYTES

# --- Statement partitions -----------------------------------------------------------------
# Hash buckets for each new monthly partition; a month keeps the count it was created with.
PROGRESS_STATEMENT_BUCKETS = env.int("PROGRESS_STATEMENT_BUCKETS", default=8, minimum=1, maximum=64)
PROGRESS_PARTITION_MONTHS_AHEAD = env.int(
    "PROGRESS_PARTITION_MONTHS_AHEAD", default=3, minimum=1, maximum=24
)

# --- Celery -------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# With acks_late, a task whose worker died is redelivered rather than lost; tasks are
# idempotent so that is safe.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Workers log through Django's LOGGING (JSON lines), like every other process.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- HTTP, DRF, static --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.auth.XAPIBasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["lrs.permissions.HasXAPIScope"],
    "DEFAULT_RENDERER_CLASSES": ["lrs.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "lrs.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
}
# CORS for /xapi/ only: learning content in a browser calls the LRS from another origin.
# Credentials travel in the Authorization header, never in cookies, so allowing any origin
# (the default) grants a page nothing its script could not already send.
PROGRESS_CORS_ALLOWED_ORIGINS = env.list("PROGRESS_CORS_ALLOWED_ORIGINS", default=["*"])
CORS_URLS_REGEX = r"^/xapi/"
CORS_ALLOW_ALL_ORIGINS = "*" in PROGRESS_CORS_ALLOWED_ORIGINS
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else PROGRESS_CORS_ALLOWED_ORIGINS
CORS_ALLOW_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT")
CORS_ALLOW_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "x-experience-api-version",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Last-Modified",
    "X-Experience-API-Version",
    "X-Experience-API-Consistent-Through",
    "X-Request-ID",
)
CORS_PREFLIGHT_MAX_AGE = 86400

USE_X_FORWARDED_HOST = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not LOCAL else None
SESSION_COOKIE_SECURE = not LOCAL
CSRF_COOKIE_SECURE = not LOCAL
SECURE_CONTENT_TYPE_NOSNIFF = True

STATIC_URL = "/static/"
# Where collectstatic puts admin assets for WhiteNoise to serve. Locally there is none:
# WhiteNoise serves straight from the apps (WHITENOISE_USE_FINDERS).
STATIC_ROOT = env.str("STATIC_ROOT", default=None if LOCAL else str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve admin assets straight from the apps in local runs (no collectstatic needed).
WHITENOISE_USE_FINDERS = LOCAL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env.choice(
    "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), default="INFO"
)
LOG_FORMAT = env.choice("LOG_FORMAT", ("json", "console"), default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "progress_site.observability.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "progress_site.observability.JSONFormatter"},
        "console": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Our own exception handler logs unexpected errors once, with the request id;
        # Django's request logger would log them a second time.
        "django.request": {"level": "CRITICAL"},
    },
}
