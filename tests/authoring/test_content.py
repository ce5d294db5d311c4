from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import models

from authoring.content import (
    CourseContentError,
    CourseExportError,
    course_export,
    course_folder_read,
    course_import,
)
from courses.models import Chapter, Course, Status
from exercises.models import Exercise
from lessons.models import Lesson
from tests.factories import CourseFactory, ExerciseFactory

DATA = Path(__file__).parent / "data" / "web-basics"

pytestmark = pytest.mark.django_db


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def import_problems(path: Path) -> list[str]:
    with pytest.raises(CourseContentError) as caught:
        course_import(path=path)
    return caught.value.problems


def row_counts() -> tuple[int, int, int, int]:
    return (
        Course.objects.count(),
        Chapter.objects.count(),
        Lesson.objects.count(),
        Exercise.objects.count(),
    )


def plain(row: models.Model) -> dict:
    """Return every field of a row but ids, timestamps and secrets; relations by slug."""
    data = {}
    for model_field in row._meta.concrete_fields:
        # A course's invitation code belongs to the site it runs on, not to its files.
        if model_field.name in ("id", "created", "updated", "invite_code"):
            continue
        value = getattr(row, model_field.name)
        data[model_field.name] = value.slug if isinstance(value, models.Model) else value
    return data


def canonical_dump(slug: str) -> dict:
    course = Course.objects.get(slug=slug)
    return {
        "course": plain(course),
        "chapters": [plain(c) for c in course.chapters.order_by("slug")],
        "lessons": [
            plain(lesson)
            for lesson in Lesson.objects.filter(chapter__course=course).order_by("slug")
        ],
        "exercises": [plain(e) for e in course.exercises.order_by("slug")],
    }


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


# Reading


def test_it_reads_chapters_and_lessons_in_nav_order_with_slugs_from_file_names():
    source = course_folder_read(path=DATA)

    assert (source.slug, source.title, source.order) == ("web-basics", "Web Basics", 1)
    assert source.description.startswith("This small course follows")
    assert [c.slug for c in source.chapters] == ["http", "flask"]
    # 01-requests.md and 02-routing.md have no slug key: the name without its prefix.
    assert [lesson.slug for _, lesson in source.lessons()] == [
        "requests",
        "status-codes",
        "first-app",
        "routing",
    ]
    assert [lesson.status for _, lesson in source.lessons()] == [
        "published",
        "draft",
        "published",
        "published",
    ]
    assert [e.slug for e in source.exercises] == ["hello-route"]


def test_order_comes_from_nav_order_not_from_file_names(course_dir):
    edit(course_dir / "02-flask" / "01-first-app.md", "nav_order: 1", "nav_order: 3")

    source = course_folder_read(path=course_dir)

    assert [lesson.slug for lesson in source.chapters[1].lessons] == ["routing", "first-app"]


def test_the_body_is_kept_as_written_without_surrounding_blank_lines():
    source = course_folder_read(path=DATA)

    first_app = source.chapters[1].lessons[0]
    assert first_app.body.startswith('## The application\n\n=== "Flask"\n\n    ```python\n')
    assert first_app.body.endswith("reloads the server when you save a file.")


def test_a_byte_order_mark_and_windows_line_endings_are_accepted(course_dir):
    index = course_dir / "01-http" / "index.md"
    index.write_bytes(b"\xef\xbb\xbf" + index.read_bytes().replace(b"\n", b"\r\n"))

    source = course_folder_read(path=course_dir)

    assert source.chapters[0].title == "HTTP"
    assert "\r" not in source.chapters[0].intro


def test_a_folder_of_courses_is_refused_with_the_courses_it_holds(tmp_path):
    shutil.copytree(DATA, tmp_path / "web-basics")

    with pytest.raises(CourseContentError) as caught:
        course_folder_read(path=tmp_path)

    assert "This looks like a folder of courses" in str(caught.value)
    assert str(tmp_path / "web-basics") in str(caught.value)


def test_a_missing_folder_is_reported(tmp_path):
    with pytest.raises(CourseContentError, match="no such folder"):
        course_folder_read(path=tmp_path / "nope")


# Validation: each problem names the file and, where it can, the line


