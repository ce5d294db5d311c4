"""Admin for courses and chapters, with their chapters and lessons inline."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Field, QuerySet
from django.forms import Field as FormField
from django.http import HttpRequest
from markdownx.widgets import AdminMarkdownxWidget

from lessons.admin import PREVIEW_STYLESHEETS, lesson_preview_link
from lessons.models import Lesson

from .models import Chapter, Course


class MarkdownTextMixin:
    """Edit the named Markdown text fields with the live-preview editor."""

    markdown_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(
        self, db_field: Field, request: HttpRequest, **kwargs
    ) -> FormField | None:
        if db_field.name in self.markdown_fields:
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ChapterInline(admin.TabularInline):
    model = Chapter
    fields = ["order", "title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True  # the chapter's page lists and orders its lessons
    extra = 0


@admin.register(Course)
class CourseAdmin(MarkdownTextMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "order", "chapter_count", "lesson_count", "updated"]
    list_editable = ["order"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ChapterInline]
    markdown_fields = ("description",)

    class Media:
        css = PREVIEW_STYLESHEETS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                chapter_total=Count("chapters", distinct=True),
                lesson_total=Count("chapters__lessons", distinct=True),
            )
        )

    @admin.display(description="chapters", ordering="chapter_total")
    def chapter_count(self, course: Course) -> int:
        return course.chapter_total

    @admin.display(description="lessons", ordering="lesson_total")
    def lesson_count(self, course: Course) -> int:
        return course.lesson_total


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
