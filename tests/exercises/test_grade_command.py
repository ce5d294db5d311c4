"""`manage.py grade`: the grading pipeline from the command line."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.factories import ExerciseFactory
from tests.sandbox.conftest import HELLO_DIR

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

STARTER_FLASK = HELLO_DIR / "starter" / "flask"
SOLUTION_FASTAPI = HELLO_DIR / "solution" / "fastapi"


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process, as a teacher would."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_json_output_is_exactly_the_result_and_a_failed_verdict_exits_0():
    done = manage("grade", str(HELLO_DIR), str(STARTER_FLASK), "--framework", "flask", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # the whole of stdout, nothing else
    assert result["status"] == "failed"
    assert (result["score"], result["max_score"]) == (2, 6)


def test_readable_output_shows_verdict_tests_and_log():
    out = StringIO()
    call_command("grade", str(HELLO_DIR), str(STARTER_FLASK), framework="flask", stdout=out)
    text = out.getvalue()
    assert text.startswith("FAILED  2/6 points")
    assert '✓ GET / answers 200 with "Hello, world!".  (1/1)' in text
    assert "✗ GET /hello/ada" in text
    assert "    GET /hello/ada: expected status 200, got 404." in text
    assert "✗ Hidden test 1  (0/2)" in text
    assert "no-such-page" not in text  # no access log: a hidden test's path is never shown


def test_any_asgi_app_is_graded_with_framework_asgi():
    passed = manage(
        "grade", str(HELLO_DIR), str(HELLO_DIR / "solution" / "asgi"), "--framework", "asgi",
        "--json",
    )  # fmt: skip
    # The WSGI solution (Bottle) submitted as an ASGI app: refused before any test runs.
    refused = manage(
        "grade", str(HELLO_DIR), str(HELLO_DIR / "solution" / "wsgi"), "--framework", "asgi",
    )  # fmt: skip

    assert passed.returncode == 0, passed.stderr
    result = json.loads(passed.stdout)
    assert (result["status"], result["score"], result["max_score"]) == ("passed", 6, 6)
    assert refused.returncode == 0, refused.stderr
    assert refused.stdout.startswith("ERROR  0/6 points")
    assert (
        "app.py must define an ASGI callable named app, but its `app` is a WSGI app, called as "
        "app(environ, start_response): submit it as Any WSGI app instead."
    ) in refused.stdout


def test_a_zip_is_graded_like_a_folder(tmp_path):
    from sandbox.archive import pack_directory

    archive = tmp_path / "solution.zip"
    archive.write_bytes(pack_directory(SOLUTION_FASTAPI))
    out = StringIO()
    call_command("grade", str(HELLO_DIR), str(archive), framework="fastapi", json=True, stdout=out)
    assert json.loads(out.getvalue())["status"] == "passed"


@pytest.mark.django_db
def test_an_imported_exercise_is_found_by_its_slug(hello_spec):
    exercise = ExerciseFactory(
        slug="hello-imported", frameworks=list(hello_spec.frameworks), files=hello_spec.files
    )
    out = StringIO()
    call_command(
        "grade", exercise.slug, str(SOLUTION_FASTAPI), framework="fastapi", json=True, stdout=out
    )
    result = json.loads(out.getvalue())
    assert (result["status"], result["score"]) == ("passed", 6)


def test_a_folder_the_site_would_refuse_is_an_error_verdict(tmp_path):
    for n in range(300):
        (tmp_path / f"page{n}.html").write_text("x")
    (tmp_path / "app.py").write_text("app = None\n")
    out = StringIO()
    call_command("grade", str(HELLO_DIR), str(tmp_path), framework="flask", json=True, stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "error"
    assert "files" in result["message"]


# Usage errors ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_exercise_is_a_usage_error():
    with pytest.raises(CommandError, match='No exercise with the slug "nope"'):
        call_command("grade", "nope", str(STARTER_FLASK), framework="flask")


def test_a_missing_submission_path_exits_non_zero_with_a_message(tmp_path):
    done = manage("grade", str(HELLO_DIR), str(tmp_path / "missing"), "--framework", "flask")
    assert done.returncode != 0
    assert "No such file or folder" in done.stderr
    assert done.stdout == ""


def test_a_file_that_is_not_a_zip_is_a_usage_error(tmp_path):
    junk = tmp_path / "app.py"
    junk.write_text("print('hi')")
    with pytest.raises(CommandError, match="not a zip archive"):
        call_command("grade", str(HELLO_DIR), str(junk), framework="flask")


def test_a_framework_the_exercise_does_not_offer_is_a_usage_error(hello_spec, tmp_path):
    dataclasses.replace(hello_spec, frameworks=("flask",)).write(tmp_path / "flask-only")
    with pytest.raises(CommandError, match="offers flask, not django"):
        call_command("grade", str(tmp_path / "flask-only"), str(STARTER_FLASK), framework="django")


def test_the_framework_may_be_left_out_when_only_one_is_offered(hello_spec, tmp_path):
    dataclasses.replace(hello_spec, frameworks=("flask",)).write(tmp_path / "flask-only")
    out = StringIO()
    call_command("grade", str(tmp_path / "flask-only"), str(STARTER_FLASK), json=True, stdout=out)
    assert json.loads(out.getvalue())["status"] == "failed"


def test_the_framework_is_required_when_several_are_offered():
    with pytest.raises(
        CommandError, match="offers flask, django, fastapi, wsgi, asgi: choose one with"
    ):
        call_command("grade", str(HELLO_DIR), str(STARTER_FLASK))


def test_an_unreachable_engine_exits_non_zero_with_a_message(tmp_path):
    done = manage(
        "grade", str(HELLO_DIR), str(STARTER_FLASK), "--framework", "flask", "--json",
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )  # fmt: skip
    assert done.returncode != 0
    assert "Docker engine is not reachable" in done.stderr
    assert done.stdout == ""
