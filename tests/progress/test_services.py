from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Status
from exercises.models import Submission
from lessons.models import Lesson
from lessons.navigation import build_outline
from progress.models import LessonProgress
from progress.services import (
    NOT_STARTED,
    CourseProgress,
    ExerciseStatus,
    course_progress,
    courses_progress,
    exercise_statuses,
    lesson_mark_read,
    lesson_mark_unread,
    next_lesson,
)
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    ExerciseFactory,
    LessonFactory,
    SubmissionFactory,
    UserFactory,
)


@pytest.fixture
def course(db):
    """Two chapters: a, b, a draft, then c, d."""
    course = CourseFactory(slug="web")
    one = ChapterFactory(course=course, slug="one", order=1)
    two = ChapterFactory(course=course, slug="two", order=2)
    for order, slug in enumerate(["a", "b"]):
        LessonFactory(chapter=one, slug=slug, title=slug.upper(), order=order)
    LessonFactory(chapter=one, slug="draft", order=9, status=Status.DRAFT)
    for order, slug in enumerate(["c", "d"]):
        LessonFactory(chapter=two, slug=slug, title=slug.upper(), order=order)
    return course


def lesson(course, slug: str) -> Lesson:
    return Lesson.objects.get(chapter__course=course, slug=slug)


def read(learner, course, *slugs: str, start=None) -> None:
    """Mark lessons read in this order, a minute apart."""
    start = start or timezone.now() - timedelta(hours=1)
    for i, slug in enumerate(slugs):
        progress = lesson_mark_read(learner=learner, lesson=lesson(course, slug))
        LessonProgress.objects.filter(pk=progress.pk).update(read_at=start + timedelta(minutes=i))


def submit(learner, exercise, status: str | None, score: int = 0) -> Submission:
    """Save a submission graded with this verdict and score (None: still queued)."""
    graded = {"verdict": status, "score": score} if status else {}
    return SubmissionFactory(learner=learner, exercise=exercise, **graded)


# Marking lessons


def test_marking_a_lesson_read_records_it(learner, course):
    lesson_mark_read(learner=learner, lesson=lesson(course, "a"))

    assert LessonProgress.objects.filter(learner=learner, lesson__slug="a").exists()


def test_marking_a_lesson_read_twice_keeps_one_record_and_its_first_time(learner, course):
    first = lesson_mark_read(learner=learner, lesson=lesson(course, "a"))
    again = lesson_mark_read(learner=learner, lesson=lesson(course, "a"))

    assert again.pk == first.pk
    assert again.read_at == first.read_at
    assert LessonProgress.objects.count() == 1


def test_marking_a_lesson_unread_forgets_it_for_that_learner_only(learner, course):
    other = UserFactory()
    lesson_mark_read(learner=learner, lesson=lesson(course, "a"))
    lesson_mark_read(learner=other, lesson=lesson(course, "a"))

    lesson_mark_unread(learner=learner, lesson=lesson(course, "a"))

    assert list(LessonProgress.objects.values_list("learner", flat=True)) == [other.pk]


def test_marking_an_unread_lesson_unread_is_harmless(learner, course):
    lesson_mark_unread(learner=learner, lesson=lesson(course, "a"))

    assert not LessonProgress.objects.exists()


# Counting


def test_progress_counts_published_lessons_read_by_this_learner(learner, course):
    read(learner, course, "a", "c", "draft")
    read(UserFactory(), course, "b", "d")

    progress = course_progress(learner=learner, course=course)

    assert (progress.lessons_read, progress.lessons_total) == (2, 4)
    assert progress.read_ids == {lesson(course, "a").id, lesson(course, "c").id}


def test_progress_ignores_lessons_read_in_other_courses(learner, course):
    other = LessonFactory(chapter__course=CourseFactory())
    lesson_mark_read(learner=learner, lesson=other)

    assert course_progress(learner=learner, course=course).lessons_read == 0


