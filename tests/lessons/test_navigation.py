from __future__ import annotations

import pytest

from courses.models import Course, Status
from lessons.models import Lesson
from lessons.navigation import (
    MENU_ITEM_END,
    READ_MARK,
    CourseVersion,
    OutlineExercise,
    OutlineLesson,
    build_outline,
    course_outline,
    course_outlines,
    course_path,
    course_version,
)
from tests.factories import ChapterFactory, CourseFactory, ExerciseFactory, LessonFactory


@pytest.fixture
def course(db):
    """Two chapters, listed out of creation order, with a draft in the middle."""
    course = CourseFactory()
    second = ChapterFactory(course=course, slug="second", title="Second", order=2)
    first = ChapterFactory(course=course, slug="first", title="First", order=1)
    LessonFactory(chapter=first, slug="b", title="B", order=2)
    LessonFactory(chapter=first, slug="a", title="A", order=1)
    LessonFactory(chapter=first, slug="draft", title="Draft", order=3, status=Status.DRAFT)
    LessonFactory(chapter=second, slug="c", title="C", order=1)
    return Course.objects.get(pk=course.pk)


def test_outline_lists_chapters_and_lessons_in_reading_order(course):
    outline = build_outline(course, include_drafts=True)

    assert [ch.slug for ch in outline.chapters] == ["first", "second"]
    assert [lesson.slug for lesson in outline.lessons] == ["a", "b", "draft", "c"]


def test_outline_for_learners_leaves_out_drafts(course):
    outline = build_outline(course, include_drafts=False)

    assert [lesson.slug for lesson in outline.lessons] == ["a", "b", "c"]


def test_outline_marks_drafts(course):
    outline = build_outline(course, include_drafts=True)

    assert {lesson.slug: lesson.is_draft for lesson in outline.lessons} == {
        "a": False,
        "b": False,
        "draft": True,
        "c": False,
    }


def test_outline_urls_are_the_lessons_urls(course):
    outline = build_outline(course, include_drafts=True)

    lessons = {lesson.id: lesson for lesson in Lesson.objects.filter(chapter__course=course)}
    assert [item.url for item in outline.lessons] == [
        lessons[item.id].get_absolute_url() for item in outline.lessons
    ]


def test_neighbours_cross_chapter_boundaries(course):
    outline = build_outline(course, include_drafts=False)
    a, b, c = outline.lessons

    assert outline.neighbours(a.id) == (None, b)
    assert outline.neighbours(b.id) == (a, c)
    assert outline.neighbours(c.id) == (b, None)


def test_neighbours_of_an_unknown_lesson_are_none(course):
    outline = build_outline(course, include_drafts=False)

    assert outline.neighbours(-1) == (None, None)


def test_first_is_the_first_lesson_of_the_first_chapter(course):
    assert build_outline(course, include_drafts=False).first.slug == "a"


def test_empty_course_has_no_first_lesson(db):
    outline = build_outline(CourseFactory(), include_drafts=True)

    assert len(outline) == 0
    assert outline.first is None


def test_published_view_shows_only_the_kept_draft_as_if_published(course):
    outline = build_outline(course, include_drafts=True)
    draft = next(lesson for lesson in outline.lessons if lesson.is_draft)

    preview = outline.published(keep=draft.id)

    assert [lesson.slug for lesson in preview.lessons] == ["a", "b", "draft", "c"]
    assert not any(lesson.is_draft for lesson in preview.lessons)
    assert [lesson.slug for lesson in outline.published().lessons] == ["a", "b", "c"]


def test_published_view_drops_chapters_left_empty(db):
    course = CourseFactory()
    LessonFactory(chapter__course=course, status=Status.DRAFT)
    LessonFactory(chapter__course=course)

    outline = build_outline(course, include_drafts=True).published()

    assert len(outline.chapters) == 1


def test_outline_is_two_queries_for_a_thousand_lessons(make_course, django_assert_num_queries):
    course = make_course(chapters=10, lessons_per_chapter=100)

    with django_assert_num_queries(2):  # the lessons, the exercises
        outline = build_outline(course, include_drafts=False)

    assert len(outline) == 1000


def test_course_outline_is_served_from_the_cache(course, django_assert_num_queries):
    course_outline(course, include_drafts=False)

    with django_assert_num_queries(0):
        outline = course_outline(course, include_drafts=False)

    assert len(outline) == 3


def test_course_outline_is_cached_separately_for_staff(course):
    public = course_outline(course, include_drafts=False)
    staff = course_outline(course, include_drafts=True)

    assert len(public) == 3
    assert len(staff) == 4


def test_saving_a_lesson_refreshes_the_cached_outline(course):
    course_outline(course, include_drafts=False)
    lesson = course.chapters.get(slug="second").lessons.get()
    lesson.title = "Renamed"
    lesson.save()

    course.refresh_from_db()
    outline = course_outline(course, include_drafts=False)

    assert "Renamed" in [item.title for item in outline.lessons]


# Course versions


