"""Builders of xAPI documents for the validator tests, and the valid-statement baselines."""

from __future__ import annotations

import copy
import re

import pytest

from statements.xapi.errors import StatementError
from statements.xapi.validate import validate_statement

VERSIONS = pytest.mark.parametrize("v2", [False, True], ids=["1.0.x", "2.0"])

STATEMENT_ID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
REGISTRATION = "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
SHA256 = "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def agent(**extra: object) -> dict:
    return {"objectType": "Agent", "mbox": "mailto:learner@example.com", **extra}


def account_agent(name: str = "learner-1") -> dict:
    return {"account": {"homePage": "https://lms.example.com", "name": name}}


def activity(iri: str = "http://example.com/activities/quiz", **extra: object) -> dict:
    return {"id": iri, **extra}


def minimal() -> dict:
    """Data §2.4.s2: the simplest Statement (actor, verb and object only)."""
    return {
        "actor": {"mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": "http://example.com/activities/quiz"},
    }


def full(*, v2: bool) -> dict:
    """A Statement using every property, every value already in its normalised form."""
    statement = {
        "id": STATEMENT_ID,
        "actor": {
            "objectType": "Group",
            "name": "Team PB",
            "mbox": "mailto:teampb@example.com",
            "member": [
                {"name": "Andrew", "account": {"homePage": "http://www.example.com", "name": "1"}},
                {"objectType": "Agent", "openid": "http://toby.openid.example.org/"},
                {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
            ],
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/answered",
            "display": {"en-GB": "answered", "en-US": "answered", "zh-Hant-TW": "回答"},
        },
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/activities/question-1",
            "definition": {
                "name": {"en": "Question 1"},
                "description": {"en": "Which of these are prototypes?"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "moreInfo": "https://example.com/more/question-1?lang=en#top",
                "extensions": {"http://example.com/ext/weight": {"value": [1, 2.5, None]}},
                "interactionType": "choice",
                "correctResponsesPattern": ["golf[,]tetris"],
                "choices": [
                    {"id": "golf", "description": {"en-US": "Golf Example"}},
                    {"id": "tetris", "description": {"en-US": "Tetris Example"}},
                ],
            },
        },
        "result": {
            "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
            "success": True,
            "completion": False,
            "response": "golf[,]tetris",
            "duration": "PT4H35M59.14S",
            "extensions": {"http://example.com/ext/attempts": 3},
        },
        "context": {
            "registration": REGISTRATION,
            "instructor": {"name": "Instructor", "mbox": "mailto:teacher@example.com"},
            "team": {
                "objectType": "Group",
                "account": {"homePage": "http://t.example", "name": "t"},
            },
            "contextActivities": {
                "parent": [{"id": "http://example.com/activities/test-1"}],
                "grouping": [{"objectType": "Activity", "id": "http://example.com/course"}],
                "category": [
                    {
                        "id": "https://w3id.org/xapi/cmi5/context/categories/cmi5",
                        "definition": {"type": "http://adlnet.gov/expapi/activities/profile"},
                    }
                ],
                "other": [],
            },
            "revision": "2",
            "platform": "Example LMS",
            "language": "en-US",
            "statement": {"objectType": "StatementRef", "id": REGISTRATION},
            "extensions": {"http://example.com/ext/altitude": None},
        },
        "timestamp": "2015-11-18T12:17:00.123Z",
        "stored": "2015-11-18T12:17:01Z",
        "authority": {
            "objectType": "Agent",
            "account": {"homePage": "http://cloud.example.com/", "name": "anonymous"},
        },
        "version": "2.0.0" if v2 else "1.0.0",
        "attachments": [
            {
                "usageType": "http://example.com/attachment-usage/certificate",
                "display": {"en-US": "Certificate"},
                "description": {"en-US": "A certificate of completion"},
                "contentType": "application/pdf",
                "length": 65556,
                "sha2": SHA256,
                "fileUrl": "http://example.com/certificates/1.pdf",
            },
            {
                "usageType": SIGNATURE,
                "display": {"en-US": "Signature"},
                "contentType": "application/octet-stream",
                "length": 4235,
                "sha2": SHA256,
            },
        ],
    }
    if v2:
        statement["context"]["contextAgents"] = [
            {
                "objectType": "contextAgent",
                "agent": {"mbox": "mailto:mentor@example.com"},
                "relevantTypes": ["https://example.com/roles/mentor"],
            }
        ]
        statement["context"]["contextGroups"] = [
            {
                "objectType": "contextGroup",
                "group": {"objectType": "Group", "member": [agent()]},
                "relevantTypes": ["https://example.com/roles/study-group"],
            }
        ]
    return statement


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def put(doc: dict, path: str, value: object) -> dict:
    """A deep copy of ``doc`` with ``value`` set at ``path`` (``a.b[0].c``)."""
    doc = copy.deepcopy(doc)
    *parents, last = _steps(path)
    node = doc
    for step in parents:
        node = node[step]
    node[last] = value
    return doc


def drop(doc: dict, path: str) -> dict:
    """A deep copy of ``doc`` without the property at ``path``."""
    doc = copy.deepcopy(doc)
    *parents, last = _steps(path)
    node = doc
    for step in parents:
        node = node[step]
    del node[last]
    return doc


def rejects(doc: object, path: str, *, v2: bool, function=validate_statement) -> StatementError:
    """Asserts that validating ``doc`` fails at ``path``; returns the error."""
    with pytest.raises(StatementError) as info:
        function(doc, v2=v2)
    assert info.value.path == path, f"{info.value.path!r} != {path!r}: {info.value.message}"
    return info.value


def accepts(doc: object, *, v2: bool, function=validate_statement) -> dict:
    return function(doc, v2=v2)


def containers(value: object) -> list[int]:
    """The ids of every dict and list inside ``value``, itself included."""
    found = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(id(node))
            stack.extend(node.values())
        elif isinstance(node, list):
            found.append(id(node))
            stack.extend(node)
    return found


@VERSIONS
def test_minimal_statement_is_valid(v2):
    """Data §2.2.s2.b3, §2.4.s2: actor, verb and object are all a Statement needs."""
    doc = minimal()
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_full_statement_is_valid_and_returned_unchanged(v2):
    """Data §2.4: a Statement using every property validates and nothing is added or removed."""
    doc = full(v2=v2)
    result = validate_statement(doc, v2=v2)
    assert result == doc
    assert list(result) == list(doc)


@VERSIONS
def test_the_spec_examples_are_valid(v2):
    """Data Appendix A and B: the specification's example Statements validate."""
    simple = {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "timestamp": "2015-11-18T12:17:00+00:00",
        "actor": {
            "objectType": "Agent",
            "name": "Project Tin Can API",
            "mbox": "mailto:user@example.com",
        },
        "verb": {
            "id": "http://example.com/xapi/verbs#sent-a-statement",
            "display": {"en-US": "sent"},
        },
        "object": {
            "id": "http://example.com/xapi/activity/simplestatement",
            "definition": {"name": {"en-US": "simple statement"}},
        },
    }
    validate_statement(simple, v2=v2)
    voiding = {
        "actor": {
            "objectType": "Agent",
            "name": "Example Admin",
            "mbox": "mailto:admin@example.adlnet.gov",
        },
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
    }
    validate_statement(voiding, v2=v2)
    planned = {
        "actor": {"objectType": "Agent", "mbox": "mailto:test@example.com"},
        "verb": {"id": "http://example.com/planned", "display": {"en-US": "planned"}},
        "object": {
            "objectType": "SubStatement",
            "actor": {"objectType": "Agent", "mbox": "mailto:test@example.com"},
            "verb": {"id": "http://example.com/visited", "display": {"en-US": "will visit"}},
            "object": {
                "objectType": "Activity",
                "id": "http://example.com/website",
                "definition": {"name": {"en-US": "Some Awesome Website"}},
            },
        },
    }
    validate_statement(planned, v2=v2)
