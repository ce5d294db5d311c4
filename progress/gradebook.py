"""A course's gradebook: each learner's counted best score on each exercise, and a total.

Rows are the course's roster (Enrollment), then the learners who submitted to the course's
exercises without ever joining it (an open course lets anyone submit), marked "not on
roster" so that no work goes unseen; the course's own staff are not rows. Columns are the
course's exercises in course order (lessons first, each followed by its exercises), published
ones only unless drafts are asked for.

A cell holds the learner's counted best: the best of their graded submissions once the
exercise's late policy is applied (counted_score), its maximum, and how many graded attempts
they made. The total is the sum of points * best / max over the columns, so an exercise
weighs what its points say whatever the number of tests; one worth 0 points counts for nothing.

The gradebook is read in a fixed number of queries, whatever the size of the class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.http import Http404

from courses.models import Course, CourseStaff, Enrollment, Status
from exercises.grades import counted_score
from exercises.models import GRADABLE, Exercise, LatePolicy, Submission, Verdict
from lessons.navigation import build_outline

User = get_user_model()


@dataclass(frozen=True)
class Column:
    """An exercise of the gradebook."""

    id: int
    slug: str
    title: str
    points: int
    is_draft: bool
    late_policy: str
    late_penalty: int


@dataclass
class Cell:
    """A learner's standing on one exercise."""

    score: float | None = None  # the counted best; None: nothing counts (yet)
    max_score: int | None = None
    attempts: int = 0  # graded attempts (not the "not gradable" ones)
    passed: bool = False  # a counted submission passed
    late: bool = False  # the counted best was late (and counted in full or with a penalty)
    late_ignored: int = 0  # late attempts the IGNORE policy leaves out

    @property
    def fraction(self) -> float:
        if self.score is None or not self.max_score:
            return 0.0
        return self.score / self.max_score


@dataclass
class Row:
    learner: User
    on_roster: bool
    cells: list[Cell]
    total: float = 0.0

    @property
    def name(self) -> str:
        return self.learner.get_full_name()

    def passed_all(self) -> bool:
        return all(cell.passed for cell in self.cells)


@dataclass
class Gradebook:
    course: Course
    columns: list[Column]
    rows: list[Row]
    max_total: int = 0
    include_drafts: bool = False
    exercise: str = ""  # the one exercise shown, when filtered
    not_passed: bool = False
    all_columns: list[Column] = field(default_factory=list)  # for the filter's choices


def course_gradebook(
    *,
    course: Course,
    include_drafts: bool = False,
    exercise: str = "",
    not_passed: bool = False,
) -> Gradebook:
    """Return the gradebook of a course; `exercise` (a slug) and `not_passed` filter it.

    `exercise` keeps one column; `not_passed` keeps the learners who have not passed it
    (or, without `exercise`, have not passed every exercise).
    """
    all_columns = course_columns(course, include_drafts=include_drafts)
    columns = [c for c in all_columns if c.slug == exercise] or all_columns
    learners = _learners(course)
    cells = _cells(course, columns)
    rows = []
    for learner, on_roster in learners:
        row = Row(
            learner=learner,
            on_roster=on_roster,
            cells=[cells.get((learner.pk, column.id), Cell()) for column in columns],
        )
        row.total = sum(
            column.points * cell.fraction for column, cell in zip(columns, row.cells, strict=True)
        )
        if not_passed and row.passed_all():
            continue
        rows.append(row)
    return Gradebook(
        course=course,
        columns=columns,
        rows=rows,
        max_total=sum(column.points for column in columns),
        include_drafts=include_drafts,
        exercise=exercise if len(columns) == 1 and columns[0].slug == exercise else "",
        not_passed=not_passed,
        all_columns=all_columns,
    )


def course_columns(course: Course, *, include_drafts: bool = False) -> list[Column]:
    """Return the exercises of a course in course order, as gradebook columns (3 queries)."""
    outline = build_outline(course, include_drafts=include_drafts)
    position = {step.id: i for i, step in enumerate(outline.exercises)}
    # `or [0]`: an empty course still asks, so the number of queries never changes.
    exercises = Exercise.objects.filter(course=course, id__in=list(position) or [0]).only(
        "id", "slug", "title", "points", "status", "late_policy", "late_penalty"
    )
    return [
        Column(
            id=e.id,
            slug=e.slug,
            title=e.title,
            points=e.points,
            is_draft=e.status != Status.PUBLISHED,
            late_policy=e.late_policy,
            late_penalty=e.late_penalty,
        )
        for e in sorted(exercises, key=lambda e: position[e.id])
    ]


