from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authoring.content import course_import
from courses.models import Course

DATA = Path(__file__).parent / "data" / "web-basics"

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("export_course", *args, stdout=out, no_color=True)
    return out.getvalue()


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def test_it_exports_a_course_and_prints_how_many_files_it_wrote(tmp_path):
    course_import(path=DATA)

    output = run("web-basics", str(tmp_path / "out"))

    assert output == f'Course "Web Basics": wrote 12 files to {tmp_path / "out"}\n'
    assert len(tree(tmp_path / "out")) == 12


def test_an_unknown_slug_is_a_command_error_listing_the_courses(tmp_path):
    course_import(path=DATA)

    with pytest.raises(CommandError) as caught:
        run("nope", str(tmp_path / "out"))

    assert str(caught.value) == 'No course with the slug "nope". Courses: web-basics.'
    assert caught.value.returncode == 1
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_folder_that_is_not_empty(tmp_path):
    course_import(path=DATA)
    run("web-basics", str(tmp_path / "out"))
    before = tree(tmp_path / "out")

    with pytest.raises(CommandError, match=r"is not empty; .* use --force"):
        run("web-basics", str(tmp_path / "out"))

    assert tree(tmp_path / "out") == before


def test_force_rewrites_an_exported_course_folder_identically(tmp_path):
    course_import(path=DATA)
    run("web-basics", str(tmp_path / "out"))
    before = tree(tmp_path / "out")

    run("web-basics", str(tmp_path / "out"), "--force")

    assert tree(tmp_path / "out") == before


def test_import_export_import_through_the_commands_changes_nothing(tmp_path):
    call_command("import_course", str(DATA), stdout=StringIO())
    run("web-basics", str(tmp_path / "out"))
    Course.objects.all().delete()
    call_command("import_course", str(tmp_path / "out"), stdout=StringIO())
    out = StringIO()

    call_command("import_course", str(DATA), stdout=out, no_color=True)

    assert out.getvalue() == 'Course "Web Basics": nothing changed (8 unchanged)\n'
