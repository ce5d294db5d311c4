"""A learner's progress: lessons read, quiz questions answered, exercises passed, and where next.

Reading is recorded in `LessonProgress`, quiz answers in `QuizAnswer` (a question counts once
answered right, and only while the lesson still asks it); an exercise is done when the learner has
a submission whose result passed (the best attempt counts, so a later failure does
not undo it), which is read from the submissions themselves. Every function here
costs a fixed number of queries, however many lessons or courses it covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from courses.models import Course
from exercises.models import Exercise
from lessons.models import Lesson
from lessons.navigation import CourseOutline, OutlineLesson, course_outlines
from progress.models import LessonProgress, QuizAnswer


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
class QuizScore:
    """A learner's score on one lesson's quiz questions."""

    right: int
    total: int
    # Whether the learner has answered any of them, right or wrong.
    answered: bool = False

    def __str__(self) -> str:
        return f"{self.right}/{self.total}"


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
    quiz_total: int = 0
    quiz_right: int = 0
    # By lesson id, for the lessons with quiz questions.
    quiz_scores: Mapping[int, QuizScore] = field(default_factory=dict)

    def status_of(self, exercise_id: int) -> ExerciseStatus:
        """Return the learner's status on one exercise of the course."""
        return self.exercise_statuses.get(exercise_id, NOT_STARTED)

    @property
    def percent(self) -> int:
        """Return the share of lessons, quiz questions and exercises completed, rounded down."""
        total = self.lessons_total + self.quiz_total + self.exercises_total
        done = self.lessons_read + self.quiz_right + self.exercises_done
        return done * 100 // total if total else 0

    @property
    def started(self) -> bool:
        """Tell whether the learner has read a lesson, answered a question or passed an exercise."""
        return bool(self.lessons_read or self.quiz_right or self.exercises_done)

    @property
    def complete(self) -> bool:
        """Tell whether every lesson, quiz question and exercise is done."""
        total = self.lessons_total + self.quiz_total + self.exercises_total
        return bool(total) and self.lessons_read + self.quiz_right + self.exercises_done == total

    def quiz_score(self, lesson_id: int) -> QuizScore | None:
        """Return the learner's score on a lesson's quiz, or None when it has no questions."""
        return self.quiz_scores.get(lesson_id)

    @property
    def summary(self) -> str:
        """Return e.g. "5 of 12 lessons read · 4 of 9 quiz questions right · 1 of 5 exercises done".

        The quiz part only when the course has questions.
        """
        parts = [f"{self.lessons_read} of {_count(self.lessons_total, 'lesson')} read"]
        if self.quiz_total:
            parts.append(f"{self.quiz_right} of {_count(self.quiz_total, 'quiz question')} right")
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


def quiz_answer_record(
    *, learner: AbstractBaseUser, lesson: Lesson, question_id: str, correct: bool
) -> QuizAnswer:
    """Record one answer to a quiz question: one more attempt, and right once answered right."""
    now = timezone.now()
    answer, created = QuizAnswer.objects.get_or_create(
        learner=learner,
        lesson=lesson,
        question_id=question_id,
        defaults={"correct": correct, "answered_at": now},
    )
    if not created:
        # One UPDATE with F(): two answers sent at once both count.
        changes: dict = {"attempts": F("attempts") + 1, "answered_at": now}
        if correct:
            changes["correct"] = True
        QuizAnswer.objects.filter(pk=answer.pk).update(**changes)
        answer.refresh_from_db()
    return answer


def quiz_scores(
    *, learner: AbstractBaseUser, quiz_ids: Mapping[int, Sequence[str]]
) -> dict[int, QuizScore]:
    """Return a learner's score on the quiz of each lesson in `quiz_ids` (one query).

    `quiz_ids` maps a lesson's id to the ids of the questions it asks now; answers to
    questions since removed from a lesson do not count.
    """
    if not quiz_ids:
        return {}
    asked = {lesson_id: set(ids) for lesson_id, ids in quiz_ids.items()}
    right: dict[int, int] = dict.fromkeys(asked, 0)
    answered: set[int] = set()
    rows = QuizAnswer.objects.filter(learner=learner, lesson_id__in=list(asked)).values_list(
        "lesson_id", "question_id", "correct"
    )
    for lesson_id, question_id, correct in rows:
        if question_id in asked[lesson_id]:
            answered.add(lesson_id)
            right[lesson_id] += correct
    return {
        lesson_id: QuizScore(right[lesson_id], len(ids), lesson_id in answered)
        for lesson_id, ids in asked.items()
    }


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
    """Return a learner's progress in each course, keyed by course id.

    At most four queries, and one more when a course has quiz questions.
    """
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
    scores = quiz_scores(
        learner=learner,
        quiz_ids={
            lesson_id: question_ids
            for outline in outlines.values()
            for lesson_id, question_ids in outline.quiz_ids.items()
        },
    )

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
        course_scores = {lesson_id: scores[lesson_id] for lesson_id in outline.quiz_ids}
        progress[course_id] = CourseProgress(
            lessons_total=len(outline),
            lessons_read=len(read),
            exercises_total=len(exercises),
            exercises_done=sum(status.passed for status in exercises.values()),
            next_lesson=next_lesson(outline, read),
            read_ids=frozenset(read),
            exercise_statuses=exercises,
            quiz_total=sum(score.total for score in course_scores.values()),
            quiz_right=sum(score.right for score in course_scores.values()),
            quiz_scores=course_scores,
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
