"""POST bodies: one Statement or an array of them (Communication §2.1.2)."""

from __future__ import annotations

import copy

import pytest

from statements.xapi.validate import validate_statements
from tests.statements.xapi.test_validate_builders import (
    STATEMENT_ID,
    VERSIONS,
    full,
    minimal,
    put,
    rejects,
)

OTHER_ID = "7ccd3322-e1a5-411a-a67d-6a735c76f119"


def batch_rejects(body: object, path: str, *, v2: bool):
    return rejects(body, path, v2=v2, function=validate_statements)


@VERSIONS
def test_single_statement_body_gives_a_list_of_one(v2):
    """Communication §2.1.2.s1: the content is a single Statement or an array of them."""
    assert validate_statements(minimal(), v2=v2) == [minimal()]


@VERSIONS
def test_array_body_gives_the_statements_in_order(v2):
    """Communication §2.1.2.s1: results follow the order of the Statements received."""
    body = [put(minimal(), "id", OTHER_ID), full(v2=v2), minimal(), minimal()]
    assert validate_statements(body, v2=v2) == body


@VERSIONS
def test_statements_in_a_batch_are_normalised(v2):
    """Data §2.4.6.2.s4.b3: every Statement in the batch is normalised."""
    parent = {"id": "http://example.com/parent"}
    body = [minimal(), put(minimal(), "context", {"contextActivities": {"parent": parent}})]
    result = validate_statements(body, v2=v2)
    assert result[1]["context"]["contextActivities"]["parent"] == [parent]


@VERSIONS
def test_empty_array_is_rejected(v2):
    """Communication §2.1.2: a batch to store holds at least one Statement."""
    batch_rejects([], "", v2=v2)


@VERSIONS
@pytest.mark.parametrize("body", [None, "statements", 1, True])
def test_body_must_be_a_statement_or_an_array(v2, body):
    """Communication §2.1.2.s1: an array of Statements or a single Statement."""
    batch_rejects(body, "", v2=v2)


@VERSIONS
@pytest.mark.parametrize("item", [None, [], "statement", 3])
def test_batch_elements_must_be_statement_objects(v2, item):
    """Communication §2.1.2.s1: each element is a Statement object."""
    batch_rejects([minimal(), item], "[1]", v2=v2)


@VERSIONS
def test_errors_in_a_batch_carry_the_element_index(v2):
    """Communication §3.2.s3.b9: one bad Statement rejects the batch; the path says which."""
    body = [minimal(), minimal(), minimal(), put(minimal(), "actor.mbox", "learner")]
    batch_rejects(body, "[3].actor.mbox", v2=v2)
    body = [minimal(), put(minimal(), "context", {"contextActivities": {"parent": [{}]}})]
    batch_rejects(body, "[1].context.contextActivities.parent[0].id", v2=v2)


@VERSIONS
def test_errors_in_a_single_statement_body_have_no_index(v2):
    """A single-Statement body reports paths from the Statement itself."""
    batch_rejects(put(minimal(), "actor.mbox", "learner"), "actor.mbox", v2=v2)


@VERSIONS
def test_duplicate_ids_in_a_batch_are_rejected(v2):
    """Communication §2.1.2.s2.b6: two Statements with the same id reject the batch."""
    body = [
        put(minimal(), "id", STATEMENT_ID),
        put(minimal(), "id", OTHER_ID),
        put(minimal(), "id", STATEMENT_ID),
    ]
    batch_rejects(body, "[2].id", v2=v2)


@VERSIONS
def test_duplicate_ids_differing_only_in_case_are_rejected(v2):
    """Data §4.4, Communication §2.1.2.s2.b6: UUIDs name the same Statement in any case."""
    body = [put(minimal(), "id", STATEMENT_ID), put(minimal(), "id", STATEMENT_ID.upper())]
    batch_rejects(body, "[1].id", v2=v2)


@VERSIONS
def test_statements_without_ids_are_not_duplicates(v2):
    """Data §2.4.1.s2.b1: Statements without id get one from the LRS later."""
    assert len(validate_statements([minimal(), minimal(), minimal()], v2=v2)) == 3


@VERSIONS
def test_batch_input_is_not_mutated(v2):
    """Purity: the body is left as it was."""
    body = [full(v2=v2), put(minimal(), "timestamp", "2020-01-01T00:00:00+05:00")]
    before = copy.deepcopy(body)
    validate_statements(body, v2=v2)
    assert body == before
