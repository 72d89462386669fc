"""Inverse Functional Identifiers as one canonical string each (Data §2.4.2.3).

Every lookup column that holds an Agent or Group (``actor_ifi``, ``agents``,
``related_agents``, ``authority_ifi``) holds these strings, and the ``agent`` query
parameter is turned into one the same way, so the ``agent`` filter's rule "equal when the
same Inverse Functional Identifier is used in each Object compared and those Inverse
Functional Identifiers have equal values" (Communication §2.1.3) is string equality.

Forms::

    mbox:mailto:ann@example.com
    mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9
    openid:https://openid.example.org/ann
    account:https://lms.example.com ann-42

In ``account:`` the home page and the name are separated by one space: the home page is an
IRL and an IRL cannot contain a space (RFC 3987), so the first space is always the
separator even when the account name contains spaces.

Values are kept exactly as sent (IRIs compared by simple string comparison, which Data
§3.1.s2.b1 permits), except where the spec makes a part case-insensitive:

- ``mbox``: the domain is lowercased, because "the domain portions of email addresses are
  case insensitive" (Data §2.4.2.3.s4.b1, and §2.3.1.b7 names it as the example of a
  case-insensitive value); a ``mailto`` scheme in another case is written ``mailto:``
  (URI schemes are case-insensitive, RFC 3986 §3.1; case normalisation is part of the
  syntax-based normalisation Data §3.1.s2.b1 allows). The local part is kept as sent: it
  may be case-sensitive (RFC 5321 §2.4).
- ``mbox_sha1sum``: lowercased; it is a hex encoding, whose digits are case-insensitive.

Precondition: the input was validated (an Agent has exactly one IFI, a Group's members are
Agents). These functions run several times per statement on the ingest path, so they do no
checking of their own.
"""

from __future__ import annotations

__all__ = ["ifi_key", "mbox_key", "member_keys"]

_MAILTO = "mailto:"


def mbox_key(mbox: str) -> str:
    """The canonical form of an ``mbox`` value: ``mailto:`` scheme, domain lowercased."""
    if not mbox.startswith(_MAILTO) and mbox[:7].lower() == _MAILTO:
        mbox = _MAILTO + mbox[7:]
    at = mbox.rfind("@")
    if at < 0:
        return mbox
    domain = mbox[at + 1 :]
    lowered = domain.lower()
    if lowered == domain:
        return mbox
    return mbox[: at + 1] + lowered


def ifi_key(actor: dict) -> str | None:
    """The canonical IFI string of an Agent or Identified Group; None for an Anonymous Group.

    >>> ifi_key({"account": {"homePage": "https://lms.example.com", "name": "ann 42"}})
    'account:https://lms.example.com ann 42'
    """
    value = actor.get("mbox")
    if value is not None:
        return "mbox:" + mbox_key(value)
    value = actor.get("account")
    if value is not None:
        return f"account:{value['homePage']} {value['name']}"
    value = actor.get("mbox_sha1sum")
    if value is not None:
        return "mbox_sha1sum:" + value.lower()
    value = actor.get("openid")
    if value is not None:
        return "openid:" + value
    return None


def member_keys(group: dict) -> list[str]:
    """The IFI keys of a Group's members, in member order, each once.

    An empty list for a Group without ``member`` (an Identified Group may omit it).
    """
    members = group.get("member")
    if not members:
        return []
    keys: dict[str, None] = {}
    for member in members:
        key = ifi_key(member)
        if key is not None:
            keys[key] = None
    return list(keys)
