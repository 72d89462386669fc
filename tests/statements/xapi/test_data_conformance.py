"""Data-section rules on Timestamps: leap seconds, and Statement comparison of
SubStatement Timestamps in the first and last years of the calendar."""

from __future__ import annotations

import pytest

from statements.xapi.equivalence import equivalent, fingerprint
from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import VERSIONS, minimal, put, rejects
from tests.statements.xapi.test_validate_statement import substatement

# --- leap seconds ---------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize("key", ["timestamp", "stored"])
@pytest.mark.parametrize(
    "value",
    [
        "2015-11-18T12:17:60Z",  # the middle of a day
        "2016-12-30T23:59:60Z",  # the last minute of a day that does not end a month
        "2016-12-31T23:58:60Z",  # the last day of a month, but not its last minute
        "2016-12-31T23:59:60+01:00",  # 22:59:60 in UTC
        "2016-12-31T23:59:60.5-01:00",  # 2017-01-01T00:59:60.5 in UTC
        "2017-01-01T00:30:60+00:30",  # 2017-01-01T00:00:60 in UTC
    ],
)
def test_leap_second_outside_the_last_minute_of_a_utc_month_is_rejected(v2, key, value):
    """Data §4.5.s1.b1, b2 (RFC 3339 in 2.0): "A Timestamp MUST be formatted according to
    ISO 8601"; RFC 3339 §5.7: time-second "may have the value "60" at the end of months in
    which a leap second occurs ... in time zones other than "Z", the leap second point is
    shifted by the zone offset". Anywhere else second 60 names no point in time."""
    error = rejects(put(minimal(), key, value), key, v2=v2)
    assert "leap second" in error.message


@VERSIONS
def test_leap_second_outside_the_last_minute_of_a_month_is_rejected_in_a_substatement(v2):
    """Data §2.4.4.3.s8.b2: "A SubStatement MUST be validated as a Statement", its
    Timestamp by Data §4.5 and RFC 3339 §5.7 too."""
    doc = put(minimal(), "object", substatement(timestamp="2030-06-15T10:00:60Z"))
    rejects(doc, "object.timestamp", v2=v2)


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"),
        ("2015-06-30T23:59:60.5Z", "2015-06-30T23:59:60.5Z"),
        ("2016-12-31T18:59:60-05:00", "2016-12-31T23:59:60Z"),
        ("2017-01-01T00:59:60.25+01:00", "2016-12-31T23:59:60.25Z"),
        ("2017-01-01T05:29:60+05:30", "2016-12-31T23:59:60Z"),
        ("2012-07-01T00:29:60+00:30", "2012-06-30T23:59:60Z"),
    ],
)
def test_leap_second_at_the_end_of_a_utc_month_is_accepted(value, utc):
    """RFC 3339 §5.7: a leap second is 23:59:60 on the last day of a month in UTC, at the
    same instant in every zone ("shifted by the zone offset"). Accepted in both versions;
    2.0 (ARCHITECTURE.md §8) stores it in UTC, where it stays the last second of the month."""
    doc = put(minimal(), "timestamp", value)
    assert validate_statement(doc, v2=False)["timestamp"] == value
    assert validate_statement(doc, v2=True)["timestamp"] == utc


def test_leap_second_with_an_hour_only_offset_is_accepted_under_1_0():
    """Data §4.5.s1.b1: ISO 8601 offsets may be written "±hh"; the leap second is then
    shifted by whole hours (RFC 3339 §5.7, ISO 8601:2004 §4.2.1)."""
    doc = put(minimal(), "timestamp", "2016-12-31T18:59:60-05")
    assert validate_statement(doc, v2=False)["timestamp"] == "2016-12-31T18:59:60-05"
    rejects(put(minimal(), "timestamp", "2016-12-31T23:59:60-05"), "timestamp", v2=False)


# --- equivalence of SubStatement Timestamps at the ends of the calendar ----------------------


def _with_substatement_timestamp(value: str, *, v2: bool) -> dict:
    doc = put(minimal(), "id", "fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
    return validate_statement(put(doc, "object", substatement(timestamp=value)), v2=v2)


@pytest.mark.parametrize(
    ("first", "second", "v2"),
    [
        ("0001-01-01T00:00:00+01:00", "0000-12-31T23:00:00Z", False),
        ("0000-06-01T12:00:00Z", "0000-06-01T13:30:00+01:30", False),
        ("9999-12-31T23:30:00-01:00", "9999-12-31T23:30:00.000-01:00", False),
        ("9999-12-31T23:59:60Z", "9999-12-31T22:59:60-01:00", False),
        ("9999-12-31T23:59:60Z", "9999-12-31T23:59:60.000Z", True),
    ],
)
def test_substatement_timestamps_naming_one_instant_are_equivalent_in_any_year(first, second, v2):
    """Data §2.3.1.b4: "Serialization of Timestamp data ... can be returned in a different
    timezone ... so long as the point in time referenced is not affected"; §2.3.1.s9.b1:
    such differences "MUST be ignored". The validator accepts every four-digit year, so
    comparison must hold for the first and last years too (a SubStatement keeps its
    timestamp, Data §2.4.4.3.s8.b3)."""
    a = _with_substatement_timestamp(first, v2=v2)
    b = _with_substatement_timestamp(second, v2=v2)
    assert equivalent(a, b)
    assert fingerprint(a) == fingerprint(b)


def test_substatement_timestamps_naming_different_instants_differ_in_the_last_year():
    """Data §2.3.1.s9.b2: differences not listed as exceptions "MUST not be ignored"; a
    different point in time is not a different serialisation of the same one."""
    a = _with_substatement_timestamp("9999-12-31T23:30:00-01:00", v2=False)
    b = _with_substatement_timestamp("9999-12-31T23:30:00Z", v2=False)
    assert not equivalent(a, b)
