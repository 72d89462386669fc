"""The projector against real PostgreSQL: queue hand-off, recompute, voiding, redelivery,
concurrency and rebuild (ARCHITECTURE.md §6)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import threading
import uuid

import orjson
import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from attempts import selectors, services
from attempts.events import statement_stored_event_id, statement_stored_shard
from attempts.models import VerbOutcome
from attempts.projection import GroupKey, fact_from_statement, project_group
from attempts.selectors import outcomes_for_tenant, projection_lag_seconds
from attempts.services import projection_process_batch, projection_rebuild
from attempts.vocabulary import DEFAULT_OUTCOMES, Outcome
from outbox.schemas import validate_event
from outbox.services import relay_nudge
from partitions.services import month_add, month_start, month_table, partition_ensure_month
from tests.attempts import cmi5
from tests.attempts.conftest import drain, outbox_events, queue_size, store, table
from tests.statements import builders
from tests.statements.test_reads_across_months import planned_months, put

pytestmark = pytest.mark.django_db(transaction=True)


def expected(principal, statements, key):
    """The pure projection of ``statements``, as the tables should hold it."""
    facts = [
        fact_from_statement(
            s,
            statement_id=s["id"],
            timestamp=dt.datetime.fromisoformat(s["timestamp"]),
            outcomes=DEFAULT_OUTCOMES,
        )
        for s in statements
    ]
    return project_group(principal.tenant_id, key, facts)


def requeue_all(tenant_id: int) -> None:
    """Queue every stored statement of the tenant again, as a redelivery would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO statement_projection_queue (tenant_id, statement_id, stored) "
            "SELECT tenant_id, statement_id, stored FROM statements WHERE tenant_id = %s",
            [tenant_id],
        )


def group(session: cmi5.Session, name: str = "ann") -> GroupKey:
    return GroupKey(cmi5.learner_ifi(name), session.activity, session.registration)


def test_every_stored_statement_gets_a_queue_row_in_its_own_transaction(principal):
    """ARCHITECTURE.md §2: "statements (+ projection queue rows, same tx)"; a rolled-back
    write leaves neither."""
    session = cmi5.Session()
    store(principal, session.launched())
    store(principal, *[builders.statement() for _ in range(20)])  # the COPY path
    assert queue_size() == 21

    def failing_transaction():
        with transaction.atomic():
            store(principal, builders.statement())
            raise RuntimeError("the business transaction fails")

    with pytest.raises(RuntimeError):
        failing_transaction()
    assert queue_size() == 21


def test_a_cmi5_session_projects_its_attempt_and_completion(principal):
    session = cmi5.Session()
    store(principal, *session.normal())
    assert drain() == 5
    attempts, completion = expected(principal, session.statements, group(session))
    [row] = table("attempts", principal.tenant_id)
    assert str(row["attempt_id"]) == attempts[0].attempt_id
    assert row["status"] == "passed"
    assert row["statement_count"] == 5
    assert row["duration_seconds"] == 900.0
    assert row["best_scaled"] == 0.9
    assert row["outcome_statements"] == attempts[0].outcome_statements
    [done] = table("completions", principal.tenant_id)
    assert done["basis"] == "completed_and_passed"
    assert str(done["statement_id"]) == completion.statement_id
    assert queue_size() == 0


def test_statements_that_are_not_about_an_activity_are_dequeued_but_not_projected(principal):
    agent_object = {"objectType": "Agent", "mbox": "mailto:peer@example.org"}
    store(principal, builders.statement(obj=agent_object))
    anonymous = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}
    store(principal, builders.statement(actor=anonymous))
    assert drain() == 2
    assert table("attempts", principal.tenant_id) == []
    assert queue_size() == 0


def test_voiding_recomputes_the_target_group(principal):
    """Data §2.3.2: a voided statement no longer counts; the projection of its group is
    recomputed without it when the voiding statement arrives."""
    session = cmi5.Session()
    session.launched(move_on="Passed")
    session.initialized()
    passed = session.passed()
    store(principal, *session.statements)
    drain()
    assert len(table("completions", principal.tenant_id)) == 1
    store(principal, builders.voiding(passed["id"]))
    drain()
    [attempt] = table("attempts", principal.tenant_id)
    assert attempt["status"] == "in progress"
    assert attempt["statement_count"] == 2
    assert table("completions", principal.tenant_id) == []


