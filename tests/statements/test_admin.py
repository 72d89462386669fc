"""The read-only statement browser for support staff."""

import orjson
import pytest

from statements import services
from statements.xapi.validate import validate_statement
from tests.factories import CredentialFactory
from tests.statements import builders
from tests.statements.test_store import principal_for

URL = "/admin/statements/statementrecord/"


@pytest.fixture
def stored(db):
    credential = CredentialFactory()
    principal = principal_for(credential)
    documents = [
        builders.statement(actor=builders.agent("ada")),
        builders.statement(
            actor=builders.agent("bob"), verb="http://adlnet.gov/expapi/verbs/completed"
        ),
    ]
    services.statements_store(
        principal=principal,
        statements=[validate_statement(d, v2=True) for d in documents],
        v2=True,
    )
    return credential.tenant, documents


def test_nothing_is_listed_until_a_tenant_is_chosen(support, stored):
    tenant, documents = stored
    page = support.get(URL).content.decode()
    assert documents[0]["id"] not in page
    assert "Choose a tenant" in page
    listed = support.get(f"{URL}?tenant__id__exact={tenant.pk}").content.decode()
    assert "mbox:mailto:ada@example.org" in listed
    assert "mbox:mailto:bob@example.org" in listed


@pytest.mark.parametrize(
    ("term", "expected", "absent"),
    [
        ("actor:mbox:mailto:ada@example.org", "ada@", "bob@"),
        ("mbox:mailto:bob@example.org", "bob@", "ada@"),
        ("verb:http://adlnet.gov/expapi/verbs/completed", "bob@", "ada@"),
        ("http://adlnet.gov/expapi/verbs/completed", "bob@", "ada@"),
    ],
)
def test_search_by_actor_verb_activity_and_ids(support, stored, term, expected, absent):
    tenant, _ = stored
    page = support.get(URL, {"tenant__id__exact": tenant.pk, "q": term}).content.decode()
    assert expected in page
    assert absent not in page


def test_search_by_statement_id(support, stored):
    tenant, documents = stored
    page = support.get(URL, {"tenant__id__exact": tenant.pk, "q": documents[1]["id"]})
    assert "bob@" in page.content.decode()
    assert "ada@" not in page.content.decode()


def test_detail_shows_the_raw_json_and_nothing_is_editable(support, stored):
    tenant, documents = stored
    response = support.get(f"{URL}{tenant.pk}:{documents[0]['id']}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "&quot;mbox&quot;: &quot;mailto:ada@example.org&quot;" in page
    assert "Save" not in page
    assert support.get(f"{URL}add/").status_code == 403
    assert support.post(f"{URL}{tenant.pk}:{documents[0]['id']}/delete/").status_code == 403


def test_unknown_statement_page_is_a_redirect_with_a_message(support, stored):
    tenant, _ = stored
    response = support.get(f"{URL}{tenant.pk}:00000000-0000-4000-8000-000000000000/change/")
    assert response.status_code == 302


def test_stored_payload_is_what_the_api_serves(support, stored):
    tenant, documents = stored
    page = support.get(f"{URL}{tenant.pk}:{documents[1]['id']}/change/").content.decode()
    assert orjson.dumps(documents[1]["verb"]["id"]).decode().strip('"') in page
