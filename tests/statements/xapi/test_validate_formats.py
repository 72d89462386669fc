"""Special data types: IRIs, language tags, UUIDs, timestamps and durations (Data §3.1, §4),
with property-based tests of the grammars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import VERSIONS, minimal, put, rejects

# --- IRIs -----------------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "iri",
    [
        "http://adlnet.gov/expapi/verbs/attempted",
        "https://example.com/xapi/verbs#defenestrated",
        "http://example.com/فعل/خواندن",
        "https://例え.テスト/パス?クエリ=値#断片",
        "urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "tag:example.com,2024:verbs/read",
        "http://user:pass@example.com:8080/a/b;c=d?x=1&y=%20#f/r?ag",
        "http://[2001:db8::7]/c=GB?objectClass?one",
        "http://192.0.2.1:80/",
        "mailto:learner@example.com",
        "http:",
        "x-custom+scheme.v1:opaque-part",
        "https://example.com/a%2Fb%c3%a9",
        "http://example.com/path/!$&'()*+,;=:@-._~",
        "http://example.com/?q=\ue000",
    ],
)
def test_absolute_iris_are_accepted(v2, iri):
    """Data §3.1, §4.3: IRIs (RFC 3987), non-ASCII characters included."""
    doc = put(minimal(), "verb.id", iri)
    assert validate_statement(doc, v2=v2)["verb"]["id"] == iri


@VERSIONS
@pytest.mark.parametrize(
    "iri",
    [
        "",
        "example.com/verbs/attempted",
        "/expapi/verbs/attempted",
        "#attempted",
        "//example.com/a",
        "attempted",
        "1http://example.com",
        "http://example.com/a b",
        " http://example.com/a",
        "http://example.com/a\n",
        "http://example.com/a\tb",
        "http://exa mple.com/",
        "http://example.com/<a>",
        'http://example.com/"a"',
        "http://example.com/{a}",
        "http://example.com/a|b",
        "http://example.com/a\\b",
        "http://example.com/a^b",
        "http://example.com/a`b",
        "http://example.com/%zz",
        "http://example.com/%2",
        "http://example.com/a#b#c",
        "http://example.com/[a]",
        "http://example.com:80a/",
        "http://example.com/\ue000",
        "http://example.com/\ufffe",
        "http://example.com/\x7f",
        "http://example.com/\u00a0x\u2028",
    ],
)
def test_non_iris_are_rejected(v2, iri):
    """Data §2.2.s4.b1.b4, b8: a value that must be an IRI and is not (or has no scheme)."""
    rejects(put(minimal(), "verb.id", iri), "verb.id", v2=v2)


def test_iri_checks_hold_however_many_iris_were_seen_before():
    """Data §3.1: well-formed IRIs are remembered, within bounds; the rule never weakens."""
    for n in range(9000):
        validate_statement(put(minimal(), "verb.id", f"http://example.com/verbs/{n}"), v2=True)
    rejects(put(minimal(), "verb.id", "http://example.com/verbs/ 1"), "verb.id", v2=True)
    long_iri = "http://example.com/" + "a" * 5000
    assert (
        validate_statement(put(minimal(), "verb.id", long_iri), v2=True)["verb"]["id"] == long_iri
    )


_IRI_TEXT = st.text(
    alphabet=st.sampled_from("abcxyzABC0129-._~!$&'()*+,;=:@éßж中文🙂"),
    min_size=1,
    max_size=12,
)


@given(
    scheme=st.sampled_from(["http", "https", "urn", "tag", "x-y+z.v"]),
    host=st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?(?:\.[a-z]{2,6})?", fullmatch=True),
    segments=st.lists(_IRI_TEXT, max_size=4),
    query=st.none() | _IRI_TEXT,
    fragment=st.none() | _IRI_TEXT,
)
def test_generated_iris_are_accepted_and_whitespace_is_not(scheme, host, segments, query, fragment):
    """Data §3.1, §4.3: any RFC 3987 absolute IRI is accepted; whitespace never is."""
    iri = f"{scheme}://{host}/" + "/".join(segments)
    if query is not None:
        iri += "?" + query
    if fragment is not None:
        iri += "#" + fragment.replace("#", "")
    doc = put(minimal(), "verb.id", iri)
    assert validate_statement(doc, v2=True)["verb"]["id"] == iri
    for position in (len(scheme) + 3, len(iri)):
        broken = iri[:position] + " " + iri[position:]
        rejects(put(minimal(), "verb.id", broken), "verb.id", v2=True)


# --- language tags --------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "tag",
    [
        "en",
        "en-US",
        "EN-us",
        "es-419",
        "zh-Hant-TW",
        "zh-yue-HK",
        "sr-Latn-RS",
        "de-CH-1901",
        "sl-rozaj-biske",
        "hy-Latn-IT-arevela",
        "en-a-myext-b-another",
        "de-CH-x-phonebk",
        "x-whatever",
        "qaa-Qaaa-QM-x-southern",
        "i-klingon",
        "I-KLINGON",
        "en-GB-oed",
        "zh-min-nan",
        "art-lojban",
        "tlh",
        "abcdefgh",
    ],
)
def test_rfc_5646_language_tags_are_accepted(v2, tag):
    """Data §4.2, §2.2.s4.b2: language map keys are RFC 5646 language tags."""
    doc = put(minimal(), "verb.display", {tag: "attempted"})
    assert validate_statement(doc, v2=v2)["verb"]["display"] == {tag: "attempted"}


@VERSIONS
@pytest.mark.parametrize(
    "tag",
    [
        "",
        "e",
        "en_US",
        "en-",
        "-en",
        "en--US",
        "en US",
        "abcdefghi",
        "en-USA1",
        "123",
        "en-x",
        "en-a",
        "en-a-x",
        "x",
        "x-abcdefghi",
        "en-Latn-Latn-Latn",
        "de-CH-19",
        "ęn",
        "en-K\u212a",
        "en-US ",
    ],
)
def test_malformed_language_tags_are_rejected(v2, tag):
    """Data §2.2.s4.b2: the sequence of token lengths MUST match RFC 5646."""
    rejects(put(minimal(), "verb.display", {tag: "attempted"}), f"verb.display.{tag}", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "tag",
    ["ar-a-aaa-b-bbb-a-ccc", "zh-z-aaa-z-bbb-c-ccc", "de-1901-1901", "sl-rozaj-ROZAJ"],
)
def test_language_tags_repeating_a_variant_or_extension_are_rejected(v2, tag):
    """Data §2.2.s3.b2: keys are valid RFC 5646 tags; a valid tag repeats no variant
    (RFC 5646 §2.2.5) and no extension singleton (§2.2.6, §2.2.9), whatever the case."""
    rejects(put(minimal(), "verb.display", {tag: "attempted"}), f"verb.display.{tag}", v2=v2)


@VERSIONS
@pytest.mark.parametrize("tag", ["en-x-abc-abc", "de-1901-a-ext-b-ext", "x-a-a"])
def test_private_use_and_distinct_extensions_may_repeat_text(v2, tag):
    """RFC 5646 §2.2.7: private use subtags are free; distinct singletons may carry the
    same extension text."""
    doc = put(minimal(), "verb.display", {tag: "attempted"})
    assert validate_statement(doc, v2=v2)["verb"]["display"] == {tag: "attempted"}


@VERSIONS
@pytest.mark.parametrize("tag", ["en-abc-def", "zh-yue-abc", "ZH-ABC-DEF-GHI", "zh-min-nan-x"])
def test_language_tags_with_a_second_extended_language_subtag_are_rejected(v2, tag):
    """Data §4.2: keys are RFC 5646 language tags; RFC 5646 §2.2.2: "the second and third
    extended language subtag positions in a language tag are permanently reserved and
    tags that include those subtags in that position are, and will always remain,
    invalid" (the grandfathered ``zh-min-nan`` alone is whole as it is)."""
    rejects(put(minimal(), "verb.display", {tag: "attempted"}), f"verb.display.{tag}", v2=v2)


