"""A learner's progress: lessons read, exercises passed, and where to continue.

Reading is recorded in `LessonProgress`; an exercise is done when the learner has
a submission whose result passed (the best attempt counts, so a later failure does
not undo it), which is read from the submissions themselves. Every function here
costs a fixed number of queries, however many lessons or courses it covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from courses.models import Course
from exercises.models import Exercise
from lessons.models import Lesson
from lessons.navigation import CourseOutline, OutlineLesson, course_outlines
from progress.models import LessonProgress


@dataclass(frozen=True)
class ExerciseStatus:
    """How far a learner got on one exercise: not started, attempted, or passed."""

    passed: bool = False
    attempted: bool = False
    best_score: int | None = None
    best_max_score: int | None = None

    @property
    def state(self) -> str:
        """Return "passed", "attempted" or "not-started"."""
        if self.passed:
            return "passed"
        return "attempted" if self.attempted else "not-started"

    @property
    def label(self) -> str:
        """Return "Passed", "Attempted" or "Not started"."""
        return {"passed": "Passed", "attempted": "Attempted", "not-started": "Not started"}[
            self.state
        ]

    @property
    def best(self) -> str:
        """Return the best graded score as "4/6", or "" before any graded attempt."""
        if self.best_score is None or self.best_max_score is None:
            return ""
        return f"{self.best_score}/{self.best_max_score}"


NOT_STARTED = ExerciseStatus()


@dataclass(frozen=True)
class CourseProgress:
    """How far one learner has got through one course."""

    lessons_total: int
    lessons_read: int
    exercises_total: int
    exercises_done: int
    next_lesson: OutlineLesson | None
    read_ids: frozenset[int] = field(default_factory=frozenset)
    # By exercise id; an exercise missing here is not started.
    exercise_statuses: Mapping[int, ExerciseStatus] = field(default_factory=dict)

    def status_of(self, exercise_id: int) -> ExerciseStatus:
        """Return the learner's status on one exercise of the course."""
        return self.exercise_statuses.get(exercise_id, NOT_STARTED)

    @property
    def percent(self) -> int:
        """Return the share of lessons and exercises completed, rounded down."""
        total = self.lessons_total + self.exercises_total
        done = self.lessons_read + self.exercises_done
        return done * 100 // total if total else 0

    @property
    def started(self) -> bool:
        """Tell whether the learner has read a lesson or passed an exercise here."""
        return bool(self.lessons_read or self.exercises_done)

    @property
    def complete(self) -> bool:
        """Tell whether every lesson is read and every exercise passed."""
        total = self.lessons_total + self.exercises_total
        return bool(total) and self.lessons_read + self.exercises_done == total

    @property
    def summary(self) -> str:
        """Return e.g. "5 of 12 lessons read · 1 of 5 exercises done"."""
        parts = [f"{self.lessons_read} of {_count(self.lessons_total, 'lesson')} read"]
        if self.exercises_total:
            exercises = _count(self.exercises_total, "exercise")
            parts.append(f"{self.exercises_done} of {exercises} done")
        return " · ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def lesson_mark_read(*, learner: AbstractBaseUser, lesson: Lesson) -> LessonProgress:
    """Record that a learner has read a lesson; marking it again changes nothing."""
    progress, _ = LessonProgress.objects.get_or_create(learner=learner, lesson=lesson)
    return progress


def lesson_mark_unread(*, learner: AbstractBaseUser, lesson: Lesson) -> None:
    """Forget that a learner has read a lesson."""
    LessonProgress.objects.filter(learner=learner, lesson=lesson).delete()


def read_lesson_ids(*, learner: AbstractBaseUser, course_id: int) -> frozenset[int]:
    """Return the ids of the lessons of a course a learner has read (one query)."""
    return frozenset(
        LessonProgress.objects.filter(
            learner=learner, lesson__chapter__course_id=course_id
        ).values_list("lesson_id", flat=True)
    )


def next_lesson(outline: CourseOutline, read_at: dict[int, datetime]) -> OutlineLesson | None:
    """Return where to continue: the first unread lesson after the last one read.

    With nothing read yet it is the first lesson; when the lessons after the last
    one read are all read, it is the first unread lesson from the start; when
    everything is read there is none.
    """
    lessons = outline.lessons
    if not read_at:
        return outline.first
    position = {lesson.id: i for i, lesson in enumerate(lessons)}
    seen = [lesson_id for lesson_id in read_at if lesson_id in position]
    if not seen:
        return outline.first
    # The most recent read wins; on a tie, the one further along the course.
    latest = max(seen, key=lambda lesson_id: (read_at[lesson_id], position[lesson_id]))
    start = position[latest] + 1
    for lesson in (*lessons[start:], *lessons[:start]):
        if lesson.id not in read_at:
            return lesson
    return None


def courses_progress(
    *, learner: AbstractBaseUser, courses: Sequence[Course]
) -> dict[int, CourseProgress]:
    """Return a learner's progress in each course, keyed by course id, in at most four queries."""
    if not courses:
        return {}
    ids = [course.id for course in courses]
    outlines = course_outlines(courses, include_drafts=False)
    read_at: dict[int, dict[int, datetime]] = {course_id: {} for course_id in ids}
    rows = LessonProgress.objects.filter(
        learner=learner, lesson__chapter__course__in=ids
    ).values_list("lesson__chapter__course_id", "lesson_id", "read_at")
    for course_id, lesson_id, when in rows:
        read_at[course_id][lesson_id] = when
    statuses = exercise_statuses(learner=learner, course_ids=ids)

    progress = {}
    for course_id in ids:
        outline = outlines[course_id]
        published = {lesson.id for lesson in outline.lessons}
        # A lesson read and later unpublished no longer counts.
        read = {
            lesson_id: when
            for lesson_id, when in read_at[course_id].items()
            if lesson_id in published
        }
        exercises = statuses[course_id]
        progress[course_id] = CourseProgress(
            lessons_total=len(outline),
            lessons_read=len(read),
            exercises_total=len(exercises),
            exercises_done=sum(status.passed for status in exercises.values()),
            next_lesson=next_lesson(outline, read),
            read_ids=frozenset(read),
            exercise_statuses=exercises,
        )
    return progress


def course_progress(*, learner: AbstractBaseUser, course: Course) -> CourseProgress:
    """Return a learner's progress in one course."""
    return courses_progress(learner=learner, courses=[course])[course.id]


def exercise_statuses(
    *, learner: AbstractBaseUser, course_ids: Iterable[int]
) -> dict[int, dict[int, ExerciseStatus]]:
    """Return a learner's status on each published exercise, by course and exercise id.

    One query, however many courses and exercises; every course asked for has an entry.
    """
    ids = list(course_ids)
    statuses: dict[int, dict[int, ExerciseStatus]] = {course_id: {} for course_id in ids}
    rows = (
        Exercise.objects.published()
        .filter(course__in=ids)
        .with_progress(learner)
        .values_list("course_id", "id", "passed", "attempted", "best_score", "best_max_score")
    )
    for course_id, exercise_id, passed, attempted, best_score, best_max_score in rows:
        statuses[course_id][exercise_id] = ExerciseStatus(
            passed=passed,
            attempted=attempted,
            best_score=best_score,
            best_max_score=best_max_score,
        )
    return statuses
