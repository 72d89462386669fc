"""The projection itself: attempts and completions as a pure function of statements.

No database here. ``fact_from_statement`` reduces one stored statement to what progress
depends on; ``project_group`` turns every (non-voided) fact of one *group* (tenant, learner,
Activity, registration) into that group's attempts and its completion.

Invariants, which the property tests check:

- **Pure and order-insensitive.** Facts are ordered by ``(timestamp, statement_id)`` before
  anything is derived, so the result does not depend on arrival order, batch split or
  worker count; "first" and "latest" below mean first and latest in that order. ``stored``
  is never used: it records when a statement arrived, not when it happened.
- **Idempotent.** The same facts give equal values, and ids are uuid5 digests of the keys,
  so re-projecting a group rewrites the same rows.

Rules (docs/projection.md explains each, with the cmi5 sections behind them):

- An attempt is one cmi5 session (``context.extensions`` sessionid, cmi5 §9.6.3.1) of a
  group; statements without a session id form the group's session-less attempt.
- Status, by precedence: ``waived``; ``passed`` / ``failed`` from the latest passed or failed
  statement (of one timestamp, the passed: cmi5 §9.3, failed never follows passed);
  ``completed`` (completed, or the LMS's ``satisfied``); ``abandoned`` or ``terminated``,
  whichever ended the session first (terminated on a tie: cmi5 §9.3.6, §9.3.8); ``in
  progress`` once anything but ``launched`` was recorded; ``launched``.
- A waived attempt is complete and successful (cmi5 §9.5.2, §9.5.3).
- Sessions launched in ``Browse`` or ``Review`` mode (cmi5 §9.6.3.3, §10.2.2:
  "satisfaction-related data MUST NOT be recorded") have their completed, passed and
  failed statements read as plain progress, and never satisfy a completion.
- Scores: *best* is the highest ``scaled`` (or, when no statement has ``scaled``, the
  highest ``raw``), the latest on a tie; *last* is the latest statement's score.
- Duration: in a cmi5 session, the longest ``result.duration`` (cmi5 §9.5.4.1: terminated
  carries the whole session time, completed and passed the time to reach them); without a
  session, the sum of all durations.
- Completion (cmi5 moveOn, §13.1.4 and §9.6.3.6): the group's moveOn is that of its latest
  ``launched`` statement carrying one. ``Completed``, ``Passed``, ``CompletedAndPassed``,
  ``CompletedOrPassed``, ``NotApplicable`` are applied across all the group's sessions;
  without a moveOn, the first completed or passed satisfies. A ``waived`` or ``satisfied``
  statement from the LMS satisfies whatever the moveOn. The completion is the earliest
  satisfaction, with that statement's score.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from attempts.vocabulary import CMI5_LAUNCH_MODE, CMI5_MOVE_ON, CMI5_SESSION_ID, Outcome

__all__ = [
    "Attempt",
    "Completion",
    "Fact",
    "GroupKey",
    "Score",
    "attempt_id_for",
    "completion_id_for",
    "duration_seconds",
    "fact_from_statement",
    "finishing_statement",
    "project_group",
    "uuid5_text",
]

# A fixed namespace: the ids of projected rows must be the same in every process and rebuild.
_NAMESPACE = uuid.UUID("6c7f2f0e-3a1b-5d4e-9f60-2b8a71c4d901")

STATUS_LAUNCHED = "launched"
STATUS_IN_PROGRESS = "in progress"
# Statuses an attempt finishes with (attempt.finished events).
FINISHED_STATUSES = frozenset(
    ("passed", "failed", "completed", "abandoned", "terminated", "waived")
)

_SATISFACTION = frozenset((Outcome.COMPLETED, Outcome.PASSED, Outcome.FAILED))
_JUDGEMENTS = frozenset((Outcome.PASSED, Outcome.FAILED))
_ENDS = frozenset((Outcome.TERMINATED, Outcome.ABANDONED))
# cmi5 §9.5.3: completion is true for completed and waived; satisfied is the LMS's word
# that moveOn is met (§9.3.9).
_COMPLETING = frozenset((Outcome.COMPLETED, Outcome.WAIVED, Outcome.SATISFIED))
_NON_JUDGED_MODES = frozenset(("Browse", "Review"))


@dataclass(frozen=True, slots=True)
class Score:
    scaled: float | None
    raw: float | None
    min: float | None
    max: float | None

    def as_dict(self) -> dict:
        return {"scaled": self.scaled, "raw": self.raw, "min": self.min, "max": self.max}


@dataclass(frozen=True, slots=True)
class GroupKey:
    """The unit of recomputation: one learner's statements about one Activity in one
    registration (``None`` when the statements carry none)."""

    learner: str
    activity_id: str
    registration: str | None


@dataclass(frozen=True, slots=True)
class Fact:
    """What the projection reads of one statement."""

    statement_id: str
    timestamp: dt.datetime
    outcome: Outcome | None
    session_id: str | None = None
    launch_mode: str | None = None
    move_on: str | None = None
    score: Score | None = None
    duration: float | None = None
    parents: tuple[str, ...] = ()

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.timestamp, self.statement_id)


@dataclass(frozen=True, slots=True)
class Attempt:
    tenant_id: int
    attempt_id: str
    learner: str
    activity_id: str
    registration: str | None
    session_id: str | None
    status: str
    completion: bool | None
    success: bool | None
    launch_mode: str | None
    move_on: str | None
    started_at: dt.datetime
    last_activity_at: dt.datetime
    ended_at: dt.datetime | None
    # When the attempt took its finished status (the finishing statement's timestamp).
    finished_at: dt.datetime | None
    best_score: Score | None
    last_score: Score | None
    duration_seconds: float | None
    statement_count: int
    # The first statement of each outcome, plus "started" (the one that set started_at),
    # "success" (the one that set success) and "score" (the one that set the last score).
    outcome_statements: dict[str, str] = field(default_factory=dict)
    parents: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def finishing_statement(self) -> str | None:
        return finishing_statement(self.status, self.outcome_statements)


# Which outcome_statements entry set each finished status.
_STATUS_SETTER = {
    "passed": "success",
    "failed": "success",
    "completed": "completed",
    "abandoned": Outcome.ABANDONED.value,
    "terminated": Outcome.TERMINATED.value,
    "waived": Outcome.WAIVED.value,
}


def finishing_statement(status: str, outcome_statements: Mapping[str, str]) -> str | None:
    """The statement that gave an attempt its finished status (None while unfinished)."""
    return outcome_statements.get(_STATUS_SETTER.get(status, ""))


@dataclass(frozen=True, slots=True)
class Completion:
    tenant_id: int
    completion_id: str
    learner: str
    activity_id: str
    registration: str | None
    satisfied_at: dt.datetime
    basis: str
    move_on: str | None
    score: Score | None
    statement_id: str
    attempt_id: str
    parents: tuple[str, ...] = ()


def _name(*parts: str | int | None) -> str:
    # None and "" must not collide: each part is marked present ("=") or absent ("-").
    return "\x1f".join("-" if part is None else f"={part}" for part in parts)


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, without building a ``UUID`` (a few times
    cheaper; the projection derives several ids per statement)."""
    h = hashlib.sha1(namespace.bytes + name.encode(), usedforsecurity=False).hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]  # RFC 4122 variant bits 10xx
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def attempt_id_for(tenant_id: int, key: GroupKey, session_id: str | None) -> str:
    name = _name("attempt", tenant_id, key.learner, key.activity_id, key.registration, session_id)
    return uuid5_text(_NAMESPACE, name)


