"""cmi5 rules the pure projection applies (cmi5 §9.3, §9.5, §9.6.3; docs/projection.md).

No database: statements are built as an AU and its LMS send them, reduced to facts and
projected in memory. Where a rule depends on the order of two statements with one
timestamp, the statement ids are set so that id order alone would give the wrong answer.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from attempts.projection import GroupKey, Score, project_group
from tests.attempts import cmi5
from tests.attempts.test_projection import facts_of

TENANT = 7
LOW_ID = "00000000-0000-4000-8000-000000000001"
HIGH_ID = "ffffffff-ffff-4fff-bfff-fffffffffff1"


def _project(statements, registration):
    key = GroupKey(cmi5.learner_ifi(), cmi5.AU, registration)
    return project_group(TENANT, key, facts_of(statements))


def _at(statement) -> dt.datetime:
    return dt.datetime.fromisoformat(statement["timestamp"])


def _same_time(low: dict, high: dict) -> None:
    """Give both statements one timestamp, and ``low`` the id that sorts first."""
    high["timestamp"] = low["timestamp"]
    low["id"], high["id"] = LOW_ID, HIGH_ID


def _shuffles(statements, n=5):
    rng = random.Random(20261102)
    for _ in range(n):
        shuffled = list(statements)
        rng.shuffle(shuffled)
        yield shuffled


# --- session end: terminated and abandoned -------------------------------------------------


def test_abandoned_after_terminated_does_not_make_a_terminated_session_abandoned():
    """cmi5 §9.3.8: "The LMS MUST use the "Terminated" statement to determine that the AU
    session has ended"; §9.3.6: abandoned is for "an active session". A session that ended
    with terminated stays terminated, whatever the LMS issued for it later."""
    session = cmi5.Session()
    session.launched(move_on="Completed")
    session.initialized()
    session.progressed()
    terminated = session.terminated()
    session.abandoned()
    [attempt], completion = _project(session.statements, session.registration)
    assert attempt.status == "terminated"
    assert attempt.ended_at == _at(terminated)
    assert attempt.finished_at == _at(terminated)
    assert attempt.finishing_statement == terminated["id"]
    assert completion is None


def test_terminated_after_abandoned_leaves_the_session_abandoned():
    """cmi5 §9.3.6: "The LMS MUST NOT allow any statements to be recorded for a session
    after recording an "Abandoned" statement"; the abandoned session ended first."""
    session = cmi5.Session()
    session.launched(move_on="Completed")
    session.initialized()
    abandoned = session.abandoned()
    session.terminated()
    [attempt], _ = _project(session.statements, session.registration)
    assert attempt.status == "abandoned"
    assert attempt.ended_at == _at(abandoned)
    assert attempt.finishing_statement == abandoned["id"]


def test_terminated_and_abandoned_with_one_timestamp_end_the_session_as_terminated():
    """cmi5 §9.7: "Timestamps are not required to be unique"; order is by timestamp
    (§9.3), so with equal timestamps terminated (the AU's own end, §9.3.8) decides, not
    the statement ids."""
    session = cmi5.Session()
    session.launched(move_on="Completed")
    session.initialized()
    terminated = session.terminated()
    abandoned = session.abandoned()
    _same_time(abandoned, terminated)
    for statements in _shuffles(session.statements):
        [attempt], _ = _project(statements, session.registration)
        assert attempt.status == "terminated"
        assert attempt.finishing_statement == terminated["id"]
        assert attempt.finished_at == _at(terminated)


def test_launched_and_initialized_with_one_timestamp_start_at_the_launch():
    """cmi5 §9.3.2: the initialized statement "MUST follow ... the "launched" statement";
    with one timestamp (§9.7) the launched statement is the one that started the attempt
    (docs/projection.md: ``started`` names the statement that set ``started_at``)."""
    session = cmi5.Session()
    launched = session.launched()
    initialized = session.initialized()
    _same_time(initialized, launched)
    session.terminated()
    for statements in _shuffles(session.statements):
        [attempt], _ = _project(statements, session.registration)
        assert attempt.outcome_statements["started"] == launched["id"]
        assert attempt.started_at == _at(launched)


# --- success: passed and failed ------------------------------------------------------------


def test_passed_and_failed_with_one_timestamp_read_as_failed_then_passed():
    """cmi5 §9.3: "A "failed" statement MUST NOT follow a "passed" statement (in cmi5
    defined statements) per registration"; so of a passed and a failed with one timestamp
    (§9.7), the passed is the latest and sets success, not the one with the larger id."""
    session = cmi5.Session()
    session.launched(move_on="Passed")
    session.initialized()
    passed = session.passed(scaled=0.8)
    failed = session.failed(scaled=0.4)
    _same_time(passed, failed)
    session.terminated()
    for statements in _shuffles(session.statements):
        [attempt], completion = _project(statements, session.registration)
        assert attempt.status == "passed"
        assert attempt.success is True
        assert attempt.outcome_statements["success"] == passed["id"]
        assert attempt.finished_at == _at(passed)
        assert completion.statement_id == passed["id"]


