"""Learners joining a course: the course page's button, the invitation link, and submitting.

An open course takes any signed-in learner, from its page or at their first submission. An
invitation-only course lets anyone read its lessons but refuses submissions from learners
not on its roster, through every way of submitting, with a message saying what to do.
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tokens import token_create
from courses import services as roster
from courses.models import Enrollment, Enrolment
from exercises.models import Submission
from exercises.services import submission_create
from sandbox.archive import SubmissionRejected, pack_files
from tests.factories import (
    CourseFactory,
    CourseStaffFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonFactory,
)

APP = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
REFUSED = "This course is by invitation, and you are not on its roster"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def course(db):
    course = CourseFactory(slug="web", title="Web Frameworks")
    LessonFactory(chapter__course=course)
    return course


@pytest.fixture
def private(course):
    course.enrolment = Enrolment.INVITE
    course.save()
    return course


@pytest.fixture
def exercise(course):
    return ExerciseFactory(course=course, slug="hello", frameworks=["flask"])


def course_page(client) -> str:
    return client.get(reverse("courses:course", kwargs={"course": "web"})).content.decode()


def invite_url(course, code=None) -> str:
    return reverse(
        "courses:join_invite", kwargs={"course": course.slug, "code": code or course.invite_code}
    )


def on_roster(course, learner) -> bool:
    return Enrollment.objects.filter(course=course, learner=learner).exists()


# The course page


def test_an_open_course_offers_signed_in_learners_to_join(learner_client, learner, course):
    before = course_page(learner_client)

    response = learner_client.post(reverse("courses:join", kwargs={"course": "web"}))
    after = course_page(learner_client)

    assert "Join this course" in before
    assert response["Location"] == "/courses/web/"
    assert on_roster(course, learner)
    assert "Join this course" not in after and "You are on this course" in after


def test_anonymous_visitors_and_staff_see_no_join_button(client, course):
    assert "Join this course" not in course_page(client)
    client.force_login(CourseStaffFactory(course=course).user)
    assert "Join this course" not in course_page(client)


def test_an_invitation_only_course_page_says_how_to_join(learner_client, learner, private):
    html = course_page(learner_client)
    response = learner_client.post(reverse("courses:join", kwargs={"course": "web"}))

    assert "Join this course" not in html
    assert "ask your instructor for the invitation link" in html
    assert not on_roster(private, learner)
    assert response["Location"] == "/courses/web/"


# The invitation link


def test_the_invitation_link_asks_first_then_joins(learner_client, learner, private):
    page = learner_client.get(invite_url(private))
    joined_after_get = on_roster(private, learner)
    response = learner_client.post(invite_url(private))

    assert page.status_code == 200 and "Join Web Frameworks?" in page.content.decode()
    assert not joined_after_get
    assert response["Location"] == "/courses/web/"
    assert on_roster(private, learner)


def test_anonymous_visitors_log_in_and_come_back_to_the_link(client, private):
    url = invite_url(private)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_a_rotated_link_says_so_and_joins_nobody(learner_client, learner, private):
    old = invite_url(private)
    roster.course_rotate_invitation(course=private)

    page = learner_client.get(old)
    posted = learner_client.post(old)

    assert page.status_code == posted.status_code == 404
    assert "This invitation link does not work" in page.content.decode()
    assert not on_roster(private, learner)


def test_a_learner_already_on_the_roster_is_told_so(learner_client, learner, private):
    EnrollmentFactory(course=private, learner=learner)

    html = learner_client.get(invite_url(private)).content.decode()

    assert "You are on this course" in html
    assert Enrollment.objects.filter(course=private, learner=learner).count() == 1


# Submitting


def test_a_first_submission_to_an_open_course_joins_it(learner, exercise):
    submission_create(
        learner=learner, exercise=exercise, framework="flask", archive=pack_files(APP), bucket=None
    )

    assert on_roster(exercise.course, learner)


def test_staff_trying_an_exercise_do_not_join_the_roster(exercise):
    instructor = CourseStaffFactory(course=exercise.course).user
    exercise.course.enrolment = Enrolment.INVITE
    exercise.course.save()

    submission_create(
        learner=instructor,
        exercise=exercise,
        framework="flask",
        archive=pack_files(APP),
        bucket=None,
    )

    assert not on_roster(exercise.course, instructor)


def test_an_outsider_of_an_invitation_only_course_is_refused_and_nothing_is_saved(
    learner, private, exercise
):
    with pytest.raises(SubmissionRejected, match="Ask your instructor for the course's invitation"):
        submission_create(
            learner=learner,
            exercise=exercise,
            framework="flask",
            archive=pack_files(APP),
            bucket=None,
        )

    assert not Submission.objects.exists()
    assert not on_roster(private, learner)


def test_a_learner_on_the_roster_of_an_invitation_only_course_may_submit(
    learner, private, exercise
):
    roster.enrollment_join(course=private, learner=learner, code=private.invite_code)

    submission_create(
        learner=learner, exercise=exercise, framework="flask", archive=pack_files(APP), bucket=None
    )

    assert Submission.objects.filter(learner=learner).count() == 1


def test_the_refusal_reaches_the_editor_page(learner_client, private, exercise):
    url = reverse("exercises:submit", kwargs={"exercise": "hello"}) + "?source=files"

    response = learner_client.post(url, {"framework": "flask", "files": json.dumps(APP)})

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not Submission.objects.exists()


def test_the_refusal_reaches_the_upload_form_with_htmx(learner_client, private, exercise):
    upload = io.BytesIO(pack_files(APP))
    upload.name = "app.zip"
    url = reverse("exercises:submit", kwargs={"exercise": "hello"}) + "?source=archive"

    response = learner_client.post(
        url, {"framework": "flask", "archive": upload}, HTTP_HX_REQUEST="true"
    )

    assert response["HX-Retarget"] == "#archive-errors"
    assert REFUSED in response.content.decode()
    assert not Submission.objects.exists()


def test_the_refusal_reaches_the_api(learner, private, exercise):
    secret = token_create(user=learner, name="laptop")[1]
    api = Client(headers={"Authorization": f"Bearer {secret}"})

    response = api.post(
        "/api/exercises/hello/submissions/?framework=flask",
        data=pack_files(APP),
        content_type="application/zip",
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith(REFUSED)
    assert not Submission.objects.exists()


def test_a_learner_taken_off_the_roster_of_an_invitation_only_course_is_refused(
    learner, private, exercise
):
    EnrollmentFactory(course=private, learner=learner)
    roster.enrollment_remove(course=private, learner_id=learner.pk)

    with pytest.raises(SubmissionRejected):
        submission_create(
            learner=learner,
            exercise=exercise,
            framework="flask",
            archive=pack_files(APP),
            bucket=None,
        )