def test_course_version_reads_id_slug_title_and_stamp(course):
    version = course_version(course.slug)

    assert version == CourseVersion.of(course)
    assert (version.id, version.slug, version.title) == (course.id, course.slug, course.title)


def test_course_version_of_an_unknown_course_is_none(db):
    assert course_version("no-such-course") is None


def test_course_version_is_one_query(course, django_assert_num_queries):
    with django_assert_num_queries(1):
        course_version(course.slug)


def test_course_version_changes_when_a_lesson_is_saved(course):
    before = course_version(course.slug)
    lesson = Lesson.objects.filter(chapter__course=course).first()
    lesson.title = "Edited"
    lesson.save()

    assert course_version(course.slug).stamp != before.stamp


def test_course_outline_accepts_a_version_and_shares_the_cache_with_the_course(
    course, django_assert_num_queries
):
    course_outline(course, include_drafts=False)

    with django_assert_num_queries(1):  # the version; the outline comes from the cache
        outline = course_outline(course_version(course.slug), include_drafts=False)

    assert len(outline) == 3


# Several courses at once


def test_outlines_of_several_courses_cost_two_queries(make_course, django_assert_num_queries):
    courses = [make_course(chapters=2, lessons_per_chapter=3) for _ in range(4)]

    with django_assert_num_queries(2):
        outlines = course_outlines(courses, include_drafts=False)

    assert [len(outlines[course.id]) for course in courses] == [6, 6, 6, 6]
    assert outlines[courses[2].id].url == f"/courses/{courses[2].slug}/"


def test_outlines_of_several_courses_come_from_the_cache_once_built(
    make_course, django_assert_num_queries
):
    courses = [make_course(chapters=1, lessons_per_chapter=2) for _ in range(3)]
    course_outlines(courses[:2], include_drafts=False)

    with django_assert_num_queries(2):  # only the third course is built
        course_outlines(courses, include_drafts=False)
    with django_assert_num_queries(0):
        outlines = course_outlines(courses, include_drafts=False)

    assert set(outlines) == {course.id for course in courses}


def test_outline_of_a_course_without_lessons_is_empty(db):
    empty = CourseFactory()

    assert len(course_outlines([empty], include_drafts=True)[empty.id]) == 0


# The menu


def menu_entry(html: str, lesson) -> str:
    start = html.index(f'<a href="{lesson.url}"')
    return html[start : html.index("</a>", start)]


def test_menu_marks_read_lessons_with_a_tick_and_hidden_text(course):
    outline = build_outline(course, include_drafts=False)
    a, b, c = outline.lessons

    html = outline.menu_for(b.id, read={a.id, c.id})

    assert READ_MARK in menu_entry(html, a)
    assert READ_MARK in menu_entry(html, c)
    assert READ_MARK not in menu_entry(html, b)
    assert '<span class="visually-hidden"> (read)</span>' in READ_MARK
    assert 'aria-current="page"' in html[html.index(f'<a href="{b.url}"') :][:120]


def test_menu_ignores_read_lessons_that_are_not_in_it(course):
    outline = build_outline(course, include_drafts=False)

    html = outline.menu_for(outline.lessons[0].id, read={-5})

    assert "read-mark" not in html


def test_menu_html_carries_no_internal_markers(course):
    outline = build_outline(course, include_drafts=False)

    assert MENU_ITEM_END not in outline.menu_html
    assert MENU_ITEM_END not in outline.menu_for(
        outline.lessons[0].id, read={outline.lessons[1].id}
    )


# Exercises in the outline


def outline_exercise(id_: int, lesson_id: int | None, **fields) -> OutlineExercise:
    return OutlineExercise(
        id=id_,
        slug=f"e{id_}",
        title=f"E{id_}",
        summary="",
        url=f"/exercises/e{id_}/",
        points=5,
        course_id=1,
        lesson_id=lesson_id,
        is_draft=False,
        **fields,
    )


def test_course_path_puts_each_lesson_before_its_exercises_and_the_rest_last():
    a, b = (
        OutlineLesson(id=i, slug=s, title=s, summary="", url=f"/{s}/", chapter_id=1, is_draft=False)
        for i, s in ((1, "a"), (2, "b"))
    )
    on_b, on_a, nowhere, on_hidden = (
        outline_exercise(10, 2),
        outline_exercise(11, 1),
        outline_exercise(12, None),
        outline_exercise(13, 99),
    )

    path = course_path([a, b], [on_b, nowhere, on_a, on_hidden])

    assert path == (a, on_a, b, on_b, nowhere, on_hidden)


@pytest.fixture
def exercises(course):
    """Two exercises on lesson "a" (listed by their order), one on "c", a draft, a loose one."""
    lessons = {lesson.slug: lesson for lesson in Lesson.objects.filter(chapter__course=course)}
    made = {
        "a2": ExerciseFactory(course=course, lesson=lessons["a"], slug="a2", order=2, points=6),
        "a1": ExerciseFactory(course=course, lesson=lessons["a"], slug="a1", order=1, points=4),
        "c1": ExerciseFactory(course=course, lesson=lessons["c"], slug="c1", order=3, points=1),
        "wip": ExerciseFactory(
            course=course, lesson=lessons["b"], slug="wip", order=4, status=Status.DRAFT
        ),
        "free": ExerciseFactory(course=course, lesson=None, slug="free", order=0, points=2),
        "on-draft": ExerciseFactory(
            course=course, lesson=lessons["draft"], slug="on-draft", order=5
        ),
    }
    course.refresh_from_db()  # saving the exercises bumped its version
    return made