def test_a_redelivered_batch_changes_nothing_and_emits_nothing(principal):
    """Idempotence: projecting the same statements again rewrites equal rows and, since
    nothing changed, writes no new outbox event."""
    session = cmi5.Session()
    store(principal, *session.normal())
    drain()
    attempts, completions = (
        table("attempts", principal.tenant_id),
        table("completions", principal.tenant_id),
    )
    events = outbox_events(principal.tenant_id)
    requeue_all(principal.tenant_id)
    assert drain() == 5
    assert table("attempts", principal.tenant_id) == attempts
    assert table("completions", principal.tenant_id) == completions
    assert outbox_events(principal.tenant_id) == events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrival_order_and_batch_split_do_not_change_the_rows(principal, seed):
    """The tables hold the pure projection whatever order the statements arrive in and
    however the queue is split into batches."""
    rng = random.Random(seed)
    first = cmi5.Session()
    first.launched(move_on="CompletedAndPassed")
    first.initialized()
    first.failed()
    first.abandoned()
    second = cmi5.Session(registration=first.registration, start=first.clock)
    second.normal()
    statements = first.statements + second.statements
    shuffled = list(statements)
    rng.shuffle(shuffled)
    while shuffled:
        size = rng.randint(1, 3)
        chunk, shuffled = shuffled[:size], shuffled[size:]
        store(principal, *chunk)
        if rng.random() < 0.5:
            projection_process_batch(limit=rng.randint(1, 4))
    drain(limit=rng.randint(1, 5))
    attempts, completion = expected(principal, statements, group(first))
    rows = table("attempts", principal.tenant_id)
    assert [str(r["attempt_id"]) for r in rows] == sorted(a.attempt_id for a in attempts)
    by_id = {a.attempt_id: a for a in attempts}
    for row in rows:
        attempt = by_id[str(row["attempt_id"])]
        assert row["status"] == attempt.status
        assert row["statement_count"] == attempt.statement_count
        assert row["outcome_statements"] == attempt.outcome_statements
    [done] = table("completions", principal.tenant_id)
    assert str(done["statement_id"]) == completion.statement_id


def test_two_workers_on_one_group_never_leave_the_staler_result(principal, monkeypatch):
    """Worker A reads a group's statements, then stalls; a statement of the same group
    commits and worker B claims it. B must wait for A's group lock and read after A
    commits, or A's stale rows would overwrite B's with the new statement lost."""
    session = cmi5.Session()
    session.launched(move_on="Completed")
    store(principal, session.statements[0])
    workers = _StallingWorkers(monkeypatch)
    a = workers.start("worker-a")
    assert workers.loaded.wait(10)
    completed = session.completed()
    store(principal, completed)
    b = workers.start("worker-b")
    b.join(1.0)
    assert b.is_alive(), "worker B finished while worker A held the group"
    workers.release.set()
    a.join(10)
    b.join(10)
    assert not workers.errors
    [row] = table("attempts", principal.tenant_id)
    assert row["status"] == "completed"
    assert row["statement_count"] == 2
    [done] = table("completions", principal.tenant_id)
    assert str(done["statement_id"]) == completed["id"]


class _StallingWorkers:
    """Threads that each run one projection batch on a connection of their own; the one
    named ``worker-a`` stalls after reading its groups' statements (its learners locked)
    until ``release`` is set."""

    def __init__(self, monkeypatch):
        self.loaded, self.release = threading.Event(), threading.Event()
        self.results: dict[str, int] = {}
        self.errors: list[Exception] = []
        real_load = services.facts_load

        def slow_load(cursor, tenant_id, keys):
            facts = real_load(cursor, tenant_id, keys)
            if threading.current_thread().name == "worker-a":
                self.loaded.set()
                self.release.wait(10)
            return facts

        monkeypatch.setattr(services, "facts_load", slow_load)

    def start(self, name: str) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=name)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            self.results[threading.current_thread().name] = projection_process_batch()
        except Exception as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            connections.close_all()


def _histories(principal) -> list[dict]:
    """Several learners, registrations and sessions, with a voided statement."""
    rng = random.Random(5)
    statements = []
    for name in ("ann", "bob", "cy"):
        for activity in (cmi5.AU, cmi5.AU + "-2"):
            session = cmi5.Session(actor=cmi5.learner(name), activity=activity)
            session.launched(move_on=rng.choice(["Passed", "Completed", None]))
            session.initialized()
            getattr(session, rng.choice(["passed", "failed", "completed"]))()
            session.terminated()
            statements += session.statements
    statements.append(builders.voiding(statements[2]["id"]))
    return statements


