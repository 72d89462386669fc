"""The projection as a pure function of a group's statements (ARCHITECTURE.md §6, cmi5 §9).

No database: statements are reduced to facts and projected in memory. The property tests
check the invariants the incremental and rebuild paths rely on.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attempts.projection import (
    GroupKey,
    Score,
    attempt_id_for,
    completion_id_for,
    duration_seconds,
    fact_from_statement,
    project_group,
    uuid5_text,
)
from attempts.vocabulary import DEFAULT_OUTCOMES, Outcome
from tests.attempts import cmi5

TENANT = 7


def facts_of(statements, outcomes=DEFAULT_OUTCOMES):
    return [
        fact_from_statement(
            s,
            statement_id=s["id"],
            timestamp=dt.datetime.fromisoformat(s["timestamp"]),
            outcomes=outcomes,
        )
        for s in statements
    ]


def key_of(session: cmi5.Session) -> GroupKey:
    return GroupKey(cmi5.learner_ifi(), session.activity, session.registration)


def project(session_or_statements, key=None):
    if isinstance(session_or_statements, cmi5.Session):
        key = key_of(session_or_statements)
        statements = session_or_statements.statements
    else:
        statements = session_or_statements
    return project_group(TENANT, key, facts_of(statements))


# --- cmi5 session sequences ----------------------------------------------------------------


def test_normal_cmi5_session_is_passed_and_satisfies_completed_and_passed():
    """cmi5 §9.3: launched, initialized, completed, passed, terminated; moveOn
    CompletedAndPassed (§13.1.4) is met by the later of completed and passed."""
    session = cmi5.Session()
    launched, initialized, completed, passed, terminated = session.normal()
    [attempt], completion = project(session)
    assert attempt.status == "passed"
    assert attempt.completion is True
    assert attempt.success is True
    assert attempt.session_id == session.session_id
    assert attempt.launch_mode == "Normal"
    assert attempt.move_on == "CompletedAndPassed"
    assert attempt.started_at == dt.datetime.fromisoformat(launched["timestamp"])
    assert attempt.ended_at == dt.datetime.fromisoformat(terminated["timestamp"])
    assert attempt.finished_at == dt.datetime.fromisoformat(passed["timestamp"])
    assert attempt.statement_count == 5
    assert attempt.outcome_statements == {
        "launched": launched["id"],
        "initialized": initialized["id"],
        "completed": completed["id"],
        "passed": passed["id"],
        "terminated": terminated["id"],
        "success": passed["id"],
        "score": passed["id"],
        "started": launched["id"],
    }
    assert attempt.parents == tuple(sorted((cmi5.BLOCK, cmi5.COURSE)))
    assert completion.basis == "completed_and_passed"
    assert completion.statement_id == passed["id"]
    assert completion.satisfied_at == dt.datetime.fromisoformat(passed["timestamp"])
    assert completion.score == Score(scaled=0.9, raw=90.0, min=0.0, max=100.0)
    assert completion.attempt_id == attempt.attempt_id


def test_duration_of_a_cmi5_session_is_its_longest_duration():
    """cmi5 §9.5.4.1: terminated carries the whole session time; completed and passed
    carry the time to reach them, so summing would count the session twice."""
    session = cmi5.Session()
    session.normal()
    [attempt], _ = project(session)
    assert attempt.duration_seconds == 15 * 60


def test_duration_without_a_session_is_the_sum_of_durations():
    session = cmi5.Session(session_id="")
    session.add("experienced", result={"duration": "PT1M30S"})
    session.add("experienced", result={"duration": "PT2M"})
    [attempt], completion = project(session)
    assert attempt.session_id is None
    assert attempt.duration_seconds == 210
    assert attempt.status == "in progress"
    assert completion is None


def test_abandoned_session_is_abandoned_and_not_satisfied():
    """cmi5 §9.3.6: the LMS issues abandoned when a session ends without terminated."""
    session = cmi5.Session()
    session.launched(move_on="Completed")
    session.initialized()
    session.progressed()
    abandoned = session.abandoned()
    [attempt], completion = project(session)
    assert attempt.status == "abandoned"
    assert attempt.ended_at == dt.datetime.fromisoformat(abandoned["timestamp"])
    assert attempt.finished_at == attempt.ended_at
    assert attempt.duration_seconds == 20 * 60
    assert completion is None


def test_waived_satisfies_whatever_the_move_on():
    """cmi5 §9.3.8: "the AU requirements were met by means other than the moveOn
    criteria"; the LMS MUST then consider moveOn met (§9.3.9)."""
    session = cmi5.Session(session_id="")
    waived = session.waived()
    [attempt], completion = project(session)
    assert attempt.status == "waived"
    assert completion.basis == "waived"
    assert completion.statement_id == waived["id"]


