"""Admin for lessons and exercises: Markdown with live preview, links to the site."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from markdownx.admin import MarkdownxModelAdmin

from courses.admin import PREVIEW_STYLESHEETS, MarkdownTextMixin
from courses.models import Chapter

from .models import Lesson


def lesson_preview_url(lesson: Lesson) -> str:
    """Return the address that shows a lesson, draft or not, as a learner sees it."""
    return reverse(
        "lessons:lesson_preview",
        kwargs={
            "course": lesson.chapter.course.slug,
            "chapter": lesson.chapter.slug,
            "lesson": lesson.slug,
        },
    )


def lesson_preview_link(lesson: Lesson, text: str = "Preview as learner") -> str:
    """Return a link that opens the learner's view of a saved lesson in a new tab."""
    if lesson.pk is None:
        return ""
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>', lesson_preview_url(lesson), text
    )


def _chapter_choice_label(chapter: Chapter) -> str:
    # Chapter titles repeat across courses ("Introduction"); say which course.
    return f"{chapter.course} / {chapter}"


@admin.register(Lesson)
class LessonAdmin(MarkdownxModelAdmin):
    list_display = ["title", "chapter", "course", "order", "status", "updated", "preview_link"]
    list_display_links = ["title"]
    list_editable = ["order", "status"]
    list_filter = ["status", "chapter__course", "chapter"]
    list_select_related = ["chapter__course"]
    search_fields = ["title", "slug", "summary", "body"]
    ordering = ["chapter__course__order", "chapter__order", "order", "id"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["preview_link", "created", "updated"]
    fieldsets = [
        (None, {"fields": ["chapter", "title", "slug", "summary", "order", "status"]}),
        ("Content", {"fields": ["body"]}),
        ("On the site", {"fields": ["preview_link", "created", "updated"]}),
    ]

    class Media:
        css = PREVIEW_STYLESHEETS

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs
    ) -> ModelChoiceField | None:
        if db_field.name == "chapter":
            kwargs["queryset"] = Chapter.objects.select_related("course")
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "chapter" and field is not None:
            field.label_from_instance = _chapter_choice_label
        return field

    @admin.display(description="course", ordering="chapter__course__title")
    def course(self, lesson: Lesson) -> str:
        return str(lesson.chapter.course)

    @admin.display(description="preview as learner")
    def preview_link(self, lesson: Lesson) -> str:
        return lesson_preview_link(lesson) or "Available once the lesson is saved."


# The chapter's page lists and orders its lessons, so it is registered here, not in courses/.
class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ["order", "title", "slug", "status", "preview_link"]
    readonly_fields = ["preview_link"]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True  # the lesson's own page has the Markdown editor
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lesson]:
        return super().get_queryset(request).select_related("chapter__course")

    @admin.display(description="preview as learner")
    def preview_link(self, lesson: Lesson) -> str:
        return lesson_preview_link(lesson, "Preview")


@admin.register(Chapter)
class ChapterAdmin(MarkdownTextMixin, admin.ModelAdmin):
    list_display = ["title", "course", "order", "lesson_count"]
    list_editable = ["order"]
    list_filter = ["course"]
    list_select_related = ["course"]
    search_fields = ["title", "slug", "course__title"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [LessonInline]
    markdown_fields = ("intro",)

    class Media:
        css = PREVIEW_STYLESHEETS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chapter]:
        return super().get_queryset(request).annotate(lesson_total=Count("lessons"))

    @admin.display(description="lessons", ordering="lesson_total")
    def lesson_count(self, chapter: Chapter) -> int:
        return chapter.lesson_total
