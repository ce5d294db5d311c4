"""Exercise specs: loading and checking an exercise folder, and writing it back."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.policy import DEFAULT_POLICY, MiB
from sandbox.spec import (
    MAX_SPEC_FILE_BYTES,
    ExerciseSpec,
    ExerciseSpecError,
    default_first_file,
)
from tests.factories import ExerciseFactory
from tests.sandbox.conftest import HELLO_DIR

MINIMAL_TOML = 'slug = "notes"\ntitle = "Notes"\nframeworks = ["flask"]\n'


def exercise_folder(root, toml: str = MINIMAL_TOML, files: dict[str, str] | None = None):
    root.mkdir(parents=True, exist_ok=True)
    (root / "exercise.toml").write_text(toml)
    default = {
        "tests/test_notes.py": "def test_x(client):\n    pass\n",
        "starter/flask/app.py": "# start here\n",
        "solution/flask/app.py": "# done\n",
    }
    for name, text in (files if files is not None else default).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_hello_exercise_loads(hello_spec):
    assert hello_spec.slug == "hello"
    assert hello_spec.frameworks == ("flask", "django", "fastapi", "wsgi", "asgi")
    assert list(hello_spec.tests) == ["test_hello.py"]
    assert hello_spec.instructions.startswith("# Hello, web")
    for framework in hello_spec.frameworks:
        assert hello_spec.starter(framework) and hello_spec.solution(framework)
    assert "manage.py" in hello_spec.solution("django")
    assert hello_spec.policy == DEFAULT_POLICY


def test_files_are_split_by_folder(tmp_path):
    spec = ExerciseSpec.from_dir(exercise_folder(tmp_path))
    assert spec.starter("flask") == {"app.py": "# start here\n"}
    assert spec.solution("flask") == {"app.py": "# done\n"}
    assert spec.files_under("tests/") == {"test_notes.py": "def test_x(client):\n    pass\n"}


def test_caches_and_compiled_files_are_ignored(tmp_path):
    folder = exercise_folder(tmp_path)
    (folder / "tests" / "__pycache__").mkdir()
    (folder / "tests" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (folder / "tests" / "old.pyc").write_bytes(b"\0")
    (folder / "notes.txt").write_text("not part of the exercise")
    spec = ExerciseSpec.from_dir(folder)
    assert sorted(spec.files) == [
        "solution/flask/app.py",
        "starter/flask/app.py",
        "tests/test_notes.py",
    ]


def test_limits_shape_the_policy(tmp_path):
    toml = MINIMAL_TOML + "\n[limits]\nmemory_mb = 512\nwall_timeout = 120\n"
    spec = ExerciseSpec.from_dir(exercise_folder(tmp_path, toml))
    assert spec.policy.memory_bytes == 512 * MiB
    assert spec.policy.wall_timeout == 120


def test_a_spec_written_out_reads_back_the_same(hello_spec, tmp_path):
    changed = dataclasses.replace(
        hello_spec, summary='Say "hi"', points=10, lesson="web/hello", limits={"cpus": 0.5}
    )
    changed.write(tmp_path / "copy")
    assert ExerciseSpec.from_dir(tmp_path / "copy") == changed


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (MINIMAL_TOML + "colour = 1\n", "unknown key(s) colour"),
        ('title = "x"\nframeworks = ["flask"]\n', "`slug` is required"),
        (MINIMAL_TOML.replace('"notes"', '"no tes"'), "`slug` may hold only"),
        (MINIMAL_TOML.replace('["flask"]', '["rails"]'), "`frameworks` must be"),
        (MINIMAL_TOML.replace('["flask"]', '["flask", "flask"]'), "`frameworks` must be"),
        (MINIMAL_TOML.replace('["flask"]', "[]"), "`frameworks` must be"),
        (MINIMAL_TOML + "points = -1\n", "`points` must be a whole number"),
        (MINIMAL_TOML + "points = true\n", "`points` must be a whole number"),
        (MINIMAL_TOML + "order = 1.5\n", "`order` must be a whole number"),
        (MINIMAL_TOML + 'lesson = "just-a-lesson"\n', "`lesson` must look like"),
        (MINIMAL_TOML + "[limits]\nmemory_mb = 1\n", "[limits]: limit 'memory_mb' must be between"),
        (MINIMAL_TOML + "limits = 3\n", "`[limits]` must be a table"),
        ("slug = \n", "exercise.toml"),
    ],
)
def test_a_bad_exercise_toml_is_refused_saying_where_and_why(tmp_path, toml, message):
    folder = exercise_folder(tmp_path, toml)
    with pytest.raises(ExerciseSpecError) as failure:
        ExerciseSpec.from_dir(folder)
    assert message in str(failure.value)
    assert str(folder / "exercise.toml") in str(failure.value)


def test_a_folder_without_exercise_toml_is_refused(tmp_path):
    with pytest.raises(ExerciseSpecError, match=r"no exercise\.toml"):
        ExerciseSpec.from_dir(tmp_path)


def test_an_exercise_needs_tests(tmp_path):
    folder = exercise_folder(
        tmp_path, files={"starter/flask/app.py": "x", "solution/flask/app.py": "x"}
    )
    with pytest.raises(ExerciseSpecError, match="at least one test_"):
        ExerciseSpec.from_dir(folder)


def test_each_framework_needs_a_starter_and_a_solution(tmp_path):
    folder = exercise_folder(
        tmp_path,
        MINIMAL_TOML.replace('["flask"]', '["flask", "django"]'),
    )
    with pytest.raises(ExerciseSpecError, match=r"starter/django/ is missing or empty"):
        ExerciseSpec.from_dir(folder)


def test_an_exercise_may_take_any_wsgi_or_asgi_app(tmp_path):
    toml = MINIMAL_TOML.replace('["flask"]', '["wsgi", "asgi"]')
    files = {
        "tests/test_notes.py": "def test_x(client):\n    pass\n",
        "starter/wsgi/app.py": "# any WSGI app\n",
        "solution/wsgi/app.py": "# done\n",
    }
    with pytest.raises(ExerciseSpecError, match=r"starter/asgi/ is missing or empty"):
        ExerciseSpec.from_dir(exercise_folder(tmp_path / "one", toml, files))
    files |= {"starter/asgi/app.py": "# any ASGI app\n", "solution/asgi/app.py": "# done\n"}
    spec = ExerciseSpec.from_dir(exercise_folder(tmp_path / "both", toml, files))
    assert spec.frameworks == ("wsgi", "asgi")
    assert spec.starter("asgi") == {"app.py": "# any ASGI app\n"}
    assert 'frameworks = ["wsgi", "asgi"]' in spec.toml_text()


def test_links_binary_and_huge_files_are_refused(tmp_path):
    folder = exercise_folder(tmp_path / "link")
    (folder / "tests" / "secret.py").symlink_to("/etc/hostname")
    with pytest.raises(ExerciseSpecError, match="symbolic links are not allowed"):
        ExerciseSpec.from_dir(folder)

    folder = exercise_folder(tmp_path / "binary")
    (folder / "tests" / "data.bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ExerciseSpecError, match="not UTF-8 text"):
        ExerciseSpec.from_dir(folder)

    folder = exercise_folder(tmp_path / "huge")
    (folder / "tests" / "big.txt").write_text("x" * (MAX_SPEC_FILE_BYTES + 1))
    with pytest.raises(ExerciseSpecError, match="larger than"):
        ExerciseSpec.from_dir(folder)


@pytest.mark.django_db
def test_the_spec_of_an_imported_exercise_matches_its_folder(hello_spec):
    exercise = ExerciseFactory(
        slug="hello",
        title=hello_spec.title,
        summary=hello_spec.summary,
        order=hello_spec.order,
        points=hello_spec.points,
        frameworks=list(hello_spec.frameworks),
        instructions=hello_spec.instructions,
        files=hello_spec.files,
        open_first=hello_spec.open_first,
    )
    # The lesson link is a foreign key on the row, made by import_course; none here.
    assert exercise.spec() == dataclasses.replace(hello_spec, lesson="")


TWO_FRAMEWORKS = MINIMAL_TOML.replace('["flask"]', '["flask", "django"]')
TWO_STARTERS = {
    "tests/test_notes.py": "def test_x(client):\n    pass\n",
    "starter/flask/app.py": "# start here\n",
    "starter/flask/templates/notes.html": "<!-- TODO: list the notes -->\n",
    "starter/django/manage.py": "# run the site\n",
    "starter/django/notes/models.py": "# TODO: the Note model\n",
    "starter/django/notes/views.py": "# TODO: the views\n",
    "solution/flask/app.py": "# done\n",
    "solution/django/manage.py": "# done\n",
}


@pytest.mark.parametrize(
    ("setting", "flask", "django"),
    [
        # Unset: the first file with a TODO, whatever else the starter holds.
        ("", "templates/notes.html", "notes/models.py"),
        ('open = "notes/views.py"\n', "templates/notes.html", "notes/views.py"),
        ('open = "app.py"\n', "app.py", "notes/models.py"),
        ('open = { django = "manage.py", flask = "app.py" }\n', "app.py", "manage.py"),
    ],
)
def test_open_names_the_file_the_editor_opens_first(tmp_path, setting, flask, django):
    folder = exercise_folder(tmp_path, TWO_FRAMEWORKS + setting, TWO_STARTERS)

    spec = ExerciseSpec.from_dir(folder)

    assert (spec.first_file("flask"), spec.first_file("django")) == (flask, django)


@pytest.mark.parametrize(
    ("starter", "first"),
    [
        ({"main.py": "x", "models.py": "x"}, "main.py"),
        ({"app.py": "x", "a.py": "x"}, "app.py"),
        ({"b/x.py": "x", "a/y.py": "x"}, "a/y.py"),
        ({"b.py": "x", "a.py": "# TODO later"}, "a.py"),
        ({}, None),
    ],
)
def test_without_open_and_todo_the_entry_point_else_the_first_file_opens(starter, first):
    assert default_first_file(starter) == first


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            'open = "notes/view.py"',
            "`open` names 'notes/view.py', which is not a starter file: "
            "no such file in starter/flask/, starter/django/",
        ),
        (
            'open = { django = "app.py" }',
            "`open.django` names 'app.py', which is not a starter file: "
            "no such file in starter/django/",
        ),
        (
            'open = { fastapi = "main.py" }',
            "`open` names the framework 'fastapi', which `frameworks` does not list",
        ),
        ("open = { flask = 3 }", "`open.flask` must be a file path"),
        ("open = 3", "`open` must be a starter file path"),
        (
            'open = "solution/flask/app.py"',
            "`open` names 'solution/flask/app.py', which is not a starter file",
        ),
    ],
)
def test_an_open_file_not_among_the_starter_files_is_refused(tmp_path, setting, message):
    folder = exercise_folder(tmp_path, TWO_FRAMEWORKS + setting + "\n", TWO_STARTERS)

    with pytest.raises(ExerciseSpecError) as failure:
        ExerciseSpec.from_dir(folder)

    assert str(failure.value).startswith(f"{folder / 'exercise.toml'}: {message}")


@pytest.mark.parametrize(
    "open_first",
    [{"django": "notes/views.py"}, {"flask": "app.py", "django": "manage.py"}],
)
def test_open_is_written_out_and_reads_back_the_same(tmp_path, open_first):
    spec = ExerciseSpec.from_dir(exercise_folder(tmp_path / "in", TWO_FRAMEWORKS, TWO_STARTERS))
    changed = dataclasses.replace(spec, open_first=open_first)

    changed.write(tmp_path / "out")

    assert ExerciseSpec.from_dir(tmp_path / "out") == changed


def test_one_file_for_every_framework_is_written_as_one_path(hello_spec):
    changed = dataclasses.replace(
        hello_spec, open_first=dict.fromkeys(hello_spec.frameworks, "app.py")
    )
    assert 'open = "app.py"\n' in changed.toml_text()


def test_every_django_exercise_of_the_course_opens_a_file_with_todos():
    for folder in sorted(HELLO_DIR.parent.iterdir()):
        spec = ExerciseSpec.from_dir(folder)
        if "django" not in spec.frameworks:
            continue
        path = spec.first_file("django")
        assert "open" in (folder / "exercise.toml").read_text(), folder
        assert path != "manage.py", folder
        assert "TODO" in spec.starter("django")[path], (folder, path)


def test_the_hello_folder_is_where_the_tests_expect_it():
    assert (HELLO_DIR / "exercise.toml").is_file()


def test_the_container_names_the_same_frameworks_as_the_engine():
    # boot.py runs alone in the container, so it keeps its own copy of the list.
    from sandbox.container import boot
    from sandbox.spec import FRAMEWORKS

    assert boot.FRAMEWORK_NAMES == FRAMEWORKS


def test_every_framework_says_what_to_submit():
    from sandbox.spec import FRAMEWORK_ENTRY_POINTS, FRAMEWORKS

    assert list(FRAMEWORK_ENTRY_POINTS) == list(FRAMEWORKS)
    assert FRAMEWORKS["wsgi"] == "Any WSGI app" and FRAMEWORKS["asgi"] == "Any ASGI app"
    assert "WSGI callable named app" in FRAMEWORK_ENTRY_POINTS["wsgi"]
    assert "ASGI callable named app" in FRAMEWORK_ENTRY_POINTS["asgi"]
