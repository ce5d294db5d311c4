"""Template filters of the progress pages."""

from __future__ import annotations

from django import template

from progress.services import CourseProgress, ExerciseStatus, QuizScore

register = template.Library()


@register.filter
def exercise_status(progress: CourseProgress, exercise_id: int) -> ExerciseStatus:
    """Return a learner's status on an exercise: `{{ progress|exercise_status:exercise.id }}`."""
    return progress.status_of(exercise_id)


@register.filter
def quiz_score(progress: CourseProgress, lesson_id: int) -> QuizScore | None:
    """Return a learner's score on a lesson's quiz: `{{ progress|quiz_score:lesson.id }}`."""
    return progress.quiz_score(lesson_id)
