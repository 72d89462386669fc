"""Agents, Groups, Inverse Functional Identifiers and ``validate_agent`` (Data §2.4.2)."""

from __future__ import annotations

import copy

import pytest

from statements.xapi.errors import StatementError
from statements.xapi.validate import validate_agent, validate_statement
from tests.statements.xapi.test_validate_builders import (
    VERSIONS,
    account_agent,
    agent,
    containers,
    minimal,
    put,
    rejects,
)

MEMBERS = [agent(), account_agent()]


# --- Agents and IFIs ------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "actor",
    [
        {"mbox": "mailto:learner@example.com"},
        {"objectType": "Agent", "name": "Learner", "mbox": "mailto:Learner.Name+tag@Example.COM"},
        {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
        {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
        {"openid": "http://toby.openid.example.org/"},
        {"account": {"homePage": "http://www.example.com", "name": "1625378"}},
        {"account": {"homePage": "https://lms.example.com/", "name": ""}},
        {"mbox": "mailto:用户@例子.广告"},
        {"mbox": "mailto:o'brien@[2001:db8::1]"},
    ],
)
def test_agent_with_one_ifi_is_accepted(v2, actor):
    """Data §2.4.2.1, §2.4.2.3: an Agent identified by one IFI of the four kinds."""
    doc = put(minimal(), "actor", actor)
    assert validate_statement(doc, v2=v2)["actor"] == actor


@VERSIONS
def test_agent_must_have_an_ifi(v2):
    """Data §2.4.2.1.s2.b1: an Agent MUST be identified by one IFI."""
    rejects(put(minimal(), "actor", {"objectType": "Agent", "name": "Nobody"}), "actor", v2=v2)


@VERSIONS
def test_agent_must_not_have_two_ifis(v2):
    """Data §2.4.2.1.s2.b2: an Agent MUST NOT include more than one IFI."""
    actor = agent(openid="http://openid.example.org/learner")
    error = rejects(put(minimal(), "actor", actor), "actor", v2=v2)
    assert "exactly one" in error.message


@VERSIONS
@pytest.mark.parametrize("value", ["agent", "AGENT", "Person", "", 1])
def test_actor_object_type_must_be_agent_or_group(v2, value):
    """Data §2.2.s4.b1.b6: enumerated values must match exactly (case included)."""
    rejects(put(minimal(), "actor.objectType", value), "actor.objectType", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", ["ann", 1, [agent()], True])
def test_actor_must_be_an_object(v2, value):
    """Data §2.4.2: the Actor is an Agent or Group object."""
    rejects(put(minimal(), "actor", value), "actor", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "learner@example.com",
        "mailto:",
        "mailto:learner",
        "mailto:@example.com",
        "mailto:learner@",
        "MAILTO:learner@example.com",
        "mailto:learner@example.com?subject=hi",
        "mailto:a@example.com,b@example.com",
        "mailto:learner name@example.com",
        "mailto:learner@exa mple.com",
        "mailto:<learner@example.com>",
        "mailto:learner@example..com",
        "mailto:learner@example.com ",
        "mailto:learn%zzer@example.com",
        "mailto:learner\u00a0x@example.com",
        "mailto:learner@example.com\u3000",
        "http://example.com/learner",
        "",
        42,
    ],
)
def test_mbox_must_be_a_mailto_iri_with_one_address(v2, value):
    """Data §2.4.2.3: mbox is a "mailto:email address" IRI; §2.2.s4.b1.b4 rejects others."""
    rejects(put(minimal(), "actor.mbox", value), "actor.mbox", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "value",
    [
        "ebd31e95054c018b10727ccffd2ef2ec3a016ee",
        "ebd31e95054c018b10727ccffd2ef2ec3a016ee90",
        "gbd31e95054c018b10727ccffd2ef2ec3a016ee9",
        "mailto:learner@example.com",
        "",
        None,
    ],
)
def test_mbox_sha1sum_must_be_40_hex_digits(v2, value):
    """Data §2.4.2.3: mbox_sha1sum is the hex-encoded SHA1 hash of a mailto IRI."""
    actor = {"mbox_sha1sum": value}
    rejects(put(minimal(), "actor", actor), "actor.mbox_sha1sum", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    "value", ["toby.openid.example.org", "/openid/toby", "", "http://openid.example/tóby", 7]
)
def test_openid_must_be_an_absolute_uri(v2, value):
    """Data §2.4.2.3: openid is a URI; §2.2.s4.b1.b8: it needs a scheme."""
    rejects(put(minimal(), "actor", {"openid": value}), "actor.openid", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    ("account", "path"),
    [
        ({"name": "1625378"}, "actor.account.homePage"),
        ({"homePage": "http://www.example.com"}, "actor.account.name"),
        ({"homePage": "www.example.com", "name": "1"}, "actor.account.homePage"),
        ({"homePage": "http://www.example.com", "name": 1625378}, "actor.account.name"),
        ({"homePage": "http://www.example.com", "name": "1", "id": "2"}, "actor.account.id"),
        ({"homepage": "http://www.example.com", "name": "1"}, "actor.account.homepage"),
        ({"homePage": None, "name": "1"}, "actor.account.homePage"),
        ("1625378", "actor.account"),
    ],
)
def test_account_needs_home_page_and_name_only(v2, account, path):
    """Data §2.4.2.4: an account has homePage (IRL) and name (string), both required."""
    rejects(put(minimal(), "actor", {"account": account}), path, v2=v2)


@VERSIONS
def test_agent_name_must_be_a_string(v2):
    """Data §2.4.2.1: "name" is a String."""
    rejects(put(minimal(), "actor.name", ["Ann"]), "actor.name", v2=v2)


@VERSIONS
def test_agent_must_not_have_members(v2):
    """Data §2.4.2.1: "member" belongs to Groups; an Agent without objectType Group has none."""
    rejects(put(minimal(), "actor.member", MEMBERS), "actor.member", v2=v2)


@VERSIONS
def test_agent_unknown_property_is_rejected(v2):
    """Data §2.2.s4.b8: unknown properties are rejected."""
    rejects(put(minimal(), "actor.email", "learner@example.com"), "actor.email", v2=v2)


# --- Groups ---------------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "group",
    [
        {"objectType": "Group", "member": MEMBERS},
        {"objectType": "Group", "name": "Ad hoc", "member": [agent()]},
        {"objectType": "Group", "mbox": "mailto:team@example.com"},
        {"objectType": "Group", "account": {"homePage": "http://g.example", "name": "g"}},
        {"objectType": "Group", "openid": "http://g.example/", "member": []},
        {"objectType": "Group", "mbox": "mailto:team@example.com", "member": MEMBERS},
    ],
)
def test_anonymous_and_identified_groups_are_accepted(v2, group):
    """Data §2.4.2.2: anonymous Groups list members; identified Groups have one IFI."""
    doc = put(minimal(), "actor", group)
    assert validate_statement(doc, v2=v2)["actor"] == group


