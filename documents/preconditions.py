"""Optimistic concurrency for documents (Communication §3.1), as a pure decision.

``check`` is given the request's preconditions and the ETag of the document as it is now
(None when there is none), read under the document's lock, and raises when the write must
not happen:

- ``If-Match`` (§3.1.s4.b5, b7): a list of ETags or ``*``. Fails with 412 when no document
  exists or its ETag is not listed (strong comparison, RFC 9110 §13.1.1: a weak tag
  ``W/"x"`` never matches).
- ``If-None-Match`` (§3.1.s4.b6, b8): ``*`` fails with 412 when a document exists; a list
  of ETags fails when the current one is listed (RFC 9110 §13.1.2, for methods other
  than GET and HEAD).
- Neither header on a PUT over an existing document (§3.1.s4.b13-b15): 409 with a body
  telling the client to fetch the document and send its ETag in ``If-Match``. In xAPI
  1.0.3 this binds the two Profile resources only: "The State Resource will permit PUT,
  POST and DELETE requests without concurrency headers" (§3.1.s3). xAPI 2.0 applies the
  whole matrix to State as well (ARCHITECTURE.md §8), so ``put_needs_precondition`` is
  true for every resource under 2.0.
- Neither header on a PUT to a Profile resource where no document exists: 400. "A Client
  making a PUT request to either the Agent Profile Resource or Activity Profile Resource
  MUST include the If-Match header or the If-None-Match header" (§3.1.s3.b1), in both
  versions; the State resource permits PUT without them (§3.1.s3), so it creates.
  An empty ``If-None-Match`` lists no ETag and can never fail: for these two rules it
  counts as no header (``Preconditions.binding``).

Headers are checked before anything is written, and a failed check changes nothing
(§3.1.s4.b10, b12, b15): the caller raises out of the transaction it holds the lock in.
"""

from __future__ import annotations

from dataclasses import dataclass

from lrs.errors import BadRequest, Conflict, PreconditionFailed

ANY = "*"


@dataclass(frozen=True, slots=True)
class Preconditions:
    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None

    @property
    def binding(self) -> bool:
        """Whether the request says which document it expects to find. An If-None-Match
        that lists no ETag (an empty header) holds for every document, so a PUT carrying
        only that is a PUT without precondition (§3.1.s4.b13); an empty If-Match matches
        no document and is a 412, so it binds."""
        return self.if_match is not None or bool(self.if_none_match)


def parse_etags(value: str | None, *, weak_matches: bool = True) -> frozenset[str] | None:
    """An ``If-Match`` / ``If-None-Match`` value as a set of bare ETags (or ``{"*"}``).

    Quoted tags are the HTTP form; bare ones are accepted too, since clients that build
    the header by hand often leave the quotes out. ETags here are lowercase hexadecimal
    (§3.1.s4.b2), so the comparison ignores case. A weak tag ``W/"x"`` stands for ``x``
    under the weak comparison (``If-None-Match``, RFC 9110 §13.1.2); without
    ``weak_matches`` (``If-Match``, which compares strongly, §13.1.1) it can match no
    document and is left out, so a header of weak tags only is a set that nothing matches.
    """
    if value is None:
        return None
    tags = set()
    for raw in value.split(","):
        tag = raw.strip()
        if not tag:
            continue
        if tag == ANY:
            return frozenset({ANY})
        if tag[:2] in ("W/", "w/"):
            if not weak_matches:
                continue
            tag = tag[2:]
        tags.add(tag.strip('"').lower())
    return frozenset(tags)


def preconditions_from_headers(headers) -> Preconditions:
    return Preconditions(
        if_match=parse_etags(headers.get("If-Match"), weak_matches=False),
        if_none_match=parse_etags(headers.get("If-None-Match")),
    )


CONFLICT_MESSAGE = (
    "the document already exists and the request carries neither If-Match nor If-None-Match; "
    "GET the document to check its current state, then send its ETag in If-Match to "
    "replace it (or If-None-Match: * to create a document only when none exists)"
)


MISSING_HEADER_MESSAGE = (
    "a PUT to a profile resource carries If-Match (with the ETag of the document it "
    "replaces) or If-None-Match: * (to create a document only when none exists)"
)


def check(
    preconditions: Preconditions,
    current_etag: str | None,
    *,
    method: str,
    put_needs_precondition: bool,
    put_requires_header: bool = False,
) -> None:
    """Raise ``PreconditionFailed`` (412), ``Conflict`` (409) or ``BadRequest`` (400, a
    header-less PUT that ``put_requires_header`` forbids) when the write must not run."""
    if preconditions.if_match is not None:
        if current_etag is None:
            raise PreconditionFailed("If-Match was given but there is no document")
        if ANY not in preconditions.if_match and current_etag not in preconditions.if_match:
            raise PreconditionFailed("If-Match does not match the document's current ETag")
    if preconditions.if_none_match is not None and current_etag is not None:
        if ANY in preconditions.if_none_match:
            raise PreconditionFailed("If-None-Match: * was given but the document exists")
        if current_etag in preconditions.if_none_match:
            raise PreconditionFailed("If-None-Match lists the document's current ETag")
    if method == "PUT" and not preconditions.binding:
        if current_etag is not None and put_needs_precondition:
            raise Conflict(CONFLICT_MESSAGE)
        if current_etag is None and put_requires_header:
            raise BadRequest(MISSING_HEADER_MESSAGE)
