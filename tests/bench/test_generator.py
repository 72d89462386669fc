"""The benchmark statement generator: determinism, shape, cmi5 rules and xAPI validity.

Pure: no database. Sizes are checked here; speed is not (it is measured by
``python bench/generator.py --stats``, never in a timed test).
"""

import gc
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest

from bench.generator import (
    CATEGORY_CMI5,
    CATEGORY_MOVEON,
    EXT_LAUNCH_MODE,
    EXT_LAUNCH_URL,
    EXT_MASTERY,
    EXT_MOVEON,
    EXT_PROGRESS,
    EXT_REASON,
    EXT_SESSION,
    TYPE_COURSE,
    StatementGenerator,
    _duration,
    _uuid4,
)

END = datetime(2026, 6, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
DURATION_RE = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(\d+(?:\.\d{1,2})?)S")
LANGUAGE_TAG_RE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")
CMI5_DEFINED = {
    "launched",
    "initialized",
    "completed",
    "passed",
    "failed",
    "abandoned",
    "waived",
    "terminated",
    "satisfied",
}
OUTCOMES = {"completed", "passed", "failed"}

# xAPI 1.0.3 Data §2.4: the properties each object may have.
STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp"}
AGENT_KEYS = {"objectType", "name", "account"}
ACTIVITY_KEYS = {"objectType", "id", "definition"}
DEFINITION_KEYS = {"name", "description", "type", "moreInfo", "extensions"}
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
SCORE_KEYS = {"scaled", "raw", "min", "max"}
CONTEXT_KEYS = {"registration", "contextActivities", "extensions"}


def generator(seed: int = 1, **kwargs) -> StatementGenerator:
    return StatementGenerator(seed=seed, end=END, **kwargs)


def verb(statement: dict) -> str:
    return statement["verb"]["id"].rsplit("/", 1)[1]


def seconds(duration: str) -> Decimal:
    match = DURATION_RE.fullmatch(duration)
    assert match, duration
    hours, minutes, secs = match.groups()
    return Decimal(hours or 0) * 3600 + Decimal(minutes or 0) * 60 + Decimal(secs)


def instant(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def categories(statement: dict) -> set[str]:
    return {a["id"] for a in statement["context"]["contextActivities"].get("category", [])}


@pytest.fixture(scope="module")
def sessions() -> list[list[dict]]:
    # A small population, so that registrations come back and courses get finished.
    return list(islice(generator(seed=3, learners=200).sessions(), 8000))


# -- determinism and the three views --------------------------------------------------------


def test_same_seed_same_statements():
    first = generator(seed=11).statements(3000)
    second = generator(seed=11).statements(3000)
    assert orjson.dumps(first) == orjson.dumps(second)


def test_different_seeds_differ():
    first = generator(seed=11).statements(200)
    second = generator(seed=12).statements(200)
    assert {s["id"] for s in first}.isdisjoint(s["id"] for s in second)
    assert [s["actor"] for s in first] != [s["actor"] for s in second]


@pytest.mark.parametrize("count", [0, 1, 2, 7, 1000, 2345])
def test_statements_returns_exactly_count(count):
    assert len(generator().statements(count)) == count


def test_statements_continue_where_the_previous_call_stopped():
    whole = generator().statements(1000)
    parts = generator()
    assert parts.statements(3) + parts.statements(400) + parts.statements(597) == whole


def test_stream_and_sessions_are_the_same_statements_in_the_same_order():
    expected = generator().statements(500)
    assert list(islice(generator().stream(), 500)) == expected
    flat = [s for session in islice(generator().sessions(), 200) for s in session]
    assert flat[:500] == expected


def test_a_session_cut_by_statements_goes_on_in_sessions():
    whole = next(generator().sessions())
    assert len(whole) >= 3
    cut = generator()
    head = cut.statements(2)
    assert head + next(cut.sessions()) == whole


def test_statements_do_not_share_mutable_parts():
    first, second = generator().statements(2)
    assert first["object"]["id"] == second["object"]["id"]
    first["object"]["definition"]["name"]["en-US"] = "changed"
    first["actor"]["account"]["name"] = "changed"
    first["context"]["contextActivities"]["parent"][0]["id"] = "https://changed.example"
    assert second["object"]["definition"]["name"]["en-US"] != "changed"
    assert second["actor"]["account"]["name"] != "changed"
    assert second["context"]["contextActivities"]["parent"][0]["id"] != "https://changed.example"


def test_population_follows_the_arguments():
    statements = generator(learners=7, activities=12, courses=3).statements(3000)
    learners = {s["actor"]["account"]["name"] for s in statements}
    assert learners <= {f"learner-{i:06d}" for i in range(1, 8)}
    au_statements = [s for s in statements if verb(s) != "satisfied"]
    aus = {s["object"]["id"] for s in au_statements}
    courses = {s["context"]["contextActivities"]["parent"][0]["id"] for s in au_statements}
    assert len(aus) == 12
    assert len(courses) == 3
    for statement in au_statements:
        course = statement["context"]["contextActivities"]["parent"][0]["id"]
        assert statement["object"]["id"].startswith(course + "/")


def test_rejects_an_impossible_population():
    with pytest.raises(ValueError, match="activities >= courses"):
        StatementGenerator(activities=3, courses=5)
    with pytest.raises(ValueError, match="aware"):
        StatementGenerator(end=datetime(2026, 1, 1))


# -- size, identifiers and time --------------------------------------------------------------


def test_average_serialized_size_is_about_a_kilobyte_and_a_fifth():
    statements = generator(seed=5).statements(2000)
    average = sum(len(orjson.dumps(s)) for s in statements) / len(statements)
    assert 1000 <= average <= 1400


def test_statement_ids_are_unique_lowercase_version_4_uuids():
    statements = generator(seed=9).statements(50_000)
    ids = [s["id"] for s in statements]
    assert len(set(ids)) == len(ids)
    assert all(UUID_RE.fullmatch(i) for i in ids)
    assert all(UUID_RE.fullmatch(s["context"]["registration"]) for s in statements)


def test_uuid4_formats_like_the_uuid_module():
    for bits in (0, (1 << 128) - 1, 0x0123456789ABCDEF0123456789ABCDEF, 12345):
        assert _uuid4(bits) == str(uuid.UUID(int=bits, version=4))


def test_timestamps_are_utc_milliseconds_within_the_90_days_before_end(sessions):
    for session in sessions:
        for statement in session:
            assert TIMESTAMP_RE.fullmatch(statement["timestamp"])
            assert END - timedelta(days=90) <= instant(statement["timestamp"]) < END


def test_default_end_is_midnight_utc_today():
    statement = StatementGenerator(seed=1).statements(1)[0]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert today - timedelta(days=90) <= instant(statement["timestamp"]) < today


def test_timestamps_are_formatted_exactly():
    generated = generator()
    for ms in (0, 999, 86_399_999, 1_767_225_599_999, 1_780_000_000_001, 1_790_123_456_789):
        expected = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
        assert generated._timestamp(ms) == expected.replace("+00:00", "Z")


def test_statements_leave_the_garbage_collector_as_they_found_it():
    generated = generator()
    assert gc.isenabled()
    generated.statements(100)
    assert gc.isenabled()
    gc.disable()
    try:
        generated.statements(100)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, "PT0S"),
        (45_000, "PT45S"),
        (751_500, "PT12M31.5S"),
        (751_254, "PT12M31.25S"),
        (3_723_000, "PT1H2M3S"),
        (3_600_009, "PT1H0M0S"),
    ],
)
def test_durations_are_iso_8601_to_the_hundredth(ms, expected):
    """xAPI Data §4.6: ISO 8601 durations, 0.01 s precision at most."""
    assert _duration(ms) == expected