def completion_id_for(tenant_id: int, key: GroupKey) -> str:
    name = _name("completion", tenant_id, key.learner, key.activity_id, key.registration)
    return uuid5_text(_NAMESPACE, name)


# --- one statement -------------------------------------------------------------------------

# ISO 8601:2004 §4.4.3.2, as the validator accepts it (Data §4.6); the fraction may use a
# comma. Years count 365 days and months 30: a duration has no calendar to be read against.
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:[.,]\d+)?)W|"
    r"(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?)$"
)
_UNIT_SECONDS = {
    "weeks": 7 * 86400,
    "years": 365 * 86400,
    "months": 30 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}


def duration_seconds(value: object) -> float | None:
    """Seconds in an ISO 8601 duration; None for anything else (never raises)."""
    if type(value) is not str:
        return None
    match = _DURATION.match(value)
    if match is None:
        return None
    total = 0.0
    for unit, amount in match.groupdict().items():
        if amount is not None:
            total += float(amount.replace(",", ".")) * _UNIT_SECONDS[unit]
    return total if math.isfinite(total) else None


def _number(value: object) -> float | None:
    # bool is an int in Python; a validated score holds numbers only, but stay strict.
    if type(value) in (int, float):
        return float(value)
    return None


def _score(score: Mapping) -> Score:
    get = score.get
    return Score(
        _number(get("scaled")), _number(get("raw")), _number(get("min")), _number(get("max"))
    )


