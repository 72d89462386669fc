"""Valid v1 payloads of every event type, with overrides."""

from __future__ import annotations

import uuid

LEARNER = "mbox:mailto:ada@example.org"
ACTIVITY = "https://courses.example.org/algebra/unit-1"
SCORE = {"scaled": 0.8, "raw": 8, "min": 0, "max": 10}


def statement_stored(**overrides) -> dict:
    return {
        "statement_id": str(uuid.uuid4()),
        "stored": "2026-03-01T10:00:00.123Z",
        "timestamp": "2026-03-01T09:59:58+01:00",
        "actor": LEARNER,
        "verb": "http://adlnet.gov/expapi/verbs/completed",
        "object_type": "Activity",
        "activity_id": ACTIVITY,
        "registration": str(uuid.uuid4()),
        "voids": None,
    } | overrides


def attempt_started(**overrides) -> dict:
    return {
        "attempt_id": str(uuid.uuid4()),
        "learner": LEARNER,
        "activity_id": ACTIVITY,
        "registration": None,
        "session_id": "session-42",
        "started_at": "2026-03-01T09:00:00Z",
        "launch_mode": "Normal",
        "statement_id": str(uuid.uuid4()),
    } | overrides


def attempt_finished(**overrides) -> dict:
    return {
        "attempt_id": str(uuid.uuid4()),
        "learner": LEARNER,
        "activity_id": ACTIVITY,
        "registration": str(uuid.uuid4()),
        "session_id": None,
        "outcome": "passed",
        "started_at": "2026-03-01T09:00:00Z",
        "finished_at": "2026-03-01T09:45:00Z",
        "score": dict(SCORE),
        "duration_seconds": 2700.5,
        "statement_id": str(uuid.uuid4()),
    } | overrides


def completion_recorded(**overrides) -> dict:
    return {
        "completion_id": str(uuid.uuid4()),
        "learner": LEARNER,
        "activity_id": ACTIVITY,
        "registration": None,
        "satisfied_at": "2026-03-01T09:45:00Z",
        "basis": "completed_and_passed",
        "move_on": "CompletedAndPassed",
        "score": None,
        "statement_id": str(uuid.uuid4()),
        "attempt_id": str(uuid.uuid4()),
    } | overrides


BUILDERS = {
    "statement.stored": statement_stored,
    "attempt.started": attempt_started,
    "attempt.finished": attempt_finished,
    "completion.recorded": completion_recorded,
}
