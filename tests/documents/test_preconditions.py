"""The concurrency decision for documents, without HTTP or a database (Communication §3.1).

``documents.preconditions.check`` is the whole ETag matrix: If-Match (§3.1.s4.b5, b7),
If-None-Match (§3.1.s4.b6, b8), 412 and no change when they fail (§3.1.s4.b9-b12), and the
409 for a PUT without either header over an existing document (§3.1.s4.b13-b15).
"""

import pytest
from django.http.request import HttpHeaders

from documents.preconditions import (
    ANY,
    Preconditions,
    check,
    parse_etags,
    preconditions_from_headers,
)
from lrs.errors import BadRequest, Conflict, PreconditionFailed

E1 = "0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33"  # sha1("foo")
E2 = "62cdb7020ff920e5aa642c3d4066950dd1f01f4d"  # sha1("bar")
WRITES = ["PUT", "POST", "DELETE"]


# --- parse_etags ------------------------------------------------------------------------


def test_absent_header_parses_to_none():
    """No header is not the same as an empty list: None means "not given"."""
    assert parse_etags(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f'"{E1}"', {E1}),  # the HTTP form: a quoted entity-tag (RFC 9110 §8.8.3)
        (E1, {E1}),  # bare, as clients building the header by hand send it
        (f'W/"{E1}"', {E1}),  # weak: stands for E1 under the weak comparison
        (f'w/"{E1}"', {E1}),
        (f'"{E1.upper()}"', {E1}),  # §3.1.s4.b2: ETags are lowercase hex; case ignored
        (f'"{E1}", "{E2}"', {E1, E2}),  # a list
        (f'"{E1}",W/"{E2}"', {E1, E2}),
        (f' "{E1}" , , "{E2}" ', {E1, E2}),  # empty list elements are ignored (RFC 9110 §5.6.1)
    ],
)
def test_parse_etags_accepts_quoted_bare_weak_and_lists(value, expected):
    """§3.1.s4.b5-b8: If-Match / If-None-Match carry ETags "as described in RFC2616"."""
    assert parse_etags(value) == frozenset(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(f'W/"{E1}"', set()), (f'"{E1}", W/"{E2}"', {E1}), (f'"{E1}"', {E1})],
)
def test_strong_parsing_leaves_weak_etags_out(value, expected):
    """If-Match compares strongly (RFC 9110 §13.1.1): a weak tag can match no document."""
    assert parse_etags(value, weak_matches=False) == frozenset(expected)


def test_if_match_of_weak_etags_only_is_given_and_matches_nothing():
    """§3.1.s4.b5: If-Match W/"<current ETag>" is a precondition that fails (412)."""
    headers = HttpHeaders({"HTTP_IF_MATCH": f'W/"{E1}"'})
    preconditions = preconditions_from_headers(headers)
    assert preconditions.given
    with pytest.raises(PreconditionFailed):
        check(preconditions, E1, method="PUT", put_needs_precondition=True)


@pytest.mark.parametrize("value", ["*", " * ", f'"{E1}", *'])
def test_parse_etags_star_means_any_document(value):
    """§3.1.s4.b6: If-None-Match "*" (and If-Match "*", RFC 9110 §13.1.1) is any ETag."""
    assert parse_etags(value) == frozenset({ANY})


def test_preconditions_are_read_from_request_headers():
    headers = HttpHeaders({"HTTP_IF_MATCH": f'"{E1}"', "HTTP_IF_NONE_MATCH": "*"})
    assert preconditions_from_headers(headers) == Preconditions(
        if_match=frozenset({E1}), if_none_match=frozenset({ANY})
    )
    none = preconditions_from_headers(HttpHeaders({}))
    assert none == Preconditions()
    assert not none.given


@pytest.mark.parametrize(
    "preconditions",
    [
        Preconditions(if_match=frozenset({E1})),
        Preconditions(if_none_match=frozenset({ANY})),
        Preconditions(if_match=frozenset()),  # an empty If-Match header is still a header
    ],
)
def test_either_header_counts_as_given(preconditions):
    assert preconditions.given


# --- check: no headers ------------------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("put_needs_precondition", [True, False])
def test_no_headers_and_no_document_allows_every_write(method, put_needs_precondition):
    """§3.1.s4.b13 concerns a resource that "already exists": where no header is required
    of the client (State, §3.1.s3), creating needs none."""
    check(Preconditions(), None, method=method, put_needs_precondition=put_needs_precondition)


def test_put_without_headers_and_no_document_is_a_400_where_the_client_must_send_one():
    """§3.1.s3.b1: a PUT to a Profile resource MUST carry If-Match or If-None-Match."""
    with pytest.raises(BadRequest) as raised:
        check(
            Preconditions(),
            None,
            method="PUT",
            put_needs_precondition=True,
            put_requires_header=True,
        )
    assert raised.value.status == 400
    assert "If-None-Match" in raised.value.message


