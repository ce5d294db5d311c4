"""The deadline page: who may see and change it, the late policy, and extensions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import CourseStaff
from exercises.models import DeadlineExtension, LatePolicy
from tests.factories import (
    CourseStaffFactory,
    EnrollmentFactory,
    ExerciseFactory,
    UserFactory,
    make_submission,
)

pytestmark = pytest.mark.django_db

VALID = {"deadline": "2026-03-01T23:59", "late_policy": "penalty", "late_penalty": "20"}


@pytest.fixture
def exercise():
    return ExerciseFactory(frameworks=["flask"])


@pytest.fixture
def instructor(exercise):
    return CourseStaffFactory(course=exercise.course).user


def url(exercise, name="teach:deadline", **kwargs) -> str:
    return reverse(
        name, kwargs={"course": exercise.course.slug, "exercise": exercise.slug, **kwargs}
    )


def all_urls(exercise) -> list[str]:
    extension = DeadlineExtension.objects.create(
        exercise=exercise, learner=UserFactory(), until=timezone.now()
    )
    return [
        url(exercise),
        url(exercise, "teach:extension_save"),
        url(exercise, "teach:extension_remove", pk=extension.pk),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, exercise):
    for each in all_urls(exercise):
        response = client.post(each, VALID)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get(url(exercise)).status_code == 302


def test_learners_and_other_courses_instructors_get_404(client, exercise):
    urls = all_urls(exercise)
    for user in (UserFactory(), CourseStaffFactory().user):
        client.force_login(user)
        assert client.get(urls[0]).status_code == 404
        for each in urls:
            assert client.post(each, VALID).status_code == 404
    exercise.refresh_from_db()
    assert exercise.deadline is None and DeadlineExtension.objects.count() == 1


def test_assistants_see_the_page_but_change_nothing(client, exercise):
    urls = all_urls(exercise)
    client.force_login(
        CourseStaffFactory(course=exercise.course, role=CourseStaff.Role.ASSISTANT).user
    )
    assert client.get(urls[0]).status_code == 200
    for each in urls:
        assert client.post(each, VALID).status_code == 403
    exercise.refresh_from_db()
    assert exercise.deadline is None and DeadlineExtension.objects.count() == 1


def test_an_instructor_sets_the_deadline_in_the_sites_time_zone_and_clears_it(
    client, exercise, instructor
):
    client.force_login(instructor)
    response = client.post(url(exercise), VALID)
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.deadline == datetime(2026, 3, 1, 23, 59, tzinfo=UTC)  # TIME_ZONE is UTC
    assert (exercise.late_policy, exercise.late_penalty) == (LatePolicy.PENALTY, 20)
    page = client.get(url(exercise)).content.decode()
    assert "Due <time" in page and "Sunday, Mar 1, 2026, 23:59" in page and "(UTC)" in page

    client.post(url(exercise), {"deadline": "", "late_policy": "count"})
    exercise.refresh_from_db()
    assert exercise.deadline is None and exercise.late_policy == LatePolicy.COUNT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**VALID, "late_penalty": "101"}, "The penalty is a percentage from 0 to 100."),
        ({**VALID, "late_penalty": "-1"}, "The penalty is a percentage from 0 to 100."),
        ({**VALID, "late_penalty": ""}, "Give the penalty, in percent from 0 to 100."),
        ({**VALID, "deadline": "next friday"}, "Enter a date and time, such as 2026-03-01 23:59."),
    ],
)
def test_bad_input_is_refused_in_plain_words_and_kept(client, exercise, instructor, data, message):
    client.force_login(instructor)
    response = client.post(url(exercise), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'value="{data["deadline"]}"' in page  # what was typed comes back
    exercise.refresh_from_db()
    assert exercise.deadline is None


def test_marking_late_follows_the_deadline_and_extensions(client, exercise, instructor):
    client.force_login(instructor)
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    EnrollmentFactory(course=exercise.course, learner=bob)  # on the roster, no submission yet
    ada_sub = make_submission(ada, exercise, minutes=-60)
    deadline = timezone.localtime() - timedelta(hours=2)
    client.post(url(exercise), {**VALID, "deadline": deadline.strftime("%Y-%m-%dT%H:%M")})
    ada_sub.refresh_from_db()
    assert ada_sub.late

    later = timezone.localtime() + timedelta(days=1)
    response = client.post(
        url(exercise, "teach:extension_save"),
        {"username": "ada", "until": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    ada_sub.refresh_from_db()
    assert not ada_sub.late
    assert (
        client.post(
            url(exercise, "teach:extension_save"),
            {"username": "bob", "until": later.strftime("%Y-%m-%dT%H:%M")},
        ).status_code
        == 302
    )
    assert DeadlineExtension.objects.filter(exercise=exercise).count() == 2

    extension = DeadlineExtension.objects.get(learner=ada)
    client.post(url(exercise, "teach:extension_remove", pk=extension.pk))
    ada_sub.refresh_from_db()
    assert ada_sub.late
    assert not DeadlineExtension.objects.filter(learner=ada).exists()


def test_an_extension_for_someone_not_on_the_course_is_refused(client, exercise, instructor):
    client.force_login(instructor)
    UserFactory(username="stranger")
    response = client.post(
        url(exercise, "teach:extension_save"), {"username": "stranger", "until": "2026-03-02T10:00"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "No learner “stranger” is on this course&#x27;s roster" in page
    assert 'value="stranger"' in page
    assert DeadlineExtension.objects.count() == 0


def test_learners_see_their_deadline_and_late_marks(client, exercise):
    ada = UserFactory()
    exercise.deadline = timezone.now() - timedelta(hours=1)
    exercise.save()
    late = make_submission(ada, exercise, status="failed", score=1, minutes=0)
    late.late = True
    late.save(update_fields=["late"])
    client.force_login(ada)

    page = client.get(reverse("exercises:exercise", kwargs={"exercise": exercise.slug}))
    assert 'id="deadline"' in page.content.decode()
    assert "(your extension)" not in page.content.decode()
    assert 'badge--late">Late<' in page.content.decode()  # in the attempts list
    submission_page = client.get(reverse("exercises:submission", kwargs={"pk": late.pk}))
    assert 'badge--late">Late<' in submission_page.content.decode()

    DeadlineExtension.objects.create(
        exercise=exercise, learner=ada, until=timezone.now() + timedelta(days=2)
    )
    page = client.get(reverse("exercises:exercise", kwargs={"exercise": exercise.slug}))
    assert "(your extension)" in page.content.decode()