def _text(value: object) -> str | None:
    return value if type(value) is str else None


_NO_MAPPING: Mapping = {}


def fact_from_statement(
    statement: Mapping,
    *,
    statement_id: str,
    timestamp: dt.datetime,
    outcomes: Mapping[str, Outcome],
) -> Fact:
    """Reduce a stored statement to a ``Fact``; ``outcomes`` maps verb ids.

    Precondition: the statement was validated and normalised on the way in (Data §2.4): a
    verb has an ``id``, context activities are arrays of objects with an ``id`` (Data
    §2.4.6.2), a score holds numbers. Extension values are anything, so they are checked.
    Runs once per statement read, so it does no more than that.
    """
    context = statement.get("context", _NO_MAPPING)
    extensions = context.get("extensions", _NO_MAPPING)
    result = statement.get("result", _NO_MAPPING)
    activities = context.get("contextActivities")
    parents: tuple[str, ...] = ()
    if activities:
        ids = [a["id"] for a in activities.get("parent", ())]
        ids += [a["id"] for a in activities.get("grouping", ())]
        parents = tuple(dict.fromkeys(ids)) if len(ids) > 1 else tuple(ids)
    score = result.get("score")
    duration = result.get("duration")
    return Fact(
        statement_id,
        timestamp,
        outcomes.get(statement["verb"]["id"]),
        _text(extensions.get(CMI5_SESSION_ID)),
        _text(extensions.get(CMI5_LAUNCH_MODE)),
        _text(extensions.get(CMI5_MOVE_ON)),
        _score(score) if score is not None else None,
        duration_seconds(duration) if duration is not None else None,
        parents,
    )


# --- one group -----------------------------------------------------------------------------


def project_group(
    tenant_id: int, key: GroupKey, facts: Iterable[Fact]
) -> tuple[list[Attempt], Completion | None]:
    """The attempts (ordered by attempt id) and the completion of one group's facts."""
    ordered = sorted(facts, key=lambda f: f.order)
    if not ordered:
        return [], None
    sessions: dict[str | None, list[Fact]] = {}
    for fact in ordered:
        sessions.setdefault(fact.session_id, []).append(fact)
    attempts = [
        _attempt(tenant_id, key, session_id, session_facts)
        for session_id, session_facts in sessions.items()
    ]
    attempts.sort(key=lambda a: a.attempt_id)
    judged = {a.session_id for a in attempts if a.launch_mode not in _NON_JUDGED_MODES}
    completion = _completion(tenant_id, key, ordered, judged)
    return attempts, completion


def _effective(fact: Fact, judged: bool) -> Outcome | None:
    if not judged and fact.outcome in _SATISFACTION:
        return Outcome.PROGRESSED
    return fact.outcome


def _launch_mode(facts: list[Fact]) -> str | None:
    for fact in facts:
        if fact.outcome is Outcome.LAUNCHED and fact.launch_mode is not None:
            return fact.launch_mode
    return None


