"""Exercises, the submissions learners make to them, their stored zips, and editor drafts.

The tables keep the names they had when these models lived in the lessons and sandbox apps
(`Meta.db_table`), so moving the models here moved no rows.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from markdownx.models import MarkdownxField

from courses.models import Course, Status
from lessons.models import Lesson
from sandbox.spec import FRAMEWORKS

# The engine's list of frameworks, as model choices: FLASK = "flask", "Flask"...
Framework = models.TextChoices(
    "Framework", [(key.upper(), (key, label)) for key, label in FRAMEWORKS.items()]
)


class Verdict(models.TextChoices):
    """How a graded submission ended: the `status` of its result (sandbox.results)."""

    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Not gradable"  # the app could not be started or graded
    TIMEOUT = "timeout", "Timed out"


# Verdicts of submissions that were really graded: numbered as attempts, and rate-limited.
GRADABLE = (Verdict.PASSED, Verdict.FAILED, Verdict.TIMEOUT)


class ExerciseQuerySet(models.QuerySet):
    def published(self) -> ExerciseQuerySet:
        return self.filter(status=Status.PUBLISHED)

    def with_progress(self, learner) -> ExerciseQuerySet:
        """Annotate each exercise with how far a learner got there.

        `passed`: a submission of theirs passed (the exercise is done); `attempted`: they
        submitted something; `best_score` and `best_max_score`: their best graded
        submission's (None without one).
        """
        theirs = Submission.objects.filter(exercise=OuterRef("pk"), learner=learner)
        best = theirs.best_per_learner()
        return self.annotate(
            passed=Exists(theirs.passed()),
            attempted=Exists(theirs),
            best_score=Subquery(best.values("score")[:1]),
            best_max_score=Subquery(best.values("max_score")[:1]),
        )


class LatePolicy(models.TextChoices):
    """What a submission after the deadline (and the learner's extension) counts for."""

    COUNT = "count", "Count late submissions in full"
    IGNORE = "ignore", "Do not count late submissions"
    PENALTY = "penalty", "Count late submissions with a penalty"


class Exercise(models.Model):
    """A graded exercise: instructions, starter and solution per framework, hidden tests.

    `files` maps a relative path inside the exercise folder (``tests/test_app.py``,
    ``starter/flask/app.py``...) to its text, so the database alone can grade and
    export an exercise.
    """

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="exercises")
    lesson = models.ForeignKey(
        Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="exercises"
    )
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    frameworks = models.JSONField(default=list)
    points = models.PositiveIntegerField(default=0)
    limits = models.JSONField(default=dict, blank=True)
    instructions = MarkdownxField(blank=True)
    instructions_html = models.TextField(blank=True, editable=False)
    files = models.JSONField(default=dict, blank=True)
    open_first = models.JSONField(
        default=dict,
        blank=True,
        help_text="The starter file the editor opens first, per framework "
        "(exercise.toml's `open`); unset, the first one with a TODO.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    deadline = models.DateTimeField(
        null=True, blank=True, help_text="Submissions after it are marked late. Optional."
    )
    late_policy = models.CharField(
        max_length=10, choices=LatePolicy.choices, default=LatePolicy.COUNT
    )
    late_penalty = models.PositiveSmallIntegerField(
        default=0, help_text="Percent taken off a late submission's score (penalty policy)."
    )
    updated = models.DateTimeField(auto_now=True)

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        db_table = "lessons_exercise"
        ordering = ["course", "order", "slug"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        from lessons.markdown import render_markdown

        self.instructions_html = render_markdown(self.instructions)
        super().save(*args, **kwargs)
        self.record_version()
        Course.touch(self.course_id)

    def record_version(self) -> ExerciseVersion:
        """Return the version holding this exercise's files, making a new one if they changed.

        Every save comes through here (the instructor area, the admin, a course import), so
        each change of the tests, starter or solution files is a new numbered version.
        """
        latest = self.versions.order_by("-number").first()
        if latest is not None and latest.files == self.files:
            return latest
        number = latest.number + 1 if latest is not None else 1
        return ExerciseVersion.objects.create(exercise=self, number=number, files=self.files)

    def current_version(self) -> ExerciseVersion | None:
        return self.versions.order_by("-number").first()

    def deadline_for(self, learner, extensions: dict | None = None):
        """Return `learner`'s deadline here: theirs if extended, else the exercise's (or None)."""
        if self.deadline is None:
            return None
        if extensions is not None:
            return extensions.get(learner.pk, self.deadline)
        extension = self.extensions.filter(learner=learner).values_list("until", flat=True)
        return extension.first() or self.deadline

    @property
    def lesson_path(self) -> str:
        """Return "chapter-slug/lesson-slug" of the linked lesson, as written in exercise.toml."""
        return f"{self.lesson.chapter.slug}/{self.lesson.slug}" if self.lesson_id else ""

    def offers(self, framework: str) -> bool:
        """Say whether learners may solve this exercise with `framework`."""
        return framework in self.frameworks

    def starter_files(self, framework: str) -> dict[str, str]:
        """Return the starter files for a framework, keyed by path inside the starter folder."""
        prefix = f"starter/{framework}/"
        return {
            path[len(prefix) :]: text
            for path, text in sorted(self.files.items())
            if path.startswith(prefix)
        }

    def starter_zip(self, framework: str) -> bytes:
        """Return the starter files as a zip holding one folder, named after the exercise."""
        from sandbox.archive import pack_files

        folder = f"{self.slug}-{framework}"
        files = self.starter_files(framework)
        return pack_files({f"{folder}/{path}": text for path, text in files.items()})

    def first_file(self, framework: str) -> str | None:
        """Return the starter file the editor opens first for `framework`."""
        return self.spec().first_file(framework)

    def spec(self):
        """Return this exercise as a sandbox ExerciseSpec (what the grader reads)."""
        from sandbox.spec import ExerciseSpec

        return ExerciseSpec.from_exercise(self)


class ExerciseVersion(models.Model):
    """The files (tests, starters, solutions) of an exercise as they were at one point."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    files = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exercise", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="unique_exercise_version"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} v{self.number}"


class DeadlineExtension(models.Model):
    """A later deadline for one learner on one exercise."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="extensions")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deadline_extensions"
    )
    until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exercise", "learner"], name="unique_extension"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.exercise.slug} until {self.until:%Y-%m-%d %H:%M}"


