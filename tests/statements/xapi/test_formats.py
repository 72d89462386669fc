"""GET Statements formats (Communication §2.1.3) and what each xAPI version is served."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statements.xapi.formats import (
    for_reader,
    format_canonical,
    format_ids,
    parse_accept_language,
)
from tests.statements.xapi.test_equivalence import language_tags, statements

ANN = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}
BOB = {"name": "Bob", "account": {"homePage": "https://lms.example.com", "name": "bob"}}
TEAM = {
    "objectType": "Group",
    "name": "Team",
    "openid": "https://openid.example.org/t",
    "member": [BOB],
}
ANONYMOUS = {"objectType": "Group", "name": "Ad hoc", "member": [ANN, BOB]}
VERB = {
    "id": "http://adlnet.gov/expapi/verbs/answered",
    "display": {"en-US": "answered", "fr": "répondu"},
}
QUESTION = {
    "objectType": "Activity",
    "id": "https://example.com/quiz/1/q/3",
    "definition": {
        "name": {"en-US": "Question 3", "en-GB": "Question three", "de": "Frage 3"},
        "description": {"en": "Pick one", "fr": "Choisissez"},
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "interactionType": "choice",
        "correctResponsesPattern": ["b"],
        "choices": [
            {"id": "a", "description": {"en-US": "Red", "fr": "Rouge"}},
            {"id": "b", "description": {"en-US": "Blue", "fr": "Bleu"}},
            {"id": "c"},
        ],
    },
}
QUIZ = {"id": "https://example.com/quiz/1", "definition": {"name": {"en-US": "Quiz", "fr": "Quiz"}}}
ATTACHMENT = {
    "usageType": "https://example.com/usage/certificate",
    "display": {"en-US": "Certificate", "fr": "Certificat"},
    "description": {"fr": "Un certificat"},
    "contentType": "application/pdf",
    "length": 12,
    "sha2": "ab" * 32,
}
STATEMENT = {
    "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
    "actor": ANN,
    "verb": VERB,
    "object": QUESTION,
    "result": {"response": "b", "success": True},
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "instructor": BOB,
        "team": TEAM,
        "contextActivities": {"parent": [QUIZ]},
        "platform": "web",
    },
    "timestamp": "2024-05-06T07:08:09.123Z",
    "stored": "2024-05-06T07:08:10.456Z",
    "authority": {
        "objectType": "Agent",
        "name": "LMS",
        "account": {"homePage": "https://lrs.example.com", "name": "k"},
    },
    "version": "1.0.0",
    "attachments": [ATTACHMENT],
}


def language_maps_of(statement):
    """Every language map format_canonical reduces, as (path, map)."""
    found = []

    def definition(path, d):
        for key in ("name", "description"):
            if key in d:
                found.append((f"{path}.{key}", d[key]))
        for key in ("choices", "scale", "source", "target", "steps"):
            for i, component in enumerate(d.get(key, [])):
                if "description" in component:
                    found.append((f"{path}.{key}[{i}].description", component["description"]))

    def walk(path, s):
        if "display" in s["verb"]:
            found.append((f"{path}verb.display", s["verb"]["display"]))
        activities = []
        if s["object"].get("objectType", "Activity") == "Activity":
            activities.append((f"{path}object", s["object"]))
        for kind, listed in s.get("context", {}).get("contextActivities", {}).items():
            activities += [(f"{path}context.{kind}[{i}]", a) for i, a in enumerate(listed)]
        for p, a in activities:
            if "definition" in a:
                definition(f"{p}.definition", a["definition"])
        for i, attachment in enumerate(s.get("attachments", [])):
            for key in ("display", "description"):
                if key in attachment:
                    found.append((f"{path}attachments[{i}].{key}", attachment[key]))
        if s["object"].get("objectType") == "SubStatement":
            walk("object.", s["object"])

    walk("", statement)
    return found


# -- ids ------------------------------------------------------------------------------------


def test_ids_reduces_agents_verbs_and_activities_to_identifiers():
    """§2.1.3 format=ids: "only include minimum information necessary in Agent, Activity,
    Verb and Group Objects to identify them"; Data §2.4.3.s6.b2: no Verb display. An
    Activity's objectType is optional and implied (Data §2.4.4.1), so its id is all that
    is left of it, wherever it appears."""
    served = format_ids(STATEMENT)
    assert served["actor"] == {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
    assert served["verb"] == {"id": "http://adlnet.gov/expapi/verbs/answered"}
    assert served["object"] == {"id": "https://example.com/quiz/1/q/3"}
    assert served["context"]["instructor"] == {"account": BOB["account"]}
    assert served["context"]["team"] == {
        "objectType": "Group",
        "openid": "https://openid.example.org/t",
    }
    assert served["context"]["contextActivities"] == {
        "parent": [{"id": "https://example.com/quiz/1"}]
    }
    assert served["authority"] == {
        "objectType": "Agent",
        "account": STATEMENT["authority"]["account"],
    }


def test_ids_keeps_what_is_not_an_agent_activity_verb_or_group():
    """§2.1.3 format=ids names Agent, Activity, Verb and Group Objects only."""
    served = format_ids(STATEMENT)
    for key in ("id", "result", "timestamp", "stored", "version", "attachments"):
        assert served[key] == STATEMENT[key]
    assert served["context"]["registration"] == STATEMENT["context"]["registration"]
    assert served["context"]["platform"] == "web"


def test_ids_anonymous_group_keeps_each_member_identified():
    """§2.1.3 format=ids: "For Anonymous Groups this means including the minimum information
    needed to identify each member"."""
    served = format_ids({**STATEMENT, "actor": ANONYMOUS})
    assert served["actor"] == {
        "objectType": "Group",
        "member": [
            {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
            {"account": BOB["account"]},
        ],
    }


def test_ids_applies_inside_a_sub_statement():
    """Data §2.4.4.3.s8.b2: a SubStatement is a Statement; its Agents, Verb and Activities
    are reduced the same way, and a StatementRef is already minimal."""
    sub = {
        "objectType": "SubStatement",
        "actor": ANONYMOUS,
        "verb": VERB,
        "object": QUESTION,
        "context": {"contextActivities": {"parent": [QUIZ]}, "instructor": ANN},
        "timestamp": "2030-01-01T00:00:00Z",
    }
    served = format_ids({**STATEMENT, "object": sub})
    assert served["object"] == {
        "objectType": "SubStatement",
        "actor": {
            "objectType": "Group",
            "member": [{"objectType": "Agent", "mbox": ANN["mbox"]}, {"account": BOB["account"]}],
        },
        "verb": {"id": VERB["id"]},
        "object": {"id": QUESTION["id"]},
        "context": {
            "contextActivities": {"parent": [{"id": QUIZ["id"]}]},
            "instructor": {"objectType": "Agent", "mbox": ANN["mbox"]},
        },
        "timestamp": "2030-01-01T00:00:00Z",
    }
    ref = {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}
    assert format_ids({**STATEMENT, "object": ref})["object"] == ref


def test_ids_reduces_2_0_context_agents_and_groups():
    """xAPI 2.0 Context Agents and Groups hold Agent and Group Objects, reduced like any."""
    context = {
        "contextAgents": [
            {"objectType": "contextAgent", "agent": ANN, "relevantTypes": [QUIZ["id"]]}
        ],
        "contextGroups": [{"objectType": "contextGroup", "group": TEAM}],
    }
    served = format_ids({**STATEMENT, "context": context})["context"]
    assert served["contextAgents"] == [
        {
            "objectType": "contextAgent",
            "agent": {"objectType": "Agent", "mbox": ANN["mbox"]},
            "relevantTypes": [QUIZ["id"]],
        }
    ]
    assert served["contextGroups"] == [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "openid": TEAM["openid"]}}
    ]


