from __future__ import annotations

from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from markdownx.models import MarkdownxField

from courses.models import Chapter, Course


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class LessonQuerySet(models.QuerySet):
    def published(self) -> LessonQuerySet:
        return self.filter(status=Status.PUBLISHED)

    def visible_to(self, user) -> LessonQuerySet:
        """Return the lessons a user may read: staff see drafts too."""
        return self if getattr(user, "is_staff", False) else self.published()

    def in_reading_order(self) -> LessonQuerySet:
        return self.order_by("chapter__order", "chapter__id", "order", "id")


class Lesson(models.Model):
    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    body = MarkdownxField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    toc_html = models.TextField(blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["chapter__order", "chapter__id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["chapter", "slug"], name="unique_lesson_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        from lessons.markdown import render_lesson

        self.body_html, self.toc_html = render_lesson(self.body)
        super().save(*args, **kwargs)
        Course.objects.filter(chapters=self.chapter_id).update(updated=self.updated)

    def get_absolute_url(self) -> str:
        return reverse(
            "lessons:lesson",
            kwargs={
                "course": self.chapter.course.slug,
                "chapter": self.chapter.slug,
                "lesson": self.slug,
            },
        )

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED


class ExerciseQuerySet(models.QuerySet):
    def published(self) -> ExerciseQuerySet:
        return self.filter(status=Status.PUBLISHED)


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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    updated = models.DateTimeField(auto_now=True)

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        ordering = ["course", "order", "slug"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        from lessons.markdown import render_markdown

        self.instructions_html = render_markdown(self.instructions)
        super().save(*args, **kwargs)
        Course.touch(self.course_id)

    @property
    def lesson_path(self) -> str:
        """Return "chapter-slug/lesson-slug" of the linked lesson, as written in exercise.toml."""
        return f"{self.lesson.chapter.slug}/{self.lesson.slug}" if self.lesson_id else ""

    def spec(self):
        """Return this exercise as a sandbox ExerciseSpec (what the grader reads)."""
        from sandbox.spec import ExerciseSpec

        return ExerciseSpec.from_exercise(self)


# Receivers rather than delete() overrides: the admin's bulk delete skips model methods.
@receiver(post_delete, sender=Lesson)
def _lesson_deleted(sender, instance: Lesson, **kwargs) -> None:
    course_id = Chapter.objects.filter(id=instance.chapter_id).values_list("course_id").first()
    if course_id:
        Course.touch(course_id[0])


@receiver(post_delete, sender=Exercise)
def _exercise_deleted(sender, instance: Exercise, **kwargs) -> None:
    Course.touch(instance.course_id)
