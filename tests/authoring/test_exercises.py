"""Authoring services: save, read a folder zip, validate on the queue, publish, versions."""

from __future__ import annotations

import io
import zipfile

import pytest

from authoring.exercises import (
    ExerciseFields,
    ExerciseInvalid,
    PublishRefused,
    exercise_publish,
    exercise_save,
    exercise_validate,
    exercise_zip_read,
    version_history,
)
from courses.models import Status
from exercises import tasks
from exercises.models import Exercise, ExerciseValidation, Submission
from exercises.validations import validation_record
from tests.factories import CourseFactory, LessonFactory
from tests.sandbox.conftest import HELLO_DIR

pytestmark = pytest.mark.django_db

FILES = {
    "tests/test_app.py": (
        "from grader import expect\n\n\n"
        "def test_index(client):\n    expect(client.get('/'), status=200)\n"
    ),
    "starter/flask/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    "solution/flask/app.py": (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.get('/')\ndef index():\n    return 'hi'\n"
    ),
}


def fields(**changes) -> ExerciseFields:
    values = {
        "slug": "greet",
        "title": "Greet",
        "frameworks": ("flask",),
        "instructions": "Say **hi**.",
        "files": dict(FILES),
    }
    return ExerciseFields(**(values | changes))


def result(score: int, max_score: int, failed: tuple[str, ...] = ()) -> dict:
    tests = [
        {"name": name, "status": "failed", "points": 0, "max_points": 1, "message": "no"}
        for name in failed
    ]
    status = "passed" if score == max_score else "failed"
    return {"status": status, "score": score, "max_score": max_score, "message": "", "tests": tests}


def validate(exercise: Exercise, *, solution: dict, starter: dict) -> None:
    version = exercise.current_version()
    for framework in exercise.frameworks:
        validation_record(version=version, framework=framework, kind="solution", result=solution)
        validation_record(version=version, framework=framework, kind="starter", result=starter)


def test_saving_creates_a_draft_at_version_1_and_a_file_change_makes_version_2():
    course = CourseFactory()
    outcome = exercise_save(course=course, exercise=None, fields=fields(), publish=False)
    exercise = outcome.exercise
    assert (exercise.status, outcome.version.number, outcome.new_version) == ("draft", 1, True)
    assert exercise.instructions_html.strip() == "<p>Say <strong>hi</strong>.</p>"

    same = exercise_save(
        course=course, exercise=exercise, fields=fields(title="Greet me"), publish=False
    )
    assert (same.version.number, same.new_version) == (1, False)

    files = {**FILES, "tests/test_more.py": "def test_b(client):\n    pass\n"}
    changed = exercise_save(
        course=course, exercise=exercise, fields=fields(files=files), publish=False
    )
    assert (changed.version.number, changed.new_version) == (2, True)
    history = version_history(exercise)
    assert [entry.version.number for entry in history] == [2, 1]
    assert history[0].added == ["tests/test_more.py"]
    assert history[0].changed == history[0].removed == []


def test_an_invalid_exercise_is_refused_with_the_reason_and_nothing_is_saved():
    course = CourseFactory()
    no_solution = {k: v for k, v in FILES.items() if not k.startswith("solution/")}
    with pytest.raises(ExerciseInvalid) as refused:
        exercise_save(course=course, exercise=None, fields=fields(files=no_solution), publish=False)
    assert refused.value.problems == [
        "The exercise: solution/flask/ is missing or empty (frameworks lists flask)"
    ]
    assert not Exercise.objects.exists()


def test_a_test_file_that_is_not_python_is_named_with_its_line():
    course = CourseFactory()
    existing = exercise_save(course=course, exercise=None, fields=fields(), publish=False).exercise
    broken = {**FILES, "tests/test_app.py": "def test_a(client):\n    return (\n"}
    with pytest.raises(ExerciseInvalid) as refused:
        exercise_save(course=course, exercise=existing, fields=fields(files=broken), publish=False)
    (problem,) = refused.value.problems
    assert problem.startswith("tests/test_app.py, line 2: ")
    existing.refresh_from_db()
    assert existing.files == FILES  # the saved exercise is untouched
    assert existing.versions.count() == 1