def test_bad_yaml_names_the_file_and_line(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    edit(lesson, "nav_order: 2\n", "nav_order: [2\n")

    (problem,) = import_problems(course_dir)

    assert problem == (
        f"{lesson}, line 6: the front matter is not valid YAML: expected ',' or ']', "
        "but got ':' (while parsing a flow sequence that starts on line 5)"
    )


def test_bad_yaml_line_counts_blank_lines_before_the_front_matter(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    lesson.write_text("\n\n" + lesson.read_text().replace("title: Routing", "title: [Routing"))

    (problem,) = import_problems(course_dir)

    # line 1-2 blank, 3 is ---, 4 is the title, and the parser notices at the next key.
    assert problem.startswith(f"{lesson}, line 5: the front matter is not valid YAML")


def test_a_nav_order_that_is_not_a_whole_number_names_the_line_and_value(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    edit(lesson, "nav_order: 2", "nav_order: two")

    assert import_problems(course_dir) == [
        f'{lesson}, line 5: nav_order must be a whole number (0 or more), not "two"'
    ]


def test_a_missing_title_is_reported(course_dir):
    chapter = course_dir / "02-flask" / "index.md"
    edit(chapter, "title: Flask\n", "")

    problems = import_problems(course_dir)

    assert f"{chapter}: title is missing; it is required" in problems


def test_a_wrong_parent_shows_the_expected_and_found_titles(course_dir):
    lesson = course_dir / "01-http" / "01-requests.md"
    edit(lesson, "parent: HTTP", "parent: Http basics")

    assert import_problems(course_dir) == [
        f'{lesson}, line 4: parent is "Http basics", but the chapter title '
        f'(in {course_dir / "01-http" / "index.md"}) is "HTTP"'
    ]


def test_a_missing_grand_parent_says_what_it_must_be(course_dir):
    lesson = course_dir / "01-http" / "01-requests.md"
    edit(lesson, "grand_parent: Web Basics\n", "")

    assert import_problems(course_dir) == [
        f'{lesson}: grand_parent is missing; it must be the course title "Web Basics"'
    ]


def test_a_lesson_slug_used_twice_in_the_course_is_reported(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    edit(lesson, "nav_order: 2\n", "nav_order: 2\nslug: requests\n")

    assert import_problems(course_dir) == [
        f'{lesson}, line 6: slug "requests" is also used by '
        f"{course_dir / '01-http' / '01-requests.md'}; each lesson needs its own slug "
        "within the course"
    ]


def test_two_lessons_of_a_chapter_may_not_share_a_nav_order(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    edit(lesson, "nav_order: 2", "nav_order: 1")

    (problem,) = import_problems(course_dir)

    assert problem.startswith(f"{lesson}, line 5: nav_order 1 is also used by ")


def test_an_unknown_status_is_reported(course_dir):
    lesson = course_dir / "01-http" / "02-status-codes.md"
    edit(lesson, "status: draft", "status: hidden")

    assert import_problems(course_dir) == [
        f'{lesson}, line 8: status must be draft or published, not "hidden"'
    ]


def test_a_misspelt_key_is_an_error_with_a_suggestion(course_dir):
    lesson = course_dir / "01-http" / "02-status-codes.md"
    edit(lesson, "status: draft", "stauts: draft")

    (problem,) = import_problems(course_dir)

    assert problem.startswith(f'{lesson}, line 8: unknown key "stauts" (did you mean "status"?)')


def test_just_the_docs_layout_keys_are_accepted_and_ignored():
    source = course_folder_read(path=DATA)  # index.md and 01-http/ carry layout: default

    assert source.title == "Web Basics"


def test_a_title_that_yaml_reads_as_a_number_asks_for_quotes(course_dir):
    chapter = course_dir / "02-flask" / "index.md"
    edit(chapter, "title: Flask", "title: 1984")
    edit(course_dir / "02-flask" / "01-first-app.md", "parent: Flask", "parent: '1984'")
    edit(course_dir / "02-flask" / "02-routing.md", "parent: Flask", "parent: '1984'")

    problems = import_problems(course_dir)

    assert f"{chapter}, line 2: title must be text, not 1984 (put it in quotes)" in problems


def test_markdown_that_is_not_utf8_is_reported_with_its_line(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    lesson.write_bytes(lesson.read_bytes() + "\nCaf\u00e9\n".encode("latin-1"))

    assert import_problems(course_dir) == [
        f"{lesson}, line 12: not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]


def test_a_file_without_front_matter_is_reported(course_dir):
    lesson = course_dir / "02-flask" / "03-notes.md"
    lesson.write_text("Just some notes.\n")

    assert import_problems(course_dir) == [
        f"{lesson}: no front matter: the file must start with a line of three dashes (---)"
    ]


def test_a_lesson_outside_a_chapter_folder_is_reported(course_dir):
    stray = course_dir / "03-extra.md"
    shutil.copy(course_dir / "02-flask" / "02-routing.md", stray)

    assert import_problems(course_dir) == [
        f"{stray}: lessons belong in a chapter folder; move this file into one"
    ]


def test_folders_without_markdown_are_ignored(course_dir):
    (course_dir / "figures").mkdir()
    (course_dir / "figures" / "diagram.svg").write_text("<svg/>")

    source = course_folder_read(path=course_dir)

    assert len(source.chapters) == 2


def test_a_bad_exercise_toml_reports_the_spec_error(course_dir):
    toml = course_dir / "exercises" / "hello-route" / "exercise.toml"
    edit(toml, 'frameworks = ["flask"]', 'frameworks = ["rails"]')

    assert import_problems(course_dir) == [
        f"{toml}: `frameworks` must be a non-empty list drawn from "
        "flask, django, fastapi, wsgi, asgi"
    ]


def test_an_open_file_that_is_not_a_starter_file_is_reported_and_nothing_imported(
    course_dir,
):
    toml = course_dir / "exercises" / "hello-route" / "exercise.toml"
    edit(toml, "order = 1\n", 'order = 1\nopen = "views.py"\n')

    assert import_problems(course_dir) == [
        f"{toml}: `open` names 'views.py', which is not a starter file: "
        "no such file in starter/flask/"
    ]
    assert row_counts() == (0, 0, 0, 0)


def test_the_open_file_is_imported_changed_and_exported(course_dir, tmp_path):
    toml = course_dir / "exercises" / "hello-route" / "exercise.toml"
    starter = course_dir / "exercises" / "hello-route" / "starter" / "flask"
    (starter / "routes.py").write_text("# TODO: the routes\n", encoding="utf-8")
    course_import(path=course_dir)
    assert Exercise.objects.get().first_file("flask") == "routes.py"  # the TODO, when unset

    edit(toml, "order = 1\n", 'order = 1\nopen = "app.py"\n')
    report = course_import(path=course_dir)

    assert "1 exercise updated (hello-route)" in report.summary()
    exercise = Exercise.objects.get()
    assert exercise.open_first == {"flask": "app.py"}
    assert exercise.first_file("flask") == "app.py"
    course_export(course=Course.objects.get(), path=tmp_path / "out")
    exported = (tmp_path / "out" / "exercises" / "hello-route" / "exercise.toml").read_text()
    assert 'open = "app.py"\n' in exported


def test_an_exercise_linked_to_a_lesson_not_in_the_course_is_reported(course_dir):
    toml = course_dir / "exercises" / "hello-route" / "exercise.toml"
    edit(toml, 'lesson = "flask/first-app"', 'lesson = "http/first-app"')

    (problem,) = import_problems(course_dir)

    assert problem.startswith(f'{toml}, line 7: lesson "http/first-app" is not a lesson of')


def test_every_problem_is_reported_in_one_run(course_dir):
    edit(course_dir / "02-flask" / "02-routing.md", "nav_order: 2", "nav_order: two")
    edit(course_dir / "01-http" / "index.md", "title: HTTP\n", "")
    edit(course_dir / "exercises" / "hello-route" / "exercise.toml", "points = 10", "points = -1")

    with pytest.raises(CourseContentError) as caught:
        course_import(path=course_dir)

    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith(f"{course_dir}: 3 problems, nothing was imported.\n- ")


def test_an_exercise_slug_owned_by_another_course_is_refused(course_dir):
    other = CourseFactory(title="Other course")
    ExerciseFactory(course=other, slug="hello-route")

    problems = import_problems(course_dir)

    assert problems == [
        f'{course_dir / "exercises"}: exercise slug "hello-route" already belongs to the '
        'course "Other course"; pick another slug'
    ]
    assert not Course.objects.filter(slug="web-basics").exists()


# Importing


def test_import_creates_the_course_with_its_chapters_lessons_and_exercise():
    report = course_import(path=DATA)

    assert row_counts() == (1, 2, 4, 1)
    course = Course.objects.get(slug="web-basics")
    assert report.summary() == (
        'Course "Web Basics": course created, 2 chapters created (http, flask), '
        "4 lessons created (requests, status-codes, first-app, routing), "
        "1 exercise created (hello-route)"
    )
    assert Lesson.objects.get(slug="status-codes").status == Status.DRAFT
    assert Lesson.objects.get(slug="routing").status == Status.PUBLISHED
    assert "<table>" in Lesson.objects.get(slug="status-codes").body_html
    exercise = Exercise.objects.get(slug="hello-route")
    assert exercise.course == course
    assert exercise.lesson == Lesson.objects.get(slug="first-app")
    assert exercise.spec() == course_folder_read(path=DATA).exercises[0]


def test_importing_twice_changes_nothing():
    course_import(path=DATA)
    before = canonical_dump("web-basics")
    stamps = list(Lesson.objects.order_by("id").values_list("updated", flat=True))
    course_updated = Course.objects.get().updated

    report = course_import(path=DATA)

    assert not report.changed
    assert report.summary() == 'Course "Web Basics": nothing changed (8 unchanged)'
    assert row_counts() == (1, 2, 4, 1)
    assert canonical_dump("web-basics") == before
    assert list(Lesson.objects.order_by("id").values_list("updated", flat=True)) == stamps
    assert Course.objects.get().updated == course_updated


def test_changing_one_lesson_body_updates_only_that_lesson(course_dir):
    course_import(path=course_dir)
    untouched = Lesson.objects.get(slug="requests").updated
    edit(course_dir / "02-flask" / "02-routing.md", "as an argument.", "as a keyword argument.")

    report = course_import(path=course_dir)

    assert report.slugs("lesson", "updated") == ["routing"]
    assert [c.fields for c in report.changes if c.action == "updated"] == [("body",)]
    assert report.summary() == ('Course "Web Basics": 1 lesson updated (routing), 7 unchanged')
    routing = Lesson.objects.get(slug="routing")
    assert "keyword argument" in routing.body
    assert "keyword argument" in routing.body_html
    assert Lesson.objects.get(slug="requests").updated == untouched


def test_renaming_a_chapter_bumps_the_course_stamp_that_versions_the_outline(course_dir):
    course_import(path=course_dir)
    stamp = Course.objects.get().updated
    for name in ("index.md", "01-first-app.md", "02-routing.md"):
        edit(course_dir / "02-flask" / name, "Flask\n", "Flask basics\n")

    report = course_import(path=course_dir)

    assert report.slugs("chapter", "updated") == ["flask"]
    assert Chapter.objects.get(slug="flask").title == "Flask basics"
    assert Course.objects.get().updated > stamp


def test_a_lesson_moved_to_another_chapter_is_moved_not_duplicated(course_dir):
    course_import(path=course_dir)
    routing = Lesson.objects.get(slug="routing")
    moved = course_dir / "01-http" / "03-routing.md"
    (course_dir / "02-flask" / "02-routing.md").rename(moved)
    edit(moved, "parent: Flask", "parent: HTTP")
    edit(moved, "nav_order: 2", "nav_order: 3")

    report = course_import(path=course_dir)

    assert row_counts() == (1, 2, 4, 1)
    routing.refresh_from_db()
    assert routing.chapter.slug == "http"
    assert routing.order == 3
    assert [c.fields for c in report.changes if c.slug == "routing"] == [("chapter", "order")]


def test_a_lesson_gone_from_the_files_becomes_a_draft_and_is_reported(course_dir):
    course_import(path=course_dir)
    (course_dir / "02-flask" / "02-routing.md").unlink()

    report = course_import(path=course_dir)

    assert report.slugs("lesson", "unpublished") == ["routing"]
    assert "1 lesson unpublished (no longer in the files) (routing)" in report.summary()
    assert Lesson.objects.get(slug="routing").status == Status.DRAFT
    second = course_import(path=course_dir)
    assert not second.changed
    assert "not in the files but kept: lesson routing (--prune deletes them)" in second.summary()


def test_an_exercise_gone_from_the_files_becomes_a_draft(course_dir):
    course_import(path=course_dir)
    shutil.rmtree(course_dir / "exercises")

    report = course_import(path=course_dir)

    assert report.slugs("exercise", "unpublished") == ["hello-route"]
    assert Exercise.objects.get(slug="hello-route").status == Status.DRAFT


def test_prune_deletes_chapters_lessons_and_exercises_gone_from_the_files(course_dir):
    course_import(path=course_dir)
    shutil.rmtree(course_dir / "02-flask")
    shutil.rmtree(course_dir / "exercises")

    report = course_import(path=course_dir, prune=True)

    assert row_counts() == (1, 1, 2, 0)
    assert report.slugs("chapter", "deleted") == ["flask"]
    assert report.slugs("lesson", "deleted") == ["first-app", "routing"]
    assert report.slugs("exercise", "deleted") == ["hello-route"]


def test_a_failing_import_writes_nothing_to_an_empty_database(course_dir):
    edit(course_dir / "02-flask" / "02-routing.md", "nav_order: 2", "nav_order: two")

    import_problems(course_dir)

    assert row_counts() == (0, 0, 0, 0)


def test_a_failing_import_leaves_an_imported_course_as_it_was(course_dir):
    course_import(path=course_dir)
    before = canonical_dump("web-basics")
    edit(course_dir / "01-http" / "01-requests.md", "A request is", "A request holds")
    (course_dir / "02-flask" / "03-new.md").write_text(
        "---\ntitle: New\nparent: Flask\ngrand_parent: Web Basics\nnav_order: 3\n---\nNew.\n"
    )
    edit(course_dir / "exercises" / "hello-route" / "exercise.toml", "points = 10", "points = -1")

    import_problems(course_dir)

    assert canonical_dump("web-basics") == before
    assert row_counts() == (1, 2, 4, 1)


def test_a_dry_run_reports_changes_but_saves_nothing(course_dir):
    report = course_import(path=course_dir, dry_run=True)

    assert report.dry_run
    assert report.summary().startswith(
        'Course "Web Basics" (dry run, nothing saved): course created'
    )
    assert row_counts() == (0, 0, 0, 0)


# Exporting


def test_export_writes_the_layout_with_numbered_names(tmp_path):
    course_import(path=DATA)

    written = course_export(course=Course.objects.get(), path=tmp_path / "out")

    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "01-http/01-requests.md",
        "01-http/02-status-codes.md",
        "01-http/index.md",
        "02-flask/01-first-app.md",
        "02-flask/02-routing.md",
        "02-flask/index.md",
        "exercises/hello-route/README.md",
        "exercises/hello-route/exercise.toml",
        "exercises/hello-route/solution/flask/app.py",
        "exercises/hello-route/starter/flask/app.py",
        "exercises/hello-route/tests/test_x.py",
        "index.md",
    ]
    assert sorted(tree(tmp_path / "out")) == sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in written
    )


def test_export_writes_front_matter_keys_in_a_fixed_order_and_the_body_as_stored(tmp_path):
    course_import(path=DATA)

    course_export(course=Course.objects.get(), path=tmp_path / "out")

    assert (tmp_path / "out" / "01-http" / "02-status-codes.md").read_text() == (
        "---\n"
        "title: Status codes\n"
        "parent: HTTP\n"
        "grand_parent: Web Basics\n"
        "nav_order: 2\n"
        "slug: status-codes\n"
        "summary: The three-digit numbers at the start of every response.\n"
        "status: draft\n"
        "---\n" + Lesson.objects.get(slug="status-codes").body + "\n"
    )
    assert (tmp_path / "out" / "02-flask" / "index.md").read_text() == (
        "---\n"
        "title: Flask\n"
        "parent: Web Basics\n"
        "nav_order: 2\n"
        "has_children: true\n"
        "slug: flask\n"
        "summary: A first web application in Flask.\n"
        "---\n"
        "Flask keeps its core small and lets you choose the rest.\n"
    )


def test_import_export_import_is_a_fixed_point(tmp_path):
    course_import(path=DATA)
    imported = canonical_dump("web-basics")
    course_export(course=Course.objects.get(), path=tmp_path / "first")
    Course.objects.all().delete()
    assert row_counts() == (0, 0, 0, 0)

    course_import(path=tmp_path / "first")

    assert canonical_dump("web-basics") == imported
    course_export(course=Course.objects.get(), path=tmp_path / "second")
    assert tree(tmp_path / "second") == tree(tmp_path / "first")


def test_an_exercise_for_any_wsgi_or_asgi_app_survives_import_and_export(course_dir, tmp_path):
    exercise = course_dir / "exercises" / "hello-route"
    edit(exercise / "exercise.toml", '["flask"]', '["flask", "wsgi", "asgi"]')
    apps = {
        "starter/wsgi/app.py": "from bottle import Bottle\n\napp = Bottle()\n# TODO\n",
        "solution/wsgi/app.py": "def app(environ, start_response):\n    ...\n",
        "starter/asgi/app.py": "async def app(scope, receive, send):\n    pass  # TODO\n",
        "solution/asgi/app.py": "from starlette.applications import Starlette\napp = Starlette()\n",
    }
    for name, text in apps.items():
        (exercise / name).parent.mkdir(parents=True)
        (exercise / name).write_text(text)

    course_import(path=course_dir)
    row = Exercise.objects.get(slug="hello-route")
    course_export(course=Course.objects.get(), path=tmp_path / "out")

    assert row.frameworks == ["flask", "wsgi", "asgi"]
    assert row.offers("wsgi") and row.offers("asgi")
    exported = tmp_path / "out" / "exercises" / "hello-route"
    assert {name: (exported / name).read_text() for name in apps} == apps
    assert 'frameworks = ["flask", "wsgi", "asgi"]' in (exported / "exercise.toml").read_text()


def test_a_course_made_in_the_admin_survives_export_and_import(tmp_path):
    course = CourseFactory(slug="made-here", title="Made: here", description="  Intro\n\n")
    chapter = Chapter.objects.create(course=course, slug="one", title="One", order=5)
    Lesson.objects.create(
        chapter=chapter, slug="a", title="A 'quoted' title", order=0, body="Body\n", status="draft"
    )
    course_export(course=course, path=tmp_path / "out")
    exported = course_import(path=tmp_path / "out")

    # Surrounding blank lines are the only thing a Markdown file does not keep.
    assert exported.slugs("course", "updated") == ["made-here"]
    assert Course.objects.get(slug="made-here").description == "Intro"
    assert Lesson.objects.get(slug="a").title == "A 'quoted' title"
    assert Lesson.objects.get(slug="a").status == Status.DRAFT
    assert not course_import(path=tmp_path / "out").changed


def test_export_refuses_a_folder_that_is_not_empty(tmp_path):
    course_import(path=DATA)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")

    with pytest.raises(CourseExportError, match="is not empty"):
        course_export(course=Course.objects.get(), path=tmp_path / "out")

    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


def test_forced_export_replaces_course_files_and_keeps_the_rest(tmp_path, course_dir):
    course_import(path=course_dir)
    (course_dir / "02-flask" / "diagram.svg").write_text("<svg/>")
    stale = course_dir / "02-flask" / "09-old-name.md"
    shutil.copy(course_dir / "02-flask" / "02-routing.md", stale)

    course_export(course=Course.objects.get(), path=course_dir, force=True)

    assert not stale.exists()
    assert (course_dir / "02-flask" / "diagram.svg").read_text() == "<svg/>"
    assert not course_import(path=course_dir).changed


def test_forced_export_refuses_a_folder_that_is_not_a_course(tmp_path):
    course_import(path=DATA)
    (tmp_path / "README.md").write_text("# My project\n")

    with pytest.raises(CourseExportError, match="does not look like a course folder"):
        course_export(course=Course.objects.get(), path=tmp_path, force=True)

    assert (tmp_path / "README.md").read_text() == "# My project\n"


def test_draft_exercises_are_not_exported(tmp_path):
    course_import(path=DATA)
    Exercise.objects.update(status=Status.DRAFT)

    course_export(course=Course.objects.get(), path=tmp_path / "out")

    assert not (tmp_path / "out" / "exercises").exists()


def test_an_unquoted_colon_in_a_value_gets_a_hint(course_dir):
    lesson = course_dir / "02-flask" / "02-routing.md"
    edit(lesson, '"URLs, variables and methods: how Flask picks a view."', "URLs: how Flask works")

    assert import_problems(course_dir) == [
        f"{lesson}, line 6: the front matter is not valid YAML: mapping values are not allowed "
        "here; put a value that holds a colon in quotes"
    ]
