"""The instructor area's exercise pages: who may see and change them, and what they do."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from courses.models import CourseStaff, Status
from exercises.models import Exercise, ExerciseValidation
from exercises.validations import validation_record
from tests.authoring.test_exercises import FILES
from tests.factories import (
    CourseFactory,
    CourseStaffFactory,
    EnrollmentFactory,
    ExerciseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    return CourseFactory(slug="web")


@pytest.fixture
def exercise(course):
    return ExerciseFactory(
        course=course, slug="greet", title="Greet", frameworks=["flask"], files=FILES
    )


@pytest.fixture
def instructor(course):
    return CourseStaffFactory(course=course).user


def form_data(**changes) -> dict:
    data = {
        "title": "Greet",
        "slug": "greet",
        "summary": "",
        "lesson": "",
        "instructions": "Say *hi*.",
        "frameworks": ["flask"],
        "points": "",
        "status": "draft",
        "files": json.dumps(FILES),
    }
    return data | changes


# Access ------------------------------------------------------------------------------

PAGES = [
    ("GET", "teach:exercise_list", False),
    ("GET", "teach:exercise_new", False),
    ("POST", "teach:exercise_new", False),
    ("POST", "teach:exercise_preview", False),
    ("GET", "teach:exercise_edit", True),
    ("POST", "teach:exercise_edit", True),
    ("POST", "teach:exercise_validate", True),
    ("GET", "teach:exercise_validation", True),
    ("POST", "teach:exercise_publish", True),
]
# What an assistant may do: look. Every change is refused.
ASSISTANT_STATUS = {
    ("GET", "teach:exercise_list"): 200,
    ("GET", "teach:exercise_new"): 403,
    ("POST", "teach:exercise_new"): 403,
    ("POST", "teach:exercise_preview"): 200,
    ("GET", "teach:exercise_edit"): 200,
    ("POST", "teach:exercise_edit"): 403,
    ("POST", "teach:exercise_validate"): 403,
    ("GET", "teach:exercise_validation"): 200,
    ("POST", "teach:exercise_publish"): 403,
}


def _url(name: str, per_exercise: bool, course: str = "web") -> str:
    kwargs = {"course": course} | ({"exercise": "greet"} if per_exercise else {})
    return reverse(name, kwargs=kwargs)


def _request(client, method: str, url: str):
    return client.get(url) if method == "GET" else client.post(url, form_data())


@pytest.mark.parametrize(("method", "name", "per_exercise"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, exercise, method, name, per_exercise):
    url = _url(name, per_exercise)
    response = _request(client, method, url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    exercise.refresh_from_db()
    assert exercise.status == Status.PUBLISHED and exercise.title == "Greet"


@pytest.mark.parametrize(("method", "name", "per_exercise"), PAGES)
def test_learners_and_staff_of_other_courses_get_404(client, exercise, method, name, per_exercise):
    learner = UserFactory()
    EnrollmentFactory(course=exercise.course, learner=learner)
    other_instructor = CourseStaffFactory(course=CourseFactory()).user
    for user in (learner, other_instructor):
        client.force_login(user)
        assert _request(client, method, _url(name, per_exercise)).status_code == 404
    assert not ExerciseValidation.objects.exists()
    assert Exercise.objects.count() == 1


@pytest.mark.parametrize(("method", "name", "per_exercise"), PAGES)
def test_assistants_may_look_but_not_change(client, exercise, method, name, per_exercise):
    assistant = CourseStaffFactory(course=exercise.course, role=CourseStaff.Role.ASSISTANT).user
    client.force_login(assistant)
    response = _request(client, method, _url(name, per_exercise))
    assert response.status_code == ASSISTANT_STATUS[(method, name)]
    assert not ExerciseValidation.objects.exists()
    assert Exercise.objects.get().status == Status.PUBLISHED


def test_an_exercise_of_another_course_is_not_found_under_this_one(client, exercise):
    other = CourseFactory(slug="other")
    client.force_login(CourseStaffFactory(course=other).user)
    response = client.get(_url("teach:exercise_edit", True, course="other"))
    assert response.status_code == 404


# Creating and editing ------------------------------------------------------------------


def test_an_instructor_creates_a_draft_exercise_and_sees_its_version(client, course, instructor):
    client.force_login(instructor)
    response = client.post(_url("teach:exercise_new", False), form_data())
    assert response.status_code == 302
    exercise = Exercise.objects.get(slug="greet")
    assert response["Location"] == _url("teach:exercise_edit", True)
    assert (exercise.course, exercise.status, exercise.files) == (course, Status.DRAFT, FILES)

    page = client.get(response["Location"])
    text = page.content.decode()
    assert "Saved. Version 1 is new: validate it before publishing." in text
    assert "Validate version 1" in text
    assert "First version: 3 files." in text
    assert page.context["editor_files"] == FILES


def test_a_refused_save_explains_why_and_keeps_what_was_typed(client, course, instructor):
    client.force_login(instructor)
    typed = {"tests/test_app.py": "def test_a(client):\n    return (\n", **{
        k: v for k, v in FILES.items() if k != "tests/test_app.py"
    }}  # fmt: skip
    response = client.post(
        _url("teach:exercise_new", False),
        form_data(title="My new title", files=json.dumps(typed)),
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Not saved:" in text
    assert "tests/test_app.py, line 2: " in text
    assert 'value="My new title"' in text
    assert response.context["editor_files"] == typed
    assert not Exercise.objects.exists()


def test_files_that_are_not_text_are_refused_with_the_reason(client, course, instructor):
    # Valid JSON, but a lone surrogate is no character: it can be neither stored nor shown.
    client.force_login(instructor)
    response = client.post(
        _url("teach:exercise_new", False),
        form_data(title="Kept", files=r'{"tests/\ud800.py": "print(1)\n"}'),
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert (
        "The files could not be read: it holds a character that is not text (an unpaired "
        "surrogate); nothing was changed." in text
    )
    assert 'value="Kept"' in text
    assert not Exercise.objects.exists()


def test_editing_the_files_adds_a_version_to_the_history(client, exercise, instructor):
    client.force_login(instructor)
    files = {**FILES, "tests/test_more.py": "def test_b(client):\n    pass\n"}
    response = client.post(
        _url("teach:exercise_edit", True), form_data(files=json.dumps(files), status="published")
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Saved. Version 2 is new" in page
    assert "Added: tests/test_more.py" in page
    exercise.refresh_from_db()
    assert exercise.status == Status.PUBLISHED  # stays live; the page says it is not validated
    assert "The current version is not validated" in page


def test_asking_to_publish_an_unvalidated_draft_saves_it_and_says_why_not(client, instructor):
    client.force_login(instructor)
    response = client.post(_url("teach:exercise_new", False), form_data(status="published"))
    page = client.get(response["Location"]).content.decode()
    assert Exercise.objects.get().status == Status.DRAFT
    assert "Not published: Validate this version first: version 1 has not been validated." in page


def test_the_publish_button_publishes_a_validated_draft(client, exercise, instructor):
    Exercise.objects.filter(pk=exercise.pk).update(status=Status.DRAFT)
    client.force_login(instructor)
    url = _url("teach:exercise_publish", True)
    client.post(url)
    assert Exercise.objects.get().status == Status.DRAFT

    version = exercise.current_version()
    passed = {"status": "passed", "score": 1, "max_score": 1, "tests": []}
    failed = {"status": "failed", "score": 0, "max_score": 1, "tests": []}
    validation_record(version=version, framework="flask", kind="solution", result=passed)
    validation_record(version=version, framework="flask", kind="starter", result=failed)
    response = client.post(url)
    assert response.status_code == 302
    assert Exercise.objects.get().status == Status.PUBLISHED


def test_a_zip_of_the_exercise_folder_replaces_the_fields_and_files(client, course, instructor):
    client.force_login(instructor)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(
            "greet/exercise.toml",
            'slug = "greet"\ntitle = "From the zip"\nframeworks = ["flask"]\npoints = 3\n',
        )
        zipped.writestr("greet/README.md", "Zipped *instructions*.\n")
        for path, text in FILES.items():
            zipped.writestr(f"greet/{path}", text)
    upload = SimpleUploadedFile("greet.zip", buffer.getvalue(), "application/zip")
    response = client.post(
        _url("teach:exercise_new", False),
        form_data(title="", slug="", files="", folder_zip=upload),
    )
    assert response.status_code == 302
    exercise = Exercise.objects.get()
    assert (exercise.slug, exercise.title, exercise.points) == ("greet", "From the zip", 3)
    assert exercise.instructions == "Zipped *instructions*.\n"
    assert exercise.files == FILES


def test_a_broken_zip_is_explained_and_the_typed_fields_are_kept(client, course, instructor):
    client.force_login(instructor)
    upload = SimpleUploadedFile("greet.zip", b"PK not really", "application/zip")
    response = client.post(
        _url("teach:exercise_new", False), form_data(title="Typed", folder_zip=upload)
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "This is not a zip archive" in text
    assert 'value="Typed"' in text
    assert not Exercise.objects.exists()


def test_the_preview_renders_markdown_as_learners_see_it(client, course, instructor):
    client.force_login(instructor)
    response = client.post(
        _url("teach:exercise_preview", False),
        {"instructions": "# Title\n\n<script>alert(1)</script>**bold**"},
    )
    text = response.content.decode()
    assert "<strong>bold</strong>" in text
    assert "<script>" not in text


def test_the_validation_panel_polls_while_it_runs_and_stops_when_done(client, exercise, instructor):
    client.force_login(instructor)
    version = exercise.current_version()
    ExerciseValidation.objects.create(version=version, framework="flask", kind="solution")
    ExerciseValidation.objects.create(version=version, framework="flask", kind="starter")
    url = _url("teach:exercise_validation", True)
    running = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "Waiting for a grading host" in running

    result = {
        "status": "failed",
        "score": 0,
        "max_score": 1,
        "tests": [
            {"name": "GET / answers 200", "status": "failed", "points": 0, "max_points": 1,
             "message": "expected status 200, got 404."},
        ],
    }  # fmt: skip
    for row in ExerciseValidation.objects.all():
        validation_record(version=version, framework="flask", kind=row.kind, result=result)
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert "expected status 200, got 404." in done
    assert "needs full marks" in done
    assert "the Flask solution scores 0/1: GET / answers 200 failed" in done
