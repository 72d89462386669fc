"""Inverse Functional Identifiers as lookup keys (Data §2.4.2.3, Communication §2.1.3)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statements.xapi.ifi import ifi_key, mbox_key, member_keys

SHA1 = "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"


@pytest.mark.parametrize(
    ("actor", "key"),
    [
        ({"mbox": "mailto:ann@example.com"}, "mbox:mailto:ann@example.com"),
        ({"objectType": "Agent", "mbox_sha1sum": SHA1}, f"mbox_sha1sum:{SHA1}"),
        ({"openid": "https://openid.example.org/ann"}, "openid:https://openid.example.org/ann"),
        (
            {"account": {"homePage": "https://lms.example.com", "name": "ann-42"}},
            "account:https://lms.example.com ann-42",
        ),
    ],
)
def test_each_kind_of_ifi_has_its_own_prefix(actor, key):
    """Data §2.4.2.3.s3: mbox, mbox_sha1sum, openid and account are the four IFIs; the key
    names which one, so equal values of different kinds never match."""
    assert ifi_key(actor) == key


def test_anonymous_group_has_no_key():
    """Data §2.4.2.2: an Anonymous Group has no IFI; "each Anonymous Group distinct"
    (§2.4.2.2.s3.b1), so it can never be matched by key."""
    group = {"objectType": "Group", "member": [{"mbox": "mailto:ann@example.com"}]}
    assert ifi_key(group) is None


def test_identified_group_key_is_its_own_ifi_not_a_members():
    """Data §2.4.2.2.s5.b1: an Identified Group has exactly one IFI of its own."""
    group = {
        "objectType": "Group",
        "account": {"homePage": "https://lms.example.com", "name": "team-7"},
        "member": [{"mbox": "mailto:ann@example.com"}],
    }
    assert ifi_key(group) == "account:https://lms.example.com team-7"


def test_mbox_domain_is_case_insensitive():
    """Data §2.4.2.3.s4.b1 and §2.3.1.b7: "the domain portions of email addresses are case
    insensitive"."""
    assert ifi_key({"mbox": "mailto:ann@Example.COM"}) == "mbox:mailto:ann@example.com"


def test_mbox_local_part_is_kept_as_sent():
    """Data §2.2.s4.b5: values are case sensitive unless specified otherwise; only the
    domain is specified case-insensitive."""
    assert ifi_key({"mbox": "mailto:Ann@example.com"}) == "mbox:mailto:Ann@example.com"
    assert ifi_key({"mbox": "mailto:Ann@example.com"}) != ifi_key(
        {"mbox": "mailto:ann@example.com"}
    )


def test_mailto_scheme_case_is_normalised():
    """Data §3.1.s2.b1 allows RFC 3987 syntax-based normalisation; URI schemes are
    case-insensitive (RFC 3986 §3.1)."""
    assert mbox_key("MAILTO:ann@example.com") == "mailto:ann@example.com"


def test_mbox_sha1sum_hex_is_case_insensitive():
    """Data §2.4.2.3.s3: mbox_sha1sum is "hex-encoded"; hex digits carry no case."""
    assert ifi_key({"mbox_sha1sum": SHA1.upper()}) == f"mbox_sha1sum:{SHA1}"


def test_openid_and_account_are_compared_as_sent():
    """Data §3.1.s2.b1: IRIs may be compared by simple string comparison (RFC 3987 §5.3.1)."""
    assert (
        ifi_key({"openid": "https://OpenID.example.org/"}) == "openid:https://OpenID.example.org/"
    )
    with_slash = {"account": {"homePage": "https://lms.example.com/", "name": "a"}}
    without = {"account": {"homePage": "https://lms.example.com", "name": "a"}}
    assert ifi_key(with_slash) != ifi_key(without)


def test_account_name_may_contain_spaces():
    """Data §2.4.2.4: the account name is any String; the home page, an IRL, cannot hold a
    space, so the first space separates them."""
    actor = {"account": {"homePage": "https://lms.example.com", "name": "Ann  Lee "}}
    key = ifi_key(actor)
    assert key == "account:https://lms.example.com Ann  Lee "
    home_page, name = key.removeprefix("account:").split(" ", 1)
    assert (home_page, name) == ("https://lms.example.com", "Ann  Lee ")


@given(
    home_page=st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,10}", fullmatch=True),
    name=st.text(min_size=1, max_size=20),
)
def test_account_key_splits_back_into_home_page_and_name(home_page, name):
    """Data §2.4.2.4: two accounts are the same when both homePage and name are equal; the
    key must be injective on that pair."""
    key = ifi_key({"account": {"homePage": home_page, "name": name}})
    assert key.removeprefix("account:").split(" ", 1) == [home_page, name]


def test_member_keys_in_member_order_each_once():
    """Data §2.4.2.2: "member" lists Agents; its keys feed the agent filter's Group rule
    (Communication §2.1.3)."""
    group = {
        "objectType": "Group",
        "member": [
            {"mbox": "mailto:bob@example.com"},
            {"openid": "https://openid.example.org/ann"},
            {"mbox": "mailto:bob@EXAMPLE.com", "name": "Bob again"},
        ],
    }
    assert member_keys(group) == [
        "mbox:mailto:bob@example.com",
        "openid:https://openid.example.org/ann",
    ]


def test_member_keys_of_group_without_members_is_empty():
    """Data §2.4.2.2.s5.b4: an Identified Group MAY include "member"; it may also not."""
    assert member_keys({"objectType": "Group", "mbox": "mailto:team@example.com"}) == []