def test_limits_are_checked_like_exercise_toml_and_slugs_must_be_free():
    course = CourseFactory()
    with pytest.raises(ExerciseInvalid) as refused:
        exercise_save(
            course=course, exercise=None, fields=fields(limits={"memory_mb": 4096}), publish=False
        )
    assert refused.value.problems == [
        "The exercise: [limits]: limit 'memory_mb' must be between 64 and 1024, not 4096"
    ]
    exercise_save(course=CourseFactory(), exercise=None, fields=fields(), publish=False)
    with pytest.raises(ExerciseInvalid, match='The slug "greet" is taken by another exercise'):
        exercise_save(course=course, exercise=None, fields=fields(), publish=False)
    with pytest.raises(ExerciseInvalid, match='The slug "new" is the name of a page'):
        exercise_save(course=course, exercise=None, fields=fields(slug="new"), publish=False)


def test_publishing_needs_a_passing_validation_of_the_current_version():
    course = CourseFactory()
    exercise = exercise_save(course=course, exercise=None, fields=fields(), publish=True)
    assert exercise.publish_refused == (
        "Validate this version first: version 1 has not been validated."
    )
    exercise = exercise.exercise
    assert exercise.status == Status.DRAFT

    validate(exercise, solution=result(4, 6, ("test_x", "test_y")), starter=result(2, 6))
    with pytest.raises(PublishRefused) as refused:
        exercise_publish(exercise=exercise)
    assert str(refused.value) == (
        "Version 1 did not pass validation: the Flask solution scores 4/6: "
        "test_x failed, test_y failed."
    )

    validate(exercise, solution=result(6, 6), starter=result(6, 6))
    with pytest.raises(PublishRefused, match="the Flask starter already scores full marks"):
        exercise_publish(exercise=exercise)

    validate(exercise, solution=result(6, 6), starter=result(2, 6))
    exercise_publish(exercise=exercise)
    exercise.refresh_from_db()
    assert exercise.status == Status.PUBLISHED
    assert exercise.points == 6  # none were given: the points of the tests

    # A new version is not validated: a draft of it cannot be published again.
    files = {**FILES, "tests/test_more.py": "def test_b(client):\n    pass\n"}
    outcome = exercise_save(
        course=course, exercise=exercise, fields=fields(files=files), publish=False
    )
    assert outcome.exercise.status == Status.DRAFT
    with pytest.raises(PublishRefused, match="version 2 has not been validated"):
        exercise_publish(exercise=outcome.exercise)


def test_points_given_are_kept_when_publishing():
    course = CourseFactory()
    exercise = exercise_save(
        course=course, exercise=None, fields=fields(points=10), publish=False
    ).exercise
    validate(exercise, solution=result(6, 6), starter=result(2, 6))
    exercise_publish(exercise=exercise)
    exercise.refresh_from_db()
    assert (exercise.status, exercise.points) == (Status.PUBLISHED, 10)