def test_failed_then_passed_in_a_later_session_satisfies_at_the_pass():
    """Each session is its own attempt; moveOn Passed is met by the first passed of the
    registration, whichever session holds it."""
    first = cmi5.Session()
    first.launched(move_on="Passed")
    first.initialized()
    first.failed(scaled=0.4)
    first.terminated()
    second = cmi5.Session(registration=first.registration, start=first.clock)
    second.launched(move_on="Passed")
    second.initialized()
    passed = second.passed(scaled=0.85)
    second.terminated()
    attempts, completion = project(first.statements + second.statements, key_of(first))
    by_session = {a.session_id: a for a in attempts}
    assert by_session[first.session_id].status == "failed"
    assert by_session[first.session_id].success is False
    assert by_session[second.session_id].status == "passed"
    assert completion.basis == "passed"
    assert completion.statement_id == passed["id"]
    assert completion.attempt_id == by_session[second.session_id].attempt_id


def test_browse_mode_never_satisfies_and_reads_outcomes_as_progress():
    """cmi5 §9.6.3.3: in Browse (and Review) mode "satisfaction-related data MUST NOT be
    recorded"; a completed sent anyway neither completes the attempt nor satisfies."""
    session = cmi5.Session()
    session.launched(move_on="Completed", mode="Browse")
    session.initialized()
    session.completed()
    session.terminated()
    [attempt], completion = project(session)
    assert attempt.launch_mode == "Browse"
    assert attempt.status == "terminated"
    assert attempt.completion is None
    assert completion is None


def test_launched_only_is_launched_and_initialized_is_in_progress():
    session = cmi5.Session()
    session.launched()
    [attempt], _ = project(session)
    assert attempt.status == "launched"
    session.initialized()
    [attempt], _ = project(session)
    assert attempt.status == "in progress"


@pytest.mark.parametrize(
    ("move_on", "steps", "basis", "satisfier"),
    [
        ("Completed", ["completed", "passed"], "completed", "completed"),
        ("Passed", ["completed", "passed"], "passed", "passed"),
        ("CompletedOrPassed", ["passed", "completed"], "completed_or_passed", "passed"),
        ("CompletedAndPassed", ["passed", "completed"], "completed_and_passed", "completed"),
        ("NotApplicable", [], "not_applicable", "launched"),
        (None, ["completed"], "completed", "completed"),
        ("Passed", ["completed"], None, None),
        ("CompletedAndPassed", ["completed"], None, None),
    ],
)
def test_move_on_rules(move_on, steps, basis, satisfier):
    """cmi5 §13.1.4 moveOn values, taken from the launched statement (§9.6.3.6)."""
    session = cmi5.Session()
    sent = {"launched": session.launched(move_on=move_on)}
    session.initialized()
    for step in steps:
        sent[step] = getattr(session, step)()
    _, completion = project(session)
    if basis is None:
        assert completion is None
    else:
        assert completion.basis == basis
        assert completion.statement_id == sent[satisfier]["id"]
        assert completion.move_on == move_on


def test_lms_satisfied_statement_completes_a_block():
    """cmi5 §9.3.9: the LMS states that the moveOn of all AUs of a block is met with
    satisfied on the block object."""
    session = cmi5.Session(session_id="", activity=cmi5.BLOCK)
    satisfied = session.add("satisfied")
    [attempt], completion = project(session)
    assert attempt.status == "completed"
    assert attempt.outcome_statements["completed"] == satisfied["id"]
    assert completion.basis == "satisfied"


def test_best_score_is_the_highest_scaled_and_last_is_the_latest():
    session = cmi5.Session(session_id="")
    session.add("scored-a", result={"score": {"scaled": 0.5}})
    session.add("scored-b", result={"score": {"scaled": 0.9}})
    session.add("scored-c", result={"score": {"raw": 99}})
    session.add("scored-d", result={"score": {"scaled": 0.7}})
    [attempt], _ = project(session)
    assert attempt.best_score == Score(0.9, None, None, None)
    assert attempt.last_score == Score(0.7, None, None, None)


