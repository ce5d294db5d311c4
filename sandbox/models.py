from __future__ import annotations

from django.conf import settings
from django.db import models

from lessons.models import Exercise


class Framework(models.TextChoices):
    FLASK = "flask", "Flask"
    DJANGO = "django", "Django"
    FASTAPI = "fastapi", "FastAPI"


class Submission(models.Model):
    """One attempt at an exercise. The row is the source of truth for grading."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="submissions")
    framework = models.CharField(max_length=10, choices=Framework.choices)
    archive = models.BinaryField(help_text="The submitted files as a zip archive.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(max_length=20, blank=True, help_text="booting, testing… while running")
    result = models.JSONField(null=True, blank=True)
    score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    grading_attempts = models.PositiveIntegerField(
        default=0, help_text="How many times a worker has claimed this submission."
    )
    created = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.exercise.slug} #{self.pk} by {self.learner}"

    @property
    def verdict(self) -> str:
        return (self.result or {}).get("status", "")


class Draft(models.Model):
    """A learner's work in progress in the browser editor, saved as they type."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="drafts")
    framework = models.CharField(max_length=10, choices=Framework.choices)
    files = models.JSONField(default=dict, help_text="Relative path → text.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "exercise", "framework"], name="unique_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} ({self.framework}) draft by {self.learner}"