# -- cmi5 sessions ---------------------------------------------------------------------------


def test_sessions_follow_the_cmi5_verb_order(sessions):
    """cmi5 §9.3: launched, then initialized first of the AU's, terminated (or the LMS's
    abandoned) last; no cmi5 defined verb twice; at most one outcome. A waived AU is a
    session of its own (§9.3.7), possibly followed by the course's satisfied."""
    shapes = Counter()
    for session in sessions:
        verbs = [verb(s) for s in session]
        defined = [v for v in verbs if v in CMI5_DEFINED]
        assert len(defined) == len(set(defined)), verbs
        assert len(OUTCOMES.intersection(verbs)) <= 1, verbs
        assert len({s["context"]["extensions"][EXT_SESSION] for s in session}) == 1
        assert len({s["context"]["registration"] for s in session}) == 1
        assert len({orjson.dumps(s["actor"]) for s in session}) == 1
        if verbs[0] == "waived":
            assert verbs in (["waived"], ["waived", "satisfied"])
            shapes["waived"] += 1
            continue
        assert verbs[:2] == ["launched", "initialized"], verbs
        assert verbs[-1] in ("terminated", "abandoned"), verbs
        middle = verbs[2:-1]
        progressed = [v for v in middle if v == "progressed"]
        assert len(progressed) <= 4
        assert middle[: len(progressed)] == progressed, verbs
        assert middle[len(progressed) :] in ([], ["completed"], ["passed"], ["failed"]) or (
            middle[len(progressed) :] in (["completed", "satisfied"], ["passed", "satisfied"])
        ), verbs
        shapes[verbs[-1]] += 1
        shapes.update(OUTCOMES.intersection(verbs))
        shapes.update({"satisfied"}.intersection(verbs))
    # The mix is realistic: every kind of session occurs, most sessions end normally.
    assert shapes["terminated"] > 10 * shapes["abandoned"] > 0
    assert shapes["completed"] > shapes["passed"] > 0
    assert shapes["failed"] > 0
    assert shapes["waived"] > 0
    assert shapes["satisfied"] > 0


