"""Lesson pages: the reading view, and a staff preview of drafts as learners see them.

Every request first reads the course's version (one small query). Anonymous
readers, most of the traffic, then get the whole page from the cache, stored
under that version: a warm page costs the query and a cache lookup, and an edit
changes the version, so nobody is served a stale page. For signed-in readers the
page is put together from cached parts (the lesson's part, the course menu) and
their own progress (one more query), which the progress app supplies through
lessons.reading.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.safestring import SafeString, mark_safe

from courses.access import may_edit, teaches_a_course
from courses.models import Course
from lessons.models import Lesson
from lessons.navigation import (
    OUTLINE_CACHE_SECONDS,
    CourseOutline,
    CourseVersion,
    course_outline,
    course_version,
)
from lessons.reading import ReadState, reading_progress

# lesson_main.html writes this between the lesson and what follows it (practice,
# previous/next), where a signed-in reader's "Mark as read" control goes.
LESSON_BODY_END = "<!--end-of-lesson-->"


class LessonPage(NamedTuple):
    """The rendered, user-independent part of a lesson page."""

    lesson_id: int
    title: str
    lesson_html: SafeString
    after_html: SafeString
    toc_html: SafeString
    # Last, with a default: pages cached before it existed still unpickle.
    description: str = ""
    # The page needs the quiz script and styles.
    has_quiz: bool = False


def _get_course_version(slug: str) -> CourseVersion:
    version = course_version(slug)
    if version is None:
        raise Http404("No such course.")
    return version


def _get_lesson(course: CourseVersion, chapter: str, lesson: str) -> Lesson:
    """Fetch a lesson of a course with its chapter, without Markdown sources."""
    found = get_object_or_404(
        Lesson.objects.select_related("chapter").defer(
            "body", "chapter__intro", "chapter__intro_html"
        ),
        chapter__course_id=course.id,
        chapter__slug=chapter,
        slug=lesson,
    )
    # Enough of the course for the page's links and titles, without fetching it again.
    found.chapter.course = Course(id=course.id, slug=course.slug, title=course.title)
    return found


def _render_lesson_page(
    lesson: Lesson, outline: CourseOutline, *, staff_view: bool, preview: bool | str = False
) -> LessonPage:
    """Render the lesson's part of the page for staff, for learners, or as a preview.

    `preview` is True for a saved lesson shown as learners see it, "unsaved" for an editor's
    text that is not saved.
    """
    previous, following = outline.neighbours(lesson.id)
    # The outline lists the exercises this reader may see (drafts only in the staff outline).
    found = outline.lesson(lesson.id)
    exercises = found.exercises if found else ()
    course = lesson.chapter.course
    has_toc = "<li" in lesson.toc_html
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
            "has_toc": has_toc,
            "staff_view": staff_view,
            "preview": preview,
        },
    )
    lesson_html, after_html = main_html.split(LESSON_BODY_END, 1)
    # Our own templates' output, and lesson HTML sanitized when the lesson was saved.
    return LessonPage(
        lesson_id=lesson.id,
        title=f"{lesson.title} — {course.title}",
        lesson_html=mark_safe(lesson_html),  # noqa: S308
        after_html=mark_safe(after_html),  # noqa: S308
        toc_html=mark_safe(lesson.toc_html if has_toc else ""),  # noqa: S308
        description=lesson.summary,
        has_quiz=bool(lesson.quiz_ids),
    )


def _lesson_page(
    course: CourseVersion, outline: CourseOutline, chapter: str, lesson: str, *, staff: bool
) -> LessonPage:
    """Return the cached lesson part of a page, rendering it on a miss; drafts only for staff."""
    audience = "staff" if staff else "public"
    key = f"lesson-page:{course.id}:{course.stamp}:{audience}:{chapter}:{lesson}"
    page = cache.get(key)
    if page is None:
        lesson_obj = _get_lesson(course, chapter, lesson)
        if not lesson_obj.is_published and not staff:
            raise Http404("No such lesson.")
        page = _render_lesson_page(lesson_obj, outline, staff_view=staff)
        cache.set(key, page, OUTLINE_CACHE_SECONDS)
    return page


def _is_anonymous_visit(request: HttpRequest) -> bool:
    """Tell whether the page cannot depend on who asks: no session, no messages, no query."""
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and CookieStorage.cookie_name not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def lesson_detail(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson; drafts exist only for staff."""
    version = _get_course_version(course)
    if not _is_anonymous_visit(request):
        return _personal_lesson_response(request, version, chapter, lesson)
    key = f"lesson-response:{version.id}:{version.stamp}:{chapter}:{lesson}"
    content = cache.get(key)
    if content is not None:
        response = HttpResponse(content)
    else:
        response = _personal_lesson_response(request, version, chapter, lesson)
        # Never share a page made for someone, carrying a CSRF token or setting a cookie.
        if (
            not request.user.is_authenticated
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            and not response.cookies
        ):
            cache.set(key, response.content, OUTLINE_CACHE_SECONDS)
    # Signed-in readers get a different page at the same URL.
    patch_vary_headers(response, ("Cookie",))
    return response


