"""What a course folder held for each row when the two were last in step.

A `SyncedContent` row keeps, per course folder, the fingerprint of a course, chapter,
lesson or exercise as it was at its last import from or export to that folder. Comparing
the row's current content and the folder's content with it tells who changed what since:
see authoring/content.py.
"""

from __future__ import annotations

from django.db import models


class SyncedContent(models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", "Course"
        CHAPTER = "chapter", "Chapter"
        LESSON = "lesson", "Lesson"
        EXERCISE = "exercise", "Exercise"

    # The course folder's absolute path: an export to a scratch folder says nothing about
    # the folder the site imports from.
    folder = models.CharField(max_length=1000)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    fingerprint = models.CharField(max_length=64)
    synced = models.DateTimeField()

    class Meta:
        verbose_name_plural = "synced content"
        constraints = [
            models.UniqueConstraint(
                fields=["folder", "kind", "object_id"], name="unique_synced_content"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} in {self.folder}"