def test_rebuild_produces_exactly_what_incremental_projection_produced(principal):
    """ARCHITECTURE.md §6: "rebuild_projections replays the log and must produce exactly
    what incremental projection produced"."""
    statements = _histories(principal)
    for index in range(0, len(statements), 4):
        store(principal, *statements[index : index + 4])
        drain(limit=3)
    incremental = (
        table("attempts", principal.tenant_id),
        table("completions", principal.tenant_id),
    )
    assert len(incremental[0]) == 6
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM attempts WHERE tenant_id = %s", [principal.tenant_id])
        cursor.execute("DELETE FROM completions WHERE tenant_id = %s", [principal.tenant_id])
    progress = projection_rebuild(tenant_id=principal.tenant_id, learners_per_batch=2)
    assert progress.learners == 4  # ann, bob, cy, and the admin whose voiding names no Activity
    assert progress.statements == len(statements) - 2  # the voided one; the voiding one
    rebuilt = (table("attempts", principal.tenant_id), table("completions", principal.tenant_id))
    assert rebuilt == incremental


def test_rebuild_removes_rows_the_log_no_longer_supports_and_is_silent_when_current(
    principal,
):
    session = cmi5.Session()
    store(principal, *session.normal())
    drain()
    events = outbox_events(principal.tenant_id)
    projection_rebuild(tenant_id=principal.tenant_id)
    assert outbox_events(principal.tenant_id) == events  # nothing changed, nothing said
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE statements SET voided = true WHERE tenant_id = %s", [principal.tenant_id]
        )
    projection_rebuild(tenant_id=principal.tenant_id)
    assert table("attempts", principal.tenant_id) == []
    assert table("completions", principal.tenant_id) == []


def test_rebuild_parts_are_disjoint_cover_every_learner_and_reach_learners_with_rows_only(
    principal, monkeypatch
):
    """``projection_rebuild`` with ``part``: the parts' learners are disjoint and cover the
    log's and the projected rows' learners, batch after batch; a learner whose statements
    are all gone is found through its rows, and those rows are removed."""
    names = ["ann", "bob", "cy", "dee", "eve", "fay", "gus"]
    for name in names:
        store(principal, *cmi5.Session(actor=cmi5.learner(name)).normal())
    drain()
    gone = cmi5.learner_ifi("dee")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM statements WHERE tenant_id = %s AND actor_ifi = %s",
            [principal.tenant_id, gone],
        )
    before = table("attempts", principal.tenant_id)
    walked: list[str] = []
    original = services._learners_after

    def recording(*args):
        learners = original(*args)
        walked.extend(learners)
        return learners

    monkeypatch.setattr(services, "_learners_after", recording)
    found = [
        projection_rebuild(
            tenant_id=principal.tenant_id, learners_per_batch=2, part=(index, 3)
        ).learners
        for index in range(3)
    ]
    assert sorted(walked) == sorted(cmi5.learner_ifi(name) for name in names)
    assert sum(found) == len(names)
    assert all(found)  # these seven learners' hashes fall in every part
    after = table("attempts", principal.tenant_id)
    assert after == [row for row in before if row["learner"] != gone]
    assert len(after) == len(names) - 1


def test_events_are_emitted_once_per_change_and_match_their_schemas(principal):
    """docs/events.md v1 schemas; one learner's events in order: started, finished,
    completion recorded."""
    session = cmi5.Session()
    store(principal, *session.normal())
    drain()
    events = outbox_events(principal.tenant_id)
    kinds = [e["event_type"] for e in events]
    assert kinds.count("statement.stored") == 5
    progress = [k for k in kinds if k != "statement.stored"]
    assert progress == ["attempt.started", "attempt.finished", "completion.recorded"]
    for event in events:
        validate_event(event["event_type"], event["schema_version"], orjson.loads(event["payload"]))
    finished = next(e for e in events if e["event_type"] == "attempt.finished")
    assert orjson.loads(finished["payload"])["outcome"] == "passed"
    started = next(e for e in events if e["event_type"] == "attempt.started")
    assert started["aggregate_key"] == finished["aggregate_key"]


