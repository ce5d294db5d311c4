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