def _attempt(tenant_id: int, key: GroupKey, session_id: str | None, facts: list[Fact]) -> Attempt:
    launch_mode = _launch_mode(facts)
    judged = launch_mode not in _NON_JUDGED_MODES
    first: dict[str, str] = {}
    first_at: dict[Outcome, dt.datetime] = {}
    at: dict[str, dt.datetime] = {}
    judgement: Fact | None = None
    ends: list[Fact] = []
    best: Fact | None = None
    last_scored: Fact | None = None
    durations: list[float] = []
    move_on = None
    for fact in facts:
        outcome = _effective(fact, judged)
        if outcome is not None and outcome.value not in first:
            first[outcome.value] = fact.statement_id
            first_at[outcome] = fact.timestamp
            at[fact.statement_id] = fact.timestamp
            if outcome in _ENDS:
                ends.append(fact)
        if outcome in _JUDGEMENTS and (
            judgement is None or _judgement_order(fact) > _judgement_order(judgement)
        ):
            judgement = fact
        if fact.score is not None:
            last_scored = fact
            if best is None or _score_rank(fact.score) >= _score_rank(best.score):
                best = fact
        if fact.duration is not None:
            durations.append(fact.duration)
        if fact.outcome is Outcome.LAUNCHED and fact.move_on is not None:
            move_on = fact.move_on
    outcome_statements = dict(first)
    success: bool | None = None
    if Outcome.WAIVED in first_at:
        # cmi5 §9.5.2, §9.5.3: a waived AU counts as successful and complete; the LMS
        # issues nothing but satisfied in a waived session (§9.3.7).
        success = True
        outcome_statements["success"] = first[Outcome.WAIVED.value]
    elif judgement is not None:
        success = judgement.outcome is Outcome.PASSED
        outcome_statements["success"] = judgement.statement_id
        at[judgement.statement_id] = judgement.timestamp
    if last_scored is not None:
        outcome_statements["score"] = last_scored.statement_id
    # cmi5 §9.3.8: terminated ends the session; §9.3.6: abandoned is issued only for an
    # active one and nothing may follow it. So whichever came first says how it ended.
    end = min(ends, key=_end_order, default=None)
    active = any(_effective(f, judged) is not Outcome.LAUNCHED for f in facts)
    status = _status(set(first_at), success, end=end.outcome if end else None, active=active)
    if status == "completed" and "completed" not in outcome_statements:
        outcome_statements["completed"] = first[Outcome.SATISFIED.value]
    # cmi5 §9.3.2: initialized "MUST follow" launched, so on one timestamp launched started.
    starter = min(
        (f for f in facts if f.outcome in (Outcome.LAUNCHED, Outcome.INITIALIZED)),
        key=lambda f: (f.timestamp, f.outcome is not Outcome.LAUNCHED, f.statement_id),
        default=facts[0],
    )
    outcome_statements["started"] = starter.statement_id
    finisher = finishing_statement(status, outcome_statements)
    if durations:
        duration = max(durations) if session_id is not None else math.fsum(durations)
    else:
        duration = None
    return Attempt(
        tenant_id=tenant_id,
        attempt_id=attempt_id_for(tenant_id, key, session_id),
        learner=key.learner,
        activity_id=key.activity_id,
        registration=key.registration,
        session_id=session_id,
        status=status,
        completion=True if _COMPLETING & set(first_at) else None,
        success=success,
        launch_mode=launch_mode,
        move_on=move_on,
        started_at=starter.timestamp,
        last_activity_at=facts[-1].timestamp,
        ended_at=end.timestamp if end else None,
        finished_at=at[finisher] if finisher else None,
        best_score=best.score if best else None,
        last_score=last_scored.score if last_scored else None,
        duration_seconds=duration,
        statement_count=len(facts),
        outcome_statements=outcome_statements,
        parents=tuple(sorted({p for fact in facts for p in fact.parents})),
    )


