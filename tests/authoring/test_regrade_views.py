"""The instructor area's regrade pages: who may see them, starting a regrade, its report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import CourseStaff
from exercises.models import Regrade, Submission
from exercises.regrades import regrade_start
from exercises.services import submission_grading_finished
from tests.factories import (
    CourseStaffFactory,
    ExerciseFactory,
    SubmissionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting():
    """An exercise with two learners' graded submissions, an instructor and an assistant."""
    exercise = ExerciseFactory(frameworks=["flask"])
    course = exercise.course
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    submissions = [
        SubmissionFactory(exercise=exercise, learner=ada, verdict="failed", score=2, max_score=6),
        SubmissionFactory(exercise=exercise, learner=ada, verdict="passed", max_score=6),
        SubmissionFactory(exercise=exercise, learner=bob, verdict="failed", score=1, max_score=6),
    ]
    instructor = CourseStaffFactory(course=course).user
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user
    return {
        "exercise": exercise,
        "course": course,
        "submissions": submissions,
        "ada": ada,
        "instructor": instructor,
        "assistant": assistant,
    }


def new_url(setting) -> str:
    return reverse(
        "teach:regrade_new",
        kwargs={"course": setting["course"].slug, "exercise": setting["exercise"].slug},
    )


def report_urls(setting, regrade) -> list[str]:
    kwargs = {"course": setting["course"].slug, "pk": regrade.pk}
    return [
        reverse("teach:regrade", kwargs=kwargs),
        reverse("teach:regrade_progress", kwargs=kwargs),
    ]


@pytest.fixture
def regrade(setting):
    return regrade_start(exercise=setting["exercise"], requested_by=setting["instructor"])


def test_anonymous_visitors_are_sent_to_log_in(client, setting, regrade):
    for url in [new_url(setting), *report_urls(setting, regrade)]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    assert client.post(new_url(setting)).status_code == 302
    assert Regrade.objects.count() == 1


def test_learners_and_other_courses_instructors_get_404(client, setting, regrade):
    outsider = CourseStaffFactory().user  # an instructor of another course
    for user in (setting["ada"], outsider):
        client.force_login(user)
        for url in [new_url(setting), *report_urls(setting, regrade)]:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(new_url(setting)).status_code == 404
    assert Regrade.objects.count() == 1


def test_assistants_read_reports_but_may_not_start_a_regrade(client, setting, regrade):
    client.force_login(setting["assistant"])
    assert client.get(new_url(setting)).status_code == 403
    assert client.post(new_url(setting), {"lower_best": "on"}).status_code == 403
    assert Regrade.objects.count() == 1
    for url in report_urls(setting, regrade):
        assert client.get(url).status_code == 200


def test_the_confirmation_lists_what_will_be_regraded(client, setting):
    client.force_login(setting["instructor"])
    gone = SubmissionFactory(exercise=setting["exercise"], verdict="failed", score=0)
    Submission.objects.filter(pk=gone.pk).update(archive=None)

    page = client.get(new_url(setting)).content.decode()

    assert "Each learner's latest and best graded submission" in page
    assert "<strong>2</strong> submissions of 2 learners will be regraded." in page
    assert "<strong>1</strong> submission will be left out: its files are no longer kept." in page
    assert 'name="lower_best"' in page
    assert Regrade.objects.count() == 0  # a GET starts nothing

    learner_page = client.get(new_url(setting), {"learner": "ada"}).content.decode()
    assert "Every graded submission of ada" in learner_page
    assert "<strong>2</strong> submissions of 1 learner will be regraded." in learner_page


def test_starting_a_regrade_sends_the_jobs_and_shows_its_report(
    client, setting, sent_gradings, django_capture_on_commit_callbacks
):
    client.force_login(setting["instructor"])
    first = setting["submissions"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_url(setting), {"submission": first.pk, "lower_best": "on"})

    regrade = Regrade.objects.get()
    assert response.status_code == 302
    assert response.url == report_urls(setting, regrade)[0]
    assert (regrade.scope, regrade.lower_best, regrade.requested_by) == (
        "submission",
        True,
        setting["instructor"],
    )
    assert [args for args, _ in sent_gradings] == [(first.pk,)]

    page = client.get(response.url).content.decode()
    assert "Regrading: 0 of 1 submissions graded" in page
    assert 'hx-trigger="every 2s"' in page
    assert reverse("exercises:submission", kwargs={"pk": first.pk}) in page


def test_the_progress_poll_stops_once_the_regrade_is_done(client, setting, regrade):
    client.force_login(setting["instructor"])
    progress_url = report_urls(setting, regrade)[1]
    assert client.get(progress_url, HTTP_HX_REQUEST="true").status_code == 200

    for submission in Submission.objects.filter(regrade=regrade):
        Submission.objects.filter(pk=submission.pk).update(state="running")
        submission_grading_finished(
            job_id=submission.job_id,
            submission_id=submission.pk,
            host="grader-a",
            result={"status": "failed", "score": 1, "max_score": 6, "tests": [], "log": ""},
        )

    response = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx: stop polling
    page = response.content.decode()
    assert "Done: 2 submissions regraded." in page
    assert "kept 6/6 (regrade gave 1/6)" in page  # ada's best was not lowered
    assert "<strong>0</strong> went down" in page


def test_a_bad_request_is_refused_in_plain_words_and_starts_nothing(client, setting):
    client.force_login(setting["instructor"])
    other = SubmissionFactory(verdict="passed")  # of another exercise

    response = client.post(new_url(setting), {"submission": other.pk})
    assert response.status_code == 400
    assert f"There is no submission #{other.pk} to this exercise." in response.content.decode()

    response = client.post(new_url(setting), {"learner": "nobody-here"})
    assert response.status_code == 400
    assert "“nobody-here” has made no submission to this exercise" in response.content.decode()
    assert Regrade.objects.count() == 0


def test_the_submission_page_offers_regrades_to_the_courses_instructors_only(client, setting):
    submission = setting["submissions"][0]
    url = reverse("exercises:submission", kwargs={"pk": submission.pk})

    client.force_login(setting["instructor"])
    page = client.get(url).content.decode()
    assert f"{new_url(setting)}?submission={submission.pk}" in page
    assert f"{new_url(setting)}?learner=ada" in page

    client.force_login(setting["assistant"])  # reads submissions, starts nothing
    response = client.get(url)
    assert response.status_code == 200 and 'id="staff-regrade"' not in response.content.decode()

    client.force_login(setting["ada"])
    assert 'id="staff-regrade"' not in client.get(url).content.decode()
    client.force_login(CourseStaffFactory().user)
    assert client.get(url).status_code == 404