def test_an_if_none_match_listing_no_etag_is_no_precondition_for_a_put():
    """§3.1.s4.b13-b15: a PUT over an existing document without a precondition is a 409,
    and §3.1.s3.b1's 400 where none exists; an empty If-None-Match holds for every document,
    so it counts as no header there. An empty If-Match, which no document matches, is a
    412 instead."""
    empty = preconditions_from_headers(HttpHeaders({"HTTP_IF_NONE_MATCH": ""}))
    assert empty.if_none_match == frozenset()
    assert not empty.binding
    with pytest.raises(Conflict):
        check(empty, E1, method="PUT", put_needs_precondition=True)
    with pytest.raises(BadRequest):
        check(empty, None, method="PUT", put_needs_precondition=True, put_requires_header=True)
    for method in ("POST", "DELETE"):
        check(empty, E1, method=method, put_needs_precondition=True, put_requires_header=True)
    with pytest.raises(PreconditionFailed):
        check(Preconditions(if_match=frozenset()), E1, method="PUT", put_needs_precondition=True)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_post_and_delete_without_headers_need_none_where_put_does(method):
    """§3.1.s3.b2-b3: for POST and DELETE the headers are SHOULD*, not MUST."""
    check(
        Preconditions(),
        None,
        method=method,
        put_needs_precondition=True,
        put_requires_header=True,
    )


def test_put_without_headers_over_an_existing_document_is_a_409_where_required():
    """§3.1.s4.b13-b14: 409, with a response telling the client to check the resource's
    current state and to set If-Match with its current ETag."""
    with pytest.raises(Conflict) as raised:
        check(Preconditions(), E1, method="PUT", put_needs_precondition=True)
    assert raised.value.status == 409
    message = raised.value.message
    assert "If-Match" in message
    assert "ETag" in message
    assert "GET" in message


def test_put_without_headers_over_an_existing_document_is_allowed_where_not_required():
    """§3.1.s3: the 1.0.3 State Resource permits PUT without concurrency headers."""
    check(Preconditions(), E1, method="PUT", put_needs_precondition=False)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_post_and_delete_without_headers_over_an_existing_document_are_allowed(method):
    """§3.1.s4.b13 is about PUT only; POST and DELETE headers are SHOULD* (§3.1.s3.b2-b3)."""
    check(Preconditions(), E1, method=method, put_needs_precondition=True)


# --- check: If-Match --------------------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("put_needs_precondition", [True, False])
@pytest.mark.parametrize("if_match", [{E1}, {E2, E1}, {ANY}])
def test_if_match_listing_the_current_etag_allows_the_write(
    method, put_needs_precondition, if_match
):
    """§3.1.s4.b5, b7: If-Match passes when the current ETag is listed (or "*" and a
    document exists)."""
    check(
        Preconditions(if_match=frozenset(if_match)),
        E1,
        method=method,
        put_needs_precondition=put_needs_precondition,
    )


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("put_needs_precondition", [True, False])
def test_if_match_with_another_etag_is_a_412(method, put_needs_precondition):
    """§3.1.s4.b5, b7, b9, b11: the document changed since the client fetched it."""
    with pytest.raises(PreconditionFailed) as raised:
        check(
            Preconditions(if_match=frozenset({E2})),
            E1,
            method=method,
            put_needs_precondition=put_needs_precondition,
        )
    assert raised.value.status == 412


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("if_match", [{E1}, {ANY}])
def test_if_match_without_a_document_is_a_412(method, if_match):
    """§3.1.s4.b5, b9 (RFC 9110 §13.1.1): If-Match fails when there is no current
    representation, "*" included."""
    with pytest.raises(PreconditionFailed):
        check(
            Preconditions(if_match=frozenset(if_match)),
            None,
            method=method,
            put_needs_precondition=True,
        )


def test_if_match_failure_wins_over_the_409():
    """A PUT carrying a stale If-Match is not "without either header": 412, not 409."""
    with pytest.raises(PreconditionFailed):
        check(
            Preconditions(if_match=frozenset({E2})), E1, method="PUT", put_needs_precondition=True
        )


# --- check: If-None-Match ---------------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("put_needs_precondition", [True, False])
def test_if_none_match_star_without_a_document_allows_the_write(method, put_needs_precondition):
    """§3.1.s4.b6, b8: "*" passes when no document is there."""
    check(
        Preconditions(if_none_match=frozenset({ANY})),
        None,
        method=method,
        put_needs_precondition=put_needs_precondition,
    )


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("put_needs_precondition", [True, False])
def test_if_none_match_star_over_an_existing_document_is_a_412(method, put_needs_precondition):
    """§3.1.s4.b6, b8, b9, b11: a document exists that the client is not aware of."""
    with pytest.raises(PreconditionFailed) as raised:
        check(
            Preconditions(if_none_match=frozenset({ANY})),
            E1,
            method=method,
            put_needs_precondition=put_needs_precondition,
        )
    assert raised.value.status == 412


@pytest.mark.parametrize("method", WRITES)
def test_if_none_match_listing_the_current_etag_is_a_412(method):
    """RFC 9110 §13.1.2: for methods other than GET/HEAD, a listed current ETag fails."""
    with pytest.raises(PreconditionFailed):
        check(
            Preconditions(if_none_match=frozenset({E2, E1})),
            E1,
            method=method,
            put_needs_precondition=True,
        )


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("current", [None, E1])
def test_if_none_match_listing_other_etags_allows_the_write(method, current):
    """RFC 9110 §13.1.2: the condition holds when the current ETag is not listed. It is a
    precondition header, so a PUT carrying it is not the §3.1.s4.b13 409 case."""
    check(
        Preconditions(if_none_match=frozenset({E2})),
        current,
        method=method,
        put_needs_precondition=True,
    )


def test_both_headers_must_hold():
    """If-Match passes but If-None-Match: * fails over the same document: 412."""
    with pytest.raises(PreconditionFailed):
        check(
            Preconditions(if_match=frozenset({E1}), if_none_match=frozenset({ANY})),
            E1,
            method="PUT",
            put_needs_precondition=True,
        )
