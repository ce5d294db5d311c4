from __future__ import annotations

import pytest

from courses.models import Course
from lessons.models import Lesson, Status
from lessons.navigation import build_outline, course_outline
from tests.factories import ChapterFactory, CourseFactory, LessonFactory

pytestmark = pytest.mark.usefixtures("clear_cache")


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


def test_outline_is_one_query_for_a_thousand_lessons(make_course, django_assert_num_queries):
    course = make_course(chapters=10, lessons_per_chapter=100)

    with django_assert_num_queries(1):
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
