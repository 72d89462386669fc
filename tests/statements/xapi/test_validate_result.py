"""Result and Score (Data §2.4.5)."""

from __future__ import annotations

import pytest

from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import VERSIONS, minimal, put, rejects


def with_result(result: object) -> dict:
    return put(minimal(), "result", result)


def with_score(score: object) -> dict:
    return with_result({"score": score})


@VERSIONS
def test_result_properties_are_accepted(v2):
    """Data §2.4.5.s2: score, success, completion, response, duration, extensions."""
    doc = with_result(
        {
            "score": {"scaled": -0.5, "raw": -5, "min": -10, "max": 10.5},
            "success": False,
            "completion": True,
            "response": "",
            "duration": "PT1H0M0S",
            "extensions": {"http://example.com/ext/minutes": "X:\\meetings\\minutes.one"},
        }
    )
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("success", "true"),
        ("success", 1),
        ("success", None),
        ("completion", "false"),
        ("completion", 0),
        ("response", 42),
        ("response", ["a"]),
        ("duration", 3600),
        ("extensions", "none"),
        ("score", 0.9),
    ],
)
def test_result_property_types_are_enforced(v2, key, value):
    """Data §2.2.s4.b1.b2, b3: strings where booleans are required (and so on) are rejected."""
    rejects(with_result({key: value}), f"result.{key}", v2=v2)


@VERSIONS
def test_result_unknown_property_is_rejected(v2):
    """Data §2.2.s4.b8: unknown properties are rejected."""
    rejects(with_result({"passed": True}), "result.passed", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", [-1, 1, 0, -1.0, 1.0, 0.95, 1e-9])
def test_scaled_score_between_minus_one_and_one_is_accepted(v2, value):
    """Data §2.4.5.1.s2: scaled is a decimal number between -1 and 1, inclusive."""
    doc = with_score({"scaled": value})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize("value", [1.0000001, -1.5, 2, 95, "0.5", True, False, None])
def test_scaled_score_outside_range_or_not_a_number_is_rejected(v2, value):
    """Data §2.4.5.1.s2, §2.2.s4.b1.b2: scaled is a number in [-1, 1]; booleans are not numbers."""
    rejects(with_score({"scaled": value}), "result.score.scaled", v2=v2)


@VERSIONS
@pytest.mark.parametrize("key", ["raw", "min", "max"])
@pytest.mark.parametrize("value", ["5", True, None, [5], float("nan"), float("inf")])
def test_raw_min_max_must_be_finite_numbers(v2, key, value):
    """Data §2.4.5.1.s2: raw, min and max are decimal numbers."""
    rejects(with_score({key: value}), f"result.score.{key}", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "score",
    [
        {"raw": 1e9},
        {"raw": -3},
        {"min": 0, "max": 100},
        {"raw": 0, "min": 0, "max": 100},
        {"raw": 100, "min": 0, "max": 100},
        {"raw": 50.5, "min": 0},
        {"raw": 50, "max": 50},
        {"min": -1.5, "max": -1.25},
    ],
)
def test_raw_between_min_and_max_is_accepted(v2, score):
    """Data §2.4.5.1.s2: raw is between min and max (if present, otherwise unrestricted)."""
    doc = with_score(score)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize(
    ("score", "path"),
    [
        ({"raw": -1, "min": 0, "max": 100}, "result.score.raw"),
        ({"raw": 101, "min": 0, "max": 100}, "result.score.raw"),
        ({"raw": -0.5, "min": 0}, "result.score.raw"),
        ({"raw": 100.5, "max": 100}, "result.score.raw"),
        ({"min": 10, "max": 10}, "result.score.min"),
        ({"min": 10, "max": 5}, "result.score.min"),
        ({"raw": 7, "min": 10, "max": 5}, "result.score.min"),
    ],
)
def test_raw_outside_min_max_or_min_not_below_max_is_rejected(v2, score, path):
    """Data §2.4.5.1.s2: min < max; min <= raw <= max."""
    rejects(with_score(score), path, v2=v2)


@VERSIONS
def test_score_unknown_property_is_rejected(v2):
    """Data §2.2.s4.b8: unknown properties are rejected."""
    rejects(with_score({"scaled": 0.5, "percent": 50}), "result.score.percent", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "value",
    ["PT4H35M59.14S", "P3Y1M29DT4H35M59.14S", "P3Y", "P4W", "PT1234S", "PT0S", "P1DT12H"],
)
def test_result_duration_in_iso_8601_format_is_accepted(v2, value):
    """Data §4.6.s2: the specification's example durations."""
    doc = with_result({"duration": value})
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize("value", ["P4W1D", "P16559.14S", "1:00:00", "", "PT", "P"])
def test_result_duration_not_in_iso_8601_format_is_rejected(v2, value):
    """Data §4.6.s1.b1: a Duration MUST be expressed in the ISO 8601 duration format."""
    rejects(with_result({"duration": value}), "result.duration", v2=v2)


@VERSIONS
def test_result_extension_keys_must_be_iris(v2):
    """Data §4.1.s3.b1: the keys of an extensions map MUST be IRIs."""
    rejects(with_result({"extensions": {"attempts": 3}}), "result.extensions.attempts", v2=v2)
