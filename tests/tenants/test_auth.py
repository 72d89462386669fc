"""HTTP Basic authentication and scopes (Communication §4.0, §4.2, §3.2)."""

import base64
import ipaddress

import orjson
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tenants import services
from tenants.auth import client_address, parse_basic
from tenants.models import Credential
from tenants.scopes import ALL_READ, DEFINE, PROFILE, STATE, STATEMENTS_READ_MINE, STATEMENTS_WRITE
from tenants.secrets import secret_hash, secret_matches
from tests.conftest import XAPIClient, basic
from tests.factories import CredentialFactory, TenantFactory

STATEMENTS = "/xapi/statements"
ALLOWED = "past the gate"


def passed_gate(response) -> bool:
    """Authenticated and authorized: whatever the resource answers next (200, a 400 for
    missing parameters, a 404 for a document not there), it is not a refusal."""
    return response.status_code not in (401, 403, 421)


def body(response) -> dict:
    return orjson.loads(response.content)


# --- credentials ------------------------------------------------------------------------


def test_valid_credentials_are_accepted(credential):
    """§4.0.s3.b1: HTTP Basic authentication (§4.0.s2.b2) is supported."""
    assert passed_gate(XAPIClient(credential).get(STATEMENTS))


def test_missing_credentials_get_401_with_www_authenticate(db):
    """§3.2.s2.b2: 401 indicates that authentication is required; RFC 7235 requires the
    challenge header with it."""
    response = XAPIClient(None).get(STATEMENTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Basic realm="xAPI"')
    assert body(response)["error"] == "unauthorized"


def test_wrong_secret_is_refused_with_401(credential):
    """§3.2.s2.b2: credentials posted in the request and refused are a 401."""
    response = XAPIClient(credential, secret="not-the-secret-at-all").get(STATEMENTS)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert body(response)["message"] == "invalid credentials"


def test_unknown_key_is_refused_like_a_wrong_secret(db):
    response = XAPIClient(None).get(
        STATEMENTS, HTTP_AUTHORIZATION=basic("nobody", "whatever-secret")
    )
    assert response.status_code == 401
    assert body(response)["message"] == "invalid credentials"


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b":secret-without-key").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Bearer some-token",
    ],
)
def test_malformed_authorization_header_is_refused_with_401(db, header):
    response = XAPIClient(None).get(STATEMENTS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_disabled_credential_is_refused(credential):
    services.credential_set_enabled(credential=credential, enabled=False)
    response = XAPIClient(credential).get(STATEMENTS)
    assert response.status_code == 401
    assert "disabled" in body(response)["message"]


def test_disabled_tenant_refuses_all_its_credentials(credential):
    services.tenant_set_enabled(tenant=credential.tenant, enabled=False)
    response = XAPIClient(credential).get(STATEMENTS)
    assert response.status_code == 401
    assert "tenant is disabled" in body(response)["message"]


def test_a_secret_only_works_with_its_own_key(db):
    first = CredentialFactory(secret="the-shared-secret-value")
    second = CredentialFactory(secret="the-shared-secret-value")
    assert first.secret_hash != second.secret_hash
    assert passed_gate(XAPIClient(first, secret="the-shared-secret-value").get(STATEMENTS))


# --- scopes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        ([STATE], "get", STATEMENTS, 403),
        ([STATE], "get", "/xapi/activities/state", ALLOWED),
        ([STATE], "put", "/xapi/activities/state", ALLOWED),
        ([PROFILE], "post", "/xapi/agents/profile", ALLOWED),
        ([PROFILE], "get", "/xapi/activities/state", 403),
        ([STATEMENTS_WRITE], "post", STATEMENTS, ALLOWED),
        ([STATEMENTS_WRITE], "get", STATEMENTS, 403),
        ([STATEMENTS_READ_MINE], "get", STATEMENTS, ALLOWED),
        ([STATEMENTS_READ_MINE], "put", STATEMENTS, 403),
        ([ALL_READ], "get", STATEMENTS, ALLOWED),
        ([ALL_READ], "get", "/xapi/agents/profile", ALLOWED),
        ([ALL_READ], "post", STATEMENTS, 403),
        ([ALL_READ], "delete", "/xapi/activities/state", 403),
        ([DEFINE], "get", "/xapi/activities", ALLOWED),
        ([DEFINE], "get", STATEMENTS, 403),
    ],
)
def test_scopes_gate_each_resource_and_method(db, scopes, method, path, status):
    """§4.2.s2 scope table; §3.2.s3.b10: 403 when the credentials do not have permission."""
    credential = CredentialFactory(scopes=scopes)
    response = XAPIClient(credential).request(method, path)
    if status == ALLOWED:
        assert passed_gate(response)
    else:
        assert response.status_code == status
        assert body(response)["error"] == "forbidden"


@pytest.mark.parametrize("method", ["get", "head", "put", "post", "delete"])
@pytest.mark.parametrize("path", [STATEMENTS, "/xapi/activities/state", "/xapi/agents"])
def test_scope_all_allows_everything(credential, method, path):
    """§4.2.s2: "all" is unrestricted access."""
    assert passed_gate(XAPIClient(credential).request(method, path))


def test_default_scopes_are_write_and_read_mine(db):
    """§4.2.s5.b2: with no scope given, assume statements/write and statements/read/mine."""
    issued = services.credential_create(tenant=TenantFactory(), key="defaults")
    assert issued.credential.scopes == [STATEMENTS_WRITE, STATEMENTS_READ_MINE]


# --- network allowlist, peer LRS, residency ------------------------------------------------


def test_allowlisted_credential_works_from_inside_its_network(db):
    credential = CredentialFactory(allowed_networks=["127.0.0.0/8"])
    response = XAPIClient(credential).get(STATEMENTS, REMOTE_ADDR="127.0.0.5")
    assert passed_gate(response)


