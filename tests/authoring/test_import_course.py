from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from courses.models import Chapter, Course, Status
from exercises.models import Exercise
from lessons.models import Lesson

DATA = Path(__file__).parent / "data" / "web-basics"

pytestmark = pytest.mark.django_db


def run(*args: str, verbosity: int = 1) -> str:
    out = StringIO()
    call_command("import_course", *args, stdout=out, verbosity=verbosity, no_color=True)
    return out.getvalue()


def row_counts() -> tuple[int, int, int, int]:
    return (
        Course.objects.count(),
        Chapter.objects.count(),
        Lesson.objects.count(),
        Exercise.objects.count(),
    )


def test_it_imports_a_course_and_prints_what_it_created():
    output = run(str(DATA))

    assert output == (
        'Course "Web Basics": course created, 2 chapters created (http, flask), '
        "4 lessons created (requests, status-codes, first-app, routing), "
        "1 exercise created (hello-route)\n"
    )
    assert row_counts() == (1, 2, 4, 1)


def test_a_second_run_prints_that_nothing_changed():
    run(str(DATA))

    assert run(str(DATA)) == 'Course "Web Basics": nothing changed (8 unchanged)\n'
    assert row_counts() == (1, 2, 4, 1)


def test_more_verbosity_lists_the_fields_that_changed(course_dir):
    run(str(course_dir))
    lesson = course_dir / "01-http" / "01-requests.md"
    lesson.write_text(
        lesson.read_text().replace("title: Requests and responses", "title: Requests")
    )

    output = run(str(course_dir), verbosity=2)

    assert output.splitlines() == [
        'Course "Web Basics": 1 lesson updated (requests), 7 unchanged',
        "  lesson requests: title changed",
    ]


def test_bad_input_is_a_command_error_with_exit_code_1_and_nothing_saved(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    lesson.write_text(lesson.read_text().replace("nav_order: 2", "nav_order: two"))

    with pytest.raises(CommandError) as caught:
        run(str(course_dir))

    assert caught.value.returncode == 1
    assert f'{lesson}, line 5: nav_order must be a whole number (0 or more), not "two"' in str(
        caught.value
    )
    assert "nothing was imported" in str(caught.value)
    assert row_counts() == (0, 0, 0, 0)


def test_a_missing_folder_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such folder"):
        run(str(tmp_path / "missing"))


def test_dry_run_saves_nothing():
    output = run(str(DATA), "--dry-run")

    assert output.startswith('Course "Web Basics" (dry run, nothing saved): course created')
    assert row_counts() == (0, 0, 0, 0)


def test_without_prune_a_removed_lesson_becomes_a_draft(course_dir):
    run(str(course_dir))
    (course_dir / "02-flask" / "02-routing.md").unlink()

    output = run(str(course_dir))

    assert "1 lesson unpublished (no longer in the files) (routing)" in output
    assert Lesson.objects.get(slug="routing").status == Status.DRAFT


def test_prune_deletes_a_removed_lesson(course_dir):
    run(str(course_dir))
    (course_dir / "02-flask" / "02-routing.md").unlink()

    output = run(str(course_dir), "--prune")

    assert "1 lesson deleted (no longer in the files) (routing)" in output
    assert not Lesson.objects.filter(slug="routing").exists()
