"""xAPI authorization scopes (Communication §4.2) and what each one allows.

Pure: no Django, no database.
"""

from __future__ import annotations

STATEMENTS_WRITE = "statements/write"
STATEMENTS_READ = "statements/read"
STATEMENTS_READ_MINE = "statements/read/mine"
STATE = "state"
DEFINE = "define"
PROFILE = "profile"
ALL_READ = "all/read"
ALL = "all"

#: Every scope in §4.2.s2's table, in that order.
XAPI_SCOPES = (
    STATEMENTS_WRITE,
    STATEMENTS_READ_MINE,
    STATEMENTS_READ,
    STATE,
    DEFINE,
    PROFILE,
    ALL_READ,
    ALL,
)

#: §4.2.s5.b2: with no scope requested, assume statements/write and statements/read/mine.
DEFAULT_SCOPES = (STATEMENTS_WRITE, STATEMENTS_READ_MINE)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scopes_allow(
    granted: frozenset[str],
    *,
    method: str,
    read_scopes: tuple[str, ...],
    write_scopes: tuple[str, ...],
) -> bool:
    """Whether a credential holding ``granted`` may call a resource with ``method``.

    ``all`` allows everything; ``all/read`` allows every read. Otherwise one of the
    resource's own scopes for that kind of method must be granted. A resource that needs
    finer checks (``statements/read/mine`` limits *which* statements are read) does them
    itself after this gate.
    """
    if ALL in granted:
        return True
    if method.upper() in READ_METHODS:
        return ALL_READ in granted or not granted.isdisjoint(read_scopes)
    return not granted.isdisjoint(write_scopes)
