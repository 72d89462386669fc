"""Realistic cmi5 xAPI statements for the benchmarks.

A seeded, endless source of xAPI 1.0.3 statements (also valid under 2.0) shaped like what a
cmi5 LMS and its assignable units (AUs) write to an LRS:

- a population of learners (Agents identified by an LMS ``account``), each enrolled in one
  to three courses at a time; every enrolment has its own ``registration`` (cmi5 §9.6.1) and
  its own clock, so the cmi5 ordering rules that span a registration hold by timestamp;
- ``activities`` AUs split into ``courses`` courses; in a course, a knowledge check follows
  every three lessons and a final assessment comes last. Lessons have ``moveOn`` Completed,
  assessments ``moveOn`` Passed and a ``masteryScore``;
- sessions (cmi5 §9.3): ``launched`` (LMS), ``initialized``, zero to four ``progressed``
  ("cmi5 allowed", so without the cmi5 category, §7.1.3), then ``completed`` for a lesson or
  ``passed``/``failed`` for an assessment, then ``terminated``; about one session in
  fourteen ends with an LMS ``abandoned`` instead. A session the learner leaves early has no
  outcome. Revisiting an AU already satisfied is a ``Review`` launch (§10.2.2): initialized
  and terminated only. When the last AU of a course is satisfied, the LMS adds a course
  ``satisfied`` statement (§9.3.9) with the session's id. About one AU in a hundred is
  ``waived`` by the LMS instead, in a session of its own (§9.3.7).

Invariants (tested): a seed and the constructor arguments determine the output (``end``
included; its default is midnight UTC today); timestamps increase within a session, lie in
the 90 days before ``end`` and never go back within a registration; per registration and
AU at most one ``completed`` and one ``passed``, and no ``failed`` after ``passed``;
``scaled == raw / max`` with ``min = 0``, ``max = 100``, and ``passed`` exactly when
``scaled >= masteryScore``. Every statement is a fresh tree of dicts, so a consumer may
mutate it.

``sessions()``, ``statements()`` and ``stream()`` draw from one state: each continues where
the previous call stopped, and a session cut by ``statements(n)`` goes on in the next call.

Usage::

    python bench/generator.py --count 5 --seed 1      # JSON lines on stdout
    python bench/generator.py --count 1000000 --stats # statements/s and average size
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

LMS_HOME = "https://lms.example.org"
COURSES_BASE = "https://courses.example.org"
CONTENT_BASE = "https://content.example.org"
PUBLISHER_BASE = "https://publisher.example.com"

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
CMI5_VERBS = "https://w3id.org/xapi/adl/verbs/"
VERBS = {
    "launched": ADL_VERBS + "launched",
    "initialized": ADL_VERBS + "initialized",
    "progressed": ADL_VERBS + "progressed",
    "completed": ADL_VERBS + "completed",
    "passed": ADL_VERBS + "passed",
    "failed": ADL_VERBS + "failed",
    "terminated": ADL_VERBS + "terminated",
    "abandoned": CMI5_VERBS + "abandoned",
    "waived": CMI5_VERBS + "waived",
    "satisfied": CMI5_VERBS + "satisfied",
}

CATEGORY_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CATEGORY_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
EXT_MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
EXT_LAUNCH_MODE = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
EXT_LAUNCH_URL = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
EXT_MOVEON = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
EXT_LAUNCH_PARAMETERS = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"
EXT_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
EXT_REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
# Platform extensions: the learner's client on every statement, and the learner's
# organisational unit on those the LMS writes itself.
EXT_CLIENT = LMS_HOME + "/xapi/client"
EXT_ORG_UNIT = LMS_HOME + "/xapi/org-unit"
# Activity definition extension: the AU's code in the course catalogue.
EXT_CATALOG_CODE = COURSES_BASE + "/xapi/catalog-code"

LMS_VERBS = frozenset(("launched", "abandoned", "waived", "satisfied"))

TYPE_LESSON = "http://adlnet.gov/expapi/activities/lesson"
TYPE_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
TYPE_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"

WINDOW_MS = 90 * 86_400_000
DAY_MS = 86_400_000
WAIVE_REASONS = ("Tested Out", "Equivalent AU", "Equivalent Outside Activity", "Administrative")

# RFC 4122 version 4 and variant bits, as uuid.UUID(..., version=4) sets them.
_UUID4_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)

# Pieces of a timestamp's time of day: "hh:mm:", "ss.", "mmmZ".
_HOURS_MINUTES = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(24 * 60)]
_SECONDS = [f"{s:02d}." for s in range(60)]
_MILLISECONDS = [f"{ms:03d}Z" for ms in range(1000)]

# AU satisfaction flags, per registration (cmi5 §9.3 ordering rules within a registration).
COMPLETED, PASSED, WAIVED = 1, 2, 4

TOPICS = (
    ("workplace-safety", "Workplace Safety", "Sécurité au travail", "Arbeitssicherheit"),
    ("data-privacy", "Data Privacy", "Protection des données", "Datenschutz"),
    ("information-security", "Information Security", "Sécurité de l'information", "IT-Sicherheit"),
    (
        "anti-bribery",
        "Anti-Bribery and Corruption",
        "Lutte contre la corruption",
        "Korruptionsprävention",
    ),
    (
        "customer-service",
        "Customer Service Excellence",
        "Excellence du service client",
        "Exzellenter Kundenservice",
    ),
    (
        "project-management",
        "Project Management Basics",
        "Bases de la gestion de projet",
        "Grundlagen des Projektmanagements",
    ),
    ("leadership", "Leading Teams", "Diriger une équipe", "Teams führen"),
    ("first-aid", "First Aid at Work", "Premiers secours au travail", "Erste Hilfe im Betrieb"),
    ("fire-safety", "Fire Safety", "Sécurité incendie", "Brandschutz"),
    (
        "diversity-inclusion",
        "Diversity and Inclusion",
        "Diversité et inclusion",
        "Vielfalt und Inklusion",
    ),
    ("negotiation", "Negotiation Skills", "Techniques de négociation", "Verhandlungsführung"),
    ("financial-literacy", "Financial Literacy", "Culture financière", "Finanzwissen"),
    ("agile-delivery", "Agile Delivery", "Livraison agile", "Agile Umsetzung"),
    ("cloud-fundamentals", "Cloud Fundamentals", "Fondamentaux du cloud", "Cloud-Grundlagen"),
    (
        "sales-essentials",
        "Sales Essentials",
        "Les essentiels de la vente",
        "Grundlagen des Vertriebs",
    ),
    ("export-control", "Export Control", "Contrôle des exportations", "Exportkontrolle"),
    (
        "hazardous-materials",
        "Hazardous Materials Handling",
        "Manipulation des matières dangereuses",
        "Umgang mit Gefahrstoffen",
    ),
    ("code-of-conduct", "Code of Conduct", "Code de conduite", "Verhaltenskodex"),
    ("time-management", "Time Management", "Gestion du temps", "Zeitmanagement"),
    (
        "accessibility",
        "Digital Accessibility",
        "Accessibilité numérique",
        "Digitale Barrierefreiheit",
    ),
)
LESSON_TITLES = (
    ("Introduction", "Introduction", "Einführung"),
    ("Core Concepts", "Concepts clés", "Grundbegriffe"),
    ("Roles and Responsibilities", "Rôles et responsabilités", "Rollen und Verantwortlichkeiten"),
    ("Policies and Procedures", "Politiques et procédures", "Richtlinien und Verfahren"),
    ("Case Studies", "Études de cas", "Fallstudien"),
    ("Practice Scenarios", "Mises en situation", "Praxisszenarien"),
    ("Tools and Resources", "Outils et ressources", "Werkzeuge und Ressourcen"),
    ("Common Mistakes", "Erreurs fréquentes", "Häufige Fehler"),
    ("Reporting and Escalation", "Signalement et escalade", "Meldung und Eskalation"),
    ("Summary", "Synthèse", "Zusammenfassung"),
)
ASSESSMENT_TITLES = (
    ("Knowledge Check", "Contrôle des connaissances", "Wissenstest"),
    ("Final Assessment", "Évaluation finale", "Abschlussprüfung"),
)
LESSON_DESCRIPTIONS = (
    "Videos and worked examples; {minutes} min.",
    "Vidéos et exemples commentés ; {minutes} min.",
    "Videos und Beispiele; {minutes} Min.",
)
ASSESSMENT_DESCRIPTIONS = (
    "{questions} questions; pass mark {mastery} %.",
    "{questions} questions ; seuil de réussite {mastery} %.",
    "{questions} Fragen; Bestehensgrenze {mastery} %.",
)
LANGUAGES = ("en-US", "fr-FR", "de-DE")

_FIRST_NAMES = (
    "Amelia Noah Olivia Liam Emma Lucas Sofia Mateo Mia Leon Chloé Hugo Hannah Felix Aisha "
    "Omar Yuki Kenji Priya Arjun Fatima Youssef Elena Marco Ingrid Lars Zoe Ethan Léa Jonas "
    "Grace Daniel Nina Tomás Sara Ali Maya Samuel Clara Viktor"
)
FIRST_NAMES = tuple(_FIRST_NAMES.split())
_LAST_NAMES = (
    "Novak Smith Garcia Müller Dubois Rossi Kowalski Nguyen Tanaka Patel Khan Haddad Silva "
    "Jensen Andersson O'Brien Schmidt Martin Lefèvre Costa Ivanova Kim Chen Okafor Mensah "
    "Fischer Bernard Romano Hernández Lindqvist Yilmaz Sato Wright Moreau Weber Reyes"
)
LAST_NAMES = tuple(_LAST_NAMES.split())
_ORG_UNITS = (
    "sales-emea sales-amer operations engineering finance hr legal customer-support "
    "manufacturing logistics marketing research"
)
ORG_UNITS = tuple(_ORG_UNITS.split())
CLIENTS = (
    "lms-web/{} (Windows 11; Edge 124)",
    "lms-web/{} (Windows 10; Chrome 124)",
    "lms-web/{} (macOS 14; Safari 17)",
    "lms-web/{} (Ubuntu 22.04; Firefox 125)",
    "lms-mobile/{} (iOS 17; iPhone)",
    "lms-mobile/{} (Android 14; phone)",
    "lms-mobile/{} (iPadOS 17; iPad)",
)
APP_VERSIONS = ("5.14.2", "5.15.0", "5.15.1")


@dataclass(slots=True)
class _Course:
    index: int
    iri: str
    publisher_iri: str
    title: str
    aus: list[_AU] = field(default_factory=list)


@dataclass(slots=True)
class _AU:
    iri: str
    publisher_iri: str
    course: _Course
    is_assessment: bool
    move_on: str
    mastery: float | None
    launch_url: str
    launch_parameters: str | None
    type: str
    name: dict[str, str]
    description: dict[str, str]
    catalog_code: str
    object_type: bool  # whether its statements spell out the optional "objectType"


@dataclass(slots=True)
class _Learner:
    name: str
    account: str
    client: str
    org_unit: str
    enrolments: list[_Enrolment] = field(default_factory=list)


@dataclass(slots=True)
class _Enrolment:
    learner: _Learner
    course: _Course
    registration: str
    clock: int  # ms since the epoch: no session of this registration starts before it
    state: bytearray  # COMPLETED | PASSED | WAIVED per AU of the course
    satisfied: int = 0  # how many AUs of the course meet their moveOn


class StatementGenerator:
    """Deterministic, endless cmi5 statements; see the module docstring for the shape.

    All randomness comes from one ``random.Random(seed)``, so equal arguments give equal
    output. ``end`` (an aware datetime, default midnight UTC today) closes the 90-day window
    the timestamps fall in.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        learners: int = 5000,
        activities: int = 200,
        courses: int = 20,
        end: datetime | None = None,
    ) -> None:
        if learners < 1 or courses < 1 or activities < courses:
            raise ValueError("need learners >= 1, courses >= 1 and activities >= courses")
        if end is None:
            end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if end.tzinfo is None:
            raise ValueError("end must be timezone-aware")
        self._rng = random.Random(seed)
        self._end = int(end.timestamp() * 1000)
        self._start = self._end - WINDOW_MS
        self._days: dict[int, str] = {}
        self._pending: deque[dict] = deque()
        self._courses = self._build_courses(courses, activities)
        self._learners = self._build_learners(learners)

    # -- public API --------------------------------------------------------------------------

    def sessions(self) -> Iterator[list[dict]]:
        """Endless: one session's statements at a time, in timestamp order."""
        while True:
            if self._pending:
                rest = list(self._pending)
                self._pending.clear()
                yield rest
            else:
                yield self._session()

    def statements(self, count: int) -> list[dict]:
        """Exactly ``count`` statements, sessions kept in order (the last one may be cut).

        The cyclic garbage collector is paused while the list is built: the statements
        hold no cycles, and at a million statements its repeated passes over the growing
        list would otherwise take most of the time.
        """
        out = list(self._pending)
        self._pending.clear()
        collecting = gc.isenabled()
        gc.disable()
        try:
            while len(out) < count:
                out.extend(self._session())
        finally:
            if collecting:
                gc.enable()
        if len(out) > count:
            self._pending.extend(out[count:])
            del out[count:]
        return out

    def stream(self) -> Iterator[dict]:
        """Endless flat stream of statements, sessions in order."""
        pending = self._pending
        while True:
            if not pending:
                pending.extend(self._session())
            yield pending.popleft()

    # -- population --------------------------------------------------------------------------

    def _build_courses(self, n_courses: int, n_activities: int) -> list[_Course]:
        rng = self._rng
        courses = []
        per_course, extra = divmod(n_activities, n_courses)
        for c in range(n_courses):
            slug, *topic = TOPICS[c % len(TOPICS)]
            edition = c // len(TOPICS)
            if edition:
                slug = f"{slug}-{edition + 1}"
                topic = [f"{t} {edition + 1}" for t in topic]
            code = f"{slug[:3].upper()}-{101 + c}"
            course = _Course(
                index=c,
                iri=f"{COURSES_BASE}/{slug}",
                publisher_iri=f"{PUBLISHER_BASE}/{code.lower()}",
                title=topic[0],
            )
            size = per_course + (1 if c < extra else 0)
            for j in range(size):
                # A knowledge check after every third lesson, a final assessment last.
                is_assessment = j == size - 1 or (j + 1) % 4 == 0
                # Every AU in en-US; some also in French and/or German.
                langs = [0] + [k for k, p in ((1, 0.15), (2, 0.1)) if rng.random() < p]
                minutes = rng.randrange(8, 46)
                if is_assessment:
                    titles = ASSESSMENT_TITLES[1 if j == size - 1 else 0]
                    mastery = rng.choice((0.7, 0.75, 0.8, 0.85))
                    questions = rng.randrange(10, 31)
                    values = {"questions": questions, "mastery": round(mastery * 100)}
                    templates = ASSESSMENT_DESCRIPTIONS
                    au_slug = (
                        f"module-{j + 1:02d}-{'final-assessment' if j == size - 1 else 'quiz'}"
                    )
                else:
                    titles = LESSON_TITLES[j % len(LESSON_TITLES)]
                    mastery = None
                    values = {}
                    templates = LESSON_DESCRIPTIONS
                    au_slug = f"module-{j + 1:02d}-lesson"
                name, description = {}, {}
                for k in langs:
                    lang = LANGUAGES[k]
                    name[lang] = f"{topic[k]}: {titles[k]}"
                    description[lang] = templates[k].format(minutes=minutes, **values)
                course.aus.append(
                    _AU(
                        iri=f"{course.iri}/{au_slug}",
                        publisher_iri=f"{course.publisher_iri}/au{j + 1:02d}",
                        course=course,
                        is_assessment=is_assessment,
                        move_on="Passed" if is_assessment else "Completed",
                        mastery=mastery,
                        launch_url=f"{CONTENT_BASE}/{slug}/v{1 + rng.randrange(4)}/{au_slug}/"
                        "index.html",
                        launch_parameters=(
                            '{"theme":"corporate","captions":true}' if rng.random() < 0.15 else None
                        ),
                        type=TYPE_ASSESSMENT if is_assessment else TYPE_LESSON,
                        name=name,
                        description=description,
                        # Content tools differ on the optional objectType; the LMS always
                        # writes it.
                        object_type=rng.random() < 0.5,
                        catalog_code=f"{code}-{j + 1:02d}",
                    )
                )
            courses.append(course)
        return courses

    def _build_learners(self, n: int) -> list[_Learner]:
        rng = self._rng
        learners = []
        for i in range(n):
            client = rng.choice(CLIENTS).format(rng.choice(APP_VERSIONS))
            learner = _Learner(
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                account=f"learner-{i + 1:06d}",
                client=client,
                org_unit=rng.choice(ORG_UNITS),
            )
            for _ in range(min(len(self._courses), rng.choice((1, 1, 2, 2, 2, 3)))):
                learner.enrolments.append(self._enrol(learner))
            learners.append(learner)
        return learners

    def _enrol(self, learner: _Learner) -> _Enrolment:
        """A new registration of ``learner`` in a course it is not currently taking."""
        rng = self._rng
        taken = {e.course.index for e in learner.enrolments}
        while True:
            course = rng.choice(self._courses)
            if course.index not in taken or len(taken) >= len(self._courses):
                break
        # Start early enough for at least one session to end before ``end``.
        clock = self._start + rng.randrange(WINDOW_MS - DAY_MS)
        return _Enrolment(learner, course, self._uuid(), clock, bytearray(len(course.aus)))

    # -- sessions ----------------------------------------------------------------------------

    def _uuid(self) -> str:
        return _uuid4(self._rng.getrandbits(128))

    def _between(self, lo: int, hi: int) -> int:
        """A uniform integer in ``[lo, hi)``, like ``randrange`` at a fraction of its cost."""
        return lo + int(self._rng.random() * (hi - lo))

    def _timestamp(self, ms: int) -> str:
        """``ms`` since the epoch as ``2026-03-01T09:05:02.042Z``, from lookup tables (a
        third of the cost of formatting it)."""
        day, ms = divmod(ms, DAY_MS)
        prefix = self._days.get(day)
        if prefix is None:
            date = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)
            prefix = self._days[day] = date.strftime("%Y-%m-%dT")
        s, milli = divmod(ms, 1000)
        m, s = divmod(s, 60)
        return prefix + _HOURS_MINUTES[m] + _SECONDS[s] + _MILLISECONDS[milli]

    def _session(self) -> list[dict]:
        rng = self._rng
        n = len(self._learners)
        # Mildly skewed: some learners are far more active than others.
        learner = self._learners[int(n * rng.random() ** 1.5)]
        slot = self._between(0, len(learner.enrolments))
        enrolment = learner.enrolments[slot]
        if enrolment.clock > self._end - DAY_MS:
            # This registration ran out of window (the learner stopped); take up another.
            enrolment = learner.enrolments[slot] = self._enrol(learner)
        aus = enrolment.course.aus
        # Mostly the next AU in course order, often another open one, sometimes any AU
        # (a satisfied one is revisited in Review mode).
        state = enrolment.state
        r = rng.random()
        if r < 0.5:
            index = state.find(0)
        elif r < 0.9:
            index = state.find(0, self._between(0, len(aus)))
            if index < 0:
                index = state.find(0)
        else:
            index = self._between(0, len(aus))
        au = aus[index]
        if not self._satisfied(au, enrolment.state[index]) and rng.random() < 0.01:
            out = self._waived_session(enrolment, index)
        else:
            out = self._launch_session(enrolment, index)
        if enrolment.satisfied == len(aus):
            # Course done: the learner enrols in another one.
            learner.enrolments[slot] = self._enrol(learner)
        return out

    @staticmethod
    def _satisfied(au: _AU, flags: int) -> bool:
        return bool(flags & (WAIVED | (PASSED if au.is_assessment else COMPLETED)))

    def _launch_session(self, enrolment: _Enrolment, index: int) -> list[dict]:
        rng = self._rng
        au = enrolment.course.aus[index]
        review = self._satisfied(au, enrolment.state[index])
        session = self._uuid()
        t = enrolment.clock
        launched_at = t
        out = [self._launched(enrolment, au, session, t, "Review" if review else "Normal")]
        t += self._between(800, 9000)
        initialized_at = t
        out.append(self._statement(enrolment, au, session, "initialized", t))
        abandoned = rng.random() < 0.07
        if not review:
            finishes = rng.random() < (0.3 if abandoned else 0.85)
            progress = sorted(rng.sample(range(5, 96, 5), rng.randrange(5)))
            for value in progress:
                t += self._between(60_000, 600_000)
                result = {"extensions": {EXT_PROGRESS: value}}
                out.append(self._statement(enrolment, au, session, "progressed", t, result=result))
            if finishes:
                t += self._between(60_000, 600_000)
                self._outcome(out, enrolment, index, session, initialized_at, t)
        # ``t`` is now the time of the AU's last statement (an LMS satisfied comes < 2 s later).
        if abandoned:
            # The LMS abandons the session when the learner next launches or it times out;
            # the duration runs from launch to the AU's last statement (§9.5.4.2).
            result = {"duration": _duration(t - launched_at)}
            t += self._between(600_000, 6 * 3_600_000)
            out.append(self._statement(enrolment, au, session, "abandoned", t, result=result))
        else:
            t += self._between(30_000, 900_000) if review else self._between(2_000, 60_000)
            result = {"duration": _duration(t - initialized_at)}
            out.append(self._statement(enrolment, au, session, "terminated", t, result=result))
        enrolment.clock = t + 600_000 + int(rng.expovariate(1 / (30 * 3_600_000)))
        return out

    def _outcome(
        self,
        out: list[dict],
        enrolment: _Enrolment,
        index: int,
        session: str,
        initialized_at: int,
        t: int,
    ) -> None:
        """Append completed, or passed/failed, at ``t`` to ``out``, and the LMS's course
        satisfied within 2 s if that satisfied the course's last AU."""
        rng = self._rng
        au = enrolment.course.aus[index]
        duration = _duration(t - initialized_at)
        if au.is_assessment:
            # Mean 83 %, about seven attempts in ten pass.
            raw = round(100 * rng.betavariate(9, 1.8))
            scaled = raw / 100
            passed = scaled >= au.mastery
            result = {
                "score": {"scaled": scaled, "raw": raw, "min": 0, "max": 100},
                "success": passed,
                "duration": duration,
            }
            verb = "passed" if passed else "failed"
            flag = PASSED if passed else 0
        else:
            result = {"completion": True, "duration": duration}
            verb = "completed"
            flag = COMPLETED
        out.append(self._statement(enrolment, au, session, verb, t, result=result))
        if flag:
            enrolment.state[index] |= flag
            enrolment.satisfied += 1
            if enrolment.satisfied == len(enrolment.course.aus):
                t += self._between(150, 2_000)
                out.append(self._course_satisfied(enrolment, session, t))

    def _waived_session(self, enrolment: _Enrolment, index: int) -> list[dict]:
        """The LMS waives an AU under a session id of its own (cmi5 §9.3.7)."""
        rng = self._rng
        au = enrolment.course.aus[index]
        session = self._uuid()
        t = enrolment.clock
        result = {
            "success": True,
            "completion": True,
            "extensions": {EXT_REASON: rng.choice(WAIVE_REASONS)},
        }
        out = [self._statement(enrolment, au, session, "waived", t, result=result)]
        enrolment.state[index] |= WAIVED
        enrolment.satisfied += 1
        if enrolment.satisfied == len(enrolment.course.aus):
            t += self._between(150, 2_000)
            out.append(self._course_satisfied(enrolment, session, t))
        enrolment.clock = t + 600_000 + int(rng.expovariate(1 / (30 * 3_600_000)))
        return out

    # -- statements --------------------------------------------------------------------------

    def _statement(
        self,
        enrolment: _Enrolment,
        au: _AU,
        session: str,
        verb: str,
        ms: int,
        *,
        result: dict | None = None,
        extensions: dict | None = None,
    ) -> dict:
        """One statement about ``au`` in the context template of its session.

        ``progressed`` is "cmi5 allowed", so it carries no cmi5 category (§7.1.3).
        Statements whose result has ``success`` or ``completion`` carry the moveOn category
        (§9.6.2.2); passed and failed carry the masteryScore they were judged by (§9.6.3.2).
        The LMS's own statements always spell out ``objectType`` and add the org unit.
        """
        learner = enrolment.learner
        course = au.course
        by_lms = verb in LMS_VERBS
        context_extensions = {EXT_SESSION: session, EXT_CLIENT: learner.client}
        if by_lms:
            context_extensions[EXT_ORG_UNIT] = learner.org_unit
        if extensions:
            context_extensions.update(extensions)
        context_activities: dict[str, list[dict]] = {
            "parent": [{"id": course.iri}],
            "grouping": [{"id": course.publisher_iri}, {"id": au.publisher_iri}],
        }
        if verb != "progressed":
            category = [{"id": CATEGORY_CMI5}]
            if result is not None and ("success" in result or "completion" in result):
                category.append({"id": CATEGORY_MOVEON})
                if au.mastery is not None and "score" in result:
                    context_extensions[EXT_MASTERY] = au.mastery
            context_activities["category"] = category
        statement = {
            "id": self._uuid(),
            "timestamp": self._timestamp(ms),
            "actor": {
                "objectType": "Agent",
                "name": learner.name,
                "account": {"homePage": LMS_HOME, "name": learner.account},
            },
            "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
            "object": {
                "id": au.iri,
                "definition": {
                    "name": {**au.name},
                    "description": {**au.description},
                    "type": au.type,
                    "extensions": {EXT_CATALOG_CODE: au.catalog_code},
                },
            },
            "context": {
                "registration": enrolment.registration,
                "contextActivities": context_activities,
                "extensions": context_extensions,
            },
        }
        if au.object_type or by_lms:
            statement["object"]["objectType"] = "Activity"
        if result is not None:
            statement["result"] = result
        return statement

    def _launched(self, enrolment: _Enrolment, au: _AU, session: str, ms: int, mode: str) -> dict:
        """The LMS's launched statement with the launch data it must report (§9.6.3)."""
        extensions: dict[str, object] = {
            EXT_LAUNCH_MODE: mode,
            EXT_LAUNCH_URL: au.launch_url,
            EXT_MOVEON: au.move_on,
        }
        if au.mastery is not None:
            extensions[EXT_MASTERY] = au.mastery
        if au.launch_parameters is not None:
            extensions[EXT_LAUNCH_PARAMETERS] = au.launch_parameters
        return self._statement(enrolment, au, session, "launched", ms, extensions=extensions)

    def _course_satisfied(self, enrolment: _Enrolment, session: str, ms: int) -> dict:
        """The LMS's satisfied statement about the course (§9.3.9, §9.4)."""
        course = enrolment.course
        learner = enrolment.learner
        return {
            "id": self._uuid(),
            "timestamp": self._timestamp(ms),
            "actor": {
                "objectType": "Agent",
                "name": learner.name,
                "account": {"homePage": LMS_HOME, "name": learner.account},
            },
            "verb": {"id": VERBS["satisfied"], "display": {"en-US": "satisfied"}},
            "object": {
                "objectType": "Activity",
                "id": course.iri,
                "definition": {"name": {"en-US": course.title}, "type": TYPE_COURSE},
            },
            "context": {
                "registration": enrolment.registration,
                "contextActivities": {
                    "grouping": [{"id": course.publisher_iri}],
                    "category": [{"id": CATEGORY_CMI5}],
                },
                "extensions": {
                    EXT_SESSION: session,
                    EXT_CLIENT: learner.client,
                    EXT_ORG_UNIT: learner.org_unit,
                },
            },
        }


