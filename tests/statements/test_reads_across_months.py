"""Statement reads over many monthly partitions (Communication §2.1.3, §2.1.4; migration 0009).

A page is read window by window, each query bounded by literal ``stored`` times so that
PostgreSQL plans only the months it covers; reads by id go through ``statement_by_id``.
These tests store statements months apart and check that every page, whatever its
windows, holds exactly what one query over all time would return, in order.
"""

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction

from lrs.errors import BadRequest, Conflict
from partitions.services import month_add, month_start, month_table, partition_ensure_month
from statements import selectors, services
from statements.selectors import StatementQuery
from statements.services import statement_prepare, statement_refs_record, statements_copy
from statements.xapi.validate import validate_statement
from tests.factories import CredentialFactory
from tests.statements import builders
from tests.statements.test_store import principal_for

NOW = dt.datetime.now(dt.UTC)
THIS_MONTH = month_start(NOW.date())
# Months back from the current one: statements in every window of a page (this month and
# later, the month before, the rest), with an empty month among them.
MONTHS_BACK = (0, 1, 2, 3, 5)
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture
def months(db):
    for back in range(0, 6):
        partition_ensure_month(month=month_add(THIS_MONTH, -back))


@pytest.fixture
def principal(credential, months):
    return principal_for(credential)


def stored_in(back: int, second: int = 0) -> dt.datetime:
    """A time in the month ``back`` months ago, ordered by ``second`` within it; in the
    current month, between its start and now."""
    month = month_add(THIS_MONTH, -back)
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    if back == 0:
        return start + (NOW - start) * (second / 60)
    return start + dt.timedelta(days=2, seconds=second)


def put(principal, document: dict, stored: dt.datetime) -> str:
    """Store ``document`` as if it had arrived at ``stored``."""
    prepared = statement_prepare(
        validate_statement(document, v2=True), principal=principal, stored=stored, v2=True
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO statement_ids (tenant_id, statement_id, stored) VALUES (%s, %s, %s)",
            [principal.tenant_id, prepared.statement_id, stored],
        )
        statements_copy(cursor.cursor, tenant_id=principal.tenant_id, rows=[prepared])
        statement_refs_record(cursor, tenant_id=principal.tenant_id, rows=[prepared])
    return prepared.statement_id


@pytest.fixture
def spread(principal):
    """Two statements a month in MONTHS_BACK, the earlier one ``completed``; returns their
    ``stored`` times and ids newest first (the default order)."""
    stored = []
    for back in MONTHS_BACK:
        for second in (10, 20):
            verb = COMPLETED if second == 10 else builders.EXPERIENCED
            moment = stored_in(back, second=second)
            stored.append((moment, put(principal, builders.statement(verb=verb), moment)))
    stored.sort(reverse=True)
    return stored


def completed(spread) -> list[str]:
    """The ids of ``spread``'s ``completed`` statements (every second one from the newest)."""
    return [statement_id for _, statement_id in spread[1::2]]


def read_all(principal, query: StatementQuery, limit: int) -> list[str]:
    """Every page of ``query``, following the cursor as ``more`` does."""
    ids, after = [], None
    while True:
        page = selectors.statements_find(
            tenant_id=principal.tenant_id, query=query, limit=limit, after=after
        )
        ids += [s.statement_id for s in page.statements]
        if not page.has_more:
            return ids
        last = page.statements[-1]
        after = (last.stored, last.statement_id)


@pytest.mark.parametrize("limit", [1, 3, 5, 100])
def test_pages_over_many_months_hold_every_statement_once_newest_first(principal, spread, limit):
    """§2.1.3: statements are returned newest first (``ascending`` false) and a page
    continues where the last one ended, across partitions and windows."""
    assert read_all(principal, StatementQuery(), limit) == [i for _, i in spread]


@pytest.mark.parametrize("limit", [1, 4, 100])
def test_ascending_pages_over_many_months_hold_every_statement_once_oldest_first(
    principal, spread, limit
):
    """§2.1.3 ``ascending``: oldest first, with and without ``since``."""
    oldest_first = [i for _, i in reversed(spread)]
    assert read_all(principal, StatementQuery(ascending=True), limit) == oldest_first
    since = spread[-3][0]  # the third oldest's stored time: later statements only
    query = StatementQuery(ascending=True, since=since)
    assert read_all(principal, query, limit) == oldest_first[3:]


def test_since_and_until_across_months_keep_their_bounds(principal, spread):
    """§2.1.3: ``since`` exclusive, ``until`` inclusive, whichever months they fall in."""
    since, until = spread[-2][0], spread[2][0]
    query = StatementQuery(since=since, until=until)
    expected = [i for moment, i in spread if since < moment <= until]
    assert read_all(principal, query, 2) == expected
    assert len(expected) == len(spread) - 4