def test_timestamps_increase_within_a_session(sessions):
    for session in sessions:
        times = [instant(s["timestamp"]) for s in session]
        assert times == sorted(times)
        assert len(set(times)) == len(times)


def test_launched_carries_the_launch_data(sessions):
    """cmi5 §9.6.3: launchMode, launchURL and moveOn on launched; masteryScore when the AU
    has one. A satisfied AU is revisited in Review mode without outcome (§10.2.2)."""
    modes = Counter()
    for session in sessions:
        launched = session[0]
        if verb(launched) != "launched":
            continue
        extensions = launched["context"]["extensions"]
        mode = extensions[EXT_LAUNCH_MODE]
        modes[mode] += 1
        assert urlsplit(extensions[EXT_LAUNCH_URL]).scheme == "https"
        assert extensions[EXT_MOVEON] in ("Completed", "Passed")
        is_assessment = launched["object"]["definition"]["type"].endswith("/assessment")
        assert (EXT_MASTERY in extensions) == is_assessment
        assert (extensions[EXT_MOVEON] == "Passed") == is_assessment
        if mode == "Review":
            assert [verb(s) for s in session[1:-1]] == ["initialized"]
    assert set(modes) == {"Normal", "Review"}


def test_categories_follow_cmi5(sessions):
    """cmi5 §9.6.2: the cmi5 category on cmi5 defined statements only (progressed is "cmi5
    allowed", §7.1.3); the moveOn category exactly when the result has success or
    completion."""
    for session in sessions:
        for statement in session:
            result = statement.get("result", {})
            expected = set()
            if verb(statement) != "progressed":
                expected.add(CATEGORY_CMI5)
            if "success" in result or "completion" in result:
                expected.add(CATEGORY_MOVEON)
            assert categories(statement) == expected


def test_results_follow_cmi5(sessions):
    """cmi5 §9.5: score only on passed/failed, success only on passed/failed/waived,
    completion only on completed/waived, duration where required, progress 0-100."""
    for session in sessions:
        for statement in session:
            name = verb(statement)
            result = statement.get("result")
            if name in ("launched", "initialized", "satisfied"):
                assert result is None
                continue
            assert set(result) <= RESULT_KEYS
            assert ("score" in result) == (name in ("passed", "failed"))
            assert ("success" in result) == (name in ("passed", "failed", "waived"))
            assert ("completion" in result) == (name in ("completed", "waived"))
            assert ("duration" in result) == (name not in ("progressed", "waived"))
            if "duration" in result:
                assert DURATION_RE.fullmatch(result["duration"])
            if name == "passed" or name == "waived":
                assert result["success"] is True
            if name == "failed":
                assert result["success"] is False
            if "completion" in result:
                assert result["completion"] is True
            if name == "progressed":
                progress = result["extensions"][EXT_PROGRESS]
                assert isinstance(progress, int)
                assert 0 <= progress <= 100
            if name == "waived":
                assert result["extensions"][EXT_REASON]


