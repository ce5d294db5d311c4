"""A learner's status on each exercise and quiz, as marks in the course menu of lesson pages."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from exercises.models import Submission
from progress.services import ExerciseStatus, QuizScore, exercise_statuses, quiz_scores

PASSED_MARK = mark_safe(
    ' · <span class="exercise-mark exercise-mark--passed">'
    '<span aria-hidden="true">✓</span> Passed</span>'
)


def exercise_mark(status: ExerciseStatus) -> SafeString:
    """Return the menu's mark of an exercise: "✓ Passed", "Attempted 4/6", or nothing."""
    if status.passed:
        return PASSED_MARK
    if status.attempted:
        return format_html(
            ' · <span class="exercise-mark exercise-mark--attempted">Attempted{}</span>',
            f" {status.best}" if status.best else "",
        )
    return SafeString("")


def exercise_marks(*, learner: AbstractBaseUser, course_id: int) -> dict[int, SafeString]:
    """Return the marks of the exercises a learner has started in a course.

    Most readers of a lesson have submitted nothing in its course: for them one cheap query
    answers, instead of the statuses' subqueries (which cost more to build than to run).
    """
    if not Submission.objects.filter(learner=learner, exercise__course_id=course_id).exists():
        return {}
    statuses = exercise_statuses(learner=learner, course_ids=[course_id])[course_id]
    return {
        exercise_id: exercise_mark(status)
        for exercise_id, status in statuses.items()
        if status.attempted
    }


def quiz_mark(score: QuizScore) -> SafeString:
    """Return the menu's mark of a lesson's quiz: "Quiz 2/3", or nothing before any answer."""
    if not score.answered:
        return SafeString("")
    state = "done" if score.right == score.total else "started"
    return format_html(
        ' · <span class="quiz-mark quiz-mark--{}"><span aria-hidden="true">Quiz {}</span>'
        '<span class="visually-hidden">quiz: {} of {} right</span></span>',
        state,
        score,
        score.right,
        score.total,
    )


def quiz_marks(
    *, learner: AbstractBaseUser, quiz_ids: dict[int, tuple[str, ...]]
) -> dict[int, SafeString]:
    """Return the quiz marks of the lessons whose questions a learner has answered (one query)."""
    return {
        lesson_id: quiz_mark(score)
        for lesson_id, score in quiz_scores(learner=learner, quiz_ids=quiz_ids).items()
        if score.answered
    }
