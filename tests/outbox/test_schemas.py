"""Event payload schemas (docs/events.md): every valid shape passes, every kind of invalid
one fails with a message naming the field."""

from __future__ import annotations

import pytest

from outbox.events import EVENT_TYPES, SCHEMA_VERSIONS
from outbox.schemas import InvalidEvent, UnknownSchema, schema_for, schema_path, validate_event
from tests.outbox import builders
from tests.outbox.builders import BUILDERS


def test_every_event_type_has_a_v1_schema_file():
    for event_type in EVENT_TYPES:
        assert SCHEMA_VERSIONS[event_type] == (1,)
        assert schema_path(event_type, 1).is_file()
        schema = schema_for(event_type, 1)
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_valid_payloads_pass(event_type):
    validate_event(event_type, 1, BUILDERS[event_type]())


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("statement.stored", builders.statement_stored(activity_id=None, registration=None,
                                                       voids="7f0d2a5e-1c7b-4c53-9a3e-1d2b3c4d5e6f",
                                                       object_type="StatementRef")),
        ("attempt.started", builders.attempt_started(session_id=None, launch_mode=None,
                                                     registration="7f0d2a5e-1c7b-4c53-9a3e-1d2b3c4d5e6f")),
        ("attempt.finished", builders.attempt_finished(score=None, started_at=None,
                                                       duration_seconds=None, outcome="abandoned")),
        ("attempt.finished", builders.attempt_finished(
            score={"scaled": None, "raw": None, "min": None, "max": None}, duration_seconds=0)),
        ("attempt.finished", builders.attempt_finished(score={"scaled": -1, "raw": -3.5,
                                                              "min": -10, "max": 10})),
        ("completion.recorded", builders.completion_recorded(attempt_id=None, move_on=None,
                                                             basis="not_applicable",
                                                             score=builders.SCORE)),
    ],
)  # fmt: skip
def test_nullable_fields_and_edge_values_pass(event_type, data):
    validate_event(event_type, 1, data)


def _without(data: dict, field: str) -> dict:
    return {key: value for key, value in data.items() if key != field}


@pytest.mark.parametrize(
    ("event_type", "data", "names"),
    [
        # a required field missing, even a nullable one
        ("attempt.finished", _without(builders.attempt_finished(), "registration"), "registration"),
        ("statement.stored", _without(builders.statement_stored(), "voids"), "voids"),
        # an unknown field
        ("attempt.started", builders.attempt_started(colour="blue"), "colour"),
        # enums
        ("attempt.finished", builders.attempt_finished(outcome="succeeded"), "succeeded"),
        ("completion.recorded", builders.completion_recorded(basis="finished"), "finished"),
        # uuids, nullable or not
        ("statement.stored", builders.statement_stored(statement_id="not-a-uuid"), "statement_id"),
        ("completion.recorded", builders.completion_recorded(attempt_id="42"), "attempt_id"),
        ("statement.stored", builders.statement_stored(registration=""), "registration"),
        # RFC 3339 times
        ("attempt.started", builders.attempt_started(started_at="2026-03-01 09:00:00"),
         "started_at"),
        ("attempt.finished", builders.attempt_finished(finished_at="yesterday"), "finished_at"),
        ("statement.stored", builders.statement_stored(stored=None), "stored"),
        # scores
        ("attempt.finished", builders.attempt_finished(score={"scaled": 1.5, "raw": 1, "min": 0,
                                                              "max": 1}), "scaled"),
        ("attempt.finished", builders.attempt_finished(score={"scaled": 0.5}), "raw"),
        ("completion.recorded", builders.completion_recorded(score={"scaled": 0.5, "raw": "8",
                                                                    "min": 0, "max": 10}), "raw"),
        ("attempt.finished", builders.attempt_finished(score={**builders.SCORE, "extra": 1}),
         "extra"),
        # durations, strings, types
        ("attempt.finished", builders.attempt_finished(duration_seconds=-1), "duration_seconds"),
        ("attempt.started", builders.attempt_started(learner=""), "learner"),
        ("attempt.started", builders.attempt_started(activity_id=None), "activity_id"),
        ("statement.stored", builders.statement_stored(verb=42), "verb"),
    ],
)  # fmt: skip
def test_invalid_payloads_fail_naming_the_field(event_type, data, names):
    with pytest.raises(InvalidEvent, match=names):
        validate_event(event_type, 1, data)


def test_a_payload_that_is_not_an_object_fails():
    with pytest.raises(InvalidEvent):
        validate_event("attempt.started", 1, ["not", "an", "object"])


@pytest.mark.parametrize(("event_type", "version"), [("attempt.paused", 1), ("attempt.started", 2)])
def test_unknown_types_and_versions_have_no_schema(event_type, version):
    with pytest.raises(UnknownSchema):
        schema_for(event_type, version)
    with pytest.raises(UnknownSchema):
        validate_event(event_type, version, {})


def test_schema_for_returns_a_copy():
    schema_for("attempt.started", 1)["properties"].clear()
    validate_event("attempt.started", 1, builders.attempt_started())
    with pytest.raises(InvalidEvent):
        validate_event("attempt.started", 1, builders.attempt_started(extra=1))