def test_an_exercise_is_done_once_a_submission_passed(learner, course):
    passed, failed, _untried = (ExerciseFactory(course=course) for _ in range(3))
    submit(learner, passed, "failed")
    submit(learner, passed, "passed", score=10)
    submit(learner, failed, "failed", score=4)
    submit(learner, failed, None)

    progress = course_progress(learner=learner, course=course)

    assert (progress.exercises_done, progress.exercises_total) == (1, 3)


def test_a_later_failed_attempt_does_not_undo_a_pass(learner, course):
    exercise = ExerciseFactory(course=course)
    submit(learner, exercise, "passed", score=10)
    submit(learner, exercise, "failed", score=2)

    assert course_progress(learner=learner, course=course).exercises_done == 1


def test_another_learners_pass_does_not_count(learner, course):
    exercise = ExerciseFactory(course=course)
    submit(UserFactory(), exercise, "passed", score=10)

    assert course_progress(learner=learner, course=course).exercises_done == 0


def test_draft_exercises_are_not_counted(learner, course):
    draft = ExerciseFactory(course=course, status=Status.DRAFT)
    submit(learner, draft, "passed", score=10)

    progress = course_progress(learner=learner, course=course)

    assert (progress.exercises_done, progress.exercises_total) == (0, 0)


def test_percent_counts_lessons_and_exercises_together_rounded_down(learner, course):
    ExerciseFactory(course=course)
    ExerciseFactory(course=course)
    read(learner, course, "a")

    # 1 of 4 lessons and 0 of 2 exercises: 1/6.
    assert course_progress(learner=learner, course=course).percent == 16


@pytest.mark.parametrize(
    ("counts", "summary"),
    [
        ((5, 12, 1, 5), "5 of 12 lessons read · 1 of 5 exercises done"),
        ((0, 1, 0, 1), "0 of 1 lesson read · 0 of 1 exercise done"),
        ((3, 4, 0, 0), "3 of 4 lessons read"),
    ],
)
def test_summary_says_what_is_done_in_words(counts, summary):
    read_, lessons, done, exercises = counts
    progress = CourseProgress(
        lessons_total=lessons,
        lessons_read=read_,
        exercises_total=exercises,
        exercises_done=done,
        next_lesson=None,
    )

    assert progress.summary == summary


def test_an_empty_course_is_zero_percent_and_not_complete():
    progress = CourseProgress(0, 0, 0, 0, next_lesson=None)

    assert progress.percent == 0
    assert not progress.started
    assert not progress.complete


def test_a_course_is_complete_when_every_lesson_and_exercise_is_done(learner, course):
    exercise = ExerciseFactory(course=course)
    read(learner, course, "a", "b", "c", "d")
    assert not course_progress(learner=learner, course=course).complete

    submit(learner, exercise, "passed", score=10)
    progress = course_progress(learner=learner, course=course)

    assert progress.complete
    assert progress.percent == 100


# Status on each exercise


def test_each_exercise_has_a_status_with_the_best_score(learner, course):
    untouched, tried, done, draft = (
        ExerciseFactory(course=course),
        ExerciseFactory(course=course),
        ExerciseFactory(course=course),
        ExerciseFactory(course=course, status=Status.DRAFT),
    )
    SubmissionFactory(learner=learner, exercise=tried, verdict="failed", score=4, max_score=6)
    submit(learner, tried, "failed", score=2)
    submit(learner, done, "passed", score=10)
    submit(learner, draft, "passed", score=10)

    progress = course_progress(learner=learner, course=course)

    assert progress.status_of(untouched.id) == NOT_STARTED
    assert progress.status_of(tried.id) == ExerciseStatus(
        passed=False, attempted=True, best_score=4, best_max_score=6
    )
    assert progress.status_of(done.id) == ExerciseStatus(
        passed=True, attempted=True, best_score=10, best_max_score=10
    )
    assert draft.id not in progress.exercise_statuses  # not counted, like in the totals
    assert (progress.exercises_total, progress.exercises_done) == (3, 1)


def test_a_submission_still_queued_makes_an_exercise_attempted_without_a_score(learner, course):
    exercise = ExerciseFactory(course=course)
    submit(learner, exercise, None)

    status = exercise_statuses(learner=learner, course_ids=[course.id])[course.id][exercise.id]

    assert (status.state, status.label, status.best) == ("attempted", "Attempted", "")


