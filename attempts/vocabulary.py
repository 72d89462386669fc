"""Which verbs mean which learning outcome, and the cmi5 identifiers the projection reads.

A statement moves an attempt only through its verb's *outcome*. The defaults below cover the
ADL vocabulary and the verbs cmi5 defines (cmi5 §9.3, "Verbs"); a tenant can map further verbs
(or remap these) in ``attempts.models.VerbOutcome``, for content that is not cmi5 and speaks
its own vocabulary. A verb with no outcome still counts as activity on the attempt (its
timestamps, score and duration), it just changes no status.

Changing a tenant's mapping changes what its statements mean, so projected rows are then out
of date until ``rebuild_projections --tenant SLUG`` runs (docs/projection.md).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CMI5_LAUNCH_MODE",
    "CMI5_MOVE_ON",
    "CMI5_SESSION_ID",
    "DEFAULT_OUTCOMES",
    "Outcome",
]


class Outcome(StrEnum):
    """What a verb says happened to the learner's attempt at the statement's Activity."""

    LAUNCHED = "launched"
    INITIALIZED = "initialized"
    PROGRESSED = "progressed"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    TERMINATED = "terminated"
    ABANDONED = "abandoned"
    WAIVED = "waived"
    # cmi5 §9.3.9: the LMS states that moveOn is met (for an AU, a block or a course).
    SATISFIED = "satisfied"


_ADL = "http://adlnet.gov/expapi/verbs/"
_ADL_W3ID = "https://w3id.org/xapi/adl/verbs/"

# cmi5 §9.3 uses the ADL verbs for launched..terminated and the w3id ones for the three
# LMS-issued verbs (abandoned, waived, satisfied).
DEFAULT_OUTCOMES: dict[str, Outcome] = {
    _ADL + "launched": Outcome.LAUNCHED,
    _ADL + "initialized": Outcome.INITIALIZED,
    _ADL + "attempted": Outcome.INITIALIZED,
    _ADL + "resumed": Outcome.PROGRESSED,
    _ADL + "suspended": Outcome.PROGRESSED,
    _ADL + "progressed": Outcome.PROGRESSED,
    _ADL + "experienced": Outcome.PROGRESSED,
    _ADL + "attended": Outcome.PROGRESSED,
    _ADL + "completed": Outcome.COMPLETED,
    _ADL + "passed": Outcome.PASSED,
    _ADL + "mastered": Outcome.PASSED,
    _ADL + "failed": Outcome.FAILED,
    _ADL + "terminated": Outcome.TERMINATED,
    _ADL + "exited": Outcome.TERMINATED,
    _ADL_W3ID + "abandoned": Outcome.ABANDONED,
    _ADL_W3ID + "waived": Outcome.WAIVED,
    _ADL_W3ID + "satisfied": Outcome.SATISFIED,
}

# cmi5 §9.6.3.1: every statement of an AU session carries the session id.
CMI5_SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
# cmi5 §9.6.3.6: the LMS adds moveOn (from LMS.LaunchData) to the "launched" statement.
CMI5_MOVE_ON = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
# cmi5 §9.6.3.3: launchMode ("Normal", "Browse", "Review") on the "launched" statement.
CMI5_LAUNCH_MODE = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
