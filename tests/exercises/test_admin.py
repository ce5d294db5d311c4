from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import Status
from exercises.models import Exercise, Regrade, Submission
from exercises.validations import validation_record
from sandbox.archive import pack_files
from tests.factories import ExerciseFactory, SubmissionFactory

RESULT = {
    "status": "failed",
    "score": 1,
    "max_score": 3,
    "message": "1 of 2 tests passed.",
    "tests": [
        {"name": "home page", "status": "passed", "points": 1, "max_points": 1, "message": ""},
        {
            "name": "greeting",
            "status": "failed",
            "points": 0,
            "max_points": 2,
            "message": "GET /hello/Ada: expected 200, got 404",
        },
    ],
    "log": "<script>alert(1)</script> Booting worker",
    "timings": {"queued": "2025-01-01T10:00:00+00:00"},
}


@pytest.fixture
def graded(db, learner) -> Submission:
    return SubmissionFactory(
        learner=learner,
        exercise__title="Hello, web",
        archive=pack_files({"app.py": "app = None\n"}),
        verdict=RESULT["status"],
        result=RESULT,
        score=1,
        max_score=3,
    )


def test_the_list_shows_verdict_and_score(staff_client, graded):
    response = staff_client.get(reverse("admin:exercises_submission_changelist"))
    assert response.status_code == 200
    assert b"Failed" in response.content
    assert b"1 / 3" in response.content


def test_the_list_filters_by_verdict(staff_client, graded):
    url = reverse("admin:exercises_submission_changelist")
    assert b"1 / 3" in staff_client.get(url, {"verdict": "failed"}).content
    assert b"1 / 3" not in staff_client.get(url, {"verdict": "passed"}).content


def test_a_submission_shows_its_tests_output_and_files(staff_client, graded):
    response = staff_client.get(reverse("admin:exercises_submission_change", args=[graded.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "GET /hello/Ada: expected 200, got 404" in page
    assert "0 / 2" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Booting worker" in page  # escaped
    assert "app.py (11 bytes)" in page


def test_the_regrade_action_queues_the_submissions_again(
    staff_client, graded, sent_gradings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:exercises_submission_changelist"),
            {"action": "regrade", "_selected_action": [graded.pk]},
            follow=True,
        )
    assert b"1 submission queued for grading again." in response.content
    graded.refresh_from_db()
    assert graded.state == Submission.State.QUEUED
    assert [args for args, _ in sent_gradings] == [(graded.pk,)]
    # The same regrade as the instructor area starts: a batch, never lowering a score.
    regrade = Regrade.objects.get()
    assert (graded.regrade, regrade.lower_best, regrade.scope) == (regrade, False, "selection")


def test_the_admin_can_regrade_allowing_lower_scores_and_is_told_what_was_skipped(
    staff_client, graded, sent_gradings, django_capture_on_commit_callbacks
):
    gone = SubmissionFactory(exercise=graded.exercise, verdict="passed")
    Submission.objects.filter(pk=gone.pk).update(archive=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:exercises_submission_changelist"),
            {"action": "regrade_allowing_lower", "_selected_action": [graded.pk, gone.pk]},
            follow=True,
        )
    assert b"1 was left out: its files are no longer kept." in response.content
    regrade = Regrade.objects.get()
    assert (regrade.lower_best, regrade.skipped, regrade.items.count()) == (True, 1, 1)


def test_submissions_cannot_be_added_or_edited_by_hand(staff_client, graded):
    assert staff_client.get(reverse("admin:exercises_submission_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:exercises_submission_change", args=[graded.pk]), {"framework": "django"}
    )
    assert response.status_code == 403
    graded.refresh_from_db()
    assert graded.framework == "flask"


def test_exercise_files_are_shown_but_not_editable(staff_client, db):
    exercise = ExerciseFactory(
        files={"tests/test_app.py": "def test_home():\n    assert '<b>' != 1\n"},
        instructions="Build a **home page**.",
    )
    response = staff_client.get(reverse("admin:exercises_exercise_change", args=[exercise.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<summary>tests/test_app.py</summary>" in page
    assert "assert &#x27;&lt;b&gt;&#x27; != 1" in page
    assert 'name="files"' not in page
    assert '<div class="markdownx">' in page


def test_exercises_cannot_be_added_in_the_admin(staff_client, db):
    ExerciseFactory()
    page = staff_client.get(reverse("admin:exercises_exercise_changelist")).content.decode()
    assert reverse("admin:exercises_exercise_add") not in page


def test_the_admin_publishes_an_exercise_only_once_its_version_passed_validation(staff_client, db):
    exercise = ExerciseFactory(frameworks=["flask"], status=Status.DRAFT, title="Home")
    url = reverse("admin:exercises_exercise_change", args=[exercise.pk])
    form = {
        "course": exercise.course_id,
        "lesson": "",
        "title": "Home",
        "summary": "",
        "order": 0,
        "status": "published",
        "instructions": "",
        "points": 0,
    }
    refused = staff_client.post(url, form)
    assert refused.status_code == 200
    assert "Not published: Validate this version first: version 1 has not been validated." in (
        refused.content.decode()
    )
    assert Exercise.objects.get(pk=exercise.pk).status == Status.DRAFT

    version = exercise.current_version()
    passed = {"status": "passed", "score": 1, "max_score": 1, "tests": []}
    failed = {"status": "failed", "score": 0, "max_score": 1, "tests": []}
    validation_record(version=version, framework="flask", kind="solution", result=passed)
    validation_record(version=version, framework="flask", kind="starter", result=failed)
    assert staff_client.post(url, form).status_code == 302
    assert Exercise.objects.get(pk=exercise.pk).status == Status.PUBLISHED
