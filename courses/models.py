from __future__ import annotations

from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone


class Status(models.TextChoices):
    """Whether learners see a lesson or an exercise: drafts are for course staff only."""

    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class CourseQuerySet(models.QuerySet):
    def listed(self) -> CourseQuerySet:
        """Return the courses that have at least one published lesson, in catalog order."""
        return (
            self.filter(chapters__lessons__status=Status.PUBLISHED)
            .distinct()
            .order_by("order", "title")
        )


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    description = models.TextField(blank=True, help_text="Markdown shown on the course page.")
    # Rendered on save by the Markdown pipeline, a layer up (lessons/signals.py).
    description_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.slug})

    @classmethod
    def touch(cls, course_id: int) -> None:
        """Bump a course's `updated` stamp, which versions its cached pages and menus."""
        cls.objects.filter(id=course_id).update(updated=timezone.now())


class Chapter(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="chapters")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    intro = models.TextField(blank=True, help_text="Markdown shown above the chapter's lessons.")
    intro_html = models.TextField(blank=True, editable=False)  # rendered like description_html
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="unique_chapter_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        Course.touch(self.course_id)


@receiver(post_delete, sender=Chapter)
def _chapter_deleted(sender, instance: Chapter, **kwargs) -> None:
    # A receiver rather than delete(): the admin's bulk delete skips model methods.
    Course.touch(instance.course_id)
