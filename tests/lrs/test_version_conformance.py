"""What each version's clients get on the wire: the version header (Communication §3.3), the
statements a 1.0.3 or a 2.0 reader is served (ARCHITECTURE.md §8), the formats of GET
Statements (§2.1.3) and the headers around them."""

import datetime as dt
import email.utils
import uuid
from urllib.parse import urlencode

import orjson
import pytest
from django.test import Client

from lrs.versioning import XAPIVersion, negotiate
from statements.xapi.formats import for_reader
from statements.xapi.multipart import parse_statement_request
from statements.xapi.validate import validate_statement
from tests.conftest import XAPIClient, basic
from tests.statements import builders

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/xapi/statements"


def body(response):
    return orjson.loads(response.content)


def post(client: XAPIClient, documents):
    response = client.request(
        "post", URL, data=orjson.dumps(documents), content_type="application/json"
    )
    assert response.status_code in (200, 204), response.content
    return response


def context_v2() -> dict:
    return {
        "platform": "web",
        "contextAgents": [
            {
                "objectType": "contextAgent",
                "agent": builders.agent("mentor"),
                "relevantTypes": ["https://example.org/types/mentor"],
            }
        ],
        "contextGroups": [
            {
                "objectType": "contextGroup",
                "group": {"objectType": "Group", "mbox": "mailto:team@example.org", "name": "T"},
                "relevantTypes": ["https://example.org/types/team"],
            }
        ],
    }


def sub_statement(**extra) -> dict:
    return {
        "objectType": "SubStatement",
        "actor": builders.agent("planner"),
        "verb": {"id": builders.EXPERIENCED, "display": {"en-US": "experienced"}},
        "object": builders.activity("planned"),
        **extra,
    }


def served_statements(response) -> list[dict]:
    """The statements of a single-statement or StatementResult answer, JSON or multipart."""
    if response["Content-Type"].startswith("multipart/mixed"):
        document, _ = parse_statement_request(
            response.content, response["Content-Type"], max_attachment_bytes=1 << 20
        )
        document = orjson.loads(document)
    else:
        document = body(response)
    return document.get("statements", [document])


# --- X-Experience-API-Version (Communication §3.3) ------------------------------------------


