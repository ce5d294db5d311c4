"""An exercise's analytics: pass rate, scores, attempts and time to pass, test failures, shapes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment
from exercises.models import Submission, Verdict
from exercises.services import UNSAVED_MESSAGE
from progress.analytics import duration_text, exercise_analytics, message_shape, score_bars
from tests.factories import CourseStaffFactory, ExerciseFactory, UserFactory, make_submission

pytestmark = pytest.mark.django_db


def _tests(*failures: tuple[str, str, str], passed: tuple[str, ...] = ()) -> list[dict]:
    """Return a result's tests: (name, message, app output) that failed, names that passed."""
    tests = [
        {"name": name, "status": "failed", "points": 0, "max_points": 1, "message": message,
         "output": output, "hidden": name.startswith("hidden")}
        for name, message, output in failures
    ]  # fmt: skip
    tests += [{"name": name, "status": "passed", "points": 1, "max_points": 1} for name in passed]
    return tests


def graded(learner, exercise, *, status, score, minutes, tests=(), message=""):
    submission = make_submission(learner, exercise, status=status, score=score, minutes=minutes)
    submission.result = {**submission.result, "tests": list(tests), "message": message}
    submission.save(update_fields=["result"])
    return submission


@pytest.mark.parametrize(
    ("message", "output", "shape"),
    [
        (
            "POST /notes: expected status 201, got 500. Body: <html>Traceback…</html>",
            "Traceback (most recent call last):\n  ...\nKeyError: 'title'\n",
            "POST /notes: expected status 201, got 500 — KeyError",
        ),
        (
            "GET /notes/17: expected the JSON {'id': 17, 'title': 'milk'}, got {'id': 4}.",
            "",
            'GET /notes/<id>: expected the JSON {"…": N, "…": "…"}, got {"…": N}',
        ),
        (
            "Could not reach http://127.0.0.1:41231/hello after 3.5 s (request a1b2c3d4e5f60718)",
            "",
            "Could not reach <addr>/hello after N s (request <id>)",
        ),
        (
            "object at 0x7f3a2b1c not callable; id 6f1c2a9e-3b8d-4c1e-9a7f-0b2c4d6e8f10",
            "",
            "object at <addr> not callable; id <id>",
        ),
        ("", "", "(no message)"),
    ],
)
def test_message_shapes_keep_what_learners_share(message, output, shape):
    assert message_shape(message, output) == shape


def test_two_learners_with_different_values_share_a_shape():
    one = message_shape("GET /notes/3: expected status 200, got 404.")
    two = message_shape("GET /notes/12: expected status 200, got 404.")
    assert one == two == "GET /notes/<id>: expected status 200, got 404"


def test_score_bars_count_learners_per_band_and_scale_to_the_tallest():
    bars = score_bars([0.0, 0.2, 1.0, 1.0])
    assert [bar.learners for bar in bars] == [1, 1, 0, 0, 0, 2]
    assert bars[-1].height > bars[0].height > 0 and bars[2].height == 0
    assert bars[-1].percent == 50


def test_duration_text():
    assert [duration_text(timedelta(seconds=s)) for s in (40, 720, 3900, 7200, 180000)] == [
        "40 s",
        "12 min",
        "1 h 5 min",
        "2 h",
        "2 d 2 h",
    ]
    assert duration_text(None) == "—"


@pytest.fixture
def cohort(teach):
    """Three learners on an exercise: one passes at the third try, one at the first, one never."""
    exercise = ExerciseFactory(course=teach.course, slug="notes", title="Notes API", points=10)
    crash = ("create note", "POST /notes: expected status 201, got 500. Body: x", "KeyError: 't'")
    missing = ("hidden list", "GET /notes/7: expected status 200, got 404.", "")
    persistent, quick, stuck = teach.learner, UserFactory(), UserFactory()
    Enrollment.objects.create(course=teach.course, learner=quick)
    graded(persistent, exercise, status=Verdict.FAILED, score=1, minutes=0, tests=_tests(crash))
    graded(persistent, exercise, status=Verdict.ERROR, score=None, minutes=5, message="no app")
    graded(persistent, exercise, status=Verdict.FAILED, score=2, minutes=10, tests=_tests(missing))
    graded(persistent, exercise, status=Verdict.PASSED, score=3, minutes=30, tests=_tests())
    graded(quick, exercise, status=Verdict.PASSED, score=3, minutes=0, tests=_tests())
    graded(stuck, exercise, status=Verdict.FAILED, score=0, minutes=0, tests=_tests(crash))
    graded(stuck, exercise, status=Verdict.FAILED, score=0, minutes=1, tests=_tests(crash))
    graded(stuck, exercise, status=Verdict.ERROR, score=None, minutes=2, message=UNSAVED_MESSAGE)
    # The course's staff trying their own exercise are not the class.
    graded(
        teach.instructor, exercise, status=Verdict.FAILED, score=0, minutes=0, tests=_tests(crash)
    )
    return exercise