def slugs(steps) -> list[str]:
    return [step.slug for step in steps]


def test_outline_lists_each_lessons_exercises_in_their_order(course, exercises):
    outline = build_outline(course, include_drafts=False)

    assert {lesson.slug: slugs(lesson.exercises) for lesson in outline.lessons} == {
        "a": ["a1", "a2"],
        "b": [],
        "c": ["c1"],
    }
    # "on-draft" practises a lesson learners cannot see yet: it is listed after the lessons.
    assert slugs(outline.loose_exercises) == ["free", "on-draft"]
    assert slugs(outline.path) == ["a", "a1", "a2", "b", "c", "c1", "free", "on-draft"]
    assert [exercise.points for exercise in outline.lessons[0].exercises] == [4, 6]
    assert outline.lessons[0].exercises[0].url == "/exercises/a1/"


def test_outline_for_staff_shows_draft_exercises_marked(course, exercises):
    outline = build_outline(course, include_drafts=True)
    lessons = {lesson.slug: lesson for lesson in outline.lessons}

    assert slugs(lessons["b"].exercises) == ["wip"]
    assert lessons["b"].exercises[0].is_draft
    assert slugs(lessons["draft"].exercises) == ["on-draft"]
    assert slugs(outline.loose_exercises) == ["free"]


def test_published_view_of_the_staff_outline_drops_draft_exercises(course, exercises):
    outline = build_outline(course, include_drafts=True)
    draft = next(lesson for lesson in outline.lessons if lesson.is_draft)

    preview = outline.published(keep=draft.id)

    assert "wip" not in slugs(preview.exercises)
    assert slugs(preview.lesson(draft.id).exercises) == ["on-draft"]


def test_step_after_goes_through_exercises_then_to_the_next_lesson(course, exercises):
    outline = build_outline(course, include_drafts=False)
    a, b, c = outline.lessons
    a1, a2 = a.exercises

    assert outline.step_after(a) == a1
    assert outline.step_after(a1) == a2
    assert outline.step_after(a2) == b
    assert outline.step_after(b) == c
    assert outline.step_after(outline.exercise(exercises["c1"].id)).slug == "free"
    assert outline.step_after(outline.exercise(exercises["on-draft"].id)) is None
    assert outline.exercise(exercises["wip"].id) is None


def test_outline_is_two_queries_however_many_exercises(make_course, django_assert_num_queries):
    course = make_course(chapters=3, lessons_per_chapter=20)
    lessons = list(Lesson.objects.filter(chapter__course=course))
    for i, lesson in enumerate(lessons):
        ExerciseFactory(course=course, lesson=lesson, order=i)

    with django_assert_num_queries(2):
        outline = build_outline(course, include_drafts=False)

    assert len(outline.exercises) == 60
    assert all(len(lesson.exercises) == 1 for lesson in outline.lessons)


def test_saving_an_exercise_refreshes_the_cached_outline(course, exercises):
    course_outline(course, include_drafts=False)
    exercise = exercises["c1"]
    exercise.title = "Renamed exercise"
    exercise.save()

    course.refresh_from_db()
    outline = course_outline(course, include_drafts=False)

    assert "Renamed exercise" in [exercise.title for exercise in outline.exercises]


def test_menu_lists_exercises_under_their_lesson_with_points(course, exercises):
    html = build_outline(course, include_drafts=False).menu_html

    lesson_a = html.index('<a href="/courses/')
    first = html.index('href="/exercises/a1/"')
    lesson_b = html.index(">B<")
    assert lesson_a < first < html.index('href="/exercises/a2/"') < lesson_b
    a1 = exercises["a1"].title
    meta = '<span class="course-nav__meta">Exercise · 4 pts</span>'
    assert f'href="/exercises/a1/">{a1} {meta}' in html
    assert "Exercise · 6 pts</span></a>" in html
    assert "Exercise · 1 pt</span></a>" in html
    assert "More exercises" in html
    assert 'href="/exercises/wip/"' not in html


def test_menu_writes_a_readers_marks_at_the_end_of_their_exercises(course, exercises):
    outline = build_outline(course, include_drafts=False)
    a = outline.lessons[0]
    a2 = exercises["a2"]

    html = outline.menu_for(a.id, read={a.id}, exercise_marks={a2.id: " · MARK"})

    entry = html[html.index('href="/exercises/a2/"') :]
    assert entry[: entry.index("</a>")].endswith("Exercise · 6 pts · MARK</span>")
    assert html.count("MARK") == 1
    assert READ_MARK in menu_entry(html, a)
    assert MENU_ITEM_END not in html