# A receiver rather than a delete() override: the admin's bulk delete skips model methods.
@receiver(post_delete, sender=Exercise)
def _exercise_deleted(sender, instance: Exercise, **kwargs) -> None:
    Course.touch(instance.course_id)


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

    class Meta:
        db_table = "sandbox_submissionarchive"

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

    def active(self) -> SubmissionQuerySet:
        """Return the submissions waiting for, or in, grading."""
        return self.filter(state__in=(Submission.State.QUEUED, Submission.State.RUNNING))

    def passed(self) -> SubmissionQuerySet:
        """Return the submissions that passed: an exercise is done once one of these exists."""
        return self.filter(verdict=Verdict.PASSED)

    def gradable(self) -> SubmissionQuerySet:
        """Return the graded submissions that count as attempts (not "not gradable")."""
        return self.filter(verdict__in=GRADABLE)

    def best_per_learner(self) -> SubmissionQuerySet:
        """Return, of these, each learner's best on each exercise.

        The best is the gradable submission with the highest score, the earliest on a tie;
        a learner with no gradable submission to an exercise has no best there.
        """
        best = (
            self.model._default_manager.filter(
                learner=OuterRef("learner"), exercise=OuterRef("exercise")
            )
            .gradable()
            .filter(score__isnull=False)
            .order_by(F("score").desc(), "created", "pk")
            .values("pk")[:1]
        )
        return self.filter(pk=Subquery(best))

    def latest_per_learner(self) -> SubmissionQuerySet:
        """Return, of these, each learner's latest submission to each exercise."""
        latest = (
            self.model._default_manager.filter(
                learner=OuterRef("learner"), exercise=OuterRef("exercise")
            )
            .order_by("-created", "-pk")
            .values("pk")[:1]
        )
        return self.filter(pk=Subquery(latest))


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
    verdict = models.CharField(
        max_length=10,
        choices=Verdict.choices,
        blank=True,
        db_index=True,
        help_text="How grading ended; empty until it has.",
    )
    score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    version = models.ForeignKey(
        ExerciseVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submissions",
        help_text="The exercise's files this submission was last graded against.",
    )
    late = models.BooleanField(
        default=False, help_text="Made after the learner's deadline for the exercise."
    )
    regrade = models.ForeignKey(
        "Regrade",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The regrade the current job belongs to; empty for a first grading.",
    )
    grading_attempts = models.PositiveIntegerField(
        default=0, help_text="How many times a grading host has started grading this submission."
    )
    job_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The grading job now sent for this submission; a new one for each attempt. "
        "Messages about any other job are ignored.",
    )
    grading_host = models.CharField(
        max_length=200, blank=True, help_text="The grading host that started the current job."
    )
    created = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        db_table = "sandbox_submission"
        ordering = ["-created"]
        indexes = [models.Index(fields=["state", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.exercise.slug} #{self.pk} by {self.learner}"

    @property
    def files_kept(self) -> bool:
        """Say whether the submitted zip is still stored (a regrade or download needs it)."""
        return self.archive_id is not None


class Regrade(models.Model):
    """Submissions of one exercise sent to be graded again, as one batch with one report.

    Without `lower_best`, no submission's counted score goes down: a regrade giving less
    keeps the previous result on the submission (the history holds both), so no learner's
    best can drop. With it, every new result replaces the old one.
    """

    class Scope(models.TextChoices):
        SUBMISSION = "submission", "One submission"
        LEARNER = "learner", "One learner's submissions"
        EXERCISE = "exercise", "Each learner's latest and best submission"
        ALL = "all", "Every submission"
        SELECTION = "selection", "Submissions chosen in the admin"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="regrades")
    version = models.ForeignKey(
        ExerciseVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The exercise's files when the regrade started.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    scope = models.CharField(max_length=12, choices=Scope.choices)
    lower_best = models.BooleanField(
        default=False, help_text="Allow lower scores: a lower new result replaces the old one."
    )
    old_bests = models.JSONField(
        default=dict,
        help_text="Each learner's best when the regrade started: "
        'learner id → {"submission", "score", "max_score"} or null.',
    )
    skipped = models.PositiveIntegerField(
        default=0, help_text="Submissions left out: their files are no longer kept."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"Regrade #{self.pk} of {self.exercise.slug}"


class RegradeItem(models.Model):
    """One submission of a regrade, with what it had before the regrade."""

    regrade = models.ForeignKey(Regrade, on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="regrade_items"
    )
    old_verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    old_score = models.IntegerField(null=True, blank=True)
    old_max_score = models.IntegerField(null=True, blank=True)
    old_version = models.ForeignKey(
        ExerciseVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    new_result = models.ForeignKey(
        "GradingResult",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The grading this regrade gave; empty until it is done.",
    )

    class Meta:
        ordering = ["regrade", "submission__learner_id", "submission__created"]
        constraints = [
            models.UniqueConstraint(fields=["regrade", "submission"], name="unique_regrade_item"),
        ]

    def __str__(self) -> str:
        return f"{self.regrade}: submission #{self.submission_id}"


class GradingResult(models.Model):
    """One grading of a submission, first or regrade: the submission's result history.

    The submission row holds the result that counts; each grading appends one of these.
    `counted` is False for a regrade's result that was lower and not allowed to replace
    the previous one (see Regrade).
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="results")
    version = models.ForeignKey(
        ExerciseVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The exercise's files it was graded against (unknown for old gradings).",
    )
    regrade = models.ForeignKey(
        Regrade, on_delete=models.SET_NULL, null=True, blank=True, related_name="results"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    counted = models.BooleanField(
        default=True, help_text="Whether this is the result the submission shows and counts."
    )
    graded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "graded_at", "pk"]

    def __str__(self) -> str:
        return f"Submission #{self.submission_id} graded {self.graded_at:%Y-%m-%d %H:%M}"


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
        db_table = "sandbox_draft"
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "exercise", "framework"], name="unique_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} ({self.framework}) draft by {self.learner}"


class ExerciseValidation(models.Model):
    """The grading of an exercise version's reference solution or starter for one framework.

    An instructor checks a version this way before publishing it: the solution must score
    full marks and the starter must not. It is graded on the grading queue like a learner's
    submission (exercises.validations), but it is no submission: it never counts in progress,
    attempts, rate limits or gradebooks.
    """

    class Kind(models.TextChoices):
        SOLUTION = "solution", "Solution"
        STARTER = "starter", "Starter"

    version = models.ForeignKey(
        ExerciseVersion, on_delete=models.CASCADE, related_name="validations"
    )
    framework = models.CharField(max_length=10, choices=Framework.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(
        max_length=10, choices=Submission.State.choices, default=Submission.State.QUEUED
    )
    phase = models.CharField(max_length=20, blank=True, help_text="booting, testing… while running")
    result = models.JSONField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    job_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The grading job now sent; reports about any other job are ignored.",
    )
    grading_host = models.CharField(max_length=200, blank=True)
    grading_attempts = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version", "framework", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "framework", "kind"], name="unique_exercise_validation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.framework} {self.kind}"

    @property
    def done(self) -> bool:
        return self.state == Submission.State.DONE

    @property
    def full_marks(self) -> bool:
        """Say whether this grading passed with every point."""
        return (
            self.verdict == Verdict.PASSED
            and self.max_score is not None
            and self.score == self.max_score
        )
