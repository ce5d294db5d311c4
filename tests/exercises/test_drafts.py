from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from exercises.drafts import (
    check_upload,
    draft_save,
    learner_attempts,
    learner_workspace,
    pack_editor_files,
    pack_folder,
    queue_position,
    starter_files,
    starter_zip,
)
from exercises.models import Draft, Submission
from sandbox.archive import NOT_A_ZIP, SubmissionRejected, pack_files
from sandbox.policy import DEFAULT_POLICY, MiB
from tests.factories import ExerciseFactory, SubmissionFactory, UserFactory

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


def names(archive: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(archive)).namelist())


def make_submission(learner, exercise, *, status="", score=None, state=None, minutes=0):
    submission = SubmissionFactory(
        learner=learner, exercise=exercise, verdict=status, score=score, max_score=3
    )
    moment = timezone.now() + timedelta(minutes=minutes)
    fields = {"created": moment, "queued_at": moment} | ({"state": state} if state else {})
    Submission.objects.filter(pk=submission.pk).update(**fields)
    submission.refresh_from_db()
    return submission


# Starter files


def test_starter_files_are_the_frameworks_starter_folder(exercise):
    assert starter_files(exercise, "flask") == {
        "app.py": FILES["starter/flask/app.py"],
        "templates/index.html": FILES["starter/flask/templates/index.html"],
    }
    assert list(starter_files(exercise, "fastapi")) == ["main.py"]


def test_the_starter_zip_holds_one_folder_named_after_the_exercise(exercise):
    archive = zipfile.ZipFile(io.BytesIO(starter_zip(exercise, "flask")))

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


def test_editor_files_are_packed_as_a_zip(exercise):
    archive = pack_editor_files({"app.py": "x", "templates/a.html": "y"}, policy=DEFAULT_POLICY)

    assert names(archive) == ["app.py", "templates/a.html"]


# Uploads


def test_a_good_zip_is_kept_byte_for_byte():
    data = pack_files({"proj/app.py": "x = 1\n"})

    assert check_upload(data, policy=DEFAULT_POLICY) == data


def test_junk_bytes_are_not_a_zip():
    with pytest.raises(SubmissionRejected) as refused:
        check_upload(b"\x89PNG\r\n\x1a\n not a zip at all", policy=DEFAULT_POLICY)

    assert str(refused.value) == NOT_A_ZIP


def test_an_uploaded_zip_slip_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.py", "x")

    with pytest.raises(SubmissionRejected, match="leaves its folder"):
        check_upload(buffer.getvalue(), policy=DEFAULT_POLICY)


def test_a_folder_is_packed_with_its_paths():
    archive = pack_folder(
        [("proj/app.py", b"x = 1\n"), ("proj/templates/index.html", b"<p>hi</p>")],
        policy=DEFAULT_POLICY,
    )

    assert names(archive) == ["proj/app.py", "proj/templates/index.html"]


def test_a_folder_with_only_cache_files_has_nothing_to_grade():
    with pytest.raises(SubmissionRejected, match="no files to grade"):
        pack_folder([("proj/__pycache__/app.cpython-311.pyc", b"\0")], policy=DEFAULT_POLICY)


def test_an_empty_folder_is_refused():
    with pytest.raises(SubmissionRejected, match="no files to submit"):
        pack_folder([], policy=DEFAULT_POLICY)


# Attempts


def test_attempts_number_only_gradable_results_and_the_best_score_counts(learner, exercise):
    first = make_submission(learner, exercise, status="failed", score=1, minutes=0)
    broken = make_submission(learner, exercise, status="error", score=0, minutes=1)
    second = make_submission(learner, exercise, status="passed", score=3, minutes=2)
    third = make_submission(learner, exercise, status="passed", score=3, minutes=3)
    pending = make_submission(learner, exercise, minutes=4)
    make_submission(UserFactory(), exercise, status="passed", score=3)

    history = learner_attempts(learner=learner, exercise=exercise)

    shown = [(a.submission, a.number, a.status, a.best) for a in history.attempts]
    assert shown == [
        (pending, None, "", False),
        (third, 3, "passed", False),
        (second, 2, "passed", True),  # the earliest of the equal best scores
        (broken, None, "error", False),
        (first, 1, "failed", False),
    ]
    assert history.best.submission == second
    assert history.counted == 3


def test_a_learner_without_graded_attempts_has_no_best(learner, exercise):
    make_submission(learner, exercise, status="error")

    history = learner_attempts(learner=learner, exercise=exercise)

    assert history.best is None
    assert history.counted == 0


def test_the_queue_position_counts_the_queued_submissions_before(learner, exercise):
    ahead = [make_submission(UserFactory(), exercise, minutes=m) for m in (0, 1)]
    make_submission(UserFactory(), exercise, state=Submission.State.RUNNING, minutes=2)
    mine = make_submission(learner, exercise, minutes=3)
    make_submission(UserFactory(), exercise, minutes=4)

    assert queue_position(mine) == 2
    assert queue_position(ahead[0]) == 0
    assert queue_position(make_submission(learner, exercise, status="passed")) is None


# The workspace


def test_the_workspace_opens_the_most_recent_draft(learner, exercise):
    draft_save(learner=learner, exercise=exercise, framework="fastapi", files={"main.py": "mine"})

    workspace = learner_workspace(learner=learner, exercise=exercise)

    assert workspace.framework == "fastapi"
    assert workspace.chosen
    assert workspace.files["fastapi"] == {"main.py": "mine"}
    assert workspace.files["flask"] == starter_files(exercise, "flask")
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
