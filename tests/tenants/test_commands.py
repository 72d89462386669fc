"""The ops commands tenant_create, credential_create and credential_disable."""

import orjson
import pytest
from django.core.management import CommandError, call_command

from tenants.models import Credential, Tenant
from tenants.secrets import secret_matches
from tests.conftest import XAPIClient
from tests.factories import TenantFactory


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_tenant_create_defaults_region_and_name(db, settings):
    output = run("tenant_create", "acme")
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.home_region == settings.PROGRESS_REGION
    assert tenant.name == "acme"
    assert "tenant acme created" in output


def test_tenant_create_takes_name_and_region(db):
    run("tenant_create", "globex", "--name", "Globex Corp", "--region", "eu-west")
    tenant = Tenant.objects.get(slug="globex")
    assert (tenant.name, tenant.home_region) == ("Globex Corp", "eu-west")


def test_tenant_create_refuses_a_taken_slug(db):
    run("tenant_create", "acme")
    with pytest.raises(CommandError, match="already exists"):
        run("tenant_create", "acme")


@pytest.mark.parametrize("slug", ["Acme", "a.b", "a_b", "-x", "x-", "a*", "a" * 64])
def test_tenant_create_refuses_slugs_unfit_for_nats_subjects_and_urls(db, slug):
    with pytest.raises(CommandError, match="slug"):
        run("tenant_create", slug)


def test_credential_create_with_a_chosen_secret_does_not_print_it(db):
    TenantFactory(slug="acme")
    output = orjson.loads(
        run(
            "credential_create",
            "acme",
            "--key",
            "lms",
            "--secret",
            "a-chosen-secret-123",
            "--scopes",
            "all",
        )
    )
    assert output == {
        "tenant": "acme",
        "key": "lms",
        "scopes": ["all"],
        "kind": "normal",
        "allowed_networks": [],
    }
    credential = Credential.objects.get(key="lms")
    assert secret_matches(
        key="lms", secret="a-chosen-secret-123", stored_hash=credential.secret_hash
    )
    assert "a-chosen-secret-123" not in credential.secret_hash


def test_credential_create_without_secret_generates_and_prints_it_once(db):
    TenantFactory(slug="acme")
    output = orjson.loads(run("credential_create", "acme", "--key", "lrp", "--scopes", "all"))
    secret = output["secret"]
    assert len(secret) >= 40
    credential = Credential.objects.get(key="lrp")
    response = XAPIClient(credential, secret=secret).get("/xapi/statements")
    assert response.status_code == 200  # authenticated and authorized


def test_credential_create_scopes_default_to_the_spec_default(db):
    """Communication §4.2.s5.b2: no scope given means statements/write and
    statements/read/mine."""
    TenantFactory(slug="acme")
    output = orjson.loads(run("credential_create", "acme", "--key", "key1"))
    assert output["scopes"] == ["statements/write", "statements/read/mine"]


def test_credential_create_keeps_several_scopes_in_spec_order(db):
    TenantFactory(slug="acme")
    output = orjson.loads(
        run(
            "credential_create",
            "acme",
            "--key",
            "key1",
            "--scopes",
            "state",
            "statements/read",
            "state",
        )
    )
    assert output["scopes"] == ["statements/read", "state"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "everything"], "unknown scope"),
        (["--secret", "short"], "at least 16"),
        (["--kind", "peer"], "allowed network"),
        (["--allow-network", "not-a-network"], "not a CIDR"),
    ],
)
def test_credential_create_refuses_bad_input(db, args, message):
    TenantFactory(slug="acme")
    with pytest.raises(CommandError, match=message):
        run("credential_create", "acme", "--key", "key1", *args)
    assert not Credential.objects.exists()


def test_credential_create_refuses_unknown_tenant_and_taken_key(db):
    with pytest.raises(CommandError, match="no tenant"):
        run("credential_create", "ghost", "--key", "key1")
    TenantFactory(slug="acme")
    run("credential_create", "acme", "--key", "key1")
    with pytest.raises(CommandError, match="already taken"):
        run("credential_create", "acme", "--key", "key1")


def test_peer_credential_gets_an_api_key_printed_once(db):
    TenantFactory(slug="acme")
    output = orjson.loads(
        run(
            "credential_create",
            "acme",
            "--key",
            "peer",
            "--kind",
            "peer",
            "--allow-network",
            "192.0.2.0/24",
        )
    )
    assert output["kind"] == "peer"
    assert output["allowed_networks"] == ["192.0.2.0/24"]
    assert len(output["api_key"]) >= 40


def test_credential_disable_and_enable(credential):
    client = XAPIClient(credential)
    run("credential_disable", credential.key)
    assert client.get("/xapi/statements").status_code == 401
    run("credential_disable", credential.key, "--enable")
    assert client.get("/xapi/statements").status_code == 200
    with pytest.raises(CommandError, match="no credential"):
        run("credential_disable", "ghost")


def test_demo_setup_is_stable_across_runs_and_prints_working_curl_lines(db, tmp_path, settings):
    settings.BASE_DIR = tmp_path
    first = run("demo_setup", "--port", "8123")
    second = run("demo_setup", "--port", "8123")
    assert first == second  # the stored secret is reused, not rotated
    assert "curl -s -u demo:" in first
    assert "http://127.0.0.1:8123/xapi/about" in first
    stored = orjson.loads((tmp_path / ".run" / "demo-credential.json").read_bytes())
    credential = Credential.objects.get(key="demo")
    assert (
        XAPIClient(credential, secret=stored["secret"]).get("/xapi/statements").status_code == 200
    )


def test_demo_setup_refuses_to_run_outside_local_mode(db, settings):
    settings.LOCAL = False
    with pytest.raises(CommandError, match="PROGRESS_ENV=local"):
        run("demo_setup")
