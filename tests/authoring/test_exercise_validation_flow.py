"""Validate, be refused, fix, validate again and publish: graded for real on the grading queue.

A site worker and a grading host run as separate processes (tests.celery_fixtures); the
instructor uses the pages as a browser would.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from courses.models import Status
from exercises.models import Exercise, ExerciseValidation, Submission
from tests.celery_fixtures import wait_for_rows
from tests.factories import CourseFactory, CourseStaffFactory
from tests.sandbox.conftest import HELLO_DIR

pytestmark = pytest.mark.sandbox


def hello_flask_files() -> dict[str, str]:
    """Return the hello exercise's tests and its Flask starter and solution."""
    return {
        path.relative_to(HELLO_DIR).as_posix(): path.read_text()
        for folder in ("tests", "starter/flask", "solution/flask")
        for path in (HELLO_DIR / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def wait_for_validation(exercise: Exercise, worker) -> list[ExerciseValidation]:
    version = exercise.current_version()
    rows = ExerciseValidation.objects.filter(version=version)
    wait_for_rows(
        lambda: rows.count() == 2 and not rows.exclude(state="done").exists(),
        timeout=240,
        what=f"the validation of version {version.number}",
        workers=[worker],
    )
    return list(rows.order_by("kind"))


def test_a_broken_solution_blocks_publishing_until_it_is_fixed_and_validated(
    client, celery_worker_proc
):
    course = CourseFactory(slug="web")
    client.force_login(CourseStaffFactory(course=course).user)
    files = hello_flask_files()
    fixed_solution = files["solution/flask/app.py"]
    files["solution/flask/app.py"] = files["starter/flask/app.py"]  # forgot /hello/<name>
    form = {
        "title": "Hello",
        "slug": "hello",
        "instructions": "Say hello.",
        "frameworks": ["flask"],
        "status": "published",
        "files": json.dumps(files),
    }
    created = client.post(
        reverse("teach:exercise_new", kwargs={"course": "web"}), form, follow=True
    )
    assert [str(m) for m in created.context["messages"]] == [
        "Saved. Version 1 is new: validate it before publishing.",
        "Not published: Validate this version first: version 1 has not been validated.",
    ]
    exercise = Exercise.objects.get(slug="hello")
    assert exercise.status == Status.DRAFT  # not validated yet
    urls = {
        name: reverse(f"teach:exercise_{name}", kwargs={"course": "web", "exercise": "hello"})
        for name in ("edit", "validate", "publish")
    }

    assert client.post(urls["validate"]).status_code == 302
    solution, starter = wait_for_validation(exercise, celery_worker_proc)
    assert (solution.kind, solution.verdict, solution.score, solution.max_score) == (
        "solution",
        "failed",
        2,
        6,
    )
    assert (starter.kind, starter.score) == ("starter", 2)
    failed = [t["name"] for t in solution.result["tests"] if t["status"] != "passed"]
    assert failed == ['GET /hello/ada answers {"message": "Hello, ada!"}.', "Hidden test 1"]

    refused = client.post(urls["publish"], follow=True)
    messages = [str(m) for m in refused.context["messages"]]
    assert messages == [
        "Not published: Version 1 did not pass validation: the Flask solution scores 2/6: "
        'GET /hello/ada answers {"message": "Hello, ada!"}. failed, Hidden test 1 failed.'
    ]
    assert Exercise.objects.get(pk=exercise.pk).status == Status.DRAFT

    files["solution/flask/app.py"] = fixed_solution
    saved = client.post(
        urls["edit"], {**form, "files": json.dumps(files), "status": "draft"}, follow=True
    )
    assert saved.redirect_chain == [(urls["edit"], 302)]
    assert exercise.current_version().number == 2
    refused_again = client.post(urls["publish"], follow=True)
    assert [str(m) for m in refused_again.context["messages"]] == [
        "Not published: Validate this version first: version 2 has not been validated."
    ]

    client.post(urls["validate"])
    solution, starter = wait_for_validation(exercise, celery_worker_proc)
    assert (solution.verdict, solution.score, solution.max_score) == ("passed", 6, 6)
    assert (starter.verdict, starter.score) == ("failed", 2)
    page = client.get(urls["edit"]).content.decode()
    assert "Version 2 passed validation." in page

    published = client.post(urls["publish"], follow=True)
    assert [str(m) for m in published.context["messages"]] == [
        "Published: learners can see this exercise now."
    ]
    assert Exercise.objects.get(pk=exercise.pk).status == Status.PUBLISHED
    # Version 1's validation is kept as it was; none of this was a learner's submission.
    assert ExerciseValidation.objects.filter(version__number=1).count() == 2
    assert not Submission.objects.exists()
