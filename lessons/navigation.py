"""The course outline behind the course menu, the course page and previous/next links.

One query fetches every lesson of a course with its chapter; the outline, with its
menu already rendered to HTML, is cached under the course's version (its `updated`
stamp, which every content change bumps), so an edited lesson shows up at once and
a warm page costs no query and almost no template work for navigation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from courses.models import Course, Status
from lessons.models import Lesson

# Keys carry the course version, so an edit never serves stale pages; the timeout
# only lets entries of old versions expire.
OUTLINE_CACHE_SECONDS = 600
MENU_TEMPLATE = "lessons/course_menu.html"
# Written by the menu template at the end of every lesson's link text, in reading
# order; splitting on it lets a reader's ✓ marks go in without rendering again.
MENU_ITEM_END = "<!--lesson-end-->"
READ_MARK = (
    '<span class="read-mark"><span aria-hidden="true">✓</span>'
    '<span class="visually-hidden"> (read)</span></span>'
)


class CourseVersion(NamedTuple):
    """What caches need to know about a course: it changes whenever its content does."""

    id: int
    slug: str
    title: str
    stamp: str

    @classmethod
    def of(cls, course: Course) -> CourseVersion:
        return cls(course.id, course.slug, course.title, _stamp(course.updated))


def _stamp(updated: datetime | str) -> str:
    """Return a course's `updated` value as the same string on every database backend."""
    if isinstance(updated, str):  # a backend without datetime converters
        updated = parse_datetime(updated)
    if updated.tzinfo is not None:
        updated = updated.astimezone(UTC)
    return f"{updated:%Y%m%d%H%M%S%f}"


def course_version(slug: str) -> CourseVersion | None:
    """Return a course's version, or None when there is no such course."""
    # Every lesson request starts here, so this skips the ORM: building the
    # query costs ~150 µs, the raw statement ~20 µs (measured with bench/pages.py).
    qn = connection.ops.quote_name
    columns = ", ".join(qn(name) for name in ("id", "slug", "title", "updated"))
    sql = f"SELECT {columns} FROM {qn(Course._meta.db_table)} WHERE {qn('slug')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [slug])
        row = cursor.fetchone()
    if row is None:
        return None
    return CourseVersion(row[0], row[1], row[2], _stamp(row[3]))


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
        # One piece before each lesson's end of link, and the rest of the menu after the last.
        self._menu_parts = tuple(
            render_to_string(MENU_TEMPLATE, {"outline": self}).split(MENU_ITEM_END)
        )

    def __len__(self) -> int:
        return len(self.lessons)

    @property
    def first(self) -> OutlineLesson | None:
        """Return the lesson a reader starts with."""
        return self.lessons[0] if self.lessons else None

    @property
    def menu_html(self) -> SafeString:
        """Return the course menu with nothing marked."""
        return mark_safe("".join(self._menu_parts))  # noqa: S308 (our own template's output)

    def neighbours(self, lesson_id: int) -> tuple[OutlineLesson | None, OutlineLesson | None]:
        """Return the lessons before and after one lesson, across chapter boundaries."""
        i = self._position.get(lesson_id)
        if i is None:
            return None, None
        before = self.lessons[i - 1] if i > 0 else None
        after = self.lessons[i + 1] if i + 1 < len(self.lessons) else None
        return before, after

    def menu_for(self, lesson_id: int, *, read: Iterable[int] = ()) -> SafeString:
        """Return the course menu with one lesson current, its chapter open, and read lessons ✓."""
        read = set(read)
        if read:
            pieces = []
            for lesson, part in zip(self.lessons, self._menu_parts, strict=False):
                pieces.append(part)
                if lesson.id in read:
                    pieces.append(READ_MARK)
            pieces.append(self._menu_parts[-1])
            html = "".join(pieces)
        else:
            html = "".join(self._menu_parts)
        i = self._position.get(lesson_id)
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


def build_outlines(
    courses: Iterable[Course | CourseVersion], *, include_drafts: bool
) -> dict[int, CourseOutline]:
    """Query the outlines of several courses: one query, whatever their size."""
    by_id = {course.id: course for course in courses}
    if not by_id:
        return {}
    # Reading order within each course; rows of different courses are told apart below.
    lessons = Lesson.objects.filter(chapter__course__in=by_id).in_reading_order()
    if not include_drafts:
        lessons = lessons.published()
    rows = lessons.values_list(
        "id",
        "slug",
        "title",
        "summary",
        "status",
        "chapter_id",
        "chapter__course_id",
        "chapter__slug",
        "chapter__title",
        "chapter__summary",
    )
    chapters: dict[int, list[OutlineChapter]] = {course_id: [] for course_id in by_id}
    lessons_of: dict[int, list[OutlineLesson]] = {}
    for row in rows:
        id_, slug, title, summary, status, chapter_id, course_id, ch_slug, ch_title, ch_sum = row
        if chapter_id not in lessons_of:
            lessons_of[chapter_id] = []
            chapters[course_id].append(OutlineChapter(chapter_id, ch_slug, ch_title, ch_sum, ()))
        lessons_of[chapter_id].append(
            OutlineLesson(
                id=id_,
                slug=slug,
                title=title,
                summary=summary,
                url=reverse(
                    "lessons:lesson",
                    kwargs={"course": by_id[course_id].slug, "chapter": ch_slug, "lesson": slug},
                ),
                chapter_id=chapter_id,
                is_draft=status != Status.PUBLISHED,
            )
        )
    return {
        course_id: CourseOutline(
            course.title,
            reverse("courses:course", kwargs={"course": course.slug}),
            tuple(ch._replace(lessons=tuple(lessons_of[ch.id])) for ch in chapters[course_id]),
        )
        for course_id, course in by_id.items()
    }


def build_outline(course: Course | CourseVersion, *, include_drafts: bool) -> CourseOutline:
    """Query the outline of a course: one query, whatever the number of lessons."""
    return build_outlines([course], include_drafts=include_drafts)[course.id]


def course_outlines(
    courses: Iterable[Course | CourseVersion], *, include_drafts: bool
) -> dict[int, CourseOutline]:
    """Return the cached outlines of several courses; at most one query builds the missing."""
    audience = "staff" if include_drafts else "public"
    versions = [c if isinstance(c, CourseVersion) else CourseVersion.of(c) for c in courses]
    keys = {f"course-outline:{v.id}:{v.stamp}:{audience}": v for v in versions}
    found = cache.get_many(keys)
    outlines = {keys[key].id: outline for key, outline in found.items()}
    missing = [v for key, v in keys.items() if key not in found]
    if missing:
        built = build_outlines(missing, include_drafts=include_drafts)
        cache.set_many(
            {key: built[v.id] for key, v in keys.items() if key not in found},
            OUTLINE_CACHE_SECONDS,
        )
        outlines.update(built)
    return outlines


def course_outline(course: Course | CourseVersion, *, include_drafts: bool) -> CourseOutline:
    """Return the cached outline of a course, as staff or as learners see it."""
    return course_outlines([course], include_drafts=include_drafts)[course.id]