def test_event_times_before_the_year_1000_keep_four_digit_years(principal):
    """docs/events.md: times are RFC 3339, whose ``date-fullyear`` is four digits (§5.6);
    a statement's timestamp may be any ISO 8601 time (Data §4.5)."""
    session = cmi5.Session(start=dt.datetime(999, 6, 1, 10, tzinfo=dt.UTC))
    store(principal, *session.normal())
    drain()
    started = next(
        e for e in outbox_events(principal.tenant_id) if e["event_type"] == "attempt.started"
    )
    data = orjson.loads(started["payload"])
    validate_event("attempt.started", 1, data)
    assert data["started_at"].startswith("0999-06-01T10:00:00")


def test_a_statement_without_an_identified_actor_is_announced_with_a_null_actor(principal):
    anonymous = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}
    [statement_id] = store(principal, builders.statement(actor=anonymous))
    drain()
    [event] = outbox_events(principal.tenant_id)
    data = orjson.loads(event["payload"])
    validate_event("statement.stored", 1, data)
    assert data["actor"] is None
    assert data["statement_id"] == statement_id


@pytest.mark.parametrize("shards", [1, 16])
def test_statement_stored_events_are_written_by_the_claim_with_their_derived_ids_and_shards(
    principal, settings, django_capture_on_commit_callbacks, shards
):
    """docs/events.md: one statement.stored per new statement, in the order claimed,
    its id the uuid3 of (tenant, statement) and its shard from that id, computed by
    PostgreSQL exactly as ``statement_stored_event_id`` and ``statement_stored_shard`` do;
    a batch that only announces statements still nudges the relay after commit."""
    settings.PROGRESS_OUTBOX_SHARDS = shards
    agent_object = {"objectType": "Agent", "mbox": "mailto:someone@example.org"}
    ids = store(principal, *(builders.statement(obj=agent_object) for _ in range(20)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_id::text FROM statement_projection_queue ORDER BY seq")
        claim_order = [row[0] for row in cursor.fetchall()]
    assert sorted(claim_order) == sorted(ids)
    with transaction.atomic(), django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert projection_process_batch() == 20
    assert relay_nudge in callbacks
    events = outbox_events(principal.tenant_id)
    assert [orjson.loads(e["payload"])["statement_id"] for e in events] == claim_order
    for event, statement_id in zip(events, claim_order, strict=True):
        expected_id = statement_stored_event_id(principal.tenant_id, statement_id)
        assert event["event_id"] == expected_id
        assert expected_id.version == 3
        assert event["shard"] == statement_stored_shard(expected_id, shards)
        assert 0 <= event["shard"] < shards
        assert event["aggregate_key"] == f"statement:{statement_id}"
        assert event["tenant_slug"] == principal.tenant_slug
    if shards == 16:
        assert len({e["shard"] for e in events}) > 1
    # Claimed again (a redelivery), the same statements add no second event.
    requeue_all(principal.tenant_id)
    assert drain() == 20
    assert outbox_events(principal.tenant_id) == events


def _claim_planned_months(principal, months_back: tuple[int, ...]) -> tuple[int, set[str]]:
    """Stores a statement in each month ``months_back`` ago, queues them, projects one
    batch: how many it projected, and the months the plan of its claim statement holds."""
    this_month = month_start(dt.date.today())
    for back in range(6):
        partition_ensure_month(month=month_add(this_month, -back))
    for back in months_back:
        month = month_add(this_month, -back)
        stored = dt.datetime(month.year, month.month, 2, tzinfo=dt.UTC)
        put(principal, builders.statement(obj=builders.activity(f"course-{back}")), stored)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO statement_projection_queue (tenant_id, statement_id, stored) "
                "SELECT tenant_id, statement_id, stored FROM statements "
                "WHERE tenant_id = %s AND stored = %s",
                [principal.tenant_id, stored],
            )
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        projected = projection_process_batch()
    (claim,) = [(sql, params) for sql, params in captured if "DELETE FROM" in sql]
    return projected, planned_months(*claim)


def test_the_claim_plans_the_months_its_batch_holds_only(principal):
    """A batch of this month's statements joins them with this month's partition alone,
    however many months are attached (services._CLAIM_SQL)."""
    projected, months = _claim_planned_months(principal, (0,))
    assert projected == 1
    assert months == {month_table(month_start(dt.date.today()))}


def test_a_batch_spanning_months_is_joined_with_every_month_between(principal):
    """Statements three months apart in one batch: every one is found and projected."""
    projected, months = _claim_planned_months(principal, (3, 0))
    this_month = month_start(dt.date.today())
    assert projected == 2
    assert months == {month_table(month_add(this_month, -back)) for back in range(4)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_count FROM attempts WHERE tenant_id = %s", [principal.tenant_id]
        )
        assert [row[0] for row in cursor.fetchall()] == [1, 1]
    announced = [
        e for e in outbox_events(principal.tenant_id) if e["event_type"] == "statement.stored"
    ]
    assert len(announced) == 2


def test_voiding_a_statement_of_an_older_month_reads_that_month_only(principal):
    """Data §2.3.2: a voiding statement recomputes its target's group; the target is found
    through the registry's stored time, so its read is planned for the target's month."""
    this_month = month_start(dt.date.today())
    for back in range(6):
        partition_ensure_month(month=month_add(this_month, -back))
    month = month_add(this_month, -3)
    target = builders.statement(verb="http://adlnet.gov/expapi/verbs/completed")
    put(principal, target, dt.datetime(month.year, month.month, 2, tzinfo=dt.UTC))
    requeue_all(principal.tenant_id)
    drain()
    assert [row["status"] for row in table("attempts", principal.tenant_id)] == ["completed"]
    store(principal, builders.voiding(target["id"]))
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        assert drain() == 1
    (read,) = [(sql, params) for sql, params in captured if "s.stored = ANY" in sql]
    assert planned_months(*read) == {month_table(month)}
    assert table("attempts", principal.tenant_id) == []


def test_events_follow_an_attempt_through_batches(principal):
    session = cmi5.Session()
    store(principal, session.launched(move_on="Passed"), session.initialized())
    drain()
    store(principal, session.failed())
    drain()
    store(principal, session.terminated())
    drain()
    kinds = [e["event_type"] for e in outbox_events(principal.tenant_id)]
    progress = [k for k in kinds if k != "statement.stored"]
    # failed, then terminated changes nothing of the finished status: one finished event.
    assert progress == ["attempt.started", "attempt.finished"]


def test_a_tenant_verb_mapping_drives_the_projection(principal):
    VerbOutcome.objects.create(
        tenant_id=principal.tenant_id, verb_id=cmi5.verb("finished-module"), outcome="completed"
    )
    assert outcomes_for_tenant(principal.tenant_id)[cmi5.verb("finished-module")] is (
        Outcome.COMPLETED
    )
    session = cmi5.Session(session_id="")
    store(principal, session.add("finished-module"))
    drain()
    [row] = table("attempts", principal.tenant_id)
    assert row["status"] == "completed"


def test_lag_is_the_age_of_the_oldest_unprojected_statement(principal):
    assert projection_lag_seconds() == 0.0
    store(principal, builders.statement())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE statement_projection_queue SET stored = now() - interval '42 s'")
    assert 42 <= projection_lag_seconds() < 60
    drain()
    assert projection_lag_seconds() == 0.0


def test_a_statement_without_its_row_is_dropped_from_the_queue(principal):
    """A queue row whose statement is gone (an archived month) is consumed, not retried
    forever."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO statement_projection_queue (tenant_id, statement_id, stored) "
            "VALUES (%s, %s, now())",
            [principal.tenant_id, str(uuid.uuid4())],
        )
    assert drain() == 1
    assert queue_size() == 0


def _normal(session):
    session.normal(move_on="CompletedAndPassed")


def _abandoned(session):
    session.launched(move_on="Completed")
    session.initialized()
    session.progressed()
    session.abandoned()


def _waived(session):
    session.session_id = ""
    session.waived()


def _browse(session):
    session.launched(move_on="Completed", mode="Browse")
    session.initialized()
    session.completed()
    session.terminated()


@pytest.mark.parametrize(
    ("sequence", "status", "basis"),
    [
        (_normal, "passed", "completed_and_passed"),
        (_abandoned, "abandoned", None),
        (_waived, "waived", "waived"),
        (_browse, "terminated", None),
    ],
)
def test_cmi5_sequences_are_projected_through_the_pipeline(principal, sequence, status, basis):
    """cmi5 §9.3 sequences stored through the write path and projected by the batch
    service land in the tables as the pure projection says."""
    session = cmi5.Session()
    sequence(session)
    store(principal, *session.statements)
    drain()
    [attempt] = table("attempts", principal.tenant_id)
    assert attempt["status"] == status
    completions = table("completions", principal.tenant_id)
    assert [c["basis"] for c in completions] == ([basis] if basis else [])


def test_failed_then_passed_projects_two_attempts_and_one_completion(principal):
    first = cmi5.Session()
    first.launched(move_on="Passed")
    first.initialized()
    first.failed()
    first.terminated()
    second = cmi5.Session(registration=first.registration, start=first.clock)
    second.launched(move_on="Passed")
    second.initialized()
    passed = second.passed()
    second.terminated()
    store(principal, *first.statements)
    drain()
    store(principal, *second.statements)
    drain()
    statuses = sorted(a["status"] for a in table("attempts", principal.tenant_id))
    assert statuses == ["failed", "passed"]
    [completion] = table("completions", principal.tenant_id)
    assert str(completion["statement_id"]) == passed["id"]


def test_a_statement_that_cannot_be_reduced_is_left_out_of_its_group(principal, monkeypatch):
    """The same statement fails the same way in every recompute, so leaving it out keeps
    the projection a function of the log, and its group projectable."""
    session = cmi5.Session()
    store(principal, *session.normal(move_on="Passed"))
    poison = session.statements[2]["id"]  # the completed statement
    real = services.fact_from_statement

    def failing(statement, **kwargs):
        if kwargs["statement_id"] == poison:
            raise ValueError("cannot read this one")
        return real(statement, **kwargs)

    monkeypatch.setattr(services, "fact_from_statement", failing)
    assert drain() == 5
    [attempt] = table("attempts", principal.tenant_id)
    assert attempt["statement_count"] == 4
    assert "completed" not in attempt["outcome_statements"]
    assert len(table("completions", principal.tenant_id)) == 1  # moveOn Passed still met


def test_a_group_that_fails_to_project_is_quarantined_and_the_rest_projected(
    principal, monkeypatch
):
    """One bad group must not stall the queue: failing batches are split down to single
    rows, which move to projection_failures; after the fix, --retry projects them."""
    sessions = [cmi5.Session(actor=cmi5.learner(name)) for name in ("ann", "bob", "cy")]
    for session in sessions:
        store(principal, *session.normal(move_on="Passed"))
    real = services._write

    def failing(cursor, tenant_id, attempts, *args):
        if any(a.learner == cmi5.learner_ifi("bob") for a in attempts):
            raise ValueError("cannot write bob")
        return real(cursor, tenant_id, attempts, *args)

    monkeypatch.setattr(services, "_write", failing)
    assert services.projection_drain_run(budget_seconds=60) == 10
    assert queue_size() == 0
    failures = selectors.projection_failures_list()
    assert {f["statement_id"] for f in failures} == {s["id"] for s in sessions[1].statements}
    assert all("ValueError: cannot write bob" in f["error"] for f in failures)
    learners = {row["learner"] for row in table("completions", principal.tenant_id)}
    assert learners == {cmi5.learner_ifi("ann"), cmi5.learner_ifi("cy")}
    monkeypatch.setattr(services, "_write", real)
    out = io.StringIO()
    call_command("projection_failures", "--retry", stdout=out)
    assert "5 statement(s) queued" in out.getvalue()
    drain()
    assert len(table("completions", principal.tenant_id)) == 3
    assert selectors.projection_failures_list() == []


def test_rows_failing_one_after_another_stop_the_drain_instead_of_emptying_the_queue(
    principal, monkeypatch
):
    store(principal, *[builders.statement() for _ in range(30)])

    def broken(*args, **kwargs):
        raise RuntimeError("projector bug")

    monkeypatch.setattr(services, "groups_recompute", broken)
    with pytest.raises(RuntimeError, match="projector bug"):
        services.projection_drain_run(budget_seconds=60)
    assert selectors.projection_failures_count() == services._MAX_QUARANTINED_IN_A_ROW
    assert queue_size() == 30 - services._MAX_QUARANTINED_IN_A_ROW


def _clone_projected_rows(tenant_id: int, count: int) -> None:
    """``count`` copies of the tenant's attempt and completion, each under its own learner
    (``clone-<n>``), without a registration for even ``n``. Not analyzed afterwards: the
    statistics lag the tables' size, as they do between autovacuum's passes."""
    for name, key, prefix in (
        ("attempts", "attempt_id", "a"),
        ("completions", "completion_id", "c"),
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {name}
                SELECT (jsonb_populate_record(t, jsonb_build_object(
                    'learner', 'clone-' || g,
                    '{key}', md5('{prefix}' || g)::uuid,
                    'registration', CASE WHEN g %% 2 = 0 THEN NULL ELSE t.registration END))).*
                FROM {name} t, generate_series(1, %s) AS g
                WHERE t.tenant_id = %s
                """,  # noqa: S608 - table and column names are this test's constants
                [count, tenant_id],
            )


