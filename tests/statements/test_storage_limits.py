"""Valid statements that meet PostgreSQL's own limits: stored when they can be, a 400
naming the value when they cannot, never a 500 (Communication §3.2: the status code most
appropriate to the condition)."""

import orjson
import pytest

from tests.statements import builders

pytestmark = pytest.mark.django_db(transaction=True)

# 3,000 CJK characters: 9,000 bytes of UTF-8 that do not compress below the index limit.
LONG_IRI = "https://x.example/" + "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))


def post(xapi, *statements):
    return xapi.request(
        "post", "/xapi/statements", data=orjson.dumps(list(statements)),
        content_type="application/json",
    )  # fmt: skip


@pytest.mark.parametrize("batch", [1, 20], ids=["small batch", "large batch"])
def test_a_statement_holding_u0000_is_stored_and_served_as_sent(xapi, batch):
    """JSON (RFC 8259 §7) allows the escape \\u0000 in strings; the statement is stored and
    returned with it, whatever write path its batch takes."""
    statements = [builders.statement(result={"response": "a\u0000b"}) for _ in range(batch)]
    response = post(xapi, *statements)
    assert response.status_code == 200, response.content
    got = xapi.get(f"/xapi/statements?statementId={statements[0]['id']}")
    assert got.status_code == 200
    assert orjson.loads(got.content)["result"]["response"] == "a\u0000b"


def test_an_activity_name_holding_u0000_does_not_break_its_statement(xapi):
    activity = {"id": "https://x.example/nul", "definition": {"name": {"en": "a\u0000b"}}}
    statement = builders.statement(obj=activity, actor={"mbox": "mailto:a@x.example",
                                                        "name": "n\u0000"})  # fmt: skip
    assert post(xapi, statement).status_code == 200


@pytest.mark.parametrize(
    ("place", "path"),
    [("object", "object.id"), ("verb", "verb.id"), ("parent", None)],
)
def test_an_identifier_too_long_to_index_is_a_400_naming_it(xapi, place, path):
    if place == "object":
        statement = builders.statement(obj={"id": LONG_IRI})
    elif place == "verb":
        statement = builders.statement(verb=LONG_IRI)
    else:
        statement = builders.statement(
            context={"contextActivities": {"parent": [{"id": LONG_IRI}]}}
        )
    response = post(xapi, statement)
    assert response.status_code == 400, response.content
    body = orjson.loads(response.content)
    assert "cannot be indexed" in body["message"]
    assert body.get("path") == path


def test_an_account_name_holding_u0000_is_a_400(xapi):
    actor = {"account": {"homePage": "https://lms.example", "name": "a\u0000"}}
    response = post(xapi, builders.statement(actor=actor))
    assert response.status_code == 400
    assert orjson.loads(response.content)["path"] == "actor"
