from __future__ import annotations

from django.conf import settings
from django.db import models


class LessonProgress(models.Model):
    """A learner has read a lesson (reached its end, or pressed "Mark as read")."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey("lessons.Lesson", on_delete=models.CASCADE, related_name="progress")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Made by the courses app before progress existed; the rows stay where they are.
        db_table = "courses_lessonprogress"
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="unique_lesson_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} read {self.lesson}"


class QuizAnswer(models.Model):
    """A learner's answers to one quiz question of a lesson: how many tries, and whether right.

    One row per learner and question. `correct` stays true once the learner has answered right,
    as an exercise stays passed after a later failed attempt: trying again is practice, not a
    step back.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_answers"
    )
    lesson = models.ForeignKey(
        "lessons.Lesson", on_delete=models.CASCADE, related_name="quiz_answers"
    )
    # The question's id in the lesson's Markdown (lessons.quizzes).
    question_id = models.CharField(max_length=64)
    correct = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=1)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "lesson", "question_id"], name="unique_quiz_answer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.question_id} ({'right' if self.correct else 'not yet'})"