@pytest.mark.parametrize("value", ["1.0.10000", "1.0.123456789"])
def test_a_version_header_starting_with_1_0_is_accepted_whatever_its_patch_number(
    credential, value
):
    """§3.3.s3.b5: "The LRS MUST accept requests with a version header starting with
    `1.0.` if the request is otherwise valid"; §3.3.s3.b2: the answer names the latest
    patch version."""
    assert negotiate(value) is XAPIVersion.V1_0
    response = XAPIClient(credential, version=value).get(URL)
    assert response.status_code == 200, response.content
    assert response["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize("value", ["1.0.\u0663", "2.0.\uff10", "\u0661.0.3"])
def test_a_version_header_with_digits_other_than_ascii_is_rejected(credential, value):
    """§3.3.s2: versions are Semantic Versioning 1.0.0 numbers, written in ASCII digits;
    §3.3.s3.b7: rejects are a 400 with a short description of the problem."""
    response = XAPIClient(credential, version=value).get(URL)
    assert response.status_code == 400
    assert "not supported" in body(response)["message"]


@pytest.mark.parametrize(("sent", "answered"), [("1.0.3", "1.0.3"), (None, "2.0.0")])
def test_the_lrs_base_url_without_its_slash_answers_with_the_version_header(
    credential, sent, answered
):
    """§3.3.s3.b1: "The LRS MUST include the "X-Experience-API-Version" header in every
    response", also to a request for the base URL itself, ``/xapi``."""
    for method in ("get", "head", "post"):
        response = XAPIClient(credential, version=sent).request(method, "/xapi")
        assert response.status_code == 404
        assert response["X-Experience-API-Version"] == answered


@pytest.mark.parametrize("path", [URL, "/xapi/about", "/xapi/activities/state"])
@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_options_outside_a_preflight_answers_allow_and_nothing_about_the_code(
    credential, path, version
):
    """Communication §1.2 lists the headers of xAPI responses; an OPTIONS request that is not
    a CORS preflight gets its ``Allow`` header (RFC 9110 §9.3.7) and the version header
    (§3.3.s3.b1), and no description of how the resource is implemented."""
    response = XAPIClient(credential, version=version).request("options", path)
    assert response.status_code == 204
    assert response.content == b""
    assert "GET" in response["Allow"]
    assert response["X-Experience-API-Version"] == version


def test_the_alternate_syntax_is_served_under_the_version_its_form_names(credential):
    """§1.3.s3.b6/b7: X-Experience-API-Version may travel as a form field and is then treated
    as the header; ARCHITECTURE.md §8: 2.0 rejects the alternate request syntax, so a tunnel
    naming 2.0 there is a 400 answered as 2.0.0, one naming 1.0.3 is served as 1.0.3."""
    document = builders.statement()
    post(XAPIClient(credential, version="1.0.3"), document)
    for named, status in (("2.0.0", 400), ("1.0.3", 200)):
        form = urlencode(
            {
                "Authorization": basic(credential.key),
                "X-Experience-API-Version": named,
                "statementId": document["id"],
            }
        )
        response = Client().post(
            f"{URL}?method=GET", data=form, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == status, response.content
        assert response["X-Experience-API-Version"] == named
    assert body(response)["id"] == document["id"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_about_takes_the_alternate_request_syntax_from_a_1_0_client(db, method):
    """§1.3.s3.b15: "The LRS MUST support the syntax above", and About is an xAPI resource
    (§2.8): a tunnelled GET (or HEAD) is answered as the call it carries, in the version its
    form names (§1.3.s3.b7, §3.3.s3.b1)."""
    response = Client().post(
        f"/xapi/about?method={method}",
        data=urlencode({"X-Experience-API-Version": "1.0.3"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.content
    assert response["X-Experience-API-Version"] == "1.0.3"
    if method == "GET":
        assert body(response)["version"] == ["1.0.3"]
    else:
        assert response.content == b""


def test_about_refuses_the_alternate_request_syntax_under_2_0(db):
    """ARCHITECTURE.md §8: the alternate request syntax is rejected in 2.0, on About as on the
    other resources; the refusal is a JSON 400 naming the problem (§3.2.s3.b2)."""
    response = Client().post(
        "/xapi/about?method=GET",
        data=urlencode({"X-Experience-API-Version": "2.0.0"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "alternate request syntax" in body(response)["message"]
    assert response["X-Experience-API-Version"] == "2.0.0"


# --- what a 1.0.3 reader is served (ARCHITECTURE.md §8) -------------------------------------


@pytest.mark.parametrize("output_format", ["exact", "ids", "canonical"])
@pytest.mark.parametrize("attachments", ["false", "true"])
def test_a_1_0_3_reader_is_never_served_context_agents_or_groups(
    credential, output_format, attachments
):
    """ARCHITECTURE.md §8: "A 1.0.3 reader must not receive 2.0-only properties it cannot
    parse"; Data §2.4.4.3 (1.0.3): a SubStatement has the properties of a Statement, so its
    context is stripped too. In every format of §2.1.3, for one statement and for a
    StatementResult, as JSON and as multipart (§2.1.3.s2.b6); a 2.0 reader gets them."""
    writer = XAPIClient(credential, version="2.0.0")
    top = builders.statement(context=context_v2())
    nested = builders.statement(obj=sub_statement(context=context_v2()))
    post(writer, [top, nested])
    old = XAPIClient(credential, version="1.0.3")
    query = f"format={output_format}&attachments={attachments}"
    answers = [old.get(f"{URL}?statementId={top['id']}&{query}")]
    answers.append(old.get(f"{URL}?statementId={nested['id']}&{query}"))
    answers.append(old.get(f"{URL}?{query}"))
    served = [s for answer in answers for s in served_statements(answer)]
    assert {s["id"] for s in served} == {top["id"], nested["id"]}
    for statement in served:
        for container in (statement, statement["object"]):
            context = container.get("context")
            if context is not None:
                assert context == {"platform": "web"}
    assert b"contextAgents" not in b"".join(answer.content for answer in answers)
    new = served_statements(writer.get(f"{URL}?{query}"))
    assert all("contextGroups" in (s.get("context") or s["object"]["context"]) for s in new)


# --- what a 2.0 reader is served ---------------------------------------------------------------


def test_a_2_0_reader_is_served_1_0_timestamps_in_rfc_3339_notation(credential):
    """ARCHITECTURE.md §8: 2.0 timestamps are RFC 3339. 1.0.x keeps ISO 8601 notations that RFC
    3339 lacks (a decimal comma, an offset of hours alone); a 2.0 reader gets the same
    instant and offset in RFC 3339 notation, in the statement and in a SubStatement, and
    what it gets validates as a 2.0 statement. A 1.0.3 reader gets the timestamp as sent
    (Data §2.4.7 1.0.3: ISO 8601)."""
    old = XAPIClient(credential, version="1.0.3")
    document = builders.statement(
        timestamp="2013-05-19T10:42:32,5+01",
        obj=sub_statement(timestamp="2013-05-19T10:42:32-05"),
    )
    post(old, document)
    new = XAPIClient(credential, version="2.0.0")
    for response in (new.get(f"{URL}?statementId={document['id']}"), new.get(URL)):
        (served,) = served_statements(response)
        assert served["timestamp"] == "2013-05-19T10:42:32.5+01:00"
        assert served["object"]["timestamp"] == "2013-05-19T10:42:32-05:00"
        validate_statement(served, v2=True)  # raises on a timestamp 2.0 does not take
    as_sent = body(old.get(f"{URL}?statementId={document['id']}"))
    assert as_sent["timestamp"] == "2013-05-19T10:42:32,5+01"
    assert as_sent["object"]["timestamp"] == "2013-05-19T10:42:32-05"


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("2013-05-19T10:42:32,5Z", "2013-05-19T10:42:32.5Z"),
        ("2013-05-19T10:42:32,123456789+01:30", "2013-05-19T10:42:32.123456789+01:30"),
        ("2013-05-19T10:42:32+00", "2013-05-19T10:42:32+00:00"),
        ("2013-05-19t10:42:32.25-11", "2013-05-19t10:42:32.25-11:00"),
    ],
)
def test_a_2_0_reader_gets_iso_only_timestamp_notations_rewritten(stored, served):
    """RFC 3339 §5.6 ``time-secfrac = "." 1*DIGIT``, ``time-numoffset = ("+" / "-")
    time-hour ":" time-minute``: the notation changes, the instant and offset do not, and
    the stored statement is left alone. Rewriting twice changes nothing more."""
    statement = {**builders.statement(timestamp=stored), "stored": "2024-01-01T00:00:00Z"}
    out = for_reader(statement, v2=True)
    assert out["timestamp"] == served
    assert statement["timestamp"] == stored
    assert out["stored"] == statement["stored"]
    assert for_reader(out, v2=True) is out
    assert for_reader(statement, v2=False) is statement


@pytest.mark.parametrize(
    "timestamp", ["2013-05-19T10:42:32Z", "2013-05-19T10:42:32.5+01:00", "2013-05-19T10:42:32z"]
)
def test_a_2_0_reader_gets_rfc_3339_timestamps_as_stored(timestamp):
    """Nothing changes for a timestamp RFC 3339 already takes: the stored statement itself
    is served."""
    statement = builders.statement(timestamp=timestamp)
    assert for_reader(statement, v2=True) is statement


# --- formats and headers of GET Statements (§2.1.3) -------------------------------------------


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_canonical_answers_vary_on_accept_language(credential, version):
    """§2.1.3.s4.b5: the canonical format chooses languages by Accept-Language, so a cache
    must key its answers on it (RFC 9110 §12.5.5, Vary); ``exact`` does not depend on it.
    The version header is varied on in both (§3.3)."""
    client = XAPIClient(credential, version=version)
    document = builders.statement()
    post(client, document)
    for query in (f"statementId={document['id']}&", ""):
        canonical = client.get(f"{URL}?{query}format=canonical", HTTP_ACCEPT_LANGUAGE="fr")
        vary = [v.strip().lower() for v in canonical["Vary"].split(",")]
        assert "accept-language" in vary
        assert "x-experience-api-version" in vary
        served = served_statements(canonical)[0]
        assert served["object"]["definition"]["name"] == {"fr-FR": "Cours course-1"}
        # Served from the query cache the second time: the header is the same.
        again = client.get(f"{URL}?{query}format=canonical", HTTP_ACCEPT_LANGUAGE="fr")
        assert "accept-language" in again["Vary"].lower()
        exact = client.get(f"{URL}?{query}format=exact")
        assert "accept-language" not in exact["Vary"].lower()


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_ids_reduces_every_agent_group_activity_and_verb_in_both_versions(credential, version):
    """§2.1.3 format ``ids``: "only include minimum information necessary in Agent,
    Activity, Verb and Group Objects to identify them"; Data §2.4.3.s6.b2: no Verb
    ``display``. An Identified Group is identified by its IFI; an Anonymous Group by its
    members."""
    client = XAPIClient(credential, version=version)
    anonymous = {
        "objectType": "Group",
        "name": "pair",
        "member": [builders.agent("a") | {"name": "A"}, builders.agent("b")],
    }
    identified = {
        "objectType": "Group",
        "name": "team",
        "mbox": "mailto:team@example.org",
        "member": [builders.agent("c")],
    }
    document = builders.statement(
        actor=anonymous,
        obj=identified,
        context={
            "instructor": builders.agent("teacher") | {"name": "Teacher"},
            "contextActivities": {"parent": [builders.activity("parent")]},
        },
    )
    post(client, document)
    served = body(client.get(f"{URL}?statementId={document['id']}&format=ids"))
    assert served["actor"] == {
        "objectType": "Group",
        "member": [builders.agent("a"), builders.agent("b")],
    }
    assert served["object"] == {"objectType": "Group", "mbox": "mailto:team@example.org"}
    assert served["verb"] == {"id": builders.EXPERIENCED}
    assert served["context"]["instructor"] == builders.agent("teacher")
    assert served["context"]["contextActivities"] == {
        "parent": [{"id": builders.activity("parent")["id"]}]
    }
    assert set(served["authority"]) <= {"objectType", "account"}


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_a_single_statement_comes_with_last_modified_its_stored_time(credential, version):
    """§2.1.3.s2.b8 (1.0.3 SHOULD*, a SHALL in 2.0, ARCHITECTURE.md §8): "a "Last-Modified"
    header which matches the "stored" Timestamp of the Statement", for GET and HEAD
    (§1.1.s3.b1), by statementId and by voidedStatementId; stored is in UTC."""
    client = XAPIClient(credential, version=version)
    target = builders.statement()
    post(client, target)
    voiding = builders.voiding(target["id"])
    post(client, voiding)
    for query in (f"voidedStatementId={target['id']}", f"statementId={voiding['id']}"):
        get = client.get(f"{URL}?{query}")
        stored = dt.datetime.fromisoformat(body(get)["stored"])
        assert body(get)["stored"].endswith("Z")
        for response in (get, client.request("head", f"{URL}?{query}")):
            assert response.status_code == 200
            modified = email.utils.parsedate_to_datetime(response["Last-Modified"])
            assert modified == stored.replace(microsecond=0)
            assert response["X-Experience-API-Version"] == version


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_a_statement_not_found_is_a_json_404_with_the_version_header(credential, version):
    """§3.3.s3.b1: every response, errors included, carries the version header; §2.1.3.s2.b5:
    every response of the Statement resource carries X-Experience-API-Consistent-Through."""
    response = XAPIClient(credential, version=version).get(f"{URL}?statementId={uuid.uuid4()}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert body(response)["error"] == "not_found"
    assert response["X-Experience-API-Version"] == version
    assert response["X-Experience-API-Consistent-Through"].endswith("Z")