@given(statement=statements)
def test_ids_is_idempotent_and_pure(statement):
    """Reducing a reduced statement changes nothing; the stored statement is untouched."""
    before = copy.deepcopy(statement)
    once = format_ids(statement)
    assert format_ids(once) == once
    assert statement == before
    assert "display" not in once["verb"]
    assert "definition" not in once["object"]
    assert "name" not in once["actor"]


# -- Accept-Language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("da, en-gb;q=0.8, en;q=0.7", ["da", "en-gb", "en"]),
        ("en;q=0.7, da, en-GB;q=0.8", ["da", "en-gb", "en"]),
        ("fr;q=0.5, de;q=0.5, it", ["it", "fr", "de"]),
        ("en-US,en;q=0.9,*;q=0.1", ["en-us", "en", "*"]),
        ("EN-us", ["en-us"]),
        ("es-419, es;q=0.9", ["es-419", "es"]),
        ("de;q=1.0, fr;q=1", ["de", "fr"]),
        ("en;q=0.3, en;q=0.9", ["en"]),
    ],
)
def test_accept_language_orders_by_quality_then_position(header, ranges):
    """RFC 2616 §14.4, applied as Communication §2.1.3.s4.b5 requires: "a quality value
    ... representing an estimate of the user's preference for the languages specified by
    that range" (default 1)."""
    assert parse_accept_language(header) == ranges


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        (None, []),
        ("", []),
        ("  ,, ", []),
        ("fr;q=0, en", ["en"]),
        ("fr;q=0.000", []),
        ("fr;q=abc, en", ["en"]),
        ("fr;q=1.5, en;q=-1, de;q=nan, it;q=inf, es", ["es"]),
        ("en_US, en-, -en, toolonglang, e1, en-US", ["en-us"]),
        ("en; level=1; q=0.5, fr", ["fr", "en"]),
        ("  de ;  q = 0.4 , fr ", ["fr", "de"]),
    ],
)
def test_accept_language_skips_junk_and_unacceptable_ranges(header, ranges):
    """RFC 2616 §14.4: q=0 means "not acceptable"; ranges are 1*8ALPHA subtags. A header
    the client got wrong is read as far as it makes sense, never an error."""
    assert parse_accept_language(header) == ranges


