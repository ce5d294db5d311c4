"""The course's exercises: valid folders, and graded by the real sandbox as their authors intend.

Every solution must score full marks, every starter must boot and score less, and each
deliberately wrong app in a variants folder (notes_variants/ for notes-api, auth_variants/ for
auth-api) must lose exactly the points of the tests that its expected.toml says it breaks.
hello_variants/ holds other apps for hello's "Any WSGI app" and "Any ASGI app": other
frameworks and bare callables that pass, and mistakes with the verdict and message they get.
"""

from __future__ import annotations

import ast
import filecmp
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from authoring.content import course_folder_read
from sandbox.archive import pack_directory, pack_files
from sandbox.results import render_text
from sandbox.runner import grade
from sandbox.spec import ExerciseSpec

COURSE_DIR = Path(settings.COURSE_CONTENT_DIR) / "python-web"
EXERCISES_DIR = COURSE_DIR / "exercises"
EXERCISE_DIRS = sorted(p for p in EXERCISES_DIR.iterdir() if (p / "exercise.toml").is_file())
# Deliberately wrong apps of an exercise: <framework>/<name>/ folders and their expected.toml.
VARIANT_DIRS = {
    "notes-api": Path(__file__).parent / "notes_variants",
    "auth-api": Path(__file__).parent / "auth_variants",
}
# Other apps for hello under the wsgi and asgi keys: <framework>/<name>/app.py, expected.toml.
HELLO_VARIANTS_DIR = Path(__file__).parent / "hello_variants"


@cache
def spec_of(slug: str) -> ExerciseSpec:
    return ExerciseSpec.from_dir(EXERCISES_DIR / slug)