def _uuid4(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` formatted directly, at half the cost."""
    h = f"{bits & _UUID4_MASK | _UUID4_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _duration(ms: int) -> str:
    """ISO 8601 duration to 0.01 s (xAPI Data §4.6), e.g. ``PT12M31.5S``."""
    cs = ms // 10
    h, cs = divmod(cs, 360_000)
    m, cs = divmod(cs, 6000)
    s, frac = divmod(cs, 100)
    seconds = f"{s}.{frac:02d}".rstrip("0") if frac else str(s)
    if h:
        return f"PT{h}H{m}M{seconds}S"
    if m:
        return f"PT{m}M{seconds}S"
    return f"PT{seconds}S"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--activities", type=int, default=200)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument(
        "--end",
        type=datetime.fromisoformat,
        default=None,
        help="aware ISO 8601 end of the 90-day window (default: midnight UTC)",
    )
    parser.add_argument(
        "--stats",
        action="store_true",
        help="print the generation rate and average size instead of statements",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generator = StatementGenerator(
        seed=args.seed,
        learners=args.learners,
        activities=args.activities,
        courses=args.courses,
        end=args.end,
    )
    if args.stats:
        setup = time.perf_counter() - started
        started = time.perf_counter()
        statements = generator.statements(args.count)
        elapsed = time.perf_counter() - started
        sample = statements[:10_000]
        size = sum(len(orjson.dumps(s)) for s in sample) / max(1, len(sample))
        print(f"set-up: {setup * 1000:.0f} ms")
        print(
            f"{len(statements)} statements in {elapsed:.2f} s: "
            f"{len(statements) / elapsed:,.0f} statements/s"
        )
        print(f"average size over {len(sample)}: {size:.0f} bytes")
        return 0
    write = sys.stdout.buffer.write
    try:
        for statement in generator.statements(args.count):
            write(orjson.dumps(statement) + b"\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