@given(header=st.text(max_size=80))
def test_accept_language_never_fails(header):
    """Any header value: a list of distinct lowercase ranges."""
    ranges = parse_accept_language(header)
    assert len(set(ranges)) == len(ranges)
    assert all(r == r.lower() and r for r in ranges)


# -- canonical -----------------------------------------------------------------------------------


def test_canonical_keeps_one_language_in_every_map():
    """§2.1.3.s4.b1: "The LRS MUST return only one language in each of these maps";
    §2.1.3.s4.b5: the choice is made "to each language map individually"."""
    served = format_canonical(STATEMENT, ["fr"])
    assert served["verb"]["display"] == {"fr": "répondu"}
    definition = served["object"]["definition"]
    assert definition["description"] == {"fr": "Choisissez"}
    assert definition["choices"] == [
        {"id": "a", "description": {"fr": "Rouge"}},
        {"id": "b", "description": {"fr": "Bleu"}},
        {"id": "c"},
    ]
    # No French name: this map falls back on its own (first key).
    assert definition["name"] == {"en-US": "Question 3"}
    assert served["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {
        "fr": "Quiz"
    }
    assert served["attachments"][0]["display"] == {"fr": "Certificat"}
    assert served["attachments"][0]["description"] == {"fr": "Un certificat"}
    for path, language_map in language_maps_of(served):
        assert len(language_map) == 1, path


def test_canonical_prefix_range_matches_regional_tags():
    """RFC 2616 §14.4: a range matches a tag "if it exactly equals a prefix of the tag such
    that the first tag character following the prefix is "-"" (en matches en-US)."""
    served = format_canonical(STATEMENT, ["en"])
    assert served["verb"]["display"] == {"en-US": "answered"}
    assert served["object"]["definition"]["description"] == {"en": "Pick one"}
    assert served["object"]["definition"]["name"] == {"en-US": "Question 3"}


