"""Lesson pages: the reading view, and a staff preview of drafts as learners see them."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from lessons.models import Lesson
from lessons.navigation import CourseOutline, course_outline


def _get_lesson(course: str, chapter: str, lesson: str) -> Lesson:
    """Fetch a lesson with its chapter and course in one query, without Markdown sources."""
    return get_object_or_404(
        Lesson.objects.select_related("chapter__course").defer(
            "body",
            "chapter__intro",
            "chapter__intro_html",
            "chapter__course__description",
            "chapter__course__description_html",
        ),
        chapter__course__slug=course,
        chapter__slug=chapter,
        slug=lesson,
    )


def _lesson_context(lesson: Lesson, outline: CourseOutline, *, staff_view: bool) -> dict[str, Any]:
    """Return what the lesson template needs: navigation, neighbours and practice."""
    previous, following = outline.neighbours(lesson.id)
    exercises = lesson.exercises.only("id", "title", "summary", "status", "lesson_id")
    if not staff_view:
        exercises = exercises.published()
    return {
        "lesson": lesson,
        "chapter": lesson.chapter,
        "course": lesson.chapter.course,
        "outline": outline,
        "previous": previous,
        "next": following,
        "exercises": exercises,
        "has_toc": "<li" in lesson.toc_html,
        "staff_view": staff_view,
    }


def lesson_detail(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson; drafts exist only for staff."""
    lesson_obj = _get_lesson(course, chapter, lesson)
    is_staff = request.user.is_staff
    if not lesson_obj.is_published and not is_staff:
        raise Http404("No such lesson.")
    outline = course_outline(lesson_obj.chapter.course, include_drafts=is_staff)
    context = _lesson_context(lesson_obj, outline, staff_view=is_staff)
    return render(request, "lessons/lesson.html", context)


def lesson_preview(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson to staff exactly as learners would see it once published."""
    if not request.user.is_staff:
        raise Http404("No such lesson.")
    lesson_obj = _get_lesson(course, chapter, lesson)
    outline = course_outline(lesson_obj.chapter.course, include_drafts=True)
    context = _lesson_context(lesson_obj, outline.published(keep=lesson_obj.id), staff_view=False)
    context["preview"] = True
    return render(request, "lessons/lesson.html", context)
