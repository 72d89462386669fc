"""What GET /xapi/statements returns (Communication §2.1.3, §2.1.4; Data §2.3.2, §2.5).

Each filter is checked against statements that put its value in every place the spec
names for it and in places it must not look. Statements are written by a 2.0 client (so
that 2.0-only places can be filled) and read by 1.0.3 and 2.0 clients.
"""

import datetime as dt
import uuid

import orjson
import pytest

from tests.conftest import XAPIClient
from tests.statements import builders
from tests.statements.test_statements_api import URL, VERSIONS, body, get, post, put

# Real commits: the query cache is invalidated after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

PASSED = "http://adlnet.gov/expapi/verbs/passed"
CONFIRMED = "http://example.org/verbs/confirmed"
COMMENTED = "http://example.org/verbs/commented"


@pytest.fixture
def writer(credential):
    return XAPIClient(credential, version="2.0.0")


@pytest.fixture(params=VERSIONS)
def reader(request, credential):
    return XAPIClient(credential, version=request.param)


def store(client, documents) -> None:
    response = post(client, documents)
    assert response.status_code == 200, response.content


def ids(client, **params) -> set[str]:
    """The ids of one complete page of a query."""
    response = get(client, **params)
    assert response.status_code == 200, response.content
    result = body(response)
    assert result["more"] == ""
    return {s["id"] for s in result["statements"]}


def every_page(client, **params) -> list[str]:
    """Every statement id of a query in the order served, following ``more`` to the end."""
    response = get(client, **params)
    assert response.status_code == 200, response.content
    result = body(response)
    seen = [s["id"] for s in result["statements"]]
    while result["more"]:
        response = client.get(result["more"])
        assert response.status_code == 200, response.content
        result = body(response)
        seen += [s["id"] for s in result["statements"]]
    return seen


def named(found: set[str], places: dict[str, dict]) -> set[str]:
    """The names of the places whose statement is in ``found``."""
    return {name for name, document in places.items() if document["id"] in found}


def ref(statement_id: str) -> dict:
    return {"objectType": "StatementRef", "id": statement_id}


def sub(*, actor=None, obj=None, **extra) -> dict:
    document = {
        "objectType": "SubStatement",
        "actor": actor or builders.agent("someone"),
        "verb": {"id": builders.EXPERIENCED},
        "object": obj or builders.activity("elsewhere"),
    }
    document.update(extra)
    return document


def stored_of(client, statement_id: str) -> str:
    return body(get(client, statementId=statement_id))["stored"]


def anonymous(*members) -> dict:
    return {"objectType": "Group", "member": list(members)}


# --- agent / related_agents -----------------------------------------------------------------

ANN = builders.agent("ann")
OTHER = builders.agent("other")
GROUP_WITH_ANN = anonymous(builders.agent("x"), ANN)


def agent_places() -> tuple[dict[str, dict], dict[str, dict], dict[str, dict]]:
    """Statements naming ANN once each: (places of ``agent``, places ``related_agents``
    adds, places neither looks at)."""
    identified = {"objectType": "Group", "mbox": "mailto:team@example.org", "member": [ANN]}
    direct = {
        "actor": builders.statement(actor=ANN),
        "object agent": builders.statement(actor=OTHER, obj=dict(ANN)),
        "anonymous actor group member": builders.statement(actor=GROUP_WITH_ANN),
        "identified actor group member": builders.statement(actor=identified),
        "object group member": builders.statement(actor=OTHER, obj=dict(GROUP_WITH_ANN)),
    }
    broad = {
        "instructor": builders.statement(actor=OTHER, context={"instructor": ANN}),
        "team member": builders.statement(actor=OTHER, context={"team": anonymous(ANN)}),
        "instructor group member": builders.statement(
            actor=OTHER, context={"instructor": anonymous(ANN, builders.agent("y"))}
        ),
        "sub-statement actor": builders.statement(actor=OTHER, obj=sub(actor=ANN)),
        "sub-statement actor group member": builders.statement(
            actor=OTHER, obj=sub(actor=GROUP_WITH_ANN)
        ),
        "sub-statement object": builders.statement(
            actor=OTHER, obj=sub(obj={"objectType": "Agent", **ANN})
        ),
        "sub-statement object group member": builders.statement(
            actor=OTHER, obj=sub(obj=dict(GROUP_WITH_ANN))
        ),
        "sub-statement instructor": builders.statement(
            actor=OTHER, obj=sub(context={"instructor": ANN})
        ),
        "sub-statement team": builders.statement(
            actor=OTHER, obj=sub(context={"team": anonymous(ANN)})
        ),
    }
    elsewhere = builders.statement(actor=builders.agent("nobody"))
    never = {
        "unrelated": builders.statement(actor=OTHER),
        "context statement": builders.statement(
            actor=OTHER, context={"statement": ref(builders.statement(actor=ANN)["id"])}
        ),
        "result extension": builders.statement(
            actor=OTHER, result={"extensions": {"https://example.org/ext/who": ANN}}
        ),
        "sub-statement ref": builders.statement(actor=OTHER, obj=sub(obj=ref(elsewhere["id"]))),
        "elsewhere": elsewhere,
    }
    return direct, broad, never