def test_canonical_exact_tag_beats_prefix_and_case_is_ignored():
    """RFC 2616 §14.4 with RFC 5646 §2.1.1 (tags are case-insensitive)."""
    assert format_canonical(STATEMENT, ["en-gb"])["object"]["definition"]["name"] == {
        "en-GB": "Question three"
    }
    language_map = {"en-US": "regional", "en": "plain"}
    statement = {**STATEMENT, "verb": {"id": VERB["id"], "display": language_map}}
    assert format_canonical(statement, ["en"])["verb"]["display"] == {"en": "plain"}


def test_canonical_more_specific_range_sets_the_quality_of_its_tags():
    """RFC 2616 §14.4: a tag's quality is "the quality value of the longest language-range
    in the field that matches the language-tag"."""
    ranges = parse_accept_language("en, en-us;q=0.5")
    name = format_canonical(STATEMENT, ranges)["object"]["definition"]["name"]
    assert name == {"en-GB": "Question three"}


def test_canonical_wildcard_matches_what_no_other_range_does():
    """RFC 2616 §14.4: "*" matches every tag not matched by any other range."""
    ranges = parse_accept_language("*, en-us;q=0.5")
    name = format_canonical(STATEMENT, ranges)["object"]["definition"]["name"]
    assert name == {"en-GB": "Question three"}


def test_canonical_falls_back_to_the_same_primary_language_then_the_first_key():
    """With no acceptable entry the LRS still returns one language (§2.1.3.s4.b1): the
    nearest variant (en-AU asked, en-US present), else the map's first key."""
    assert format_canonical(STATEMENT, ["en-au"])["verb"]["display"] == {"en-US": "answered"}
    assert format_canonical(STATEMENT, ["ja", "de-at"])["object"]["definition"]["name"] == {
        "de": "Frage 3"
    }
    assert format_canonical(STATEMENT, ["ja"])["object"]["definition"]["name"] == {
        "en-US": "Question 3"
    }
    assert format_canonical(STATEMENT, [])["verb"]["display"] == {"en-US": "answered"}


def test_canonical_serves_the_lrs_canonical_definitions():
    """§2.1.3 format=canonical: "return Activity Objects ... populated with the canonical
    definition of the Activity Objects ... as determined by the LRS"."""
    canonical = {
        QUIZ["id"]: {
            "name": {"en-US": "Final quiz", "fr": "Quiz final"},
            "type": "https://example.com/t/quiz",
        },
        "https://example.com/unused": {"name": {"en": "x"}},
    }
    no_definition = {"id": QUIZ["id"]}
    statement = {
        **STATEMENT,
        "context": {"contextActivities": {"parent": [no_definition], "grouping": [QUIZ]}},
    }
    served = format_canonical(statement, ["fr"], definitions=canonical)
    expected = {
        "id": QUIZ["id"],
        "definition": {"name": {"fr": "Quiz final"}, "type": "https://example.com/t/quiz"},
    }
    assert served["context"]["contextActivities"] == {"parent": [expected], "grouping": [expected]}
    # An Activity the LRS has no canonical definition for keeps its own, filtered.
    assert served["object"]["definition"]["description"] == {"fr": "Choisissez"}


def test_canonical_returns_agents_and_groups_as_in_exact():
    """§2.1.3 format=canonical: "return the original Agent and Group Objects as in exact
    mode"."""
    served = format_canonical(STATEMENT, ["fr"])
    assert served["actor"] == ANN
    assert served["context"]["team"] == TEAM
    assert served["authority"] == STATEMENT["authority"]
    assert served["result"] == STATEMENT["result"]


def test_canonical_applies_inside_a_sub_statement():
    """Data §2.4.4.3.s8.b2: a SubStatement's Verb and Activity maps are filtered too."""
    sub = {
        "objectType": "SubStatement",
        "actor": ANN,
        "verb": VERB,
        "object": QUESTION,
        "context": {"contextActivities": {"parent": [QUIZ]}},
    }
    served = format_canonical({**STATEMENT, "object": sub}, ["fr"])
    assert served["object"]["verb"]["display"] == {"fr": "répondu"}
    assert served["object"]["object"]["definition"]["choices"][0]["description"] == {"fr": "Rouge"}
    assert served["object"]["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {
        "fr": "Quiz"
    }


