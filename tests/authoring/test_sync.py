"""Import never silently replaces what was edited in the browser (authoring/content.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authoring.content import CourseConflictError, course_export, course_import
from authoring.models import SyncedContent
from courses.models import Chapter, Course, Status
from exercises.models import Exercise
from lessons.models import Lesson

pytestmark = pytest.mark.django_db

LESSON_FILE = Path("01-http") / "01-requests.md"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_course", *args, stdout=out, no_color=True)
    return out.getvalue()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def edit_in_browser(slug: str = "requests", body: str = "Edited in the browser.") -> Lesson:
    lesson = Lesson.objects.get(slug=slug)
    lesson.body = body
    lesson.save()
    return lesson


def body(slug: str = "requests") -> str:
    return Lesson.objects.get(slug=slug).body


def test_an_import_keeps_a_browser_edit_whose_file_did_not_change(course_dir):
    course_import(path=course_dir)
    edit_in_browser()

    report = course_import(path=course_dir)

    assert body() == "Edited in the browser."
    assert report.slugs("lesson", "kept-edit") == ["requests"]
    [note] = report.notes()
    assert note.startswith(f"Kept your browser edit of lesson requests ({LESSON_FILE}, edited on ")
    assert "run export_course to write it to the files" in note


def test_a_browser_edit_and_a_file_edit_conflict_and_nothing_is_written(course_dir):
    course_import(path=course_dir)
    lesson = edit_in_browser()
    edit(course_dir / LESSON_FILE, "A request is", "A request holds")
    # An edit that does not conflict: it is not imported either.
    edit(course_dir / "01-http" / "02-status-codes.md", "nav_order: 2", "nav_order: 7")

    with pytest.raises(CourseConflictError) as caught:
        course_import(path=course_dir)

    assert body() == "Edited in the browser."
    assert Lesson.objects.get(slug="status-codes").order == 2
    [conflict] = caught.value.conflicts
    assert (conflict.kind, conflict.slug, conflict.path) == ("lesson", "requests", str(LESSON_FILE))
    assert conflict.fields == ("body",)
    message = str(caught.value)
    assert "nothing was imported" in message
    assert f"- {LESSON_FILE}: lesson requests was edited in the browser on " in message
    assert lesson.updated.strftime("%Y-%m-%d %H:%M") in message
    assert "its file changed too (body differs)" in message


def test_the_command_names_the_conflict_and_fails(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    edit(course_dir / LESSON_FILE, "A request is", "A request holds")

    with pytest.raises(CommandError, match=rf"{LESSON_FILE}: lesson requests was edited"):
        run(str(course_dir))
    assert body() == "Edited in the browser."


def test_a_dry_run_shows_the_conflicts_too(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    edit(course_dir / LESSON_FILE, "A request is", "A request holds")

    with pytest.raises(CommandError, match="lesson requests was edited in the browser"):
        run(str(course_dir), "--dry-run")
    assert body() == "Edited in the browser."


def test_force_takes_the_files(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    edit(course_dir / LESSON_FILE, "A request is", "A request holds")

    output = run(str(course_dir), "--force")

    assert "A request holds" in body()
    assert "1 lesson updated (requests)" in output
    # The files and the database agree again: the next import has nothing to do.
    assert "nothing changed" in run(str(course_dir))


def test_force_also_takes_unchanged_files_over_a_browser_edit(course_dir):
    course_import(path=course_dir)
    edit_in_browser()

    course_import(path=course_dir, force=True)

    assert "A request is" in body()


def test_skip_conflicts_imports_the_rest_and_says_what_it_kept(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    edit(course_dir / LESSON_FILE, "A request is", "A request holds")
    edit(course_dir / "01-http" / "02-status-codes.md", "nav_order: 2", "nav_order: 7")

    output = run(str(course_dir), "--skip-conflicts")

    assert body() == "Edited in the browser."
    assert Lesson.objects.get(slug="status-codes").order == 7
    assert "1 lesson updated (status-codes)" in output
    assert "1 conflict skipped (lesson requests)" in output
    assert f"Skipped a conflict: {LESSON_FILE}: lesson requests was edited in the browser" in output
    assert "import_course --force to take the files" in output


def test_export_writes_browser_edits_to_the_files_and_the_next_import_changes_nothing(
    course_dir,
):
    course_import(path=course_dir)
    edit_in_browser()
    exercise = Exercise.objects.get(slug="hello-route")
    exercise.title = "Hello, route"
    exercise.save()

    course_export(course=Course.objects.get(), path=course_dir, force=True)
    report = course_import(path=course_dir)

    assert not report.changed
    assert report.notes() == []
    assert "Edited in the browser." in (course_dir / LESSON_FILE).read_text()
    assert (
        'title = "Hello, route"'
        in (course_dir / "exercises" / "hello-route" / "exercise.toml").read_text()
    )
    # A file edited after the export is imported again as usual.
    edit(course_dir / LESSON_FILE, "Edited in", "Written in")
    course_import(path=course_dir)
    assert body() == "Written in the browser."


def test_an_export_elsewhere_does_not_make_the_imported_folder_overwrite_an_edit(
    course_dir, tmp_path
):
    course_import(path=course_dir)
    edit_in_browser()

    course_export(course=Course.objects.get(), path=tmp_path / "copy")
    course_import(path=course_dir)

    assert body() == "Edited in the browser."


def test_the_same_edit_in_the_browser_and_the_files_is_no_conflict(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    front_matter = (course_dir / LESSON_FILE).read_text().split("## A request")[0]
    (course_dir / LESSON_FILE).write_text(front_matter + "Edited in the browser.\n")

    report = course_import(path=course_dir)

    assert "requests" in report.slugs("lesson", "unchanged")
    # In step again, so the file's next change is imported.
    edit(course_dir / LESSON_FILE, "Edited in", "Then edited in")
    course_import(path=course_dir)
    assert body() == "Then edited in the browser."


def test_a_lesson_made_in_the_browser_is_not_unpublished_for_missing_from_the_files(course_dir):
    course_import(path=course_dir)
    chapter = Chapter.objects.get(slug="http")
    Lesson.objects.create(
        chapter=chapter, slug="cookies", title="Cookies", order=9, status=Status.PUBLISHED
    )

    report = course_import(path=course_dir)

    assert Lesson.objects.get(slug="cookies").status == Status.PUBLISHED
    assert report.slugs("lesson", "kept-edit") == ["cookies"]
    assert "lesson cookies (not in the files" in report.notes()[0]


def test_a_lesson_edited_in_the_browser_and_deleted_from_the_files_conflicts(course_dir):
    course_import(path=course_dir)
    edit_in_browser()
    (course_dir / LESSON_FILE).unlink()

    with pytest.raises(CourseConflictError, match="its file is gone from the folder"):
        course_import(path=course_dir, prune=True)
    assert body() == "Edited in the browser."

    course_import(path=course_dir, prune=True, force=True)
    assert not Lesson.objects.filter(slug="requests").exists()


def test_course_and_chapter_texts_are_protected_too(course_dir):
    course_import(path=course_dir)
    chapter = Chapter.objects.get(slug="http")
    chapter.intro = "A new introduction."
    chapter.save()
    edit(course_dir / "01-http" / "index.md", "title: HTTP", "title: HTTP basics")
    edit(course_dir / "01-http" / "01-requests.md", "parent: HTTP", "parent: HTTP basics")
    edit(course_dir / "01-http" / "02-status-codes.md", "parent: HTTP", "parent: HTTP basics")

    with pytest.raises(CourseConflictError) as caught:
        course_import(path=course_dir)

    [conflict] = caught.value.conflicts
    assert (conflict.kind, conflict.path) == ("chapter", str(Path("01-http") / "index.md"))
    assert set(conflict.fields) == {"title", "intro"}
    assert Chapter.objects.get(slug="http").intro == "A new introduction."


def test_an_exercise_edited_in_the_browser_keeps_its_files(course_dir):
    course_import(path=course_dir)
    exercise = Exercise.objects.get(slug="hello-route")
    exercise.files = {**exercise.files, "tests/test_extra.py": "def test_x(client):\n    pass\n"}
    exercise.save()
    versions = exercise.versions.count()

    report = course_import(path=course_dir)

    exercise.refresh_from_db()
    assert "tests/test_extra.py" in exercise.files
    assert exercise.versions.count() == versions
    assert report.slugs("exercise", "kept-edit") == ["hello-route"]
    record = SyncedContent.objects.get(kind="exercise", object_id=exercise.pk)
    assert record.folder == str(course_dir.resolve())