def _score_rank(score: Score) -> tuple[int, float]:
    # Any scaled score outranks a raw-only one: scaled is comparable across statements,
    # raw only within one scale.
    if score.scaled is not None:
        return (2, score.scaled)
    if score.raw is not None:
        return (1, score.raw)
    return (0, 0.0)


def _judgement_order(fact: Fact) -> tuple[dt.datetime, bool, str]:
    # cmi5 §9.3: "A "failed" statement MUST NOT follow a "passed" statement", so of a
    # passed and a failed with one timestamp (§9.7 allows it) the passed is the later.
    return (fact.timestamp, fact.outcome is Outcome.PASSED, fact.statement_id)


def _end_order(fact: Fact) -> tuple[dt.datetime, bool, str]:
    # With one timestamp, terminated (the AU's own end, §9.3.8) ended the session first.
    return (fact.timestamp, fact.outcome is not Outcome.TERMINATED, fact.statement_id)


def _status(
    outcomes: set[Outcome], success: bool | None, *, end: Outcome | None, active: bool
) -> str:
    """``end``: the outcome (terminated or abandoned) that ended the session first;
    ``active``: some statement other than ``launched`` was recorded (mapped or not)."""
    if Outcome.WAIVED in outcomes:
        return "waived"
    if success is True:
        return "passed"
    if success is False:
        return "failed"
    if Outcome.COMPLETED in outcomes or Outcome.SATISFIED in outcomes:
        return "completed"
    if end is not None:
        return end.value
    if active:
        return STATUS_IN_PROGRESS
    return STATUS_LAUNCHED


_BASIS_BY_MOVE_ON = {
    "Completed": "completed",
    "Passed": "passed",
    "CompletedAndPassed": "completed_and_passed",
    "CompletedOrPassed": "completed_or_passed",
    "NotApplicable": "not_applicable",
}


def _completion(
    tenant_id: int, key: GroupKey, facts: list[Fact], judged: set[str | None]
) -> Completion | None:
    firsts: dict[Outcome, Fact] = {}
    move_on = None
    for fact in facts:
        outcome = fact.outcome
        if outcome in _SATISFACTION and fact.session_id not in judged:
            continue
        if outcome is not None:
            firsts.setdefault(outcome, fact)
        if outcome is Outcome.LAUNCHED and fact.move_on is not None:
            move_on = fact.move_on  # the latest launch's moveOn applies
    completed, passed = firsts.get(Outcome.COMPLETED), firsts.get(Outcome.PASSED)
    candidates: list[tuple[Fact, str]] = []
    rule = _BASIS_BY_MOVE_ON.get(move_on) if move_on is not None else None
    if rule == "completed" and completed:
        candidates.append((completed, rule))
    elif rule == "passed" and passed:
        candidates.append((passed, rule))
    elif rule == "completed_and_passed" and completed and passed:
        candidates.append((max(completed, passed, key=lambda f: f.order), rule))
    elif rule == "completed_or_passed" and (completed or passed):
        either = [f for f in (completed, passed) if f]
        candidates.append((min(either, key=lambda f: f.order), rule))
    elif rule == "not_applicable":
        candidates.append((facts[0], rule))
    elif rule is None:
        candidates.extend(
            (f, basis) for f, basis in ((completed, "completed"), (passed, "passed")) if f
        )
    for outcome, basis in ((Outcome.WAIVED, "waived"), (Outcome.SATISFIED, "satisfied")):
        if outcome in firsts:
            candidates.append((firsts[outcome], basis))
    if not candidates:
        return None
    fact, basis = min(candidates, key=lambda c: c[0].order)
    return Completion(
        tenant_id=tenant_id,
        completion_id=completion_id_for(tenant_id, key),
        learner=key.learner,
        activity_id=key.activity_id,
        registration=key.registration,
        satisfied_at=fact.timestamp,
        basis=basis,
        move_on=move_on,
        score=fact.score,
        statement_id=fact.statement_id,
        attempt_id=attempt_id_for(tenant_id, key, fact.session_id),
        parents=tuple(sorted({p for f in facts for p in f.parents})),
    )