def test_canonical_leaves_an_empty_map_empty():
    """An empty language map has no language to choose."""
    statement = {**STATEMENT, "verb": {"id": VERB["id"], "display": {}}}
    assert format_canonical(statement, ["fr"])["verb"]["display"] == {}


@given(
    statement=statements, ranges=st.lists(language_tags.map(str.lower) | st.just("*"), max_size=3)
)
def test_canonical_chooses_one_existing_entry_per_map_and_is_pure(statement, ranges):
    """§2.1.3.s4.b1: one language per map, taken from that map; idempotent; the stored
    statement is untouched."""
    before = copy.deepcopy(statement)
    served = format_canonical(statement, ranges)
    assert statement == before
    originals = dict(language_maps_of(statement))
    for path, language_map in language_maps_of(served):
        assert len(language_map) == min(1, len(originals[path])), path
        for tag, text in language_map.items():
            assert originals[path][tag] == text
    assert format_canonical(served, ranges) == served


# -- version of the reader ----------------------------------------------------------------------

CONTEXT_V2 = {
    "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
    "contextAgents": [{"objectType": "contextAgent", "agent": BOB, "relevantTypes": [QUIZ["id"]]}],
    "contextGroups": [{"objectType": "contextGroup", "group": TEAM}],
}


def test_2_0_reader_gets_the_stored_statement_itself():
    """ARCHITECTURE.md §8: 2.0 readers parse every 2.0 property; nothing to change."""
    statement = {**STATEMENT, "context": CONTEXT_V2}
    assert for_reader(statement, v2=True) is statement


def test_1_0_reader_gets_the_statement_itself_when_it_has_no_2_0_properties():
    """The fast path: a statement valid under 1.0.3 is served as stored, not copied."""
    assert for_reader(STATEMENT, v2=False) is STATEMENT


def test_1_0_reader_does_not_get_context_agents_or_groups():
    """ARCHITECTURE.md §8: "A 1.0.3 reader must not receive 2.0-only properties it cannot
    parse"; Data §2.2.s4.b1.b7 (1.0.3) rejects keys the specification does not allow."""
    statement = {**STATEMENT, "context": CONTEXT_V2}
    before = copy.deepcopy(statement)
    served = for_reader(statement, v2=False)
    assert served["context"] == {"registration": CONTEXT_V2["registration"]}
    assert statement == before
    assert {k: v for k, v in served.items() if k != "context"} == {
        k: v for k, v in statement.items() if k != "context"
    }


def test_1_0_reader_gets_no_empty_context():
    """Data §2.2.s2.b1: "Statements ... SHOULD NOT include properties with a value of an
    empty object"."""
    context = {k: v for k, v in CONTEXT_V2.items() if k != "registration"}
    served = for_reader({**STATEMENT, "context": context}, v2=False)
    assert "context" not in served


def test_1_0_reader_sub_statement_is_stripped_too():
    """Data §2.4.4.3.s8.b2: a SubStatement is a Statement, with its own context."""
    sub = {
        "objectType": "SubStatement",
        "actor": ANN,
        "verb": VERB,
        "object": QUIZ,
        "context": {"contextAgents": CONTEXT_V2["contextAgents"], "platform": "web"},
    }
    statement = {**STATEMENT, "object": sub}
    served = for_reader(statement, v2=False)
    assert served["object"]["context"] == {"platform": "web"}
    assert served["context"] is STATEMENT["context"]


@given(statement=statements)
def test_for_reader_is_idempotent_and_pure(statement):
    """Serving a served statement again changes nothing; the stored one is untouched."""
    before = copy.deepcopy(statement)
    served = for_reader(statement, v2=False)
    assert statement == before
    assert for_reader(served, v2=False) is served
    assert for_reader(statement, v2=True) is statement
    for container in (served, served["object"]):
        assert "contextAgents" not in container.get("context", {})
        assert "contextGroups" not in container.get("context", {})
