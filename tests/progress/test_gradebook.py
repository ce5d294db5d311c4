"""The gradebook: rows, columns in course order, late policies, totals, filters, CSV, access."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Enrollment, Status
from exercises.models import LatePolicy, Submission, Verdict
from progress.gradebook import course_gradebook, spreadsheet_safe
from tests.factories import (
    ChapterFactory,
    CourseStaffFactory,
    ExerciseFactory,
    LessonFactory,
    SubmissionFactory,
    UserFactory,
    make_submission,
)

pytestmark = pytest.mark.django_db


def late(submission: Submission) -> Submission:
    Submission.objects.filter(pk=submission.pk).update(late=True)
    return submission


def test_columns_follow_course_order_and_drafts_only_when_asked(teach):
    course = teach.course
    first = LessonFactory(chapter=ChapterFactory(course=course, order=1), order=1)
    second = LessonFactory(chapter=ChapterFactory(course=course, order=2), order=1)
    ExerciseFactory(course=course, slug="loose", order=0)
    ExerciseFactory(course=course, slug="of-second", lesson=second, order=0)
    ExerciseFactory(course=course, slug="of-first", lesson=first, order=9)
    ExerciseFactory(course=course, slug="draft", lesson=first, order=10, status=Status.DRAFT)

    published = course_gradebook(course=course)
    with_drafts = course_gradebook(course=course, include_drafts=True)

    assert [c.slug for c in published.columns] == ["of-first", "of-second", "loose"]
    assert [c.slug for c in with_drafts.columns] == ["of-first", "draft", "of-second", "loose"]


def test_rows_are_the_roster_then_learners_who_never_joined_but_not_staff(teach):
    exercise = ExerciseFactory(course=teach.course)
    walk_in = UserFactory(username="walk-in")
    make_submission(walk_in, exercise, status=Verdict.FAILED, score=1)
    make_submission(teach.instructor, exercise, status=Verdict.PASSED, score=3)
    SubmissionFactory(learner=UserFactory(username="elsewhere"))  # another course's exercise

    book = course_gradebook(course=teach.course)

    assert [(row.learner, row.on_roster) for row in book.rows] == [
        (teach.learner, True),
        (walk_in, False),
    ]


def test_cells_count_the_best_under_each_late_policy_and_totals_weigh_by_points(teach):
    learner = teach.learner
    policies = {
        "counts": (LatePolicy.COUNT, 0),
        "ignores": (LatePolicy.IGNORE, 0),
        "halves": (LatePolicy.PENALTY, 50),
    }
    for order, (slug, (policy, penalty)) in enumerate(policies.items()):
        exercise = ExerciseFactory(
            course=teach.course,
            slug=slug,
            order=order,
            points=10,
            late_policy=policy,
            late_penalty=penalty,
        )
        make_submission(learner, exercise, status=Verdict.FAILED, score=1, minutes=-20)
        make_submission(learner, exercise, status=Verdict.ERROR, minutes=-15)  # not an attempt
        late(make_submission(learner, exercise, status=Verdict.PASSED, score=3, minutes=-10))

    book = course_gradebook(course=teach.course)
    counts, ignores, halves = book.rows[0].cells

    assert (counts.score, counts.max_score, counts.attempts) == (3, 3, 2)
    assert counts.late and counts.passed
    assert (ignores.score, ignores.late, ignores.passed, ignores.late_ignored) == (
        1,
        False,
        False,
        1,
    )
    assert (halves.score, halves.late, halves.passed) == (1.5, True, True)
    # 10 * 3/3 + 10 * 1/3 + 10 * 1.5/3
    assert book.rows[0].total == pytest.approx(10 + 10 / 3 + 5)
    assert book.max_total == 30


def test_a_penalised_late_pass_loses_to_a_better_score_on_time(teach):
    exercise = ExerciseFactory(
        course=teach.course, late_policy=LatePolicy.PENALTY, late_penalty=50, points=6
    )
    make_submission(teach.learner, exercise, status=Verdict.FAILED, score=2)
    late(make_submission(teach.learner, exercise, status=Verdict.PASSED, score=3, minutes=1))

    (cell,) = course_gradebook(course=teach.course).rows[0].cells

    assert (cell.score, cell.late, cell.passed) == (2, False, True)


def test_filters_keep_one_exercise_and_the_learners_yet_to_pass_it(teach):
    one = ExerciseFactory(course=teach.course, slug="one", order=1)
    two = ExerciseFactory(course=teach.course, slug="two", order=2)
    done = Enrollment.objects.create(course=teach.course, learner=UserFactory(username="done"))
    make_submission(done.learner, one, status=Verdict.PASSED, score=3)
    make_submission(teach.learner, two, status=Verdict.PASSED, score=3)

    only_one = course_gradebook(course=teach.course, exercise="one", not_passed=True)
    all_of_them = course_gradebook(course=teach.course, not_passed=True)
    unknown = course_gradebook(course=teach.course, exercise="no-such")

    assert [c.slug for c in only_one.columns] == ["one"]
    assert [row.learner for row in only_one.rows] == [teach.learner]
    assert {row.learner for row in all_of_them.rows} == {teach.learner, done.learner}
    assert [c.slug for c in unknown.columns] == ["one", "two"] and unknown.exercise == ""
    assert two  # both exist, so a filter had something to leave out


def _class_of(course, exercises, size: int) -> None:
    """Enrol `size` learners, each with a failed and a passed submission to every exercise."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{course.slug}-{i}", email=f"{i}@example.org")
        for i in range(size)
    )
    Enrollment.objects.bulk_create(Enrollment(course=course, learner=u) for u in users)
    Submission.objects.bulk_create(
        Submission(
            learner=user,
            exercise=exercise,
            framework="flask",
            state=Submission.State.DONE,
            verdict=verdict,
            score=score,
            max_score=3,
            late=late_,
        )
        for user in users
        for exercise in exercises
        for verdict, score, late_ in ((Verdict.FAILED, 1, False), (Verdict.PASSED, 3, True))
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_gradebook_takes_the_same_queries_for_10_and_500_learners(client, teach):
    small, large = teach.course, CourseStaffFactory(user=teach.instructor).course
    for course in (small, large):
        exercises = [ExerciseFactory(course=course, points=5) for _ in range(3)]
        exercises[0].late_policy = LatePolicy.PENALTY
        exercises[0].save()
    _class_of(small, list(small.exercises.all()), 10)
    _class_of(large, list(large.exercises.all()), 500)
    client.force_login(teach.instructor)

    counts = [
        _queries(client, reverse("teach:gradebook", kwargs={"course": c.slug}))
        for c in (small, large)
    ]
    csv_counts = [
        _queries(client, reverse("teach:gradebook_csv", kwargs={"course": c.slug}))
        for c in (small, large)
    ]

    assert counts[0] == counts[1]
    assert csv_counts[0] == csv_counts[1]
    assert len(course_gradebook(course=large).rows) == 500


# The page and the CSV --------------------------------------------------------------------


def test_the_page_shows_cells_links_and_marks(client, teach):
    exercise = ExerciseFactory(course=teach.course, title="Notes API", points=4)
    late(make_submission(teach.learner, exercise, status=Verdict.FAILED, score=2))
    walk_in = UserFactory(username="walk-in")
    make_submission(walk_in, exercise, status=Verdict.PASSED, score=3)
    client.force_login(teach.assistant)

    page = client.get(reverse("teach:gradebook", kwargs={"course": "web"})).content.decode()

    assert "<caption" in page and '<th scope="col"' in page and '<th scope="row"' in page
    assert "2/3" in page and "Late" in page and "Not on roster" in page
    learner_url = reverse("teach:learner", kwargs={"course": "web", "username": "walk-in"})
    assert f'href="{learner_url}"' in page
    analytics = reverse(
        "teach:exercise_analytics", kwargs={"course": "web", "exercise": exercise.slug}
    )
    assert f'href="{analytics}"' in page


def test_csv_has_a_bom_stable_columns_unicode_names_and_no_formulas(client, teach):
    course = teach.course
    ExerciseFactory(course=course, slug="second", order=2, points=10)
    first = ExerciseFactory(course=course, slug="first", order=1, points=6)
    zoe = UserFactory(username="zoe", first_name="Zoë", last_name="Ångström")
    li = UserFactory(username="lilei", first_name="李雷")
    evil = UserFactory(username="evil", first_name='=HYPERLINK("http://x")', last_name="x")
    plus = UserFactory(username="plus", first_name="+1", email="@at@example.org")
    for user in (zoe, li, evil, plus):
        Enrollment.objects.create(course=course, learner=user)
    make_submission(zoe, first, status=Verdict.FAILED, score=2)
    client.force_login(teach.instructor)

    response = client.get(reverse("teach:gradebook_csv", kwargs={"course": "web"}))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert header == ["username", "name", "email", "first", "second", "total", "on_roster"]
    assert body["zoe"][1:] == ["Zoë Ångström", "zoe@example.org", "4", "", "4", "yes"]  # 6 * 2/3
    assert body["lilei"][1] == "李雷"
    assert body["evil"][1] == '\'=HYPERLINK("http://x") x'
    assert body["plus"][1:3] == ["'+1", "'@at@example.org"]
    assert len(body) == 5  # and teach.learner


def test_spreadsheet_safe_leaves_ordinary_text_alone():
    assert spreadsheet_safe("Ada Lovelace") == "Ada Lovelace"
    assert [spreadsheet_safe(t) for t in ("-2+3", "\t=1")] == ["'-2+3", "'\t=1"]


# The learner's page and their submissions ------------------------------------------------


def test_a_learners_page_lists_their_submissions_in_the_course(client, teach):
    exercise = ExerciseFactory(course=teach.course, title="Guestbook")
    mine = make_submission(teach.learner, exercise, status=Verdict.FAILED, score=1)
    elsewhere = SubmissionFactory(learner=teach.learner)
    client.force_login(teach.assistant)

    url = reverse("teach:learner", kwargs={"course": "web", "username": teach.learner.username})
    page = client.get(url).content.decode()

    assert reverse("exercises:submission", kwargs={"pk": mine.pk}) in page
    assert reverse("exercises:submission", kwargs={"pk": elsewhere.pk}) not in page


def test_a_stranger_to_the_course_has_no_learner_page(client, teach):
    client.force_login(teach.instructor)
    stranger = UserFactory(username="stranger")
    url = reverse("teach:learner", kwargs={"course": "web", "username": stranger.username})
    assert client.get(url).status_code == 404


def test_course_staff_open_their_learners_submissions_and_only_those(client, teach):
    exercise = ExerciseFactory(course=teach.course)
    submission = make_submission(teach.learner, exercise, status=Verdict.FAILED, score=1)
    url = reverse("exercises:submission", kwargs={"pk": submission.pk})

    client.force_login(teach.assistant)
    assert client.get(url).status_code == 200
    client.force_login(teach.other_instructor)
    assert client.get(url).status_code == 404
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("teach:gradebook", {}),
        ("teach:gradebook_csv", {}),
        ("teach:learner", {"username": "roster-learner"}),
    ],
)
def test_only_the_courses_staff_may_see_it(teach, assert_course_staff_only, name, kwargs):
    teach.learner.username = "roster-learner"
    teach.learner.save()
    assert_course_staff_only(reverse(name, kwargs={"course": "web", **kwargs}))
