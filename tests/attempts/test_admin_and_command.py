"""Support staff's views of projected progress, and the rebuild command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from attempts.models import VerbOutcome
from tests.attempts import cmi5
from tests.attempts.conftest import drain, store, table

ATTEMPTS = "/admin/attempts/attemptrecord/"
COMPLETIONS = "/admin/attempts/completionrecord/"


@pytest.fixture
def projected(principal):
    for name in ("ada", "bob"):
        session = cmi5.Session(actor=cmi5.learner(name))
        store(principal, *session.normal(move_on="Passed"))
    drain()
    return principal


@pytest.mark.django_db
def test_support_staff_list_a_tenants_attempts_and_search_them(support, projected):
    page = support.get(ATTEMPTS).content.decode()
    assert "Choose a tenant" in page
    assert cmi5.learner_ifi("ada") not in page
    listed = support.get(ATTEMPTS, {"tenant__id__exact": projected.tenant_id}).content.decode()
    assert cmi5.learner_ifi("ada") in listed
    assert cmi5.learner_ifi("bob") in listed
    found = support.get(
        ATTEMPTS, {"tenant__id__exact": projected.tenant_id, "q": cmi5.learner_ifi("bob")}
    ).content.decode()
    assert cmi5.learner_ifi("bob") in found
    assert cmi5.learner_ifi("ada") not in found
    completions = support.get(
        COMPLETIONS, {"tenant__id__exact": projected.tenant_id, "q": cmi5.AU}
    ).content.decode()
    assert cmi5.learner_ifi("ada") in completions


@pytest.mark.django_db
def test_support_staff_see_an_attempt_but_cannot_change_it(support, projected):
    [attempt, _] = table("attempts", projected.tenant_id)
    page = support.get(f"{ATTEMPTS}{attempt['attempt_id']}/change/")
    assert page.status_code == 200
    assert "&quot;launched&quot;" in page.content.decode()  # outcome statements, as JSON
    assert "Save" not in page.content.decode()
    response = support.post(f"{ATTEMPTS}{attempt['attempt_id']}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert len(table("attempts", projected.tenant_id)) == 2


@pytest.mark.django_db
def test_support_staff_read_the_verb_mapping_but_do_not_edit_it(support, credential):
    VerbOutcome.objects.create(
        tenant=credential.tenant, verb_id="https://example.org/verbs/aced", outcome="passed"
    )
    listed = support.get("/admin/attempts/verboutcome/").content.decode()
    assert "https://example.org/verbs/aced" in listed
    response = support.get("/admin/attempts/verboutcome/add/")
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("processes", [1, 2])
def test_rebuild_command_recreates_the_tables(projected, processes):
    """ARCHITECTURE.md §6: the tables can be rebuilt from the log (the disaster-recovery
    path), by the command, in one or several processes."""
    before = (table("attempts", projected.tenant_id), table("completions", projected.tenant_id))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM attempts")
        cursor.execute("DELETE FROM completions")
    out = io.StringIO()
    call_command(
        "rebuild_projections",
        "--tenant",
        projected.tenant_slug,
        "--processes",
        str(processes),
        stdout=out,
    )
    assert f"{projected.tenant_slug}: 2 learners, 2 groups, 10 statements" in out.getvalue()
    after = (table("attempts", projected.tenant_id), table("completions", projected.tenant_id))
    assert after == before


@pytest.mark.django_db
def test_rebuild_command_refuses_an_unknown_tenant_and_bad_counts():
    with pytest.raises(CommandError, match="no tenant"):
        call_command("rebuild_projections", "--tenant", "nobody")
    with pytest.raises(CommandError, match="--processes"):
        call_command("rebuild_projections", "--processes", "0")
