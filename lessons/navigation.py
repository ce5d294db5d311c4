"""The course outline behind the course menu, the course page and previous/next links.

One query fetches every lesson of a course with its chapter, and one more the course's
exercises; the outline, with its menu already rendered to HTML, is cached under the
course's version (its `updated` stamp, which every content change bumps, an exercise's
too), so an edit shows up at once and a warm page costs no query and almost no template
work for navigation.

Exercises live in the exercises app, a layer above this one: it registers the function
that lists them (`register_outline_exercises`), and the outline places each exercise after
its lesson (`course_path`), so the menu, the course page and an exercise's "Next" link
follow one order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
# Written by the menu template at the end of every lesson's and exercise's link text, in
# course order (`CourseOutline.path`); splitting on it lets a reader's ✓ marks and scores go
# in without rendering again.
MENU_ITEM_END = "<!--item-end-->"
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


class OutlineExercise(NamedTuple):
    """An exercise as the outline shows it, listed by the exercises app."""

    id: int
    slug: str
    title: str
    summary: str
    url: str
    points: int
    course_id: int
    lesson_id: int | None
    is_draft: bool

    kind = "exercise"


class OutlineLesson(NamedTuple):
    id: int
    slug: str
    title: str
    summary: str
    url: str
    chapter_id: int
    is_draft: bool
    # Those of the outline that practise this lesson, in course order.
    exercises: tuple[OutlineExercise, ...] = ()
    # The ids of the lesson's quiz questions.
    quiz_ids: tuple[str, ...] = ()

    kind = "lesson"


# A place in the course a learner goes through: a lesson or an exercise.
Step = OutlineLesson | OutlineExercise

# (course_ids=, include_drafts=) -> the exercises of those courses, in their order.
ExerciseLister = Callable[..., Iterable[OutlineExercise]]
_exercise_listers: list[ExerciseLister] = []


def register_outline_exercises(lister: ExerciseLister) -> None:
    """Make outlines list exercises through this function (one at a time)."""
    _exercise_listers[:] = [lister]


def _list_exercises(course_ids: list[int], *, include_drafts: bool) -> list[OutlineExercise]:
    if not _exercise_listers:
        return []
    return list(_exercise_listers[0](course_ids=course_ids, include_drafts=include_drafts))


def course_path(
    lessons: Sequence[OutlineLesson], exercises: Iterable[OutlineExercise]
) -> tuple[Step, ...]:
    """Return the order a learner goes through a course in.

    Each lesson comes first, then the exercises that practise it, then the next lesson.
    Exercises of no lesson in `lessons` (none, or one not shown) come after the last lesson.
    `exercises` is taken in the order given.
    """
    shown = {lesson.id for lesson in lessons}
    attached: dict[int, list[OutlineExercise]] = {}
    loose = []
    for exercise in exercises:
        if exercise.lesson_id in shown:
            attached.setdefault(exercise.lesson_id, []).append(exercise)
        else:
            loose.append(exercise)
    path: list[Step] = []
    for lesson in lessons:
        path.append(lesson)
        path.extend(attached.get(lesson.id, ()))
    return (*path, *loose)


class OutlineChapter(NamedTuple):
    id: int
    slug: str
    title: str
    summary: str
    lessons: tuple[OutlineLesson, ...]


class CourseOutline:
    """The chapters, lessons and exercises of a course in course order, and its menu as HTML.

    `path` is every lesson and exercise in the order a learner goes through them
    (`course_path`); each lesson's `exercises` and the outline's `loose_exercises` (those
    of no lesson shown) are that same order, grouped for display.
    """

    def __init__(
        self,
        title: str,
        url: str,
        chapters: tuple[OutlineChapter, ...],
        exercises: Iterable[OutlineExercise] = (),
    ) -> None:
        self.title = title
        self.url = url
        lessons = [lesson for chapter in chapters for lesson in chapter.lessons]
        self.path = course_path(lessons, exercises)
        exercises_of: dict[int, list[OutlineExercise]] = {lesson.id: [] for lesson in lessons}
        loose = []
        for step in self.path:
            if step.kind == "exercise":
                exercises_of.get(step.lesson_id, loose).append(step)
        self.chapters = tuple(
            chapter._replace(
                lessons=tuple(
                    lesson._replace(exercises=tuple(exercises_of[lesson.id]))
                    for lesson in chapter.lessons
                )
            )
            for chapter in chapters
        )
        self.lessons = tuple(lesson for chapter in self.chapters for lesson in chapter.lessons)
        self._position = {lesson.id: i for i, lesson in enumerate(self.lessons)}
        # The same steps, with each lesson now carrying its exercises.
        self.path = tuple(
            self.lessons[self._position[step.id]] if step.kind == "lesson" else step
            for step in self.path
        )
        self.exercises = tuple(step for step in self.path if step.kind == "exercise")
        self.loose_exercises = tuple(loose)
        self._path_position = {(step.kind, step.id): i for i, step in enumerate(self.path)}
        # One piece before each step's end of link, and the rest of the menu after the last.
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
    def quiz_ids(self) -> dict[int, tuple[str, ...]]:
        """Return the quiz question ids of each lesson that has any, by lesson id."""
        # Computed, not stored: outlines cached before quizzes existed unpickle without it.
        return {lesson.id: lesson.quiz_ids for lesson in self.lessons if lesson.quiz_ids}

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

    def lesson(self, lesson_id: int) -> OutlineLesson | None:
        """Return a lesson of the outline by its id."""
        i = self._position.get(lesson_id)
        return None if i is None else self.lessons[i]

    def step_after(self, step: Step) -> Step | None:
        """Return the lesson or exercise that follows one in course order, or None."""
        i = self._path_position.get((step.kind, step.id))
        if i is None or i + 1 == len(self.path):
            return None
        return self.path[i + 1]

    def exercise(self, exercise_id: int) -> OutlineExercise | None:
        """Return an exercise of the outline by its id."""
        i = self._path_position.get(("exercise", exercise_id))
        return None if i is None else self.path[i]

    def menu_for(
        self,
        lesson_id: int,
        *,
        read: Iterable[int] = (),
        exercise_marks: Mapping[int, str] | None = None,
        lesson_marks: Mapping[int, str] | None = None,
    ) -> SafeString:
        """Return the course menu with one lesson current, its chapter open, read lessons ✓.

        `exercise_marks` maps an exercise's id to HTML (a reader's status there) written
        at the end of its entry; `lesson_marks` does the same for lessons (their quiz score).
        """
        read = set(read)
        marks = exercise_marks or {}
        lesson_marks = lesson_marks or {}
        if read or marks or lesson_marks:
            pieces = []
            for step, part in zip(self.path, self._menu_parts, strict=False):
                pieces.append(part)
                if step.kind == "lesson":
                    if step.id in read:
                        pieces.append(READ_MARK)
                    if step.id in lesson_marks:
                        pieces.append(lesson_marks[step.id])
                elif step.kind == "exercise" and step.id in marks:
                    pieces.append(marks[step.id])
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
        exercises = (exercise for exercise in self.exercises if not exercise.is_draft)
        return CourseOutline(self.title, self.url, tuple(chapters), exercises)


def build_outlines(
    courses: Iterable[Course | CourseVersion], *, include_drafts: bool
) -> dict[int, CourseOutline]:
    """Query the outlines of several courses: two queries, whatever their size."""
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
        "quiz_ids",
    )
    chapters: dict[int, list[OutlineChapter]] = {course_id: [] for course_id in by_id}
    lessons_of: dict[int, list[OutlineLesson]] = {}
    for row in rows:
        (id_, slug, title, summary, status, chapter_id, course_id, ch_slug, ch_title, ch_sum) = row[
            :10
        ]
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
                quiz_ids=tuple(row[10] or ()),
            )
        )
    exercises: dict[int, list[OutlineExercise]] = {course_id: [] for course_id in by_id}
    for exercise in _list_exercises(list(by_id), include_drafts=include_drafts):
        exercises[exercise.course_id].append(exercise)
    return {
        course_id: CourseOutline(
            course.title,
            reverse("courses:course", kwargs={"course": course.slug}),
            tuple(ch._replace(lessons=tuple(lessons_of[ch.id])) for ch in chapters[course_id]),
            exercises[course_id],
        )
        for course_id, course in by_id.items()
    }


def build_outline(course: Course | CourseVersion, *, include_drafts: bool) -> CourseOutline:
    """Query the outline of a course: two queries, whatever the number of lessons."""
    return build_outlines([course], include_drafts=include_drafts)[course.id]


def course_outlines(
    courses: Iterable[Course | CourseVersion], *, include_drafts: bool
) -> dict[int, CourseOutline]:
    """Return the cached outlines of several courses; at most two queries build the missing."""
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
