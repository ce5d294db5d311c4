"""`manage.py validate_exercises`: every solution scores full marks, no starter does."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from authoring.content import course_import
from courses.models import Status
from exercises.models import Exercise, ExerciseValidation, Submission
from tests.authoring.test_exercises import FILES

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db, pytest.mark.usefixtures("runner_image")]

COURSE = Path(settings.COURSE_CONTENT_DIR) / "python-web"


@pytest.mark.course_content
def test_every_exercise_of_the_course_is_valid():
    course_import(path=COURSE)
    exercises = list(Exercise.objects.order_by("slug"))
    out = StringIO()
    call_command("validate_exercises", stdout=out, stderr=StringIO())

    text = out.getvalue()
    assert text.splitlines()[0].split() == ["exercise", "framework", "solution", "starter"]
    assert f"All {len(exercises)} exercises are valid." in text
    rows = [line.split() for line in text.splitlines()[1:-1]]
    expected = sorted((e.slug, fw) for e in exercises for fw in e.frameworks)
    assert sorted((row[0], row[1]) for row in rows) == expected
    for row in rows:
        assert row[2] == "passed" and row[4] != "passed", row
        score, total = row[3].split("/")
        assert score == total
    # The results are the current versions' validations: the exercises may be published.
    assert ExerciseValidation.objects.count() == 2 * len(expected)
    assert not Submission.objects.exists()


def test_a_broken_exercise_fails_with_the_reason():
    course_import(path=COURSE)
    Exercise.objects.filter(slug="hello").update(status=Status.DRAFT)
    hello = Exercise.objects.get(slug="hello")
    hello.frameworks = ["flask"]
    # The solution is the starter: it misses GET /hello/<name>.
    hello.files = {
        **{p: t for p, t in hello.files.items() if p.startswith(("tests/", "starter/flask/"))},
        "solution/flask/app.py": hello.files["starter/flask/app.py"],
    }
    hello.save()
    greet = Exercise.objects.create(
        course=hello.course, slug="greet", title="Greet", frameworks=["flask"], files=FILES
    )
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("validate_exercises", "hello", greet.slug, stdout=out, stderr=StringIO())

    assert str(failed.value) == "1 of 2 exercises are not valid: hello"
    lines = out.getvalue().splitlines()
    assert lines[1].split() == ["hello", "flask", "failed", "2/6", "failed", "2/6"]
    assert lines[2].split() == ["greet", "flask", "passed", "1/1", "failed", "0/1"]
    assert lines[3] == (
        "hello: Version 2 did not pass validation: the Flask solution scores 2/6: "
        'GET /hello/ada answers {"message": "Hello, ada!"}. failed, Hidden test 1 failed.'
    )


def test_unknown_slugs_are_named():
    with pytest.raises(CommandError, match="No exercise with the slug"):
        call_command("validate_exercises", "nope", stdout=StringIO(), stderr=StringIO())