@VERSIONS
@pytest.mark.parametrize(
    "group",
    [
        {"objectType": "Group", "member": MEMBERS},
        {"objectType": "Group", "mbox": "mailto:team@example.com"},
    ],
    ids=["anonymous", "identified"],
)
@pytest.mark.parametrize("where", ["actor", "object", "context.team", "context.instructor"])
def test_group_unknown_property_is_rejected(v2, group, where):
    """Data §2.2.s4.b1.b7: the LRS MUST reject Statements "where a key or value is not
    allowed by this specification"; §2.2.s4.b8 (SHALL in 2.0): additional properties are
    rejected. A Group has objectType, name, member and one IFI (Data §2.4.2.2.s2), wherever
    it appears (actor, object, team, instructor)."""
    doc = put(put(minimal(), "context", {}), where, {**group, "members": MEMBERS})
    rejects(doc, f"{where}.members", v2=v2)


@VERSIONS
def test_group_requires_object_type(v2):
    """Data §2.4.2.2: objectType "Group" is required; without it the actor is an Agent."""
    rejects(put(minimal(), "actor", {"member": MEMBERS}), "actor.member", v2=v2)


@VERSIONS
def test_anonymous_group_must_have_members(v2):
    """Data §2.4.2.2.s4.b1: an Anonymous Group MUST include a "member" property."""
    rejects(put(minimal(), "actor", {"objectType": "Group"}), "actor.member", v2=v2)
    group = {"objectType": "Group", "member": []}
    rejects(put(minimal(), "actor", group), "actor.member", v2=v2)