def context_agent_places() -> dict[str, dict]:
    """Statements naming ANN only in xAPI 2.0 Context Agents and Context Groups."""
    coach = {
        "objectType": "contextAgent",
        "agent": ANN,
        "relevantTypes": ["https://example.org/types/coach"],
    }
    cohort = {
        "objectType": "contextGroup",
        "group": anonymous(ANN),
        "relevantTypes": ["https://example.org/types/cohort"],
    }
    return {
        "context agent": builders.statement(actor=OTHER, context={"contextAgents": [coach]}),
        "context group member": builders.statement(
            actor=OTHER, context={"contextGroups": [cohort]}
        ),
        "sub-statement context agent": builders.statement(
            actor=OTHER, obj=sub(context={"contextAgents": [coach]})
        ),
    }


def test_agent_filter_matches_the_actor_the_object_and_members_of_those_groups(writer, reader):
    """Communication §2.1.3 agent: "only return Statements for which the specified Agent or
    Group is the Actor or Object of the Statement"; "Groups that have members which match
    the specified Agent ... are considered a match"."""
    direct, broad, never = agent_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    assert named(ids(reader, agent=ANN), direct) == set(direct)


def test_agent_filter_without_related_agents_looks_nowhere_else(writer, reader):
    """Communication §2.1.3 agent: Instructor, Team, Authority, Context Agents and
    SubStatements are places of ``related_agents`` only, not of the plain filter."""
    direct, broad, never = agent_places()
    broad |= context_agent_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    assert named(ids(reader, agent=ANN), {**broad, **never}) == set()


def test_related_agents_matches_actor_object_instructor_team_and_sub_statement_places(
    writer, reader
):
    """Communication §2.1.3 related_agents: "Include Statements for which the Actor,
    Object, Authority, Instructor, Team, or any of these properties in a contained
    SubStatement match the Agent parameter"; matching as for ``agent``, Group members
    included."""
    direct, broad, never = agent_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    found = ids(reader, agent=ANN, related_agents="true")
    assert named(found, {**direct, **broad}) == set(direct) | set(broad)


def test_related_agents_matches_2_0_context_agents_and_context_groups(writer):
    """xAPI 2.0 (IEEE 9274.1.1) related_agents adds "Context Agent, Context Group" to the
    1.0.3 list, in the statement and in a contained SubStatement."""
    places = context_agent_places()
    store(writer, list(places.values()))
    assert named(ids(writer, agent=ANN, related_agents="true"), places) == set(places)


def test_related_agents_does_not_look_at_context_statement_extensions_or_sub_statement_refs(
    writer, reader
):
    """Communication §2.1.3: "StatementRefs used as a value of the Statement property within
    Context do not affect how Statements are filtered"; an Agent inside an extension or a
    SubStatement's StatementRef is none of the places related_agents names."""
    direct, broad, never = agent_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    assert named(ids(reader, agent=ANN, related_agents="true"), never) == set()


def test_related_agents_matches_the_authority_and_agent_alone_does_not(writer, reader):
    """Communication §2.1.3 related_agents names the Authority; the plain ``agent`` filter
    ("Actor or Object") does not."""
    document = builders.statement(actor=OTHER)
    store(writer, [document])
    authority = body(get(writer, statementId=document["id"]))["authority"]
    assert document["id"] not in ids(reader, agent=authority)
    assert document["id"] in ids(reader, agent=authority, related_agents="true")


