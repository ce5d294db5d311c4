"""How learners fare on one exercise: pass rate, scores, attempts, and what their apps get wrong.

Read for the course's staff, so hidden tests are named and their messages shown. Everything is
computed from one pass over the exercise's graded submissions (and those the learner's app made
"not gradable"), read in a fixed number of queries whatever the size of the class; the
course's own staff are left out, their tries are not the class's.

Failures are grouped by the shape of their message: numbers, ids, quoted values and addresses
become placeholders (message_shape), so "POST /notes: expected status 201, got 500" from forty
learners is one line with forty learners, not forty lines.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.shortcuts import get_object_or_404

from courses.models import Course, CourseStaff, Enrollment
from exercises.faults import engine_fault
from exercises.models import GRADABLE, Exercise, Submission, Verdict
from sandbox.results import NOT_PASSED

MAX_SHAPE_CHARS = 160
SHAPES_SHOWN = 15

# Score bands of the distribution: (label, lowest percent, highest percent), both included.
BANDS = (
    ("0%", 0, 0),
    ("1-24%", 1, 24),
    ("25-49%", 25, 49),
    ("50-74%", 50, 74),
    ("75-99%", 75, 99),
    ("100%", 100, 100),
)
# The chart, in SVG units: a row for the counts, the bars' area, a row for the bands' labels.
CHART_WIDTH, CHART_TOP, CHART_HEIGHT, CHART_LABELS, CHART_GAP = 360, 18, 140, 22, 12


@dataclass(frozen=True)
class Bar:
    """A band of the score distribution, with its place in the chart."""

    label: str
    learners: int
    percent: float
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + self.width / 2

    @property
    def count_y(self) -> float:
        return self.y - 5


@dataclass(frozen=True)
class TestFailures:
    """How often one test failed."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    hidden: bool
    submissions: int  # graded submissions that ran it
    failed: int  # of those, how many it failed
    learners: int  # learners it failed at least once

    @property
    def rate(self) -> float:
        return 100 * self.failed / self.submissions if self.submissions else 0.0


@dataclass(frozen=True)
class FailureShape:
    """A kind of failure, and how many learners met it."""

    shape: str
    learners: int
    percent: float  # of the learners who submitted
    example: str  # one message of this shape, as it was


@dataclass
class ExerciseAnalytics:
    exercise: Exercise
    course: Course
    roster: int  # learners on the course's roster
    submitters: int  # learners with a graded submission
    passed: int  # of those, learners with a passing one
    submissions: int
    bars: list[Bar]
    tests: list[TestFailures]
    shapes: list[FailureShape]
    median_attempts_to_pass: float | None
    median_time_to_pass: timedelta | None

    @property
    def pass_rate(self) -> float:
        return 100 * self.passed / self.submitters if self.submitters else 0.0

    @property
    def time_to_pass_text(self) -> str:
        return duration_text(self.median_time_to_pass)

    @property
    def chart(self) -> dict[str, int]:
        """Return the chart's size: the bars' area, and below it a row for their labels."""
        return {
            "width": CHART_WIDTH,
            "height": CHART_TOP + CHART_HEIGHT + CHART_LABELS,
            "baseline": CHART_TOP + CHART_HEIGHT,
            "label_y": CHART_TOP + CHART_HEIGHT + CHART_LABELS - 6,
        }


def exercise_analytics(*, course: Course, slug: str) -> ExerciseAnalytics:
    """Return the analytics of one of a course's exercises (drafts included); 404 if none."""
    exercise = get_object_or_404(Exercise, course=course, slug=slug)
    staff = CourseStaff.objects.filter(course=course).values("user")
    rows = (
        Submission.objects.filter(exercise=exercise)
        .filter(Q(verdict__in=GRADABLE) | Q(verdict=Verdict.ERROR))
        .exclude(learner__in=staff)
        .order_by("created", "pk")
        .values_list(
            "learner_id", "verdict", "score", "max_score", "created", "result__message",
            "result__tests",
        )
    )  # fmt: skip
    roster = Enrollment.objects.filter(course=course).count()

    first_seen: dict[int, object] = {}
    attempts: Counter[int] = Counter()
    best: dict[int, float] = {}
    passed_at: dict[int, tuple[int, timedelta]] = {}
    test_runs: dict[str, list] = {}  # name -> [hidden, submissions, failed, learners]
    shapes: dict[str, set[int]] = defaultdict(set)
    examples: dict[str, str] = {}
    graded = 0
    for learner, verdict, score, max_score, created, message, tests in rows:
        first_seen.setdefault(learner, created)
        if verdict == Verdict.ERROR:
            if engine_fault(message) is None and message:
                _add_shape(shapes, examples, learner, str(message), "")
            continue
        graded += 1
        attempts[learner] += 1
        if score is not None and max_score:
            best[learner] = max(best.get(learner, 0.0), score / max_score)
        if verdict == Verdict.PASSED and learner not in passed_at:
            passed_at[learner] = (attempts[learner], created - first_seen[learner])
        failed_any = False
        for test in tests if isinstance(tests, list) else ():
            if not isinstance(test, dict):
                continue
            name = str(test.get("name") or "test")
            runs = test_runs.setdefault(name, [bool(test.get("hidden")), 0, 0, set()])
            runs[1] += 1
            if test.get("status") in NOT_PASSED:
                failed_any = True
                runs[2] += 1
                runs[3].add(learner)
                text = str(test.get("cause") or test.get("message") or "")
                if text:
                    _add_shape(shapes, examples, learner, text, str(test.get("output") or ""))
        if verdict == Verdict.TIMEOUT and not failed_any and message:
            _add_shape(shapes, examples, learner, str(message), "")

    submitters = len(attempts)
    counted = max(submitters, 1)
    return ExerciseAnalytics(
        exercise=exercise,
        course=course,
        roster=roster,
        submitters=submitters,
        passed=len(passed_at),
        submissions=graded,
        bars=score_bars([best.get(learner, 0.0) for learner in attempts]),
        tests=[
            TestFailures(name, hidden, runs, failed, len(learners))
            for name, (hidden, runs, failed, learners) in test_runs.items()
        ],
        shapes=sorted(
            (
                FailureShape(shape, len(who), 100 * len(who) / counted, examples[shape])
                for shape, who in shapes.items()
            ),
            key=lambda s: (-s.learners, s.shape),
        )[:SHAPES_SHOWN],
        median_attempts_to_pass=_median([n for n, _ in passed_at.values()]),
        median_time_to_pass=_median_time([t for _, t in passed_at.values()]),
    )