def test_analytics_of_an_exercise(teach, cohort):
    stats = exercise_analytics(course=teach.course, slug="notes")

    assert (stats.submitters, stats.passed, stats.submissions) == (3, 2, 6)
    assert stats.pass_rate == pytest.approx(200 / 3)
    assert stats.roster == 2
    assert [bar.learners for bar in stats.bars] == [1, 0, 0, 0, 0, 2]
    # Attempts to first pass: 3 (the error is no attempt) and 1; the median of the two.
    assert stats.median_attempts_to_pass == 2
    # 30 and 0 minutes (make_submission reads the clock for each, so not to the microsecond)
    assert round(stats.median_time_to_pass.total_seconds()) == 15 * 60
    by_name = {test.name: test for test in stats.tests}
    assert (by_name["create note"].failed, by_name["create note"].learners) == (3, 2)
    assert by_name["hidden list"].hidden and by_name["hidden list"].learners == 1
    shapes = {shape.shape: shape.learners for shape in stats.shapes}
    assert shapes == {
        "POST /notes: expected status 201, got 500 — KeyError": 2,
        "GET /notes/<id>: expected status 200, got 404": 1,
        "no app": 1,  # the learner's app did not start: theirs; the unsaved result is not
    }
    assert stats.shapes[0].percent == pytest.approx(200 / 3)


def test_the_page_shows_hidden_tests_a_chart_with_text_and_the_actions_spot(client, teach, cohort):
    client.force_login(teach.instructor)
    url = reverse("teach:exercise_analytics", kwargs={"course": "web", "exercise": "notes"})

    page = client.get(url).content.decode()

    assert "hidden list" in page
    assert (
        '<svg role="img"' in page and "<desc" in page and "<caption>Learners by best score" in page
    )
    assert "67% of learners" in page
    for action in ("edit", "regrade", "deadline"):
        assert f'href="{url}{action}/"' in page


def test_assistants_see_no_buttons_they_may_not_use(client, teach, cohort):
    client.force_login(teach.assistant)
    url = reverse("teach:exercise_analytics", kwargs={"course": "web", "exercise": "notes"})
    page = client.get(url).content.decode()
    assert "hidden list" in page and f'href="{url}edit/"' not in page


def test_another_courses_exercise_is_not_found_here(client, teach):
    elsewhere = ExerciseFactory(slug="elsewhere")
    client.force_login(teach.instructor)
    url = reverse("teach:exercise_analytics", kwargs={"course": "web", "exercise": elsewhere.slug})
    assert client.get(url).status_code == 404


def test_only_the_courses_staff_may_see_it(teach, assert_course_staff_only):
    ExerciseFactory(course=teach.course, slug="notes")
    url = reverse("teach:exercise_analytics", kwargs={"course": "web", "exercise": "notes"})
    assert_course_staff_only(url)


def _class_on(exercise, size: int) -> None:
    User = get_user_model()  # built without factories: hashing 500 passwords takes minutes
    users = User.objects.bulk_create(User(username=f"{exercise.slug}-{i}") for i in range(size))
    now = timezone.now()
    Submission.objects.bulk_create(
        Submission(
            learner=user,
            exercise=exercise,
            framework="flask",
            state=Submission.State.DONE,
            verdict=verdict,
            score=score,
            max_score=3,
            result={"status": verdict, "message": "", "tests": _tests(*failures)},
            created=now + timedelta(minutes=minutes),
        )
        for user in users
        for verdict, score, minutes, failures in (
            (Verdict.FAILED, 1, 0, [("t", "GET /x/1: expected status 200, got 500.", "")]),
            (Verdict.PASSED, 3, 5, []),
        )
    )


def test_the_same_queries_for_10_and_500_learners(client, teach):
    small = ExerciseFactory(course=teach.course, slug="small")
    large = ExerciseFactory(course=CourseStaffFactory(user=teach.instructor).course, slug="large")
    _class_on(small, 10)
    _class_on(large, 500)
    client.force_login(teach.instructor)

    counts = []
    for exercise in (small, large):
        url = reverse(
            "teach:exercise_analytics",
            kwargs={"course": exercise.course.slug, "exercise": exercise.slug},
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert exercise_analytics(course=large.course, slug="large").passed == 500