@pytest.mark.parametrize(
    ("status", "state", "label", "best"),
    [
        (ExerciseStatus(), "not-started", "Not started", ""),
        (
            ExerciseStatus(attempted=True, best_score=4, best_max_score=6),
            "attempted",
            "Attempted",
            "4/6",
        ),
        (
            ExerciseStatus(passed=True, attempted=True, best_score=6, best_max_score=6),
            "passed",
            "Passed",
            "6/6",
        ),
    ],
)
def test_a_status_says_itself_in_words(status, state, label, best):
    assert (status.state, status.label, status.best) == (state, label, best)


def test_statuses_of_every_course_asked_for_cost_one_query(
    learner, course, django_assert_num_queries
):
    other = CourseFactory()
    for n in range(30):
        exercise = ExerciseFactory(course=course if n % 2 else other)
        submit(learner, exercise, "failed", score=n % 7)

    with django_assert_num_queries(1):
        statuses = exercise_statuses(learner=learner, course_ids=[course.id, other.id, -1])

    assert [len(statuses[key]) for key in (course.id, other.id, -1)] == [15, 15, 0]
    assert all(status.attempted for status in statuses[course.id].values())


# Where to continue


def test_a_new_learner_starts_with_the_first_lesson(learner, course):
    progress = course_progress(learner=learner, course=course)

    assert progress.next_lesson.slug == "a"
    assert not progress.started


def test_next_lesson_follows_the_most_recently_read_one(learner, course):
    read(learner, course, "a", "b")

    assert course_progress(learner=learner, course=course).next_lesson.slug == "c"


def test_next_lesson_skips_lessons_already_read_across_chapters(learner, course):
    read(learner, course, "b", "a")

    assert course_progress(learner=learner, course=course).next_lesson.slug == "c"


def test_next_lesson_goes_by_when_lessons_were_read_not_by_their_order(learner, course):
    read(learner, course, "d", start=timezone.now() - timedelta(days=2))
    read(learner, course, "b")

    assert course_progress(learner=learner, course=course).next_lesson.slug == "c"


def test_next_lesson_wraps_to_the_first_unread_lesson(learner, course):
    read(learner, course, "b", "c", "d")

    assert course_progress(learner=learner, course=course).next_lesson.slug == "a"


def test_there_is_no_next_lesson_when_every_lesson_is_read(learner, course):
    read(learner, course, "a", "b", "c", "d")

    assert course_progress(learner=learner, course=course).next_lesson is None


def test_next_lesson_ignores_reads_of_lessons_no_longer_in_the_course(course):
    outline = build_outline(course, include_drafts=False)

    assert next_lesson(outline, {-1: timezone.now()}).slug == "a"


# Queries


def test_progress_for_many_courses_costs_four_queries(learner, django_assert_num_queries):
    courses = []
    for n in range(5):
        course = CourseFactory()
        chapter = ChapterFactory(course=course)
        lessons = Lesson.objects.bulk_create(
            Lesson(chapter=chapter, slug=f"l{i}", title=f"L{i}", order=i, status=Status.PUBLISHED)
            for i in range(n * 10 + 1)
        )
        LessonProgress.objects.bulk_create(
            LessonProgress(learner=learner, lesson=lesson) for lesson in lessons[::2]
        )
        submit(learner, ExerciseFactory(course=course), "passed", score=10)
        courses.append(course)

    # Outlines (lessons, exercises), lessons read, the learner's exercise statuses.
    with django_assert_num_queries(4):
        progress = courses_progress(learner=learner, courses=courses)

    assert [progress[c.id].lessons_total for c in courses] == [1, 11, 21, 31, 41]
    assert [progress[c.id].lessons_read for c in courses] == [1, 6, 11, 16, 21]
    assert all(progress[c.id].exercises_done == 1 for c in courses)


def test_progress_for_no_courses_costs_nothing(learner, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert courses_progress(learner=learner, courses=[]) == {}
