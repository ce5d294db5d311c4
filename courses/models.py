from __future__ import annotations

from django.db import models
from django.urls import reverse


class CourseQuerySet(models.QuerySet):
    def listed(self) -> CourseQuerySet:
        """Return the courses that have at least one published lesson, in catalog order."""
        return (
            self.filter(chapters__lessons__status="published").distinct().order_by("order", "title")
        )


class Course(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    description = models.TextField(blank=True, help_text="Markdown shown on the course page.")
    description_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        from lessons.markdown import render_markdown

        self.description_html = render_markdown(self.description)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.slug})


class Chapter(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="chapters")
    slug = models.SlugField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    intro = models.TextField(blank=True, help_text="Markdown shown above the chapter's lessons.")
    intro_html = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="unique_chapter_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        from lessons.markdown import render_markdown

        self.intro_html = render_markdown(self.intro)
        super().save(*args, **kwargs)
