"""A real third-party xAPI 1.0.3 client, TinCanPython (``tincan``), against the service over
real HTTP: save, fetch by id, query with filters, and follow ``more``."""

import uuid

import pytest
from tincan import Activity, Agent, RemoteLRS, Statement, Verb

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lrs(live_server, settings):
    from tests.factories import CredentialFactory

    settings.PROGRESS_STATEMENT_LIMIT_MAX = 2
    credential = CredentialFactory()
    return RemoteLRS(
        endpoint=f"{live_server.url}/xapi/",
        username=credential.key,
        password="correct-horse-battery-staple",
        version="1.0.3",
    )


def make(actor: str, verb: str, activity: str) -> Statement:
    return Statement(
        id=str(uuid.uuid4()),
        actor=Agent(name=actor, mbox=f"mailto:{actor}@example.org"),
        verb=Verb(id=f"http://adlnet.gov/expapi/verbs/{verb}", display={"en-US": verb}),
        object=Activity(id=f"https://courses.example.org/{activity}"),
    )


def test_tincan_saves_fetches_queries_and_pages(lrs):
    about = lrs.about()
    assert about.success
    assert "1.0.3" in about.content.version

    first = make("ada", "experienced", "intro")
    saved = lrs.save_statement(first)
    assert saved.success, saved.data
    batch = [
        make("ada", "completed", "intro"),
        make("bob", "experienced", "intro"),
        make("ada", "experienced", "advanced"),
    ]
    assert lrs.save_statements(batch).success

    fetched = lrs.retrieve_statement(first.id)
    assert fetched.success
    assert str(fetched.content.id) == str(first.id)
    assert fetched.content.verb.id == "http://adlnet.gov/expapi/verbs/experienced"

    query = lrs.query_statements({"agent": Agent(mbox="mailto:ada@example.org"), "limit": 2})
    assert query.success, query.data
    seen = [str(s.id) for s in query.content.statements]
    assert len(seen) == 2
    more = query.content.more
    assert more
    page = lrs.more_statements(more)
    assert page.success, page.data
    seen += [str(s.id) for s in page.content.statements]
    ada = {str(s.id) for s in (first, batch[0], batch[2])}
    assert set(seen) == ada

    filtered = lrs.query_statements(
        {"verb": Verb(id="http://adlnet.gov/expapi/verbs/completed"), "limit": 10}
    )
    assert [str(s.id) for s in filtered.content.statements] == [str(batch[0].id)]
