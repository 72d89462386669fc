"""``X-Experience-API-Version`` negotiation (Communication §3.3, and ARCHITECTURE.md §8).

Pure: no Django, no database. A request names the version it speaks; the LRS answers in
the latest patch of that major.minor line.
"""

from __future__ import annotations

import enum
import re

HEADER = "X-Experience-API-Version"

# §3.3.s3.b3/b5: "1.0" and anything starting with "1.0." are 1.0.x; the same shape for 2.0.
# The patch is any number of digits: "1.0.10000" starts with "1.0." as much as "1.0.3".
_VERSION_RE = re.compile(r"^(?P<line>[12]\.0)(?:\.(?P<patch>[0-9]+))?$")


class XAPIVersion(enum.Enum):
    """A supported version line, valued by the patch version the LRS answers with."""

    V1_0 = "1.0.3"
    V2_0 = "2.0.0"

    @property
    def header(self) -> str:
        return self.value

    @property
    def is_2_0(self) -> bool:
        return self is XAPIVersion.V2_0


LATEST = XAPIVersion.V2_0
#: What About lists (§2.8.s5.b1: the latest minor and patch for each major version).
SUPPORTED = tuple(version.value for version in XAPIVersion)


class VersionError(ValueError):
    """The header is missing or names a version this LRS does not serve."""


def negotiate(value: str | None) -> XAPIVersion:
    """Map a request's version header to the version line that serves it.

    Raises ``VersionError`` for a missing header (§3.3.s3.b4.1), versions before 1.0.0
    (§3.3.s3.b4), 1.1.0 or later in the 1.x line (§3.3.s3.b6), and anything else that is
    neither 1.0.x nor 2.0.x.
    """
    if value is None or value.strip() == "":
        raise VersionError(f"the {HEADER} header is required")
    match = _VERSION_RE.match(value.strip())
    if match is None:
        raise VersionError(
            f"{HEADER} {value.strip()!r} is not supported; use one of {', '.join(SUPPORTED)}"
        )
    return XAPIVersion.V1_0 if match["line"] == "1.0" else XAPIVersion.V2_0
