"""The StatementRef filter rule read both ways (Communication §2.1.3, "Filter Conditions for
StatementRefs"; migrations 0011, 0012).

``statements_referencing_matches`` follows each referring statement's chain forward, or,
for a page of one learner or one registration when more than ``_WALK_BACK_ABOVE``
referring statements are in range, walks the chains back from the matches. The rule's
tests run here once more with the threshold at zero, so every such page walks back: both
ways must return the same statements.
"""

import pytest

from statements import selectors
from tests.statements import builders
from tests.statements import test_query_conformance as conformance
from tests.statements.test_query_conformance import (  # noqa: F401 - the tests run here too
    ids,
    ref,
    store,
    test_a_chain_through_a_voided_statement_ref_still_matches,
    test_a_long_chain_and_a_loop_of_statement_refs_are_followed,
    test_registration_filter_matches_the_context_registration_in_any_letter_case,
    test_statements_targeting_a_match_meet_every_non_time_filter_recursively,
    test_statements_targeting_a_voided_match_are_returned_without_it,
    test_time_bounds_apply_to_the_targeting_statement_not_its_target,
)

writer, reader = conformance.writer, conformance.reader

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, params=["back", "forward"])
def walk(request, monkeypatch):
    monkeypatch.setattr(selectors, "_WALK_BACK_ABOVE", 0 if request.param == "back" else 1_000_000)
    return request.param


def chain_from(target: dict, hops: int) -> list[dict]:
    chain = [target]
    for hop in range(hops):
        chain.append(
            builders.statement(actor=builders.agent(f"hop{hop}"), obj=ref(chain[-1]["id"]))
        )
    return chain


def test_the_rule_follows_sixteen_references_and_no_more(writer, reader):
    """§2.1.3: the rule "applies recursively"; ids are the client's, so chains are followed
    for 16 steps (docs/statements.md): the statement 16 references from the match is found,
    the one 17 away is not, whichever way the chain is read."""
    ben = builders.agent("ben")
    registration = "1b5c3a4e-8d1f-4c39-a0e6-3f0f6a3b9d21"
    target = builders.statement(actor=ben, context={"registration": registration})
    chain = chain_from(target, 17)
    store(writer, chain)
    expected = {d["id"] for d in chain[:17]}
    assert ids(reader, agent=ben) == expected
    assert ids(reader, registration=registration) == expected


def test_a_referring_statement_of_a_match_is_found_once_through_several_paths(writer, reader):
    """§2.1.3: a statement referring to a match through two matching links is one result."""
    ben = builders.agent("ben")
    first = builders.statement(actor=ben)
    second = builders.statement(actor=ben, obj=ref(first["id"]))
    third = builders.statement(actor=builders.agent("zoe"), obj=ref(second["id"]))
    store(writer, [first, second, third])
    assert ids(reader, agent=ben) == {first["id"], second["id"], third["id"]}
    assert ids(reader, agent=builders.agent("zoe")) == {third["id"]}
