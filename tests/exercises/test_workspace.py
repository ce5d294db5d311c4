from __future__ import annotations

import io
import zipfile

import pytest

from exercises.models import Draft
from exercises.uploads import pack_editor_files
from exercises.workspace import draft_save, learner_workspace
from sandbox.archive import SubmissionRejected
from sandbox.policy import DEFAULT_POLICY, MiB
from tests.factories import ExerciseFactory, make_submission

FILES = {
    "README.md": "# Hello",
    "tests/test_hello.py": "def test_it(client): ...\n",
    "starter/flask/app.py": "from flask import Flask\napp = Flask(__name__)\n",
    "starter/flask/templates/index.html": "<h1>Hi</h1>\n",
    "starter/fastapi/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    "solution/flask/app.py": "SOLVED = True\n",
}


@pytest.fixture
def exercise(db):
    return ExerciseFactory(slug="hello", frameworks=["flask", "fastapi"], files=FILES)


# Starter files


def test_starter_files_are_the_frameworks_starter_folder(exercise):
    assert exercise.starter_files("flask") == {
        "app.py": FILES["starter/flask/app.py"],
        "templates/index.html": FILES["starter/flask/templates/index.html"],
    }
    assert list(exercise.starter_files("fastapi")) == ["main.py"]


def test_the_starter_zip_holds_one_folder_named_after_the_exercise(exercise):
    archive = zipfile.ZipFile(io.BytesIO(exercise.starter_zip("flask")))

    assert sorted(archive.namelist()) == ["hello-flask/app.py", "hello-flask/templates/index.html"]
    assert archive.read("hello-flask/app.py").decode() == FILES["starter/flask/app.py"]


# Drafts


def test_a_draft_is_created_then_updated_in_place(learner, exercise):
    draft_save(learner=learner, exercise=exercise, framework="flask", files={"app.py": "a"})
    draft = draft_save(learner=learner, exercise=exercise, framework="flask", files={"app.py": "b"})

    assert Draft.objects.count() == 1
    assert draft.files == {"app.py": "b"}


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("../evil.py", "leaves its folder"),
        ("/etc/passwd", "starts with /"),
        ("templates\\index.html", "Use / to separate folders"),
        ("templates//index.html", "empty folder name"),
        ("./app.py", "empty folder name or a “.”"),
        ("app\x00.py", "control character"),
        ("invoice\u202egpj.py", "invisible character, U\\+202E"),
        ("\u2066app.py", "invisible character, U\\+2066"),
        ("app\u200b.py", "invisible character, U\\+200B"),
        ("app\ud800.py", "not plain UTF-8 text"),
        ("C:/app.py", "drive letter"),
        ("a" * 201, "longer than 200 characters"),
        ("cafe\u0301.py", "normalised"),
    ],
)
def test_a_draft_with_a_bad_file_name_is_refused_and_the_old_one_kept(
    learner, exercise, path, words
):
    draft_save(learner=learner, exercise=exercise, framework="flask", files={"app.py": "kept"})

    with pytest.raises(SubmissionRejected, match=words):
        draft_save(learner=learner, exercise=exercise, framework="flask", files={path: "x"})

    assert Draft.objects.get().files == {"app.py": "kept"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x = '\ud800'", r"The file app\.py cannot be accepted: it contains U\+D800"),
        ("x = 1\x00", r"The file app\.py cannot be accepted: it contains a NUL character"),
    ],
)
def test_a_draft_with_text_that_cannot_be_stored_is_refused_and_the_old_one_kept(
    learner, exercise, text, words
):
    draft_save(learner=learner, exercise=exercise, framework="flask", files={"app.py": "kept"})

    with pytest.raises(SubmissionRejected, match=words):
        draft_save(learner=learner, exercise=exercise, framework="flask", files={"app.py": text})

    assert Draft.objects.get().files == {"app.py": "kept"}


def test_a_file_and_a_folder_of_the_same_name_are_refused(learner, exercise):
    with pytest.raises(SubmissionRejected, match="both a file and a folder"):
        draft_save(
            learner=learner,
            exercise=exercise,
            framework="flask",
            files={"templates": "", "templates/index.html": ""},
        )


def test_a_draft_with_too_many_files_is_refused(learner, db):
    exercise = ExerciseFactory(frameworks=["flask"], limits={"max_files": 10})
    files = {f"f{i}.py": "" for i in range(11)}

    with pytest.raises(SubmissionRejected, match="11 files; at most 10"):
        draft_save(learner=learner, exercise=exercise, framework="flask", files=files)
    assert not Draft.objects.exists()


def test_a_draft_too_large_is_refused(learner, exercise):
    files = {"a.py": "x" * MiB, "b.py": "y" * MiB, "c.py": "z"}

    with pytest.raises(SubmissionRejected, match="add up to more than 2 MiB"):
        draft_save(learner=learner, exercise=exercise, framework="flask", files=files)


@pytest.mark.parametrize("files", [["app.py"], {"app.py": 1}, "app.py", {"app.py": None}])
def test_a_draft_must_map_paths_to_text(learner, exercise, files):
    with pytest.raises(SubmissionRejected, match="object of file paths to text"):
        draft_save(learner=learner, exercise=exercise, framework="flask", files=files)


def test_a_draft_for_a_framework_not_offered_is_refused(learner, exercise):
    with pytest.raises(SubmissionRejected, match="not offered"):
        draft_save(learner=learner, exercise=exercise, framework="django", files={})


def test_an_empty_draft_can_be_saved_but_not_submitted(learner, exercise):
    draft_save(learner=learner, exercise=exercise, framework="flask", files={})

    with pytest.raises(SubmissionRejected, match="no files to submit"):
        pack_editor_files({}, policy=DEFAULT_POLICY)


# The workspace


def test_the_workspace_opens_the_most_recent_draft(learner, exercise):
    draft_save(learner=learner, exercise=exercise, framework="fastapi", files={"main.py": "mine"})

    workspace = learner_workspace(learner=learner, exercise=exercise)

    assert workspace.framework == "fastapi"
    assert workspace.chosen
    assert workspace.files["fastapi"] == {"main.py": "mine"}
    assert workspace.files["flask"] == exercise.starter_files("flask")
    assert list(workspace.saved) == ["fastapi"]


def test_without_a_draft_the_workspace_opens_the_first_framework_unchosen(learner, exercise):
    workspace = learner_workspace(learner=learner, exercise=exercise)

    assert (workspace.framework, workspace.chosen) == ("flask", False)
    assert workspace.latest is None
    assert workspace.allowance.allowed


def test_a_requested_framework_wins_over_the_draft(learner, exercise):
    draft_save(learner=learner, exercise=exercise, framework="fastapi", files={"main.py": "x"})

    workspace = learner_workspace(learner=learner, exercise=exercise, framework="flask")

    assert workspace.framework == "flask"


def test_the_workspace_shows_the_newest_submission(learner, exercise):
    make_submission(learner, exercise, status="failed", minutes=0)
    newest = make_submission(learner, exercise, status="passed", score=3, minutes=1)

    assert learner_workspace(learner=learner, exercise=exercise).latest == newest
