"""The course outline behind the course menu, the course page and previous/next links.

One query fetches every lesson of a course with its chapter; the outline, with its
menu already rendered to HTML, is cached under the course's `updated` stamp, which
`Lesson.save()` bumps, so an edited lesson shows up at once and a warm page costs
no query and almost no template work for navigation.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from courses.models import Course
from lessons.models import Lesson, Status

# The key is versioned by Course.updated; the timeout only bounds staleness after
# edits that do not touch a lesson (a renamed chapter, a deleted lesson).
OUTLINE_CACHE_SECONDS = 600
MENU_TEMPLATE = "lessons/course_menu.html"


class OutlineLesson(NamedTuple):
    id: int
    slug: str
    title: str
    summary: str
    url: str
    chapter_id: int
    is_draft: bool


class OutlineChapter(NamedTuple):
    id: int
    slug: str
    title: str
    summary: str
    lessons: tuple[OutlineLesson, ...]


class CourseOutline:
    """The chapters and lessons of a course in reading order, and its menu as HTML."""

    def __init__(self, title: str, url: str, chapters: tuple[OutlineChapter, ...]) -> None:
        self.title = title
        self.url = url
        self.chapters = chapters
        self.lessons = tuple(lesson for chapter in chapters for lesson in chapter.lessons)
        self._position = {lesson.id: i for i, lesson in enumerate(self.lessons)}
        self.menu_html = render_to_string(MENU_TEMPLATE, {"outline": self})

    def __len__(self) -> int:
        return len(self.lessons)

    @property
    def first(self) -> OutlineLesson | None:
        """Return the lesson a reader starts with."""
        return self.lessons[0] if self.lessons else None

    def neighbours(self, lesson_id: int) -> tuple[OutlineLesson | None, OutlineLesson | None]:
        """Return the lessons before and after one lesson, across chapter boundaries."""
        i = self._position.get(lesson_id)
        if i is None:
            return None, None
        before = self.lessons[i - 1] if i > 0 else None
        after = self.lessons[i + 1] if i + 1 < len(self.lessons) else None
        return before, after

    def menu_for(self, lesson_id: int) -> SafeString:
        """Return the course menu with one lesson marked current and its chapter open."""
        i = self._position.get(lesson_id)
        html = self.menu_html
        if i is not None:
            # Marking the cached HTML costs two string replacements; rendering the
            # menu for every request cost more than the rest of the page together.
            lesson = self.lessons[i]
            link = f'<a href="{escape(lesson.url)}">'
            chapter = f'<details class="course-nav__chapter" id="nav-chapter-{lesson.chapter_id}">'
            html = html.replace(link, f'{link[:-1]} aria-current="page">', 1)
            html = html.replace(chapter, f"{chapter[:-1]} open>", 1)
        return mark_safe(html)  # noqa: S308 (our own template's output)

    def published(self, *, keep: int | None = None) -> CourseOutline:
        """Return the outline learners see, with one draft in its place as if published."""
        chapters = []
        for chapter in self.chapters:
            lessons = tuple(
                lesson._replace(is_draft=False) if lesson.id == keep else lesson
                for lesson in chapter.lessons
                if not lesson.is_draft or lesson.id == keep
            )
            if lessons:
                chapters.append(chapter._replace(lessons=lessons))
        return CourseOutline(self.title, self.url, tuple(chapters))


def build_outline(course: Course, *, include_drafts: bool) -> CourseOutline:
    """Query the outline of a course: one query, whatever the number of lessons."""
    lessons = Lesson.objects.filter(chapter__course=course).in_reading_order()
    if not include_drafts:
        lessons = lessons.published()
    rows = lessons.values_list(
        "id",
        "slug",
        "title",
        "summary",
        "status",
        "chapter_id",
        "chapter__slug",
        "chapter__title",
        "chapter__summary",
    )
    chapters: list[OutlineChapter] = []
    current: list[OutlineLesson] = []
    for id_, slug, title, summary, status, chapter_id, ch_slug, ch_title, ch_summary in rows:
        if not chapters or chapters[-1].id != chapter_id:
            if chapters:
                chapters[-1] = chapters[-1]._replace(lessons=tuple(current))
            chapters.append(OutlineChapter(chapter_id, ch_slug, ch_title, ch_summary, ()))
            current = []
        current.append(
            OutlineLesson(
                id=id_,
                slug=slug,
                title=title,
                summary=summary,
                url=reverse(
                    "lessons:lesson",
                    kwargs={"course": course.slug, "chapter": ch_slug, "lesson": slug},
                ),
                chapter_id=chapter_id,
                is_draft=status != Status.PUBLISHED,
            )
        )
    if chapters:
        chapters[-1] = chapters[-1]._replace(lessons=tuple(current))
    url = reverse("courses:course", kwargs={"course": course.slug})
    return CourseOutline(course.title, url, tuple(chapters))


def course_outline(course: Course, *, include_drafts: bool) -> CourseOutline:
    """Return the cached outline of a course, as staff or as learners see it."""
    audience = "staff" if include_drafts else "public"
    key = f"course-outline:{course.id}:{course.updated.timestamp()}:{audience}"
    outline = cache.get(key)
    if outline is None:
        outline = build_outline(course, include_drafts=include_drafts)
        cache.set(key, outline, OUTLINE_CACHE_SECONDS)
    return outline