def _case(draw, text: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in text)


@st.composite
def language_tags(draw) -> str:
    alpha = "abcdefghijklmnopqrstuvwxyz"
    alnum = alpha + "0123456789"
    parts = [draw(st.text(alpha, min_size=2, max_size=3))]
    if len(parts[0]) <= 3 and draw(st.booleans()):
        parts.append(draw(st.text(alpha, min_size=3, max_size=3)))  # one extlang at most
    if draw(st.booleans()):
        parts.append(draw(st.text(alpha, min_size=4, max_size=4)))
    if draw(st.booleans()):
        parts.append(
            draw(
                st.text(alpha, min_size=2, max_size=2)
                | st.text("0123456789", min_size=3, max_size=3)
            )
        )
    parts += draw(st.lists(st.text(alnum, min_size=5, max_size=8), max_size=2, unique=True))
    for singleton in draw(st.lists(st.sampled_from("abcy0129"), max_size=2, unique=True)):
        parts.append(singleton)
        parts += draw(st.lists(st.text(alnum, min_size=2, max_size=8), min_size=1, max_size=2))
    if draw(st.booleans()):
        parts.append("x")
        parts += draw(st.lists(st.text(alnum, min_size=1, max_size=8), min_size=1, max_size=2))
    return _case(draw, "-".join(parts))


@given(tag=language_tags())
def test_generated_language_tags_are_accepted(tag):
    """Data §2.2.s4.b2: every valid tag the RFC 5646 grammar produces is accepted."""
    doc = put(minimal(), "verb.display", {tag: "x"})
    assert validate_statement(doc, v2=True)["verb"]["display"] == {tag: "x"}


