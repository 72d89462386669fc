import base64

import pytest
from django.test import Client

from statements.facts import facts_forget
from tenants.selectors import credential_cache_clear
from tests.factories import DEFAULT_SECRET, CredentialFactory

XAPI_VERSION_HEADER = "HTTP_X_EXPERIENCE_API_VERSION"


def basic(key: str, secret: str = DEFAULT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture(scope="session", autouse=True)
def _empty_test_redis():
    """Tenant ids restart with every test database; cache entries of an earlier run must
    not answer for this one."""
    from django_redis import get_redis_connection

    get_redis_connection().flushdb()


@pytest.fixture(autouse=True)
def _fresh_credential_cache():
    """The credential cache is per process; a test's rows are rolled back, its cache not."""
    credential_cache_clear()
    yield
    credential_cache_clear()


@pytest.fixture(autouse=True)
def _fresh_facts_cache():
    """What a process remembers having written to activity_definitions and known_agents
    would outlive a test's rolled-back rows."""
    facts_forget()
    yield
    facts_forget()


@pytest.fixture
def credential(db):
    return CredentialFactory()


class XAPIClient:
    """Django's test client with xAPI defaults: a version header and Basic credentials."""

    def __init__(self, credential=None, *, secret: str = DEFAULT_SECRET, version="2.0.0"):
        self.client = Client()
        self.headers = {}
        if version is not None:
            self.headers[XAPI_VERSION_HEADER] = version
        if credential is not None:
            self.headers["HTTP_AUTHORIZATION"] = basic(credential.key, secret)

    def request(self, method: str, path: str, **extra):
        return getattr(self.client, method.lower())(path, **(self.headers | extra))

    def get(self, path: str, **extra):
        return self.request("get", path, **extra)


@pytest.fixture
def support(db):
    """A Django test client logged in as a member of the read-only support-staff group."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("support", "s@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="support-staff"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def xapi(credential):
    return XAPIClient(credential)


@pytest.fixture
def log_lines():
    """JSON log lines written through the configured handler while the test runs."""
    import io
    import logging

    import orjson

    from progress_site.observability import JSONFormatter

    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JSONFormatter)]
    assert handlers, "the JSON log handler is not configured"
    previous = [handler.setStream(buffer) for handler in handlers]

    def read() -> list[dict]:
        return [orjson.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield read
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)
