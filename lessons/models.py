from __future__ import annotations

from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from markdownx.models import MarkdownxField

from courses.models import Chapter, Course, Status


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
    # The ids of the body's quiz questions, in order, so the course menu and progress can
    # count them without parsing every lesson's Markdown.
    quiz_ids = models.JSONField(default=list, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Unpublished changes to a published lesson, kept apart so learners go on reading the
    # live text until they are published. Null, not "", when there is no draft: an empty
    # body is a draft too (an author may clear the text to start again).
    draft_title = models.CharField(max_length=200, null=True, blank=True, editable=False)  # noqa: DJ001
    draft_summary = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001
    draft_body = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001
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
        from lessons.quizzes import lesson_questions

        self.body_html, self.toc_html = render_lesson(self.body)
        self.quiz_ids = [question.id for question in lesson_questions(self.body)]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body_html" in update_fields:
            kwargs["update_fields"] = {*update_fields, "quiz_ids"}
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

    @property
    def has_draft(self) -> bool:
        return self.draft_body is not None

    def with_text(self, *, title: str, summary: str, body: str) -> Lesson:
        """Return an unsaved copy showing this text, rendered as saving it would render it.

        The copy is for previews: its quiz questions are shown but cannot be answered.
        """
        from lessons.markdown import render_lesson
        from lessons.quizzes import lesson_questions, quizzes_for_preview

        copy = Lesson(
            **{field.attname: getattr(self, field.attname) for field in self._meta.concrete_fields}
        )
        # The chapter (and its course) as already fetched, so the copy costs no query.
        copy.chapter = self.chapter
        copy.title, copy.summary, copy.body = title, summary, body
        body_html, copy.toc_html = render_lesson(body)
        copy.body_html = quizzes_for_preview(body_html)
        copy.quiz_ids = [question.id for question in lesson_questions(body)]
        return copy


# A receiver rather than a delete() override: the admin's bulk delete skips model methods.
@receiver(post_delete, sender=Lesson)
def _lesson_deleted(sender, instance: Lesson, **kwargs) -> None:
    course_id = Chapter.objects.filter(id=instance.chapter_id).values_list("course_id").first()
    if course_id:
        Course.touch(course_id[0])