def test_failed_then_passed_in_one_session_is_passed_and_satisfies_passed():
    """docs/projection.md: success "from the latest passed or failed statement"; cmi5
    §13.1.4 moveOn Passed: "If the LMS receives a statement with the verb "Passed", then
    the LMS will consider the AU satisfied"."""
    session = cmi5.Session()
    session.launched(move_on="Passed")
    session.initialized()
    session.failed(scaled=0.2)
    passed = session.passed(scaled=0.95)
    session.terminated()
    [attempt], completion = _project(session.statements, session.registration)
    assert attempt.status == "passed"
    assert attempt.success is True
    assert attempt.best_score == Score(0.95, 95.0, 0.0, 100.0)
    assert completion.basis == "passed"
    assert completion.statement_id == passed["id"]


# --- waived --------------------------------------------------------------------------------


def test_waived_attempt_is_complete_and_successful():
    """cmi5 §9.5.2: "The success property of the result MUST be set to true for ...
    waived"; §9.5.3: "The completion property of the result MUST be set to true for ...
    waived". The waived statement (its own session, §9.3.7) sets both flags."""
    session = cmi5.Session()
    waived = session.waived()
    [attempt], completion = _project(session.statements, session.registration)
    assert attempt.status == "waived"
    assert attempt.completion is True
    assert attempt.success is True
    assert attempt.outcome_statements["success"] == waived["id"]
    assert attempt.finishing_statement == waived["id"]
    assert completion.basis == "waived"
    assert completion.attempt_id == attempt.attempt_id


# --- launch modes ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["Browse", "Review"])
def test_passed_in_browse_or_review_mode_sets_no_success_and_does_not_satisfy(mode):
    """cmi5 §10.2.2: in Browse and Review mode "satisfaction-related data MUST NOT be
    recorded"; docs/projection.md: such statements "read as plain progress"."""
    session = cmi5.Session()
    session.launched(move_on="CompletedOrPassed", mode=mode)
    session.initialized()
    session.passed()
    session.completed()
    session.terminated()
    [attempt], completion = _project(session.statements, session.registration)
    assert attempt.launch_mode == mode
    assert attempt.status == "terminated"
    assert attempt.success is None
    assert attempt.completion is None
    assert "success" not in attempt.outcome_statements
    assert completion is None


def test_a_normal_session_satisfies_even_after_a_browse_session_of_the_registration():
    """cmi5 §10.2.2: only Browse and Review sessions are exempt from satisfaction; a later
    Normal session of the same registration satisfies moveOn Completed (§13.1.4)."""
    browse = cmi5.Session()
    browse.launched(move_on="Completed", mode="Browse")
    browse.initialized()
    browse.completed()
    browse.terminated()
    normal = cmi5.Session(registration=browse.registration, start=browse.clock)
    normal.launched(move_on="Completed")
    normal.initialized()
    completed = normal.completed()
    normal.terminated()
    attempts, completion = _project(browse.statements + normal.statements, browse.registration)
    by_session = {a.session_id: a for a in attempts}
    assert by_session[browse.session_id].completion is None
    assert by_session[normal.session_id].status == "completed"
    assert completion.statement_id == completed["id"]
    assert completion.attempt_id == by_session[normal.session_id].attempt_id


# --- moveOn ----------------------------------------------------------------------------------


def test_completed_and_passed_across_sessions_is_met_by_the_later_of_the_two():
    """cmi5 §9.3: one completed and one passed per registration, in any sessions; moveOn
    CompletedAndPassed (§13.1.4) is met when the second of them arrives."""
    first = cmi5.Session()
    first.launched(move_on="CompletedAndPassed")
    first.initialized()
    first.completed()
    first.terminated()
    second = cmi5.Session(registration=first.registration, start=first.clock)
    second.launched(move_on="CompletedAndPassed")
    second.initialized()
    passed = second.passed()
    second.terminated()
    attempts, completion = _project(first.statements + second.statements, first.registration)
    assert {a.status for a in attempts} == {"completed", "passed"}
    assert completion.basis == "completed_and_passed"
    assert completion.statement_id == passed["id"]
    assert completion.satisfied_at == _at(passed)


# --- scores and durations --------------------------------------------------------------------


def test_best_score_tie_takes_the_latest_statement_and_last_is_the_latest():
    """docs/projection.md: best is the highest scaled, "the latest on a tie"; last is
    "the score of the latest statement carrying one"."""
    session = cmi5.Session()
    session.launched(move_on="Passed")
    session.initialized()
    session.add("answered", result={"score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}})
    session.add("answered", result={"score": {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}})
    last = session.add("answered", result={"score": {"scaled": 0.5}})
    session.terminated()
    for statements in _shuffles(session.statements):
        [attempt], _ = _project(statements, session.registration)
        assert attempt.best_score == Score(0.8, 80.0, 0.0, 100.0)
        assert attempt.last_score == Score(0.5, None, None, None)
        assert attempt.outcome_statements["score"] == last["id"]


def test_duration_is_per_session_and_not_summed_across_sessions():
    """cmi5 §9.5.4.1: terminated carries the session's time; each session is its own
    attempt (§9.6.3.1), so each attempt holds only its own session's time."""
    first = cmi5.Session()
    first.launched()
    first.initialized()
    first.terminated(duration="PT5M")
    second = cmi5.Session(registration=first.registration, start=first.clock)
    second.launched()
    second.initialized()
    second.completed(duration="PT7M")
    second.terminated(duration="PT9M")
    attempts, _ = _project(first.statements + second.statements, first.registration)
    by_session = {a.session_id: a.duration_seconds for a in attempts}
    assert by_session == {first.session_id: 300.0, second.session_id: 540.0}
