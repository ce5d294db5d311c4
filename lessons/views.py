"""Lesson pages: the reading view, and a staff preview of drafts as learners see them.

The lesson's part of the page (breadcrumbs, body, practice, previous/next) is
rendered once per course version and audience and cached, like the course menu:
a warm page costs one small query (the course's `updated` stamp, which says
whether the cache is current) and a render of the page frame.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from courses.models import Course
from lessons.models import Lesson
from lessons.navigation import OUTLINE_CACHE_SECONDS, CourseOutline, course_outline


class LessonPage(NamedTuple):
    """The rendered, user-independent part of a lesson page."""

    lesson_id: int
    title: str
    main_html: SafeString
    toc_html: SafeString


def _get_course(slug: str) -> Course:
    """Fetch the course with just what versions the caches and heads the page."""
    return get_object_or_404(Course.objects.only("id", "slug", "title", "updated"), slug=slug)


def _get_lesson(course: Course, chapter: str, lesson: str) -> Lesson:
    """Fetch a lesson of a course with its chapter, without Markdown sources."""
    found = get_object_or_404(
        Lesson.objects.select_related("chapter").defer(
            "body", "chapter__intro", "chapter__intro_html"
        ),
        chapter__course=course,
        chapter__slug=chapter,
        slug=lesson,
    )
    found.chapter.course = course
    return found


def _render_lesson_page(
    lesson: Lesson, outline: CourseOutline, *, staff_view: bool, preview: bool = False
) -> LessonPage:
    """Render the lesson's part of the page for staff, for learners, or as a preview."""
    previous, following = outline.neighbours(lesson.id)
    exercises = lesson.exercises.only("id", "slug", "title", "summary", "status", "lesson_id")
    if not staff_view:
        exercises = exercises.published()
    course = lesson.chapter.course
    main_html = render_to_string(
        "lessons/lesson_main.html",
        {
            "lesson": lesson,
            "chapter": lesson.chapter,
            "course": course,
            "course_url": outline.url,
            "previous": previous,
            "next": following,
            "exercises": exercises,
            "has_toc": "<li" in lesson.toc_html,
            "staff_view": staff_view,
            "preview": preview,
        },
    )
    toc_html = lesson.toc_html if "<li" in lesson.toc_html else ""
    return LessonPage(
        lesson_id=lesson.id,
        title=f"{lesson.title} — {course.title}",
        main_html=main_html,
        toc_html=mark_safe(toc_html),  # noqa: S308 (sanitized when the lesson was saved)
    )


def lesson_detail(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson; drafts exist only for staff."""
    course_obj = _get_course(course)
    is_staff = request.user.is_staff
    audience = "staff" if is_staff else "public"
    version = f"{course_obj.id}:{course_obj.updated.timestamp()}:{audience}"
    key = f"lesson-page:{version}:{chapter}:{lesson}"
    outline = course_outline(course_obj, include_drafts=is_staff)
    page = cache.get(key)
    if page is None:
        lesson_obj = _get_lesson(course_obj, chapter, lesson)
        if not lesson_obj.is_published and not is_staff:
            raise Http404("No such lesson.")
        page = _render_lesson_page(lesson_obj, outline, staff_view=is_staff)
        cache.set(key, page, OUTLINE_CACHE_SECONDS)
    context = {"page": page, "menu": outline.menu_for(page.lesson_id)}
    return render(request, "lessons/lesson.html", context)


def lesson_preview(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson to staff exactly as learners would see it once published."""
    if not request.user.is_staff:
        raise Http404("No such lesson.")
    course_obj = _get_course(course)
    lesson_obj = _get_lesson(course_obj, chapter, lesson)
    outline = course_outline(course_obj, include_drafts=True).published(keep=lesson_obj.id)
    page = _render_lesson_page(lesson_obj, outline, staff_view=False, preview=True)
    context = {"page": page, "menu": outline.menu_for(page.lesson_id), "preview": True}
    return render(request, "lessons/lesson.html", context)