# --- durations ------------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "PT4H35M59.14S",
        "P3Y1M29DT4H35M59.14S",
        "P3Y",
        "P4W",
        "P1.5W",
        "PT1234S",
        "PT0S",
        "P0D",
        "PT1.5H",
        "P0,5Y",
        "PT36H",
        "P1Y2M",
        "P1M",
        "PT1M",
        "P1DT1S",
        "PT0.000001S",
    ],
)
def test_iso_8601_durations_are_accepted(v2, value):
    """Data §4.6.s1.b1: ISO 8601:2004 §4.4.3.2 durations (fraction on the last component)."""
    doc = put(minimal(), "result", {"duration": value})
    assert validate_statement(doc, v2=v2)["result"]["duration"] == value


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "",
        "P",
        "PT",
        "P1YT",
        "P4W1D",
        "P1Y4W",
        "P16559.14S",
        "4H35M",
        "PT4H35M59.14",
        "P1.5Y2M",
        "PT1.5H30M",
        "PT1.5S.5",
        "PT1.S",
        "PT.5S",
        "pt1h",
        "PT1h",
        "P-1D",
        "P1Y1Y",
        "P1M1Y",
        "PT1S1M",
        "P1H",
        "PT1D",
        "P0003-01-29T04:35:59",
        " PT1S",
        "PT1S ",
        "PT\uff11S",
    ],
)
def test_non_iso_8601_durations_are_rejected(v2, value):
    """Data §4.6.s1.b1: the alternative and other formats MUST NOT be used."""
    rejects(put(minimal(), "result", {"duration": value}), "result.duration", v2=v2)


@st.composite
def durations(draw) -> tuple[str, bool]:
    """An ISO 8601 duration and whether it is valid (a fraction not on the last part)."""
    if draw(st.booleans()):
        return f"P{draw(st.integers(0, 10**6))}W", True
    date_units = [u for u in "YMD" if draw(st.booleans())]
    time_units = [u for u in "HMS" if draw(st.booleans())]
    if not date_units and not time_units:
        time_units = ["S"]
    units = [(u, False) for u in date_units] + [(u, True) for u in time_units]
    fraction_at = draw(st.none() | st.integers(0, len(units) - 1))
    text = "P"
    in_time = False
    for index, (unit, is_time) in enumerate(units):
        if is_time and not in_time:
            text += "T"
            in_time = True
        text += str(draw(st.integers(0, 10**6)))
        if index == fraction_at:
            text += draw(st.sampled_from(".,")) + str(draw(st.integers(0, 999)))
        text += unit
    return text, fraction_at is None or fraction_at == len(units) - 1


@given(case=durations())
def test_generated_durations_follow_the_fraction_rule(case):
    """Data §4.6.s1.b1: any combination is valid; only the last part may have a fraction."""
    value, valid = case
    doc = put(minimal(), "result", {"duration": value})
    if valid:
        assert validate_statement(doc, v2=True)["result"]["duration"] == value
    else:
        rejects(doc, "result.duration", v2=True)


# --- timestamps -----------------------------------------------------------------------------


@st.composite
def offset_timestamps(draw) -> tuple[str, datetime, str]:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    offset = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    fraction = draw(st.sampled_from(["", ".1", ".123", ".123456", ".000000001"]))
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}{sign}{hours:02d}:{minutes:02d}"
    if moment.year < 1000:
        text = f"{moment.year:04d}" + text[text.index("-") :]
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return text, aware, fraction


@given(case=offset_timestamps())
def test_generated_timestamps_convert_to_the_same_instant_in_utc(case):
    """xAPI 2.0: the UTC form names the same point in time, fraction digits kept as sent."""
    text, aware, fraction = case
    doc = put(minimal(), "timestamp", text)
    assert validate_statement(doc, v2=False)["timestamp"] == text
    result = validate_statement(doc, v2=True)["timestamp"]
    utc = aware.astimezone(UTC)
    assert result == f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}{fraction}Z"
    again = validate_statement(put(minimal(), "timestamp", result), v2=True)["timestamp"]
    assert again == result


@given(case=offset_timestamps(), cut=st.integers(1, 6))
def test_truncated_timestamps_are_rejected(case, cut):
    """Data §4.5.s1.b1, b4: a timestamp cut short loses its time zone or time and is rejected."""
    doc = put(minimal(), "timestamp", case[0][:-cut])
    rejects(doc, "timestamp", v2=True)
    if cut == 3 and not case[0][:-cut].endswith("-00"):
        # "+hh:mm" cut to "+hh" is ISO 8601's hour-only offset, valid in 1.0.x (but for a
        # negative zero, which ISO 8601 writes "+00").
        validate_statement(doc, v2=False)
    else:
        rejects(doc, "timestamp", v2=False)