def test_scores_are_consistent_with_the_mastery_score(sessions):
    """cmi5 §9.5.1, §9.3.4-5: min <= raw <= max, scaled = raw / max (min is 0); passed
    exactly when scaled >= masteryScore, which the statement carries (§9.6.3.2)."""
    judged = 0
    for session in sessions:
        for statement in session:
            if verb(statement) not in ("passed", "failed"):
                continue
            judged += 1
            score = statement["result"]["score"]
            assert set(score) == SCORE_KEYS
            assert score["min"] == 0
            assert score["min"] <= score["raw"] <= score["max"]
            assert isinstance(score["raw"], int)
            assert score["scaled"] == score["raw"] / score["max"]
            mastery = statement["context"]["extensions"][EXT_MASTERY]
            assert (score["scaled"] >= mastery) == (verb(statement) == "passed")
    assert judged > 100


def test_durations_match_the_timestamps(sessions):
    """cmi5 §9.5.4: terminated and outcomes since initialized; abandoned from launched to
    the AU's last statement."""
    for session in sessions:
        if verb(session[0]) != "launched":
            continue
        at = {verb(s): instant(s["timestamp"]) for s in session}
        au_last = max(instant(s["timestamp"]) for s in session[:-1] if verb(s) != "satisfied")
        for statement in session[2:]:
            name = verb(statement)
            if name in ("terminated", *OUTCOMES):
                elapsed = at[name] - at["initialized"]
            elif name == "abandoned":
                elapsed = au_last - at["launched"]
            else:
                continue
            difference = Decimal(str(elapsed.total_seconds())) - seconds(
                statement["result"]["duration"]
            )
            assert Decimal(0) <= difference < Decimal("0.01")


def test_registration_rules_hold_by_timestamp(sessions):
    """cmi5 §9.3 within a registration and AU: at most one completed, at most one passed,
    no failed after passed; sessions of a registration never overlap in time."""
    verbs_by_au = defaultdict(list)
    last_end = {}
    satisfied_courses = Counter()
    for session in sessions:
        registration = session[0]["context"]["registration"]
        start = instant(session[0]["timestamp"])
        assert start > last_end.get(registration, datetime.min.replace(tzinfo=UTC))
        last_end[registration] = instant(session[-1]["timestamp"])
        for statement in session:
            if verb(statement) == "satisfied":
                satisfied_courses[(registration, statement["object"]["id"])] += 1
            else:
                verbs_by_au[(registration, statement["object"]["id"])].append(verb(statement))
    assert len(last_end) < len(sessions) / 2  # registrations do come back
    for verbs in verbs_by_au.values():
        assert verbs.count("completed") <= 1
        assert verbs.count("passed") <= 1
        if "passed" in verbs:
            assert "failed" not in verbs[verbs.index("passed") :]
        assert verbs.count("waived") <= 1
    assert max(satisfied_courses.values()) == 1


def test_satisfied_is_about_the_course_in_the_triggering_session(sessions):
    """cmi5 §9.3.9, §9.4: the LMS's course object, typed as a cmi5 course, under the id of
    the session whose outcome satisfied the course's last AU."""
    seen = 0
    for session in sessions:
        for statement in session:
            if verb(statement) != "satisfied":
                continue
            seen += 1
            course = statement["object"]
            assert course["definition"]["type"] == TYPE_COURSE
            au_statement = session[0]
            assert course["id"] == au_statement["context"]["contextActivities"]["parent"][0]["id"]
            assert au_statement["object"]["id"].startswith(course["id"] + "/")
    assert seen > 0


