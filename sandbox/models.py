from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.utils import timezone

from lessons.models import Exercise


class Framework(models.TextChoices):
    FLASK = "flask", "Flask"
    DJANGO = "django", "Django"
    FASTAPI = "fastapi", "FastAPI"


class SubmissionArchiveManager(models.Manager):
    def store(self, data: bytes) -> SubmissionArchive:
        """Return the stored archive holding `data`, storing it unless these bytes already are.

        Marking a stored one as used is an UPDATE: a prune deleting it at the same moment
        either sees the new `last_used` and keeps it, or deletes it first, and then it is
        stored anew.
        """
        digest = hashlib.sha256(data).hexdigest()
        if self.filter(sha256=digest).update(last_used=timezone.now()):
            return self.defer("data").get(sha256=digest)
        archive, _ = self.get_or_create(sha256=digest, defaults={"data": data, "size": len(data)})
        return archive


class SubmissionArchive(models.Model):
    """A submitted zip, stored once however many submissions sent the same bytes.

    `bytes(archive)` is the zip. Submissions share an archive by its SHA-256; one no
    submission refers to any more is deleted by `submission_archives_prune`.
    """

    sha256 = models.CharField(max_length=64, unique=True, help_text="Hex SHA-256 of the zip.")
    data = models.BinaryField(help_text="The submitted files as a zip archive.")
    size = models.PositiveIntegerField(help_text="Bytes.")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(
        auto_now_add=True, help_text="When a submission last stored these bytes."
    )

    objects = SubmissionArchiveManager()

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} bytes)"

    def __bytes__(self) -> bytes:
        return bytes(self.data)  # a memoryview on PostgreSQL


class _ArchiveDescriptor(ForwardManyToOneDescriptor):
    def __set__(self, instance, value) -> None:
        if isinstance(value, bytes | bytearray | memoryview):
            value = SubmissionArchive.objects.store(bytes(value))
        super().__set__(instance, value)


class ArchiveForeignKey(models.ForeignKey):
    """A foreign key to a SubmissionArchive that may also be given the zip's bytes.

    `Submission(archive=zip_bytes)` stores the bytes (once, see `store`) and refers to them,
    as it did when each submission held its own copy.
    """

    forward_related_accessor_class = _ArchiveDescriptor

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        # The database sees a plain foreign key; migrations need not import this module.
        return name, "django.db.models.ForeignKey", args, kwargs


class SubmissionQuerySet(models.QuerySet):
    def without_files(self) -> SubmissionQuerySet:
        """Return the submissions whose zip is no longer kept (see ARCHIVE_RETENTION_DAYS)."""
        return self.filter(archive__isnull=True)


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
    archive = ArchiveForeignKey(
        SubmissionArchive,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        help_text="The submitted files; empty once they are no longer kept.",
    )
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

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.exercise.slug} #{self.pk} by {self.learner}"

    @property
    def verdict(self) -> str:
        return (self.result or {}).get("status", "")

    @property
    def files_kept(self) -> bool:
        """Say whether the submitted zip is still stored (a regrade or download needs it)."""
        return self.archive_id is not None


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