def test_a_filter_finds_matches_in_months_far_apart(principal, spread):
    """§2.1.3 ``verb``: the matches of a filter, half the statements of every month."""
    assert read_all(principal, StatementQuery(verb=COMPLETED), 2) == completed(spread)


@pytest.mark.parametrize(
    ("ascending", "bound"),
    [(True, "since"), (False, "until"), (True, "until"), (False, "since")],
)
def test_bounds_at_the_ends_of_the_calendar_read_without_error(principal, spread, ascending, bound):
    """§2.1.3 ``since``/``until`` take any timestamp: the windows stop at years 1 and 9999
    instead of stepping past them."""
    extreme = {
        "since": dt.datetime(9999, 12, 15, tzinfo=dt.UTC),
        "until": dt.datetime(1, 1, 15, tzinfo=dt.UTC),
    }[bound]
    query = StatementQuery(ascending=ascending, **{bound: extreme})
    assert read_all(principal, query, 2) == []
    far = {
        "since": dt.datetime(1, 1, 15, tzinfo=dt.UTC),
        "until": dt.datetime.max.replace(tzinfo=dt.UTC),
    }
    wide = StatementQuery(ascending=ascending, **{bound: far[bound]})
    expected = [i for _, i in (reversed(spread) if ascending else spread)]
    assert read_all(principal, wide, 3) == expected


def test_a_statement_ref_chain_into_an_older_month_matches_the_target_filter(principal):
    """§2.1.3 "Filter Conditions for StatementRefs": a statement whose object is a
    StatementRef matches a filter that its target matches, wherever the target is stored."""
    learner = builders.agent("far-back")
    target = put(principal, builders.statement(actor=learner), stored_in(5))
    ref = builders.statement(
        actor=builders.agent("commenter"), obj={"objectType": "StatementRef", "id": target}
    )
    referring = put(principal, ref, stored_in(0, second=30))
    ref_of_ref = builders.statement(
        actor=builders.agent("other"), obj={"objectType": "StatementRef", "id": referring}
    )
    chained = put(principal, ref_of_ref, stored_in(0, second=40))
    put(principal, builders.statement(actor=builders.agent("someone-else")), stored_in(1))
    found = read_all(principal, StatementQuery(agent="mbox:mailto:far-back@example.org"), 1)
    assert found == [chained, referring, target]


def test_a_statement_ref_names_a_statement_of_its_own_tenant_only(principal):
    """§2.1.3 "Filter Conditions for StatementRefs" within one LRS's statements: the same
    id stored by another tenant is not the target (ids are the tenant's), and a filter
    that only the other tenant's statement matches finds no referring statement."""
    other = principal_for(CredentialFactory())
    learner = builders.agent("elsewhere")
    shared_id = str(uuid.uuid4())
    theirs = dict(builders.statement(actor=learner), id=shared_id)
    put(other, theirs, stored_in(2))
    ours = dict(builders.statement(actor=builders.agent("here")), id=shared_id)
    put(principal, ours, stored_in(3))
    ref = builders.statement(obj={"objectType": "StatementRef", "id": shared_id})
    referring = put(principal, ref, stored_in(1))
    elsewhere = StatementQuery(agent="mbox:mailto:elsewhere@example.org")
    assert read_all(principal, elsewhere, 10) == []
    assert read_all(other, elsewhere, 10) == [shared_id]
    here = StatementQuery(agent="mbox:mailto:here@example.org")
    assert read_all(principal, here, 10) == [referring, shared_id]


def test_a_read_by_id_finds_statements_of_every_month(principal, spread):
    """§2.1.4: ``statementId`` returns that statement, in whatever month it is stored."""
    for moment, statement_id in spread:
        found = selectors.statement_get(
            tenant_id=principal.tenant_id, statement_id=statement_id, voided=False
        )
        assert (found.statement_id, found.stored) == (statement_id, moment)
    missing = selectors.statement_get(
        tenant_id=principal.tenant_id, statement_id=str(uuid.uuid4()), voided=False
    )
    assert missing is None


def test_a_read_by_id_honours_voided_and_authority(principal, spread):
    """§2.1.4: a statement that is not voided is not found by ``voidedStatementId``; under
    statements/read/mine a statement with another authority is not found."""
    statement_id = spread[-1][1]
    tenant = principal.tenant_id
    assert selectors.statement_get(tenant_id=tenant, statement_id=statement_id, voided=True) is None
    other = selectors.statement_get(
        tenant_id=tenant, statement_id=statement_id, voided=False, authority="mbox:mailto:x@y.z"
    )
    assert other is None