def test_validating_sends_grading_jobs_for_each_solution_and_starter_and_no_submission(
    sent_gradings, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    exercise = exercise_save(course=course, exercise=None, fields=fields(), publish=False).exercise
    with django_capture_on_commit_callbacks(execute=True):
        rows = exercise_validate(exercise=exercise)

    assert sorted((row.framework, row.kind) for row in rows) == [
        ("flask", "solution"),
        ("flask", "starter"),
    ]
    jobs = {options["job"].submission: options["job"] for _, options in sent_gradings}
    assert set(jobs) == {row.pk for row in rows}
    for row in rows:
        job = jobs[row.pk]
        assert job.job_id == row.job_id and job.job_id.startswith("v")
        assert job.tests == {"test_app.py": FILES["tests/test_app.py"]}
        assert _unzipped(job.archive) == {"app.py": FILES[f"{row.kind}/flask/app.py"]}
    assert {options["queue"] for _, options in sent_gradings} == {"grading"}
    assert not Submission.objects.exists()


def test_reports_about_a_validation_job_go_to_the_validation(
    sent_gradings, django_capture_on_commit_callbacks
):
    exercise = exercise_save(
        course=CourseFactory(), exercise=None, fields=fields(), publish=False
    ).exercise
    with django_capture_on_commit_callbacks(execute=True):
        solution, _ = exercise_validate(exercise=exercise)

    tasks.grading_started(solution.job_id, solution.pk, "host-1", "booting")
    solution.refresh_from_db()
    assert (solution.state, solution.grading_host) == ("running", "host-1")

    tasks.grading_finished("v" + "0" * 32, solution.pk, "host-1", result(1, 1))  # another job
    solution.refresh_from_db()
    assert solution.state == "running"

    tasks.grading_finished(solution.job_id, solution.pk, "host-1", result(1, 1))
    solution.refresh_from_db()
    assert (solution.state, solution.verdict, solution.score, solution.max_score) == (
        "done",
        "passed",
        1,
        1,
    )
    assert not Submission.objects.exists()


def test_a_lost_validation_job_is_sent_again_as_a_new_job(
    sent_gradings, django_capture_on_commit_callbacks
):
    exercise = exercise_save(
        course=CourseFactory(), exercise=None, fields=fields(), publish=False
    ).exercise
    with django_capture_on_commit_callbacks(execute=True):
        solution, _ = exercise_validate(exercise=exercise)
    tasks.grading_started(solution.job_id, solution.pk, "host-1", "booting")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.grading_lost(solution.job_id, solution.pk, "host-1", "grader")

    again = ExerciseValidation.objects.get(pk=solution.pk)
    assert again.state == "queued" and again.job_id != solution.job_id
    assert sent_gradings[-1][1]["job"].job_id == again.job_id


def _unzipped(archive: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return {name: zipped.read(name).decode() for name in zipped.namelist()}


# Zips of exercise folders -------------------------------------------------------------


def _zip_folder(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, text in files.items():
            zipped.writestr(name, text)
    return buffer.getvalue()


def _hello_files(prefix: str = "hello/") -> dict[str, str]:
    return {
        prefix + path.relative_to(HELLO_DIR).as_posix(): path.read_text()
        for path in HELLO_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_a_zip_of_an_exercise_folder_gives_its_fields_and_files(tmp_path):
    lesson = LessonFactory(slug="what-a-web-framework-does", chapter__slug="foundations")
    read = exercise_zip_read(course=lesson.chapter.course, data=_zip_folder(_hello_files()))
    assert (read.slug, read.title, read.points) == ("hello", "Hello, web", 6)
    assert read.frameworks == ("flask", "django", "fastapi", "wsgi", "asgi")
    assert read.lesson == lesson
    assert read.open_first == {"django": "greetings/views.py"}
    assert read.files["solution/flask/app.py"] == (HELLO_DIR / "solution/flask/app.py").read_text()
    assert read.instructions == (HELLO_DIR / "README.md").read_text()


def test_a_zip_with_a_broken_exercise_toml_names_the_file_and_line():
    files = _hello_files()
    files["hello/exercise.toml"] = 'slug = "hello"\ntitle = "Hello"\nframeworks = [flask]\n'
    with pytest.raises(ExerciseInvalid) as refused:
        exercise_zip_read(course=CourseFactory(), data=_zip_folder(files))
    (problem,) = refused.value.problems
    assert problem == "exercise.toml: Invalid value (at line 3, column 15)"


def test_a_zip_that_is_no_exercise_folder_is_explained():
    with pytest.raises(ExerciseInvalid, match=r"The zip holds no exercise\.toml"):
        exercise_zip_read(course=CourseFactory(), data=_zip_folder({"app.py": "x = 1\n"}))
    with pytest.raises(ExerciseInvalid, match="not a zip archive"):
        exercise_zip_read(course=CourseFactory(), data=b"not a zip")
    files = _hello_files()
    with pytest.raises(ExerciseInvalid, match='lesson "foundations/what-a-web-framework-does"'):
        exercise_zip_read(course=CourseFactory(), data=_zip_folder(files))