def _clone_id(prefix: str, n: int) -> str:
    return str(uuid.UUID(hashlib.md5(f"{prefix}{n}".encode()).hexdigest()))  # noqa: S324


def test_a_batch_reads_its_groups_rows_key_by_key_whatever_the_statistics_say(principal):
    """What a batch's groups hold now (for the events and the rows to remove) is read by one
    index probe per key, registration or none. As a plain join, with statistics that lagged
    the tables' size, the planner chose a hash join over the tenant's whole tables, so a
    batch cost O(the tenant's rows)."""
    session = cmi5.Session()
    store(principal, *session.normal())
    drain()
    _clone_projected_rows(principal.tenant_id, 20_000)
    asked = range(1, 301)
    keys = [group(session)] + [
        GroupKey(f"clone-{n}", session.activity, None if n % 2 == 0 else session.registration)
        for n in asked
    ]
    # Matches nothing: a clone's learner with the other registration state.
    keys.append(GroupKey("clone-2", session.activity, session.registration))
    document = services._keys_document(keys)
    with connection.cursor() as cursor:
        attempts, completions = services._existing(cursor, principal.tenant_id, document)
        cursor.execute(
            "EXPLAIN " + services._EXISTING_BY_KEYS,
            services._existing_by_keys_params(principal.tenant_id, document),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    [own_attempt], own_completion = expected(principal, session.statements, group(session))
    assert set(attempts) == {own_attempt.attempt_id} | {_clone_id("a", n) for n in asked}
    assert set(completions) == {own_completion.completion_id} | {_clone_id("c", n) for n in asked}
    # One index probe per key: a nested loop over the keys, never a pass over the table.
    assert plan.count("Function Scan on jsonb_to_recordset") == 2
    assert plan.count("Nested Loop") == 2
    assert "Hash Join" not in plan
    assert "Seq Scan" not in plan
    assert "Bitmap" not in plan


def _clone_statements(tenant_id: int, *, own_learners: bool) -> None:
    """20,000 copies of the tenant's first statement, each in a registration of its own
    (``_clone_id("r", n)``) and, with ``own_learners``, by a learner of its own
    (``clone-<n>``). Not analyzed afterwards: the statistics lag the table's size."""
    learner = "'actor_ifi', 'clone-' || g," if own_learners else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO statements
            SELECT (jsonb_populate_record(NULL::statements, to_jsonb(s) || jsonb_build_object(
                'statement_id', md5('s' || g)::uuid, {learner}
                'registration', md5('r' || g)::uuid))).*
            FROM (SELECT * FROM statements WHERE tenant_id = %s LIMIT 1) s,
                 generate_series(1, 20000) AS g
            """,  # noqa: S608 - a fixed fragment
            [tenant_id],
        )


def _facts_and_plan(principal, keys: list[GroupKey]):
    """``facts_load`` of ``keys``, and the plan of its read of keys with a registration
    (each line stripped)."""
    with connection.cursor() as cursor:
        facts = services.facts_load(cursor, principal.tenant_id, keys)
        cursor.execute(
            "EXPLAIN " + services._FACTS_WITH_REGISTRATION,
            [services._keys_document(keys), principal.tenant_id],
        )
        plan = [row[0].strip() for row in cursor.fetchall()]
    return facts, plan


def test_a_groups_statements_are_read_through_one_learner_not_through_their_activity(
    principal,
):
    """The facts of a batch's groups are read through the registration or actor index,
    never the Activity's: an Activity's statements are every learner's, and on a partition
    whose statistics lagged its size the planner took that index and read each Activity's
    whole history once per key."""
    session = cmi5.Session()
    store(principal, *session.normal())
    _clone_statements(principal.tenant_id, own_learners=True)  # the same Activity
    keys = [group(session)] + [
        GroupKey(f"clone-{n}", session.activity, _clone_id("r", n)) for n in range(1, 151)
    ]
    facts, plan = _facts_and_plan(principal, keys)
    assert len(facts[group(session)]) == len(session.statements)
    assert all(len(facts[key]) == 1 for key in keys[1:])
    index_conditions = [line for line in plan if line.startswith("Index Cond")]
    assert index_conditions
    assert not [line for line in index_conditions if "activity_id" in line]


def test_a_registrations_statements_are_read_through_it_not_through_the_learners_whole_log(
    principal,
):
    """A key with a registration is read through the registration index: the learner's
    statements are all of their courses', and with statistics that lagged the log the
    planner took the actor index, reading the learner's whole log once per key."""
    session = cmi5.Session()
    store(principal, *session.normal())
    _clone_statements(principal.tenant_id, own_learners=False)  # all ann's
    keys = [group(session)] + [
        GroupKey(cmi5.learner_ifi("ann"), session.activity, _clone_id("r", n))
        for n in range(1, 151)
    ]
    facts, plan = _facts_and_plan(principal, keys)
    assert len(facts[group(session)]) == len(session.statements)
    assert all(len(facts[key]) == 1 for key in keys[1:])
    index_conditions = [line for line in plan if line.startswith("Index Cond")]
    assert index_conditions
    assert all("registration" in line for line in index_conditions)
    assert not [line for line in index_conditions if "actor_ifi" in line]
    assert plan[0].startswith("Nested Loop")  # one probe per key
    assert not [line for line in plan if "Hash Join" in line or "Seq Scan" in line]


def test_projector_transactions_run_without_jit_and_leave_the_session_as_it_was(
    principal, monkeypatch
):
    """``SET LOCAL jit = off`` for the batch's and the rebuild's transactions only: the
    setting must not outlive them (a pooler in transaction mode hands the server
    connection to other clients next)."""
    store(principal, *cmi5.Session().normal())
    seen = []
    real = services.groups_recompute

    def spying(cursor, **kwargs):
        cursor.execute("SHOW jit")
        seen.append(cursor.fetchone()[0])
        return real(cursor, **kwargs)

    monkeypatch.setattr(services, "groups_recompute", spying)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        [session_setting] = cursor.fetchone()
    drain()
    projection_rebuild(tenant_id=principal.tenant_id)
    assert seen == ["off", "off"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == session_setting


def test_a_batch_projects_its_free_learners_and_requeues_those_another_worker_holds(
    principal, monkeypatch
):
    """Worker A holds ann's lock (stalled after reading her group). Worker B claims a row of
    ann's and one of bob's: it does not wait for A, projects bob, and puts ann's row back
    in the queue with its place; once A commits, the next batch projects it."""
    ann, bob = cmi5.Session(), cmi5.Session(actor=cmi5.learner("bob"))
    ann.launched(move_on="Completed")
    store(principal, ann.statements[0])
    first_seq = _queue_seq(ann.statements[0]["id"])
    workers = _StallingWorkers(monkeypatch)
    a = workers.start("worker-a")
    assert workers.loaded.wait(10)
    completed = ann.completed()
    store(principal, completed)
    bob.launched(move_on="Completed")
    store(principal, bob.statements[0])
    ann_seq = _queue_seq(completed["id"])
    b = workers.start("worker-b")
    b.join(5)
    assert not b.is_alive(), "worker B waited for worker A"
    assert workers.results["worker-b"] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_id::text, seq FROM statement_projection_queue")
        queued = cursor.fetchall()
    # A's claim of ann's first statement is not committed yet, so its row still shows.
    assert sorted(queued) == sorted([(ann.statements[0]["id"], first_seq),
                                     (completed["id"], ann_seq)])  # fmt: skip
    assert [row["learner"] for row in table("attempts", principal.tenant_id)] == [
        cmi5.learner_ifi("bob")
    ]
    workers.release.set()
    a.join(10)
    assert not workers.errors
    assert drain() == 1
    rows = {row["learner"]: row for row in table("attempts", principal.tenant_id)}
    assert rows[cmi5.learner_ifi("ann")]["status"] == "completed"
    assert rows[cmi5.learner_ifi("ann")]["statement_count"] == 2
    assert rows[cmi5.learner_ifi("bob")]["status"] == "launched"
    assert queue_size() == 0
    stored = [
        e for e in outbox_events(principal.tenant_id) if e["event_type"] == "statement.stored"
    ]
    assert len(stored) == len({e["event_id"] for e in stored}) == 3


def _queue_seq(statement_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM statement_projection_queue WHERE statement_id = %s",
                       [statement_id])  # fmt: skip
        [(seq,)] = cursor.fetchall()
    return seq
