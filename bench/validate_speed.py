"""What validating one statement costs.

Validates a typical cmi5-style statement of about 1.2 KB (Agent actor with an account, verb
with display, Activity object with name/description/type/extensions, result with score,
duration, success and completion, context with registration, three kinds of context
activities and extensions, timestamp) and prints microseconds per statement, the median
over several runs, under both 1.0.x and 2.0 rules. Also prints the figure for the first
sight of every IRI and language tag (the module memoises well-formed ones) and for
``orjson.loads`` of the same bytes, as a reference.

Budget (ARCHITECTURE.md §10): about 50 µs of CPU per statement for the whole ingest path;
target for validation: 30 µs or less. Usage: ``python bench/validate_speed.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.timing import per_call_us  # noqa: E402
from statements.xapi import validate  # noqa: E402

STATEMENT = {
    "id": "2a41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {
        "objectType": "Agent",
        "name": "Example Learner",
        "account": {"homePage": "https://lms.example.com", "name": "learner-000123"},
    },
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "completed"},
    },
    "object": {
        "objectType": "Activity",
        "id": "https://lms.example.com/courses/algebra-1/au/quiz-3",
        "definition": {
            "name": {"en-US": "Quiz 3: linear equations"},
            "description": {"en-US": "Ten questions on solving linear equations."},
            "type": "https://w3id.org/xapi/cmi5/activitytype/block",
            "extensions": {
                "https://lms.example.com/xapi/extensions/difficulty": "intermediate",
            },
        },
    },
    "result": {
        "score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10},
        "success": True,
        "completion": True,
        "duration": "PT14M32.25S",
    },
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "contextActivities": {
            "parent": [{"id": "https://lms.example.com/courses/algebra-1/au"}],
            "grouping": [{"id": "https://lms.example.com/courses/algebra-1"}],
            "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
        },
        "extensions": {
            "https://w3id.org/xapi/cmi5/context/extensions/sessionid": "458240298378231",
            "https://lms.example.com/xapi/extensions/attempt": 2,
        },
    },
    "timestamp": "2024-03-18T12:17:00.123+01:00",
}


def main() -> None:
    raw = orjson.dumps(STATEMENT)
    doc = orjson.loads(raw)
    iterations = 20_000

    def cold() -> None:
        validate._IRI_OK.clear()
        validate._LANG_OK.clear()
        validate.validate_statement(doc, v2=True)

    results = {
        "statement bytes": len(raw),
        "validate 1.0.x (us)": per_call_us(
            lambda: validate.validate_statement(doc, v2=False), iterations
        ),
        "validate 2.0 (us)": per_call_us(
            lambda: validate.validate_statement(doc, v2=True), iterations
        ),
        "validate 2.0, nothing memoised (us)": per_call_us(cold, iterations // 4),
        "orjson.loads (us)": per_call_us(lambda: orjson.loads(raw), iterations),
    }
    width = max(len(name) for name in results)
    for name, value in results.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{name:<{width}}  {shown}")


if __name__ == "__main__":
    main()