@VERSIONS
def test_identified_group_must_have_exactly_one_ifi(v2):
    """Data §2.4.2.2.s5.b1: an Identified Group MUST include exactly one IFI."""
    group = {
        "objectType": "Group",
        "mbox": "mailto:team@example.com",
        "openid": "http://team.example.org/",
    }
    rejects(put(minimal(), "actor", group), "actor", v2=v2)


@VERSIONS
@pytest.mark.parametrize("identified", [False, True])
def test_group_members_must_not_be_groups(v2, identified):
    """Data §2.4.2.2.s4.b2, s5.b2: Groups MUST NOT contain Group objects in "member"."""
    inner = {"objectType": "Group", "mbox": "mailto:inner@example.com"}
    group = {"objectType": "Group", "member": [agent(), inner]}
    if identified:
        group["mbox"] = "mailto:team@example.com"
    rejects(put(minimal(), "actor", group), "actor.member[1].objectType", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    ("member", "path"),
    [
        ({"mbox": "not-an-email"}, "actor.member[1].mbox"),
        ({"name": "No IFI"}, "actor.member[1]"),
        ({"objectType": "Person", "mbox": "mailto:p@example.com"}, "actor.member[1].objectType"),
        ("mailto:p@example.com", "actor.member[1]"),
        (None, "actor.member[1]"),
    ],
)
def test_group_members_are_validated_as_agents(v2, member, path):
    """Data §2.4.2.2: "member" is an array of Agent objects."""
    group = {"objectType": "Group", "member": [agent(), member]}
    rejects(put(minimal(), "actor", group), path, v2=v2)


@VERSIONS
def test_group_member_must_be_an_array(v2):
    """Data §2.4.2.2: "member" is an array."""
    group = {"objectType": "Group", "member": agent()}
    rejects(put(minimal(), "actor", group), "actor.member", v2=v2)


# --- validate_agent -------------------------------------------------------------------------


@VERSIONS
@pytest.mark.parametrize(
    "doc",
    [
        {"mbox": "mailto:learner@example.com"},
        {"objectType": "Agent", "account": {"homePage": "http://lms.example", "name": "7"}},
        {"objectType": "Group", "mbox": "mailto:team@example.com"},
        {"objectType": "Group", "openid": "http://team.example/", "member": MEMBERS},
    ],
)
def test_agent_parameter_accepts_agents_and_identified_groups(v2, doc):
    """Communication §2.1.3: the agent parameter is an Agent or Identified Group object."""
    before = copy.deepcopy(doc)
    result = validate_agent(doc, v2=v2)
    assert result == doc == before
    assert not set(containers(result)) & set(containers(doc))


@VERSIONS
def test_agent_parameter_rejects_anonymous_groups(v2):
    """Communication §2.1.3: an anonymous Group identifies no one."""
    doc = {"objectType": "Group", "member": MEMBERS}
    rejects(doc, "", v2=v2, function=validate_agent)


@VERSIONS
@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"name": "No IFI"}, ""),
        ({"mbox": "mailto:a@example.com", "openid": "http://a.example/"}, ""),
        ({"mbox": "a@example.com"}, "mbox"),
        ({"objectType": "Activity", "id": "http://example.com/a"}, "objectType"),
        ({"mbox": "mailto:a@example.com", "extra": 1}, "extra"),
        ("mailto:a@example.com", ""),
        ([], ""),
    ],
)
def test_agent_parameter_is_validated_like_an_actor(v2, doc, path):
    """Data §2.2.s4.b4: parameters are validated as the same values in Statements."""
    rejects(doc, path, v2=v2, function=validate_agent)


@VERSIONS
def test_agent_parameter_errors_carry_the_given_path(v2):
    """``validate_agent``'s ``path`` prefixes every error path."""
    doc = {"objectType": "Group", "mbox": "mailto:t@example.com", "member": [{"mbox": "x"}]}
    with pytest.raises(StatementError) as info:
        validate_agent(doc, v2=v2, path="agent")
    assert info.value.path == "agent.member[0].mbox"