def planned_months(sql: str, params) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + cursor.mogrify(sql, params))
        plan = cursor.fetchone()[0]
    names: set[str] = set()

    def walk(node):
        relation = node.get("Relation Name", "")
        if relation.startswith("statements_y"):
            names.add(relation.rsplit("_h", 1)[0])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return names


def find_recording_queries(principal, query: StatementQuery, limit: int):
    """``statements_find`` and the queries it sent, with their parameters."""
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        page = selectors.statements_find(tenant_id=principal.tenant_id, query=query, limit=limit)
    return page, captured


def test_a_first_page_plans_only_the_current_and_later_months(principal, spread):
    """The first window of a newest-first page is bounded below by the current month, so
    its plan holds no older month however many are attached (migration 0009)."""
    page, captured = find_recording_queries(principal, StatementQuery(), limit=1)
    assert [s.statement_id for s in page.statements] == [spread[0][1]]
    assert page.has_more
    assert len(captured) == 1  # the current month's two statements filled the page
    months = planned_months(*captured[0])
    assert month_table(THIS_MONTH) in months
    assert all(name >= month_table(THIS_MONTH) for name in months)


def test_a_filtered_page_plans_each_window_for_its_own_months(principal, spread):
    """A page the current month cannot fill goes on to older windows, each planned for its
    months only: the month before, then the rest."""
    page, captured = find_recording_queries(principal, StatementQuery(verb=COMPLETED), limit=3)
    assert [s.statement_id for s in page.statements] == completed(spread)[:3]
    assert page.has_more
    planned = [planned_months(*query) for query in captured]
    month = [month_table(month_add(THIS_MONTH, -back)) for back in range(0, 6)]
    assert len(planned) == 3  # 1 + 1 + 2 rows found
    assert month[0] in planned[0]
    assert month[1] not in planned[0]
    assert planned[1] == {month[1]}
    assert planned[2] == set(month[2:])


def test_voiding_a_statement_of_an_older_month_hides_it(principal, spread):
    """Data §2.3.2 and Communication §2.1.4: the target, stored months before its voiding
    statement, leaves normal reads and is found by ``voidedStatementId``; voiding a voiding
    statement is refused (the target's month is read through the registry's times)."""
    target = spread[-1][1]  # the oldest, five months back
    voiding = builders.voiding(target)
    services.statements_store(
        principal=principal, statements=[validate_statement(voiding, v2=True)], v2=True
    )
    tenant = principal.tenant_id
    assert selectors.statement_get(tenant_id=tenant, statement_id=target, voided=False) is None
    found = selectors.statement_get(tenant_id=tenant, statement_id=target, voided=True)
    assert found.statement_id == target
    with pytest.raises(BadRequest):
        services.statements_store(
            principal=principal,
            statements=[validate_statement(builders.voiding(voiding["id"]), v2=True)],
            v2=True,
        )


def test_a_statement_of_an_older_month_sent_again_is_compared_with_the_stored_one(principal):
    """Communication §2.1.2: an id already stored, months ago, with the same content is a
    no-op; with other content a 409."""
    document = builders.statement()
    put(principal, document, stored_in(5))
    again = services.statements_store(
        principal=principal, statements=[validate_statement(document, v2=True)], v2=True
    )
    assert again.new == 0
    changed = {**document, "verb": {"id": COMPLETED}}
    with pytest.raises(Conflict):
        services.statements_store(
            principal=principal, statements=[validate_statement(changed, v2=True)], v2=True
        )


def function_settings(name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = %s", [name])
        return set(cursor.fetchone()[0] or [])


def test_reads_by_id_are_planned_for_their_partition_only(db):
    """Migration 0010: no generic plan over every month is ever built for a read by id."""
    assert "plan_cache_mode=force_custom_plan" in function_settings("statement_by_id")


def test_the_statement_ref_branch_is_planned_for_the_months_it_reads_without_jit(db):
    """Migration 0011: custom plans (no generic plan over every month is built), never
    compiled."""
    settings = function_settings("statements_referencing_matches")
    assert {"plan_cache_mode=force_custom_plan", "jit=off"} <= settings


def test_the_database_runs_without_jit(db):
    """Migration 0009 turns JIT off for the service's database (new sessions take it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.setconfig FROM pg_db_role_setting s "
            "JOIN pg_database d ON d.oid = s.setdatabase "
            "WHERE d.datname = current_database() AND s.setrole = 0"
        )
        row = cursor.fetchone()
    assert row is not None
    assert "jit=off" in row[0]