def test_agent_filter_compares_inverse_functional_identifiers(writer, reader):
    """Communication §2.1.3 agent: "Agents or Identified Groups are equal when the same
    Inverse Functional Identifier is used in each Object compared and those Inverse
    Functional Identifiers have equal values": other properties (name, objectType) do not
    matter; an email domain and a SHA1 hex digest compare case-insensitively (Data
    §2.4.2.3), a mailbox's local part does not."""
    account = {"homePage": "https://lms.example.com", "name": "ann 42"}
    places = {
        "mbox": builders.statement(actor={"name": "Ann", "mbox": "mailto:Ann@EXAMPLE.org"}),
        "mbox_sha1sum": builders.statement(
            actor={"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"}
        ),
        "account": builders.statement(actor={"account": account}),
        "openid": builders.statement(actor={"openid": "https://openid.example.org/ann"}),
    }
    store(writer, list(places.values()))
    by_mbox = ids(reader, agent={"objectType": "Agent", "mbox": "mailto:Ann@example.org"})
    assert named(by_mbox, places) == {"mbox"}
    assert ids(reader, agent={"mbox": "mailto:ann@example.org"}) == set()
    by_sha1 = ids(reader, agent={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"})
    assert named(by_sha1, places) == {"mbox_sha1sum"}
    by_account = ids(reader, agent={"name": "A", "account": dict(reversed(account.items()))})
    assert named(by_account, places) == {"account"}
    by_openid = ids(reader, agent={"openid": "https://openid.example.org/ann"})
    assert named(by_openid, places) == {"openid"}


def test_an_identified_group_is_matched_as_actor_or_object(writer, reader):
    """Communication §2.1.3 agent: an Identified Group as the filter matches where it is
    the Actor or the Object; a statement of one of its members is not the Group's."""
    team = {"objectType": "Group", "mbox": "mailto:team@example.org"}
    as_actor = builders.statement(actor=dict(team, member=[ANN]))
    as_object = builders.statement(obj=dict(team))
    by_member = builders.statement(actor=ANN)
    store(writer, [as_actor, as_object, by_member])
    assert ids(reader, agent=team) == {as_actor["id"], as_object["id"]}


def test_a_statement_matching_in_several_places_is_returned_once(writer, reader):
    """Data §2.5 statements: a list of Statements; one matching as Actor, Object, Instructor
    and through a StatementRef at once is still one Statement of the result."""
    target = builders.statement(actor=ANN)
    everywhere = builders.statement(
        actor=ANN, obj=ref(target["id"]), context={"instructor": ANN, "team": anonymous(ANN)}
    )
    store(writer, [target, everywhere])
    for params in ({"agent": ANN}, {"agent": ANN, "related_agents": "true"}):
        found = every_page(reader, limit="1", **params)
        assert sorted(found) == sorted([target["id"], everywhere["id"]]), params
        assert len(body(get(reader, **params))["statements"]) == 2


# --- activity / related_activities ----------------------------------------------------------

COURSE = builders.activity("target-course")
KINDS = ("parent", "grouping", "category", "other")


def activity_places() -> tuple[dict[str, dict], dict[str, dict], dict[str, dict]]:
    """Statements naming COURSE once each: (the place of ``activity``, places
    ``related_activities`` adds, places neither looks at)."""
    listed = [{"id": COURSE["id"]}]
    elsewhere = builders.statement(obj=builders.activity("elsewhere"))
    direct = {"object": builders.statement(obj=COURSE)}
    broad = {
        kind: builders.statement(context={"contextActivities": {kind: listed}}) for kind in KINDS
    }
    broad["sub-statement object"] = builders.statement(obj=sub(obj=COURSE))
    broad |= {
        f"sub-statement {kind}": builders.statement(
            obj=sub(context={"contextActivities": {kind: listed}})
        )
        for kind in KINDS
    }
    never = {
        "elsewhere": elsewhere,
        "context statement": builders.statement(
            context={"statement": ref(builders.statement(obj=COURSE)["id"])}
        ),
        "context extension": builders.statement(
            context={"extensions": {"https://example.org/ext/course": COURSE["id"]}}
        ),
        "sub-statement ref": builders.statement(obj=sub(obj=ref(elsewhere["id"]))),
        "activity type": builders.statement(
            obj={"id": "https://courses.example.org/x", "definition": {"type": COURSE["id"]}}
        ),
    }
    return direct, broad, never


def test_activity_filter_matches_only_an_activity_object(writer, reader):
    """Communication §2.1.3 activity: "only return Statements for which the Object of the
    Statement is an Activity with the specified id"."""
    direct, broad, never = activity_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    assert ids(reader, activity=COURSE["id"]) == {direct["object"]["id"]}


def test_related_activities_matches_object_context_activities_and_sub_statement_places(
    writer, reader
):
    """Communication §2.1.3 related_activities: "Include Statements for which the Object,
    any of the context Activities, or any of those properties in a contained SubStatement
    match the Activity parameter"."""
    direct, broad, never = activity_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    found = ids(reader, activity=COURSE["id"], related_activities="true")
    assert named(found, {**direct, **broad}) == set(direct) | set(broad)


def test_related_activities_does_not_look_at_context_statement_or_extensions(writer, reader):
    """Communication §2.1.3: a StatementRef in ``context.statement`` does not affect
    filtering; extensions, activity types and SubStatement StatementRefs are no place of an
    Activity the filter names."""
    direct, broad, never = activity_places()
    store(writer, [*direct.values(), *broad.values(), *never.values()])
    found = ids(reader, activity=COURSE["id"], related_activities="true")
    assert named(found, never) == set()


def test_related_activities_reads_1_0_3_context_activities_given_as_one_object(credential, reader):
    """Data §2.4.6.2: a context activity may be given as a single Activity Object instead of
    an array; it is a context Activity for related_activities all the same (§2.1.3)."""
    old_client = XAPIClient(credential, version="1.0.3")
    single = {"id": COURSE["id"]}
    places = {
        "statement": builders.statement(context={"contextActivities": {"grouping": single}}),
        "sub-statement": builders.statement(
            obj=sub(context={"contextActivities": {"category": single}})
        ),
    }
    store(old_client, list(places.values()))
    found = ids(reader, activity=COURSE["id"], related_activities="true")
    assert named(found, places) == set(places)


# --- verb / registration ------------------------------------------------------------------


def test_verb_filter_matches_the_statement_verb_only(writer, reader):
    """Communication §2.1.3 verb: "only return Statements matching the specified Verb id";
    a contained SubStatement's Verb is not the Statement's."""
    passed = builders.statement(verb=PASSED)
    inner = builders.statement(obj=sub(verb={"id": PASSED}))
    store(writer, [passed, inner, builders.statement()])
    assert ids(reader, verb=PASSED) == {passed["id"]}


def test_registration_filter_matches_the_context_registration_in_any_letter_case(writer, reader):
    """Communication §2.1.3 registration; UUID hex digits are case-insensitive (RFC 4122
    §3), and filters combine (all must match)."""
    registration = str(uuid.uuid4())
    matching = builders.statement(verb=PASSED, context={"registration": registration.upper()})
    other = builders.statement(context={"registration": str(uuid.uuid4())})
    store(writer, [matching, other, builders.statement()])
    assert ids(reader, registration=registration) == {matching["id"]}
    assert ids(reader, registration=registration.upper()) == {matching["id"]}
    assert ids(reader, registration=registration, verb=PASSED) == {matching["id"]}
    assert ids(reader, registration=registration, verb=builders.EXPERIENCED) == set()


# --- StatementRefs and voiding ----------------------------------------------------------------


def ben_passed_and_follow_ups(writer):
    """ "Ben passed explosives training", "Andrew confirmed <it>", "Zoe commented on <that>",
    and an unrelated statement of Zoe's."""
    ben = builders.agent("ben")
    passed = builders.statement(
        actor=ben,
        verb=PASSED,
        obj=builders.activity("explosives"),
        context={
            "registration": str(uuid.uuid4()),
            "instructor": builders.agent("teacher"),
            "contextActivities": {"parent": [{"id": "https://courses.example.org/safety"}]},
        },
    )
    confirm = builders.statement(
        actor=builders.agent("andrew"), verb=CONFIRMED, obj=ref(passed["id"])
    )
    comment = builders.statement(
        actor=builders.agent("zoe"), verb=COMMENTED, obj=ref(confirm["id"])
    )
    unrelated = builders.statement(actor=builders.agent("zoe"), verb=COMMENTED)
    store(writer, [passed, confirm, comment, unrelated])
    return passed, confirm, comment


def content_filters_of(passed: dict) -> list[dict]:
    """Every non-time filter (and all together) that ``passed`` meets and its follow-ups
    do not."""
    ben = passed["actor"]
    registration = passed["context"]["registration"]
    return [
        {"agent": ben},
        {"agent": passed["context"]["instructor"], "related_agents": "true"},
        {"verb": PASSED},
        {"activity": passed["object"]["id"]},
        {"activity": "https://courses.example.org/safety", "related_activities": "true"},
        {"registration": registration},
        {
            "agent": ben,
            "verb": PASSED,
            "activity": passed["object"]["id"],
            "registration": registration,
        },
    ]


def test_statements_targeting_a_match_meet_every_non_time_filter_recursively(writer, reader):
    """Communication §2.1.3 Filter Conditions for StatementRefs: "Statements which target
    another Statement ... will meet the filter condition if the targeted Statement meets
    the filter condition"; "This rule applies recursively"."""
    passed, confirm, comment = ben_passed_and_follow_ups(writer)
    for params in content_filters_of(passed):
        assert ids(reader, **params) == {passed["id"], confirm["id"], comment["id"]}, params


def test_statements_targeting_a_voided_match_are_returned_without_it(writer, reader):
    """Communication §2.1.4: "The LRS MUST not return any Statement which has been voided
    ... The process described in the section on filter conditions for StatementRefs is no
    exception"; "The LRS MUST still return any Statements targeting the voided Statement
    ... This includes the voiding Statement"."""
    passed, confirm, comment = ben_passed_and_follow_ups(writer)
    voiding = builders.voiding(passed["id"])
    store(writer, [voiding])
    for params in content_filters_of(passed):
        assert ids(reader, **params) == {confirm["id"], comment["id"], voiding["id"]}, params


def test_a_chain_through_a_voided_statement_ref_still_matches(writer, reader):
    """Communication §2.1.4 and §2.1.3: voiding the middle of a chain hides it, while the
    statement targeting it, and its voiding statement, still reach the match."""
    passed, confirm, comment = ben_passed_and_follow_ups(writer)
    voiding = builders.voiding(confirm["id"])
    store(writer, [voiding])
    expected = {passed["id"], comment["id"], voiding["id"]}
    assert ids(reader, agent=passed["actor"]) == expected
    assert confirm["id"] not in ids(reader, verb=CONFIRMED)
    assert ids(reader, verb=builders.VOIDED) == {voiding["id"]}


def test_a_long_chain_and_a_loop_of_statement_refs_are_followed(writer, reader):
    """Communication §2.1.3: the StatementRef rule "applies recursively", however many hops;
    two statements targeting each other (ids are the client's, so a target may be stored
    after the statement naming it) are found through the loop and end it."""
    ben = builders.agent("ben")
    passed = builders.statement(actor=ben, verb=PASSED)
    chain = [passed]
    for hop in range(6):
        chain.append(
            builders.statement(actor=builders.agent(f"hop{hop}"), obj=ref(chain[-1]["id"]))
        )
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    first = builders.statement(actor=ben, obj=ref(second_id))
    first["id"] = first_id
    second = builders.statement(actor=builders.agent("echo"), obj=ref(first_id))
    second["id"] = second_id
    store(writer, [*chain, first, second])
    expected = {d["id"] for d in chain} | {first_id, second_id}
    assert ids(reader, agent=ben) == expected
    assert ids(reader, verb=PASSED) == {d["id"] for d in chain}
    assert ids(reader, agent=builders.agent("nobody")) == set()


def test_time_bounds_apply_to_the_targeting_statement_not_its_target(writer, reader):
    """Communication §2.1.3 Filter Conditions for StatementRefs: "The time and sequence
    based parameters MUST still be applied to the Statement making the StatementRef"."""
    ben = builders.agent("ben")
    passed = builders.statement(actor=ben, verb=PASSED)
    store(writer, [passed])
    first = stored_of(writer, passed["id"])
    confirm = builders.statement(actor=builders.agent("andrew"), obj=ref(passed["id"]))
    store(writer, [confirm])
    second = stored_of(writer, confirm["id"])
    later = builders.statement(actor=builders.agent("zoe"), obj=ref(passed["id"]))
    store(writer, [later])
    third = stored_of(writer, later["id"])
    assert ids(reader, agent=ben, since=first) == {confirm["id"], later["id"]}
    assert ids(reader, agent=ben, until=second) == {passed["id"], confirm["id"]}
    assert ids(reader, agent=ben, since=first, until=second) == {confirm["id"]}
    assert ids(reader, verb=PASSED, since=second, until=third) == {later["id"]}
    assert every_page(reader, verb=PASSED, since=first, ascending="true", limit="1") == [
        confirm["id"],
        later["id"],
    ]
    assert ids(reader, verb=PASSED, since=third) == set()


def test_voided_statements_are_hidden_from_every_query_and_their_voiding_ones_returned(
    writer, reader
):
    """Communication §2.1.4.s1.b1 (a voided Statement is returned only by
    voidedStatementId) and b2 (the voiding Statement is still returned, through the
    StatementRef rule), for every filter and for none."""
    direct, broad, _ = agent_places()
    voided = [*direct.values(), *broad.values()]
    store(writer, voided)
    voidings = {document["id"]: builders.voiding(document["id"]) for document in voided}
    store(writer, list(voidings.values()))
    voiding_ids = {v["id"] for v in voidings.values()}
    assert ids(reader, agent=ANN) == {voidings[d["id"]]["id"] for d in direct.values()}
    assert ids(reader, agent=ANN, related_agents="true") == voiding_ids
    assert ids(reader, verb=builders.VOIDED) == voiding_ids
    assert ids(reader, verb=builders.EXPERIENCED) == voiding_ids
    course = builders.activity()["id"]
    about_course = {voidings[d["id"]]["id"] for d in voided if d["object"].get("id") == course}
    assert about_course
    assert ids(reader, activity=course) == about_course
    everything = every_page(reader, limit="4")
    assert not {d["id"] for d in voided} & set(everything)
    assert voiding_ids <= set(everything)
    for document in voided[:2]:
        assert get(reader, voidedStatementId=document["id"]).status_code == 200


@pytest.mark.parametrize("how", ["one batch", "separate requests"])
def test_a_statement_stored_after_its_voiding_statement_is_voided(writer, reader, how):
    """Data §2.3.2.s2.b3: a Statement is voided "if and only if ... the LRS also contains a
    voiding Statement referring to" it, whichever arrived first (b5: a voiding Statement is
    not rejected because its target is absent)."""
    late = builders.agent("late")
    target = builders.statement(actor=late)
    voiding = builders.voiding(target["id"])
    if how == "one batch":
        store(writer, [voiding, target])
    else:
        assert put(writer, voiding, voiding["id"]).status_code == 204
        assert put(writer, target, target["id"]).status_code == 204
    assert target["id"] not in ids(reader)
    assert ids(reader, agent=late) == {voiding["id"]}


# --- since / until / limit / ascending / more -------------------------------------------------


def test_since_and_until_compare_stored_not_timestamp(writer, reader):
    """Communication §2.1.3 since/until: "Only Statements stored since ... (exclusive)",
    "stored at or before ..."; the Statement's own ``timestamp`` plays no part."""
    old = builders.statement(timestamp="2001-01-01T00:00:00Z")
    store(writer, [old])
    stored = dt.datetime.fromisoformat(stored_of(writer, old["id"]))
    before = (stored - dt.timedelta(seconds=1)).isoformat()
    assert old["id"] in ids(reader, since="2001-01-02T00:00:00Z")
    assert old["id"] in ids(reader, since=before)
    assert old["id"] not in ids(reader, until=before)
    assert old["id"] not in ids(reader, until="2001-01-02T00:00:00Z")


def test_since_is_exclusive_and_until_inclusive_in_any_time_zone(writer, reader):
    """Communication §2.1.3 since (exclusive) and until (inclusive) are instants: the
    Statement's own ``stored`` written with another UTC offset is the same bound."""
    document = builders.statement()
    store(writer, [document])
    stored = dt.datetime.fromisoformat(stored_of(writer, document["id"]))
    elsewhere = stored.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat()
    assert document["id"] not in ids(reader, since=elsewhere)
    assert document["id"] in ids(reader, until=elsewhere)
    assert ids(reader, since=elsewhere, until=elsewhere) == set()


def interleaved(writer, learner: dict, rounds: int = 4) -> list[str]:
    """Batches mixing the learner's statements (one batch shares one ``stored`` time), a
    statement targeting one of them, and one naming the learner as Instructor only; the
    ids ``agent=learner`` must return, oldest first."""
    expected = []
    for _ in range(rounds):
        own = [builders.statement(actor=learner) for _ in range(3)]
        targeting = builders.statement(actor=builders.agent("x"), obj=ref(own[0]["id"]))
        teaching = builders.statement(actor=builders.agent("y"), context={"instructor": learner})
        store(writer, [*own, targeting, teaching])
        # Ties in ``stored`` are ordered by id: a total order, so pages never overlap.
        expected += sorted((d["id"] for d in (*own, targeting)), key=uuid.UUID)
    return expected


@pytest.mark.parametrize("ascending", [False, True])
def test_more_pages_return_every_match_once_in_stored_order(writer, reader, ascending):
    """Communication §2.1.3 ("reverse chronological order based on stored time" unless
    ``ascending``) and Data §2.5 ``more``: following ``more`` yields every match exactly
    once, in order, whatever the page size, including statements matched through a
    StatementRef and statements sharing one ``stored`` time."""
    learner = builders.agent("ben")
    expected = interleaved(writer, learner)
    if not ascending:
        expected.reverse()
    flag = "true" if ascending else "false"
    for limit in ("1", "2", "3", "7", "0"):
        assert every_page(reader, agent=learner, limit=limit, ascending=flag) == expected, limit


@pytest.mark.parametrize("ascending", [False, True])
def test_more_pages_keep_since_and_until(writer, reader, ascending):
    """Data §2.5 ``more``: "fetch more results, including the same filters and ordering":
    since and until still bound every later page."""
    stored = []
    for _ in range(6):
        document = builders.statement()
        store(writer, [document])
        stored.append((stored_of(writer, document["id"]), document["id"]))
    since, until = stored[1][0], stored[4][0]
    expected = [statement_id for _, statement_id in stored[2:5]]
    if not ascending:
        expected.reverse()
    flag = "true" if ascending else "false"
    found = every_page(reader, since=since, until=until, limit="1", ascending=flag)
    assert found == expected


def test_more_pages_are_not_shifted_by_statements_stored_or_voided_meanwhile(writer, reader):
    """Data §2.5.s3.b4: a later page holds what it would have held had the query run in
    full at first, less statements voided since; a statement stored meanwhile does not
    shift or repeat what follows."""
    documents = [builders.statement() for _ in range(6)]
    for document in documents:
        store(writer, [document])
    newest_first = [d["id"] for d in reversed(documents)]
    result = body(get(reader, limit="2"))
    seen = [s["id"] for s in result["statements"]]
    assert seen == newest_first[:2]
    store(writer, [builders.statement()])
    voiding = builders.voiding(newest_first[3])
    store(writer, [voiding])
    while result["more"]:
        result = body(reader.get(result["more"]))
        seen += [s["id"] for s in result["statements"]]
    assert seen == [i for i in newest_first if i != newest_first[3]]


def test_limit_zero_is_the_server_maximum_and_more_continues(writer, reader, settings):
    """Communication §2.1.3 limit: "0 indicates return the maximum the server will allow";
    a larger limit is cut to it, and ``more`` continues (Data §2.5)."""
    settings.PROGRESS_STATEMENT_LIMIT_MAX = 2
    documents = [builders.statement() for _ in range(3)]
    store(writer, documents)
    for limit in ("0", "5"):
        result = body(get(reader, limit=limit))
        assert len(result["statements"]) == 2
        assert result["more"].startswith(URL)
        rest = body(reader.get(result["more"]))
        assert len(rest["statements"]) == 1
        assert rest["more"] == ""
    assert len(every_page(reader)) == 3


def test_a_more_link_is_a_relative_url_usable_as_given(writer, reader):
    """Data §2.5 more: "Relative IRL ... including the full path ... excluding scheme, host,
    and port"; it continues the query on its own, even read by the other version."""
    store(writer, [builders.statement() for _ in range(3)])
    more = body(get(reader, limit="2"))["more"]
    assert more.startswith(URL + "?")
    assert "://" not in more
    other_version = (
        "2.0.0" if reader.headers["HTTP_X_EXPERIENCE_API_VERSION"] == "1.0.3" else "1.0.3"
    )
    other = XAPIClient(None, version=other_version)
    other.headers["HTTP_AUTHORIZATION"] = reader.headers["HTTP_AUTHORIZATION"]
    assert len(orjson.loads(other.get(more).content)["statements"]) == 1