def _add_shape(shapes, examples, learner: int, text: str, output: str) -> None:
    shape = message_shape(text, output)
    shapes[shape].add(learner)
    examples.setdefault(shape, text)


def score_bars(fractions: list[float]) -> list[Bar]:
    """Return the score distribution of learners' best scores (0 to 1) as chart bars."""
    counts = [0] * len(BANDS)
    for fraction in fractions:
        percent = round(fraction * 100)
        for i, (_, low, high) in enumerate(BANDS):
            if low <= percent <= high:
                counts[i] += 1
                break
    total, tallest = max(len(fractions), 1), max(counts, default=0) or 1
    width = (CHART_WIDTH - CHART_GAP * (len(BANDS) - 1)) / len(BANDS)
    bars = []
    for i, ((label, _, _), count) in enumerate(zip(BANDS, counts, strict=True)):
        height = CHART_HEIGHT * count / tallest
        bars.append(
            Bar(
                label=label,
                learners=count,
                percent=100 * count / total,
                x=i * (width + CHART_GAP),
                y=CHART_TOP + CHART_HEIGHT - height,
                width=width,
                height=height,
            )
        )
    return bars


# Message shapes ------------------------------------------------------------------------------

_BODY = re.compile(r"\s+Body:\s.*", re.DOTALL)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/'\"]+")
_ADDRESS = re.compile(
    r"\b0x[0-9a-fA-F]+\b"  # memory addresses in reprs
    r"|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"  # IPv4, with a port
    r"|\blocalhost:\d+\b"
)
_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_HEX_ID = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")
_PATH_NUMBER = re.compile(r"(?<=/)\d+\b")
# An HTTP status stays what it is: "expected 201, got 500" is the shape itself.
_NUMBER = re.compile(r"(?<![\w.])(?![1-5]\d\d\b)\d+(?:\.\d+)?\b")
_SPACES = re.compile(r"\s+")
_EXCEPTION = re.compile(r"^\s*((?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Exit))\b", re.M)


def message_shape(message: str, output: str = "") -> str:
    """Return the shape of a failure message: what stays the same from one learner to the next.

    Only the first line counts, without the app's body quoted after "Body:"; URLs and
    addresses become <addr>, UUIDs and long hex ids <id>, quoted values "…", numbers N (but
    an HTTP status, 100 to 599, stays). The last exception named in the app's `output`
    (its traceback) is added: "… — KeyError".
    """
    line = next((ln for ln in message.strip().splitlines() if ln.strip()), "")
    line = _BODY.sub("", line).strip()
    for pattern, placeholder in (
        (_URL, "<addr>"),
        (_ADDRESS, "<addr>"),
        (_UUID, "<id>"),
        (_HEX_ID, "<id>"),
        (_QUOTED, '"…"'),
        (_PATH_NUMBER, "<id>"),
        (_NUMBER, "N"),
    ):
        line = pattern.sub(placeholder, line)
    line = _SPACES.sub(" ", line).rstrip(".")
    exceptions = _EXCEPTION.findall(output)
    if exceptions:
        line = f"{line} — {exceptions[-1]}"
    if len(line) > MAX_SHAPE_CHARS:
        line = line[: MAX_SHAPE_CHARS - 1].rstrip() + "…"
    return line or "(no message)"


def _median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


def _median_time(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def duration_text(span: timedelta | None) -> str:
    """Return a span as people say it: "40 s", "12 min", "3 h 5 min", "2 d 4 h"; "—" if None."""
    if span is None:
        return "—"
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"