def test_every_statement_has_the_cmi5_context_template(sessions):
    """cmi5 §9.6: registration, the session id extension, the publisher id in grouping."""
    for session in sessions:
        for statement in session:
            context = statement["context"]
            assert UUID_RE.fullmatch(context["registration"])
            assert context["extensions"][EXT_SESSION]
            grouping = context["contextActivities"]["grouping"]
            assert grouping
            if verb(statement) != "satisfied":
                assert len(context["contextActivities"]["parent"]) == 1
                assert len(grouping) == 2


# -- xAPI validity ---------------------------------------------------------------------------


def _is_absolute_iri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_language_map(value: dict) -> None:
    assert value
    for tag, text in value.items():
        assert LANGUAGE_TAG_RE.fullmatch(tag), tag
        assert isinstance(text, str)
        assert text


def _check_extensions(value: dict) -> None:
    assert all(_is_absolute_iri(key) for key in value)


def _check_activity(activity: dict) -> None:
    assert set(activity) <= ACTIVITY_KEYS
    assert activity.get("objectType", "Activity") == "Activity"
    assert _is_absolute_iri(activity["id"])
    definition = activity.get("definition")
    if definition is not None:
        assert set(definition) <= DEFINITION_KEYS
        for key in ("name", "description"):
            if key in definition:
                _check_language_map(definition[key])
        assert _is_absolute_iri(definition["type"])
        _check_extensions(definition.get("extensions", {}))


def test_statements_use_only_xapi_properties_with_valid_values(sessions):
    """xAPI 1.0.3 Data §2.4: only the properties defined there, absolute IRIs, language
    maps keyed by RFC 5646 tags, an Agent identified by an account."""
    for session in sessions:
        for statement in session:
            assert set(statement) <= STATEMENT_KEYS
            actor = statement["actor"]
            assert set(actor) == AGENT_KEYS
            assert actor["objectType"] == "Agent"
            assert actor["account"]["homePage"] == "https://lms.example.org"
            assert re.fullmatch(r"learner-\d{6}", actor["account"]["name"])
            assert set(statement["verb"]) == {"id", "display"}
            assert _is_absolute_iri(statement["verb"]["id"])
            _check_language_map(statement["verb"]["display"])
            _check_activity(statement["object"])
            context = statement["context"]
            assert set(context) <= CONTEXT_KEYS
            activities = context["contextActivities"]
            assert set(activities) <= {"parent", "grouping", "category", "other"}
            for group in activities.values():
                assert isinstance(group, list)
                for activity in group:
                    _check_activity(activity)
            _check_extensions(context["extensions"])
            _check_extensions(statement.get("result", {}).get("extensions", {}))


def test_activity_definitions_are_realistic(sessions):
    au_statements = [s for session in sessions for s in session if verb(s) != "satisfied"]
    definitions = {s["object"]["id"]: s["object"]["definition"] for s in au_statements}
    types = Counter(d["type"].rsplit("/", 1)[1] for d in definitions.values())
    languages = Counter(tag for d in definitions.values() for tag in d["name"])
    assert set(types) == {"lesson", "assessment"}
    assert types["lesson"] > types["assessment"]
    assert languages["en-US"] == len(definitions)
    assert 0 < languages["fr-FR"] < len(definitions)
    assert 0 < languages["de-DE"] < len(definitions)
    assert all(d["name"].keys() == d["description"].keys() for d in definitions.values())
    assert all(d["extensions"] for d in definitions.values())
    for au in definitions:
        assert re.fullmatch(r"https://courses\.example\.org/[a-z0-9-]+/[a-z0-9-]+", au)


def test_statements_pass_the_statement_validator():
    """The generated statements are accepted by ``validate_statement`` under 1.0.3 and 2.0."""
    from statements.xapi.validate import validate_statement as validate

    for statement in generator(seed=21).statements(500):
        validate(statement, v2=False)
        validate(statement, v2=True)


# -- command line ----------------------------------------------------------------------------


def test_script_prints_json_lines():
    completed = subprocess.run(
        [
            sys.executable,
            "bench/generator.py",
            "--count",
            "5",
            "--seed",
            "1",
            "--end",
            END.isoformat(),
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = completed.stdout.splitlines()
    assert len(lines) == 5
    assert [orjson.loads(line) for line in lines] == generator(seed=1).statements(5)
