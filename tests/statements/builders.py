"""Small builders of xAPI documents for tests."""

from __future__ import annotations

import uuid

EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def agent(name: str = "learner") -> dict:
    return {"objectType": "Agent", "mbox": f"mailto:{name}@example.org"}


def activity(slug: str = "course-1") -> dict:
    return {
        "objectType": "Activity",
        "id": f"https://courses.example.org/{slug}",
        "definition": {"name": {"en-US": f"Course {slug}", "fr-FR": f"Cours {slug}"}},
    }


def statement(
    *,
    actor: dict | None = None,
    verb: str = EXPERIENCED,
    obj: dict | None = None,
    with_id: bool = True,
    **extra,
) -> dict:
    document = {
        "actor": actor or agent(),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": obj or activity(),
    }
    if with_id:
        document["id"] = str(uuid.uuid4())
    document.update(extra)
    return document


def voiding(target_id: str, *, actor: dict | None = None) -> dict:
    return statement(
        actor=actor or agent("admin"),
        verb=VOIDED,
        obj={"objectType": "StatementRef", "id": target_id},
    )
