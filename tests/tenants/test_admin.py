"""Support-staff admin for tenants and credentials."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.test import Client

from tenants.models import Credential
from tenants.secrets import secret_matches
from tests.conftest import XAPIClient
from tests.factories import CredentialFactory, TenantFactory


@pytest.fixture
def superuser_client(db):
    user = User.objects.create_superuser("root-admin", "root@example.org", "pw-for-tests")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support_client(db):
    user = User.objects.create_user("support", "support@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="support-staff"))
    client = Client()
    client.force_login(user)
    return client


def test_support_staff_group_holds_view_permissions_only(db):
    group = Group.objects.get(name="support-staff")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_tenant", "view_credential"} <= codenames
    assert not [name for name in codenames if not name.startswith("view_")]


def test_support_staff_can_view_but_not_change(support_client):
    credential = CredentialFactory()
    assert support_client.get("/admin/tenants/credential/").status_code == 200
    change_url = f"/admin/tenants/credential/{credential.pk}/change/"
    assert support_client.get(change_url).status_code == 200
    assert support_client.get("/admin/tenants/credential/add/").status_code == 403
    response = support_client.post(change_url, {"label": "changed", "enabled": ""})
    assert response.status_code == 403
    credential.refresh_from_db()
    assert credential.enabled
    assert credential.label == ""


def test_adding_a_credential_shows_its_secret_once(superuser_client):
    tenant = TenantFactory()
    response = superuser_client.post(
        "/admin/tenants/credential/add/",
        {
            "tenant": tenant.pk,
            "key": "from-admin",
            "label": "LMS",
            "kind": "normal",
            "scopes": ["statements/write", "statements/read"],
            "allowed_networks": "",
            "enabled": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)] or [response.content.decode()]
    match = re.search(r"store it now\): (\S+)", " ".join(shown))
    assert match, shown
    secret = match.group(1)
    credential = Credential.objects.get(key="from-admin")
    assert secret_matches(key="from-admin", secret=secret, stored_hash=credential.secret_hash)
    assert XAPIClient(credential, secret=secret).get("/xapi/statements").status_code == 200
    change_page = superuser_client.get(f"/admin/tenants/credential/{credential.pk}/change/")
    assert secret not in change_page.content.decode()


def test_secret_hash_never_appears_in_admin_pages(superuser_client):
    credential = CredentialFactory()
    for url in (
        "/admin/tenants/credential/",
        f"/admin/tenants/credential/{credential.pk}/change/",
    ):
        page = superuser_client.get(url).content.decode()
        assert credential.secret_hash.split("$")[1] not in page
        assert "secret_hash" not in page


def test_rotate_action_shows_a_new_working_secret(superuser_client):
    credential = CredentialFactory()
    response = superuser_client.post(
        "/admin/tenants/credential/",
        {"action": "rotate_secret", "_selected_action": [credential.pk]},
        follow=True,
    )
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    secret = re.search(r"store it now\): (\S+)", shown).group(1)
    assert XAPIClient(credential, secret=secret).get("/xapi/statements").status_code == 200
    assert XAPIClient(credential).get("/xapi/statements").status_code == 401


def test_disable_action_takes_effect_at_once(superuser_client):
    credential = CredentialFactory()
    client = XAPIClient(credential)
    assert client.get("/xapi/statements").status_code == 200
    superuser_client.post(
        "/admin/tenants/credential/", {"action": "disable", "_selected_action": [credential.pk]}
    )
    assert client.get("/xapi/statements").status_code == 401


def test_peer_credential_needs_networks_in_the_admin_form(superuser_client):
    tenant = TenantFactory()
    response = superuser_client.post(
        "/admin/tenants/credential/add/",
        {"tenant": tenant.pk, "key": "peer-x", "kind": "peer", "scopes": ["all"], "enabled": "on"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "needs allowed networks" in response.content.decode()
    assert not Credential.objects.filter(key="peer-x").exists()
