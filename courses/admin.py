"""Admin for courses, with their chapters inline.

The chapter admin lists and orders a chapter's lessons, so it is registered by lessons/admin.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Field, QuerySet
from django.forms import Field as FormField
from django.http import HttpRequest
from markdownx.widgets import AdminMarkdownxWidget

from .models import Chapter, Course, CourseStaff

# The Markdown editor's preview shows code highlighted as on the site.
PREVIEW_STYLESHEETS = {"all": ["css/pygments.css"]}


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


class CourseStaffInline(admin.TabularInline):
    model = CourseStaff
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Course)
class CourseAdmin(MarkdownTextMixin, admin.ModelAdmin):
    list_display = ["title", "slug", "order", "chapter_count", "lesson_count", "updated"]
    list_editable = ["order"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CourseStaffInline, ChapterInline]
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