@cache
def manifest(slug: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Return an exercise's expected.toml: framework -> variant name -> fault, changed, fails."""
    text = (VARIANT_DIRS[slug] / "expected.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def hello_manifest() -> dict[str, dict[str, dict[str, Any]]]:
    """Return hello_variants/expected.toml: framework -> app name -> about, status, ..."""
    text = (HELLO_VARIANTS_DIR / "expected.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def hello_variants() -> list[pytest.param]:
    """Return (framework, app name) for every app in hello_variants/expected.toml."""
    return [
        pytest.param(fw, name, id=f"hello-{fw}-{name}")
        for fw, entries in hello_manifest().items()
        for name in entries
    ]


def solutions_and_starters() -> list[pytest.param]:
    """Return (exercise slug, framework) for every framework each exercise offers."""
    return [
        pytest.param(d.name, fw, id=f"{d.name}-{fw}")
        for d in EXERCISE_DIRS
        for fw in spec_of(d.name).frameworks
    ]


def variants() -> list[pytest.param]:
    """Return (exercise slug, framework, variant name) for every wrong app in a manifest."""
    return [
        pytest.param(slug, fw, name, id=f"{slug}-{fw}-{name}")
        for slug in VARIANT_DIRS
        for fw, entries in manifest(slug).items()
        for name in entries
    ]


@cache
def graded(folder: Path, slug: str, framework: str) -> dict[str, Any]:
    """Grade a folder as a submission to an exercise, once per test session."""
    return grade(spec=spec_of(slug), archive=pack_directory(folder), framework=framework)


def ordered_test_names(spec: ExerciseSpec) -> list[str]:
    """Return the exercise's test functions in the order pytest runs them (and reports them)."""
    names = []
    for path, source in sorted(spec.tests.items()):
        if Path(path).name.startswith("test_") and path.endswith(".py"):
            tree = ast.parse(source)
            names += [
                node.name
                for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
            ]
    return names


def outcomes_by_function(spec: ExerciseSpec, result: dict[str, Any]) -> dict[str, dict]:
    """Key a result's tests by function name (hidden tests are shown as "Hidden test N")."""
    names = ordered_test_names(spec)
    assert len(names) == len(result["tests"]), render_text(result)
    return dict(zip(names, result["tests"], strict=True))


# The folders -------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", EXERCISE_DIRS, ids=lambda p: p.name)
def test_exercise_folder_is_a_valid_spec(folder):
    spec = ExerciseSpec.from_dir(folder)
    assert spec.slug == folder.name
    assert spec.instructions.strip(), "README.md is missing or empty"
    for path, source in spec.tests.items():
        compile(source, path, "exec")


def test_every_exercise_links_a_lesson_of_the_course():
    course = course_folder_read(path=COURSE_DIR)
    lessons = {f"{chapter.slug}/{lesson.slug}" for chapter, lesson in course.lessons()}
    unlinked = {spec.slug: spec.lesson for spec in course.exercises if spec.lesson not in lessons}
    assert course.exercises
    assert not unlinked, f"exercises without a lesson of the course: {unlinked}"


def test_the_course_offers_the_framework_exercises():
    frameworks = {d.name: spec_of(d.name).frameworks for d in EXERCISE_DIRS}
    assert set(frameworks["notes-api"]) == {"flask", "django", "fastapi"}
    assert frameworks["hello"] == ("flask", "django", "fastapi", "wsgi", "asgi")
    assert frameworks["flask-templates"] == ("flask",)
    assert frameworks["django-guestbook"] == ("django",)
    assert frameworks["fastapi-validation"] == ("fastapi",)


@pytest.mark.parametrize("slug", sorted(VARIANT_DIRS))
def test_every_variant_folder_is_in_the_manifest(slug):
    entries = manifest(slug)
    on_disk = {(p.parent.name, p.name) for p in VARIANT_DIRS[slug].glob("*/*") if p.is_dir()}
    assert on_disk == {(fw, name) for fw, names in entries.items() for name in names}
    for framework in spec_of(slug).frameworks:
        assert len(entries[framework]) >= 3, framework


def test_every_hello_variant_folder_is_in_the_manifest():
    entries = hello_manifest()
    on_disk = {(p.parent.name, p.name) for p in HELLO_VARIANTS_DIR.glob("*/*") if p.is_dir()}
    assert on_disk == {(fw, name) for fw, names in entries.items() for name in names}
    assert set(entries) == {"wsgi", "asgi"} <= set(spec_of("hello").frameworks)
    tests = set(ordered_test_names(spec_of("hello")))
    for framework, names in entries.items():
        statuses = [entry["status"] for entry in names.values()]
        # Each key has apps that pass, and apps that fail a test or never start.
        assert {"passed", "failed", "error"} <= set(statuses), framework
        for name, entry in names.items():
            assert (HELLO_VARIANTS_DIR / framework / name / "app.py").is_file()
            assert entry["about"]
            assert (
                set(entry) - {"about", "status"}
                == {
                    "passed": set(),
                    "failed": {"fails"},
                    "error": {"message"} if "message" in entry else {"message_has"},
                }[entry["status"]]
            ), f"{framework}.{name}"
            assert set(entry.get("fails", [])) <= tests


@pytest.mark.parametrize(("slug", "framework", "name"), variants())
def test_variant_differs_from_its_solution_only_where_the_manifest_says(slug, framework, name):
    solution = EXERCISES_DIR / slug / "solution" / framework
    entry = manifest(slug)[framework][name]
    assert entry["fault"] and entry["fails"]
    unknown = set(entry["fails"]) - set(ordered_test_names(spec_of(slug)))
    assert not unknown, f"expected.toml names tests that {slug} does not have: {unknown}"
    differing = _differences(filecmp.dircmp(solution, VARIANT_DIRS[slug] / framework / name))
    assert differing == sorted(entry["changed"])


def _differences(comparison: filecmp.dircmp, prefix: str = "") -> list[str]:
    ignored = {"__pycache__"}
    found = [
        prefix + n
        for n in comparison.left_only + comparison.right_only + comparison.diff_files
        if n not in ignored
    ]
    for sub, child in comparison.subdirs.items():
        if sub not in ignored:
            found += _differences(child, f"{prefix}{sub}/")
    return sorted(found)


# Grading through the sandbox ---------------------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.parametrize(("slug", "framework"), solutions_and_starters())
def test_solution_scores_full_marks(runner_image, slug, framework):
    result = graded(EXERCISES_DIR / slug / "solution" / framework, slug, framework)
    assert result["status"] == "passed", render_text(result)
    assert result["score"] == result["max_score"] > 0
    declared = spec_of(slug).points
    assert declared == result["max_score"], "exercise.toml's points must match its tests' points"


@pytest.mark.sandbox
@pytest.mark.parametrize(("slug", "framework"), solutions_and_starters())
def test_starter_boots_and_scores_less(runner_image, slug, framework):
    result = graded(EXERCISES_DIR / slug / "starter" / framework, slug, framework)
    assert result["status"] == "failed", render_text(result)
    assert result["score"] < result["max_score"]


@pytest.mark.sandbox
@pytest.mark.parametrize(("slug", "framework", "name"), variants())
def test_wrong_app_loses_exactly_the_points_of_the_tests_it_breaks(
    runner_image, slug, framework, name
):
    spec = spec_of(slug)
    result = graded(VARIANT_DIRS[slug] / framework / name, slug, framework)
    tests = outcomes_by_function(spec, result)
    failed = {fn for fn, test in tests.items() if test["status"] != "passed"}
    expected = set(manifest(slug)[framework][name]["fails"])
    assert failed == expected, render_text(result)
    lost = sum(tests[fn]["max_points"] for fn in expected)
    assert result["status"] == "failed"
    assert result["score"] == result["max_score"] - lost


@pytest.mark.sandbox
@pytest.mark.parametrize(("framework", "name"), hello_variants())
def test_other_wsgi_and_asgi_apps_get_the_verdict_the_manifest_says(runner_image, framework, name):
    spec = spec_of("hello")
    entry = hello_manifest()[framework][name]
    result = graded(HELLO_VARIANTS_DIR / framework / name, "hello", framework)
    tests = outcomes_by_function(spec, result)
    assert result["status"] == entry["status"], render_text(result)
    failed = {fn for fn, test in tests.items() if test["status"] != "passed"}
    if entry["status"] == "passed":
        assert result["score"] == result["max_score"] == spec.points
        assert failed == set()
    elif entry["status"] == "failed":
        assert failed == set(entry["fails"]), render_text(result)
        lost = sum(tests[fn]["max_points"] for fn in entry["fails"])
        assert result["score"] == result["max_score"] - lost
    else:
        # Not served at all: no test ran, and the message says why in the learner's words.
        assert result["score"] == 0
        assert {test["status"] for test in tests.values()} == {"skipped"}
        if "message" in entry:
            assert result["message"] == entry["message"]
        for line in entry.get("message_has", []):
            assert line in result["message"], result["message"]


# What a learner sees of a failing app ------------------------------------------------------


def calls(spec: ExerciseSpec, helper: str) -> set[str]:
    """Return the test functions of an exercise that call `helper` themselves."""
    found = set()
    for source in spec.tests.values():
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                called = {
                    c.func.id
                    for c in ast.walk(node)
                    if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                }
                if helper in called:
                    found.add(node.name)
    return found


@pytest.mark.sandbox
def test_tests_that_need_a_note_are_one_group_when_creating_one_answers_501(runner_image):
    spec = spec_of("notes-api")
    files = dict(spec.solution("flask"))
    files["app.py"] = files["app.py"].replace(
        "def create_note():\n", "def create_note():\n    abort(501)\n"
    )
    result = grade(spec=spec, archive=pack_files(files), framework="flask")
    tests = outcomes_by_function(spec, result)

    grouped = {fn for fn, test in tests.items() if test["cause"]}
    assert grouped == calls(spec, "create"), render_text(result)
    assert len(grouped) == 10
    assert {tests[fn]["cause"] for fn in grouped} == {"POST /notes answered 501"}
    assert tests["test_ids_are_never_reused"]["hidden"] is True
    assert tests["test_ids_are_never_reused"]["message"] == ""
    # Flask's 501 page, read as text: no tag, and a line a browser would show.
    message = tests["test_get_returns_the_note"]["message"]
    assert message.startswith(
        "Could not create a note to test with. POST /notes: expected a 2xx status, got 501. "
        "Body: Not Implemented\nThe server does not support the action requested by the browser."
    ), message
    assert "<" not in message
    text = render_text(result)
    assert "✗ 10 tests could not run: POST /notes answered 501" in text
    assert text.count("Could not create a note to test with") == 1


@pytest.mark.sandbox
def test_a_failing_hidden_test_shows_its_hint_and_nothing_else(runner_image):
    spec = spec_of("notes-api")
    result = graded(VARIANT_DIRS["notes-api"] / "flask" / "no-length-limit", "notes-api", "flask")
    tests = outcomes_by_function(spec, result)

    failed = tests["test_create_rejects_a_title_over_100_characters"]
    assert failed == {
        "name": failed["name"], "status": "failed", "points": 0, "max_points": 1,
        "message": "", "output": "", "hidden": True,
        "hint": "100 characters is the longest title allowed", "cause": "",
        "exchanges": [], "more_exchanges": 0,
    }  # fmt: skip
    assert failed["name"].startswith("Hidden test ")
    assert [t["hint"] for t in result["tests"] if t["hint"]] == [failed["hint"]]
    shown = json.dumps(result)
    assert "101-character" not in shown and "over_100" not in shown
