"""Builders of cmi5 sessions (cmi5 §9): statements as an AU and its LMS send them."""

from __future__ import annotations

import datetime as dt
import uuid

ADL = "http://adlnet.gov/expapi/verbs/"
W3ID = "https://w3id.org/xapi/adl/verbs/"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MOVE_ON = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
LAUNCH_MODE = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon"
COURSE = "https://lms.example.org/courses/algebra"
BLOCK = "https://lms.example.org/courses/algebra/block-1"
AU = "https://lms.example.org/courses/algebra/au-1"
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def learner(name: str = "ann") -> dict:
    return {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": name}}


def learner_ifi(name: str = "ann") -> str:
    return f"account:https://lms.example.org {name}"


def verb(name: str) -> str:
    return (W3ID if name in ("abandoned", "waived", "satisfied") else ADL) + name


class Session:
    """One AU session: each call adds one statement, a minute after the previous one."""

    def __init__(
        self,
        *,
        registration: str | None = None,
        actor: dict | None = None,
        activity: str = AU,
        start: dt.datetime = T0,
        session_id: str | None = None,
    ):
        self.registration = registration or str(uuid.uuid4())
        self.actor = actor or learner()
        self.activity = activity
        self.session_id = session_id if session_id is not None else str(uuid.uuid4())
        self.clock = start
        self.statements: list[dict] = []

    def add(self, name: str, *, result: dict | None = None, extensions=None, obj=None) -> dict:
        context_extensions = {SESSION: self.session_id} if self.session_id else {}
        context_extensions.update(extensions or {})
        context = {
            "registration": self.registration,
            "contextActivities": {
                "parent": [{"id": BLOCK}],
                "grouping": [{"id": COURSE}],
            },
        }
        if context_extensions:
            context["extensions"] = context_extensions
        if result and ("success" in result or "completion" in result):
            context["contextActivities"]["category"] = [{"id": MOVEON_CATEGORY}]
        statement = {
            "id": str(uuid.uuid4()),
            "actor": self.actor,
            "verb": {"id": verb(name), "display": {"en-US": name}},
            "object": obj or {"objectType": "Activity", "id": self.activity},
            "context": context,
            "timestamp": self.clock.isoformat().replace("+00:00", "Z"),
        }
        if result:
            statement["result"] = result
        self.clock += dt.timedelta(minutes=1)
        self.statements.append(statement)
        return statement

    def launched(self, *, move_on: str | None = "CompletedOrPassed", mode: str = "Normal"):
        extensions = {LAUNCH_MODE: mode}
        if move_on is not None:
            extensions[MOVE_ON] = move_on
        return self.add("launched", extensions=extensions)

    def initialized(self):
        return self.add("initialized")

    def progressed(self):
        return self.add("progressed")

    def completed(self, duration: str = "PT10M"):
        return self.add("completed", result={"completion": True, "duration": duration})

    def passed(self, scaled: float = 0.9, duration: str = "PT12M"):
        score = {"scaled": scaled, "raw": scaled * 100, "min": 0, "max": 100}
        return self.add("passed", result={"success": True, "score": score, "duration": duration})

    def failed(self, scaled: float = 0.3, duration: str = "PT12M"):
        score = {"scaled": scaled, "raw": scaled * 100, "min": 0, "max": 100}
        return self.add("failed", result={"success": False, "score": score, "duration": duration})

    def terminated(self, duration: str = "PT15M"):
        return self.add("terminated", result={"duration": duration})

    def abandoned(self, duration: str = "PT20M"):
        return self.add("abandoned", result={"duration": duration})

    def waived(self):
        return self.add("waived", result={"success": True, "completion": True})

    def normal(self, *, move_on: str = "CompletedAndPassed") -> list[dict]:
        """launched, initialized, completed, passed, terminated (cmi5 §9.3)."""
        self.launched(move_on=move_on)
        self.initialized()
        self.completed()
        self.passed()
        self.terminated()
        return self.statements