def _learners(course: Course) -> list[tuple[User, bool]]:
    """Return the roster, then those who submitted without joining: (user, on roster)."""
    roster = [
        enrollment.learner
        for enrollment in Enrollment.objects.filter(course=course).select_related("learner")
    ]
    staff = CourseStaff.objects.filter(course=course).values("user")
    others = (
        User.objects.filter(submissions__exercise__course=course)
        .exclude(enrollments__course=course)
        .exclude(pk__in=staff)
        .distinct()
    )
    return [(user, True) for user in _by_name(roster)] + [
        (user, False) for user in _by_name(others)
    ]


def _by_name(users: Iterable[User]) -> list[User]:
    return sorted(users, key=lambda u: ((u.get_full_name() or u.username).casefold(), u.username))


def _cells(course: Course, columns: list[Column]) -> dict[tuple[int, int], Cell]:
    """Return each (learner id, exercise id)'s cell, from one grouped query."""
    by_id = {column.id: column for column in columns}
    gradable = Q(verdict__in=GRADABLE)
    groups = (
        Submission.objects.filter(exercise__course=course, exercise_id__in=list(by_id) or [0])
        .values("learner_id", "exercise_id", "late", "max_score")
        .annotate(
            best=Max("score", filter=gradable & Q(score__isnull=False)),
            attempts=Count("pk", filter=gradable),
            passes=Count("pk", filter=Q(verdict=Verdict.PASSED)),
        )
        .order_by()
    )
    cells: dict[tuple[int, int], Cell] = {}
    for group in groups:
        column = by_id[group["exercise_id"]]
        cell = cells.setdefault((group["learner_id"], column.id), Cell())
        cell.attempts += group["attempts"]
        if not group["attempts"]:
            continue
        _count(cell, column, group)
    return cells


def _count(cell: Cell, column: Column, group: dict) -> None:
    """Fold one group of a learner's submissions into their cell, keeping the better."""
    late = group["late"]
    if late and column.late_policy == LatePolicy.IGNORE:
        cell.late_ignored += group["attempts"]
        return
    cell.passed = cell.passed or group["passes"] > 0
    if group["best"] is None:
        return
    score = counted_score(
        group["best"], group["max_score"], late, column.late_policy, column.late_penalty
    )
    candidate = Cell(score=score, max_score=group["max_score"])
    better = cell.score is None or candidate.fraction > cell.fraction
    # On a tie the submission on time wins: it is not marked late.
    if better or (candidate.fraction == cell.fraction and cell.late and not late):
        cell.score, cell.max_score, cell.late = score, group["max_score"], late


# CSV ------------------------------------------------------------------------------------

# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Return text a spreadsheet shows as text: a leading ' before a would-be formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_header(gradebook: Gradebook) -> list[str]:
    """Return the CSV's columns: who, one per exercise (its slug) in course order, total."""
    return ["username", "name", "email", *(c.slug for c in gradebook.columns), "total", "on_roster"]


def csv_rows(gradebook: Gradebook) -> Iterable[list[str]]:
    """Yield a CSV row per learner: the points earned on each exercise, and the total.

    An exercise's cell is its points * counted best / max (empty: nothing counted), so the
    cells add up to the total.
    """
    for row in gradebook.rows:
        earned = [
            _number(column.points * cell.fraction) if cell.score is not None else ""
            for column, cell in zip(gradebook.columns, row.cells, strict=True)
        ]
        learner = row.learner
        yield [
            spreadsheet_safe(learner.get_username()),
            spreadsheet_safe(row.name),
            spreadsheet_safe(learner.email),
            *earned,
            _number(row.total),
            "yes" if row.on_roster else "no",
        ]


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# One learner ------------------------------------------------------------------------------


@dataclass
class LearnerRecord:
    learner: User
    on_roster: bool
    submissions: list[Submission]


def learner_record(*, course: Course, username: str) -> LearnerRecord:
    """Return a learner's submissions to a course's exercises, newest first.

    Raise Http404 unless they are on the roster or submitted something there: the page of
    someone who has nothing to do with the course does not exist.
    """
    learner = User.objects.filter(username=username).first()
    if learner is None:
        raise Http404("No such learner.")
    on_roster = Enrollment.objects.filter(course=course, learner=learner).exists()
    submissions = list(
        Submission.objects.filter(exercise__course=course, learner=learner)
        .select_related("exercise")
        .defer("result", "exercise__files", "exercise__instructions", "exercise__instructions_html")
        .order_by("-created", "-pk")
    )
    if not on_roster and not submissions:
        raise Http404("No such learner.")
    return LearnerRecord(learner=learner, on_roster=on_roster, submissions=submissions)