def test_allowlisted_credential_is_forbidden_from_outside_its_network(db):
    credential = CredentialFactory(allowed_networks=["10.20.0.0/16"])
    response = XAPIClient(credential).get(STATEMENTS, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 403
    assert "address" in body(response)["message"]


@override_settings(PROGRESS_TRUSTED_PROXIES=[ipaddress.ip_network("127.0.0.0/8")])
def test_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies(db):
    credential = CredentialFactory(allowed_networks=["192.0.2.0/24"])
    client = XAPIClient(credential)
    through_proxy = client.get(
        STATEMENTS, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7"
    )
    assert passed_gate(through_proxy)
    spoofed = client.get(STATEMENTS, REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert spoofed.status_code == 403


def test_client_address_ignores_entries_left_of_an_untrusted_hop():
    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.9, 198.51.100.4, 10.0.0.3"}
    assert client_address(meta, trusted) == ipaddress.ip_address("198.51.100.4")
    assert client_address({"REMOTE_ADDR": "garbage"}, trusted) is None


@pytest.fixture
def peer(db):
    issued = services.credential_create(
        tenant=TenantFactory(),
        key="peer-lrs",
        secret="peer-secret-long-enough",
        scopes=["all"],
        kind=Credential.Kind.PEER,
        allowed_networks=["127.0.0.0/8"],
    )
    return issued


def test_peer_lrs_credential_needs_its_api_key_header(peer):
    client = XAPIClient(peer.credential, secret=peer.secret)
    assert client.get(STATEMENTS, REMOTE_ADDR="127.0.0.1").status_code == 401
    wrong = client.get(STATEMENTS, REMOTE_ADDR="127.0.0.1", HTTP_X_API_KEY="wrong")
    assert wrong.status_code == 401
    right = client.get(STATEMENTS, REMOTE_ADDR="127.0.0.1", HTTP_X_API_KEY=peer.peer_key)
    assert passed_gate(right)


def test_peer_lrs_credential_is_bound_to_its_networks(peer):
    client = XAPIClient(peer.credential, secret=peer.secret)
    response = client.get(STATEMENTS, REMOTE_ADDR="203.0.113.9", HTTP_X_API_KEY=peer.peer_key)
    assert response.status_code == 403


@override_settings(PROGRESS_REGION_URLS={"eu-west": "https://eu-west.progress.example"})
def test_tenant_homed_in_another_region_gets_421_with_its_base_url(db):
    """ARCHITECTURE.md §3: requests for a tenant homed elsewhere are refused with 421."""
    credential = CredentialFactory(tenant=TenantFactory(home_region="eu-west"))
    response = XAPIClient(credential).get(STATEMENTS)
    assert response.status_code == 421
    assert body(response)["region"] == "eu-west"
    assert body(response)["baseUrl"] == "https://eu-west.progress.example"


# --- the credential cache ------------------------------------------------------------------


def test_cached_credential_is_reread_after_the_ttl(credential):
    """A change made by another process (here: straight in the table) is seen once the
    cache entry expires; with a zero TTL that is the next request."""
    client = XAPIClient(credential)
    assert passed_gate(client.get(STATEMENTS))
    Credential.objects.filter(pk=credential.pk).update(enabled=False)
    assert passed_gate(client.get(STATEMENTS))  # still cached (TTL 5 s)
    with override_settings(PROGRESS_AUTH_CACHE_SECONDS=0):
        assert client.get(STATEMENTS).status_code == 401


def test_rotating_a_secret_invalidates_the_old_one_at_once(credential):
    client = XAPIClient(credential)
    assert passed_gate(client.get(STATEMENTS))
    issued = services.credential_rotate_secret(credential=credential)
    assert client.get(STATEMENTS).status_code == 401
    assert passed_gate(XAPIClient(credential, secret=issued.secret).get(STATEMENTS))


def _credential_queries(context) -> list[str]:
    # Only reads of the credential table count: every Statements response also carries
    # X-Experience-API-Consistent-Through (§2.1.3.s2.b5), whose watermark is its own
    # short-lived cache and may or may not be fresh when a test starts.
    return [q["sql"] for q in context.captured_queries if '"tenants_credential"' in q["sql"]]


def test_unknown_keys_are_cached_as_misses(db):
    client = XAPIClient(None)
    header = basic("ghost", "ghost-secret-value")
    with CaptureQueriesContext(connection) as context:
        assert client.get(STATEMENTS, HTTP_AUTHORIZATION=header).status_code == 401
        assert client.get(STATEMENTS, HTTP_AUTHORIZATION=header).status_code == 401
    assert len(_credential_queries(context)) == 1


def test_a_cached_credential_costs_no_query(credential):
    client = XAPIClient(credential)
    with CaptureQueriesContext(connection) as context:
        assert passed_gate(client.get(STATEMENTS))
        assert passed_gate(client.get(STATEMENTS))
    assert len(_credential_queries(context)) == 1


# --- pure pieces ---------------------------------------------------------------------------


def test_parse_basic_keeps_colons_in_the_secret():
    header = "Basic " + base64.b64encode(b"key:sec:ret").decode()
    assert parse_basic(header) == ("key", "sec:ret")


def test_secret_hash_is_keyed_and_bound_to_the_key(settings):
    stored = secret_hash(key="k1", secret="s" * 20)
    assert stored.startswith("hmac-sha256$")
    assert secret_matches(key="k1", secret="s" * 20, stored_hash=stored)
    assert not secret_matches(key="k2", secret="s" * 20, stored_hash=stored)
    settings.PROGRESS_CREDENTIAL_PEPPER = "another-pepper"
    assert not secret_matches(key="k1", secret="s" * 20, stored_hash=stored)