def _personal_lesson_response(
    request: HttpRequest, course: CourseVersion, chapter: str, lesson: str
) -> HttpResponse:
    """Render a lesson page for this reader: staff see drafts, learners their progress."""
    is_staff = request.user.is_staff
    outline = course_outline(course, include_drafts=is_staff)
    page = _lesson_page(course, outline, chapter, lesson, staff=is_staff)
    context = {"page": page}
    read = frozenset()
    marks = {}
    quiz_marks = {}
    progress = reading_progress()
    if request.user.is_authenticated and progress is not None:
        read = progress.read_lesson_ids(learner=request.user, course_id=course.id)
        context["reading"] = ReadState(course.slug, chapter, lesson, page.lesson_id in read)
        context["reading_template"] = progress.control_template
        if outline.exercises and progress.exercise_marks is not None:
            marks = progress.exercise_marks(learner=request.user, course_id=course.id)
        if outline.quiz_ids and progress.quiz_marks is not None:
            quiz_marks = progress.quiz_marks(learner=request.user, quiz_ids=outline.quiz_ids)
    context["menu"] = outline.menu_for(
        page.lesson_id, read=read, exercise_marks=marks, lesson_marks=quiz_marks
    )
    # The course's instructors get a link to the lesson editor. Asked only of staff accounts
    # and of those who teach a course (known from their session): one small query for them
    # (none for superusers), none more for a learner's page. Course instructors need not
    # have a staff account: the instructor area asks for their role on the course only.
    teaches = is_staff or teaches_a_course(request.user, request.session)
    if teaches and may_edit(request.user, Course(id=course.id)):
        context["edit_course"] = course.slug
    return render(request, "lessons/lesson.html", context)


def lesson_preview(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Show a lesson to staff exactly as learners would see it once published."""
    if not request.user.is_staff:
        raise Http404("No such lesson.")
    version = _get_course_version(course)
    lesson_obj = _get_lesson(version, chapter, lesson)
    outline = course_outline(version, include_drafts=True).published(keep=lesson_obj.id)
    page = _render_lesson_page(lesson_obj, outline, staff_view=False, preview=True)
    context = {"page": page, "menu": outline.menu_for(page.lesson_id), "preview": True}
    return render(request, "lessons/lesson.html", context)


def render_lesson_article(lesson: Lesson) -> str:
    """Return a lesson's article (title, summary, contents, body) in the lesson page's markup."""
    return render_to_string(
        "lessons/_lesson_article.html",
        {"lesson": lesson, "has_toc": "<li" in lesson.toc_html, "staff_view": False},
    )


def unsaved_lesson_response(request: HttpRequest, lesson: Lesson) -> HttpResponse:
    """Show an editor's unsaved text in the learner's page, menu and all, marked as a preview.

    `lesson` is an unsaved copy (Lesson.with_text). The page is made for one author and one
    moment: never cached, never indexed.
    """
    version = _get_course_version(lesson.chapter.course.slug)
    outline = course_outline(version, include_drafts=True).published(keep=lesson.id)
    page = _render_lesson_page(lesson, outline, staff_view=False, preview="unsaved")
    context = {
        "page": page,
        "menu": outline.menu_for(page.lesson_id),
        "preview": True,
        "noindex": True,
    }
    response = render(request, "lessons/lesson.html", context)
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