def test_best_score_uses_raw_when_no_statement_has_scaled():
    session = cmi5.Session(session_id="")
    session.add("scored-a", result={"score": {"raw": 3, "min": 0, "max": 10}})
    session.add("scored-b", result={"score": {"raw": 8, "min": 0, "max": 10}})
    session.add("scored-c", result={"score": {"raw": 5, "min": 0, "max": 10}})
    [attempt], _ = project(session)
    assert attempt.best_score.raw == 8
    assert attempt.last_score.raw == 5


def test_tenant_mapping_gives_a_custom_verb_an_outcome():
    """Non-cmi5 content maps its own verbs (attempts.models.VerbOutcome)."""
    session = cmi5.Session(session_id="")
    finished = session.add("finished-module")
    mapping = DEFAULT_OUTCOMES | {cmi5.verb("finished-module"): Outcome.COMPLETED}
    key = key_of(session)
    [attempt], completion = project_group(TENANT, key, facts_of(session.statements, mapping))
    assert attempt.status == "completed"
    assert completion.statement_id == finished["id"]
    [attempt], completion = project(session)
    assert attempt.status == "in progress"
    assert completion is None


def test_ids_are_stable_digests_of_the_keys():
    key = GroupKey("mbox:mailto:a@example.org", "https://x.example/a", None)
    assert attempt_id_for(1, key, None) == attempt_id_for(1, key, None)
    assert attempt_id_for(1, key, None) != attempt_id_for(1, key, "")
    assert attempt_id_for(1, key, None) != attempt_id_for(2, key, None)
    assert completion_id_for(1, key) != attempt_id_for(1, key, None)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("PT14M32.25S", 872.25),
        ("P1DT1H", 90000.0),
        ("PT0,5S", 0.5),
        ("P2W", 1209600.0),
        ("P1Y", 365 * 86400.0),
        ("14 minutes", None),
        (12, None),
    ],
)
def test_duration_seconds_reads_iso_8601_durations(value, seconds):
    """Data §4.6: durations are ISO 8601:2004 §4.4.3.2 (years counted as 365 days, months
    as 30; a duration has no calendar)."""
    assert duration_seconds(value) == seconds


# --- invariants ----------------------------------------------------------------------------


def _random_history(rng: random.Random) -> tuple[GroupKey, list[dict]]:
    """Several sessions of one registration, with random outcomes, some same-timestamp."""
    registration = None
    start = cmi5.T0
    statements: list[dict] = []
    for _ in range(rng.randint(1, 4)):
        session = cmi5.Session(registration=registration, start=start)
        registration = session.registration
        session.launched(move_on=rng.choice(["Completed", "Passed", "CompletedAndPassed", None]))
        for _ in range(rng.randint(0, 5)):
            step = rng.choice(["initialized", "progressed", "completed", "passed", "failed"])
            getattr(session, step)()
        if rng.random() < 0.5:
            session.terminated()
        elif rng.random() < 0.5:
            session.abandoned()
        if rng.random() < 0.3 and len(session.statements) > 1:
            # Two statements in the same millisecond: ordered by id, not by arrival.
            session.statements[-1]["timestamp"] = session.statements[-2]["timestamp"]
        start = session.clock
        statements += session.statements
    return GroupKey(cmi5.learner_ifi(), cmi5.AU, registration), statements


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shuffle_seed=st.integers(0, 2**32 - 1))
def test_projection_is_independent_of_arrival_order(seed, shuffle_seed):
    """ARCHITECTURE.md §6: "independent of arrival order"."""
    key, statements = _random_history(random.Random(seed))
    shuffled = list(statements)
    random.Random(shuffle_seed).shuffle(shuffled)
    assert project(shuffled, key) == project(statements, key)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_statement_counts_once_and_the_completion_names_one_of_the_attempts(seed):
    key, statements = _random_history(random.Random(seed))
    attempts, completion = project(statements, key)
    assert sum(a.statement_count for a in attempts) == len(statements)
    assert len({a.attempt_id for a in attempts}) == len(attempts)
    if completion is not None:
        assert completion.attempt_id in {a.attempt_id for a in attempts}
        assert completion.satisfied_at >= min(a.started_at for a in attempts)


@settings(max_examples=300, deadline=None)
@given(name=st.text())
def test_uuid5_text_is_the_rfc_4122_name_based_uuid(name):
    namespace = uuid.UUID("6c7f2f0e-3a1b-5d4e-9f60-2b8a71c4d901")
    assert uuid5_text(namespace, name) == str(uuid.uuid5(namespace, name))
