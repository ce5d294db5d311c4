from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from exercises.forms import MAX_REQUEST_BYTES, DraftForm, SubmissionForm, request_too_big
from sandbox.archive import NOT_A_ZIP, pack_files
from sandbox.policy import DEFAULT_POLICY, MiB
from tests.factories import ExerciseFactory


@pytest.fixture
def exercise(db):
    return ExerciseFactory(frameworks=["flask", "fastapi"])


def names(archive: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(archive)).namelist())


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# Drafts


def test_a_draft_body_is_read_as_json(exercise):
    body = json.dumps({"framework": "fastapi", "files": {"main.py": "app = 1"}}).encode()

    form = DraftForm.from_body(body, exercise=exercise)

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"framework": "fastapi", "files": {"main.py": "app = 1"}}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "must be sent as a JSON object"),
        (b"[1, 2]", "must be sent as a JSON object"),
        (b"", "must be sent as a JSON object"),
        (json.dumps({"framework": "django", "files": {}}).encode(), "Framework: Select a valid"),
        (json.dumps({"framework": "flask", "files": ["app.py"]}).encode(), "object of file paths"),
        (json.dumps({"framework": "flask"}).encode(), "The draft has no files."),
    ],
)
def test_a_bad_draft_body_has_one_clear_error(exercise, body, words):
    form = DraftForm.from_body(body, exercise=exercise)

    assert not form.is_valid()
    assert words in form.first_error()


def test_a_draft_nested_too_deeply_is_refused_before_it_is_parsed(exercise):
    body = b'{"framework": "flask", "files": {"app.py": ' + b"[" * 950 + b"]" * 950 + b"}}"

    form = DraftForm.from_body(body, exercise=exercise)

    assert not form.is_valid()
    assert form.first_error() == (
        "The draft could not be read: it is nested more than 32 levels deep."
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"framework": "flask", "files": {"app.py": 1' + b"0" * 5000 + b"}}",
        b"\xff\xfe\xfd",
        b'{"framework": "flask", "files": {"app.py": "x"}',
    ],
)
def test_a_draft_body_that_cannot_be_read_is_refused(exercise, body):
    form = DraftForm.from_body(body, exercise=exercise)

    assert not form.is_valid()
    assert form.first_error() == "The draft must be sent as a JSON object."


# Submissions from the editor


def test_editor_files_are_packed(exercise):
    files = json.dumps({"app.py": "x = 1", "templates/index.html": "<p>"})
    form = SubmissionForm({"framework": "flask", "files": files}, exercise=exercise)

    assert form.is_valid(), form.errors
    assert names(form.cleaned_data["zip"]) == ["app.py", "templates/index.html"]


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ("", "There are no files to submit."),
        ("{}", "There are no files to submit."),
        ("{oops", "could not be read"),
        (json.dumps({"../app.py": ""}), "leaves its folder"),
    ],
)
def test_bad_editor_files_are_refused_in_plain_words(exercise, files, words):
    form = SubmissionForm({"framework": "flask", "files": files}, exercise=exercise)

    assert not form.is_valid()
    assert words in form.first_error()


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ('{"app.py": "\\ud800"}', "The file app.py cannot be accepted: it contains U+D800"),
        ('{"app.py": "x\\u0000"}', "The file app.py cannot be accepted: it contains a NUL"),
        ('{"bad\\u202epy.txt": ""}', "invisible character, U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ('{"\\udfff.py": ""}', "not plain UTF-8 text: \\udfff.py"),
        ("[" * 900 + "]" * 900, "could not be read: it is nested more than 32 levels deep"),
    ],
)
def test_editor_files_that_cannot_be_stored_are_refused_by_name(exercise, files, words):
    form = SubmissionForm({"framework": "flask", "files": files}, exercise=exercise)

    assert not form.is_valid()
    assert words in form.first_error()


def test_a_framework_not_offered_is_refused(exercise):
    form = SubmissionForm(
        {"framework": "django", "files": json.dumps({"app.py": ""})}, exercise=exercise
    )

    assert not form.is_valid()
    assert form.first_error().startswith("Framework: Select a valid choice.")


# Zip uploads


def test_an_uploaded_zip_is_kept_as_is(exercise):
    data = pack_files({"proj/app.py": "x = 1\n"})
    form = SubmissionForm(
        {"framework": "flask"},
        MultiValueDict({"archive": [upload("proj.zip", data)]}),
        exercise=exercise,
        source="archive",
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["zip"] == data


def test_an_uploaded_file_that_is_not_a_zip_says_so(exercise):
    form = SubmissionForm(
        {"framework": "flask"},
        MultiValueDict({"archive": [upload("app.py", b"print('hello')\n")]}),
        exercise=exercise,
        source="archive",
    )

    assert not form.is_valid()
    assert form.first_error() == NOT_A_ZIP


def test_an_uploaded_zip_over_the_limit_is_refused_unread(exercise):
    big = upload("big.zip", b"0" * (DEFAULT_POLICY.max_archive_bytes + 1))
    form = SubmissionForm(
        {"framework": "flask"},
        MultiValueDict({"archive": [big]}),
        exercise=exercise,
        source="archive",
    )

    assert not form.is_valid()
    assert form.first_error() == "The zip is 2.0 MiB; uploads may be at most 2.0 MiB."


def test_no_zip_chosen_asks_for_one(exercise):
    form = SubmissionForm({"framework": "flask"}, exercise=exercise, source="archive")

    assert not form.is_valid()
    assert form.first_error() == "Choose a .zip file to upload."


# Folder uploads


def test_a_folder_is_packed_with_the_paths_the_page_sent(exercise):
    files = [upload("app.py", b"x = 1\n"), upload("index.html", b"<p>hi</p>"), upload("e", b"")]
    paths = ["proj/app.py", "proj/templates/index.html", "proj/empty/__init__.py"]
    form = SubmissionForm(
        {"framework": "flask", "paths": json.dumps(paths)},
        MultiValueDict({"folder": files}),
        exercise=exercise,
        source="folder",
    )

    assert form.is_valid(), form.errors
    assert names(form.cleaned_data["zip"]) == sorted(paths)


@pytest.mark.parametrize("paths", [None, "not json", json.dumps(["only-one.py"])])
def test_a_folder_without_matching_paths_is_refused(exercise, paths):
    data = {"framework": "flask"} | ({"paths": paths} if paths else {})
    form = SubmissionForm(
        data,
        MultiValueDict({"folder": [upload("a.py", b""), upload("b.py", b"")]}),
        exercise=exercise,
        source="folder",
    )

    assert not form.is_valid()
    assert "did not send where each file of the folder belongs" in form.first_error()


@pytest.mark.parametrize(
    "paths",
    ["[" * 950 + "]" * 950, json.dumps([["a.py"], ["b.py"]]), json.dumps(["a.py", 2])],
)
def test_folder_paths_that_are_not_a_flat_list_of_names_are_refused(exercise, paths):
    form = SubmissionForm(
        {"framework": "flask", "paths": paths},
        MultiValueDict({"folder": [upload("a.py", b""), upload("b.py", b"")]}),
        exercise=exercise,
        source="folder",
    )

    assert not form.is_valid()
    assert "did not send where each file of the folder belongs" in form.first_error()


def test_a_folder_path_with_a_bidi_override_is_refused_by_name(exercise):
    paths = ["proj/app.py", "proj/invoice\u202egpj.py"]
    form = SubmissionForm(
        {"framework": "flask", "paths": json.dumps(paths)},
        MultiValueDict({"folder": [upload("app.py", b""), upload("x", b"")]}),
        exercise=exercise,
        source="folder",
    )

    assert not form.is_valid()
    assert "invisible character, U+202E" in form.first_error()
    assert "proj/invoice\\u202egpj.py" in form.first_error()


def test_a_folder_over_the_size_limit_is_refused(exercise):
    files = [upload("a.py", b"a" * MiB), upload("b.py", b"b" * MiB), upload("c.py", b"c")]
    form = SubmissionForm(
        {"framework": "flask", "paths": json.dumps(["p/a.py", "p/b.py", "p/c.py"])},
        MultiValueDict({"folder": files}),
        exercise=exercise,
        source="folder",
    )

    assert not form.is_valid()
    assert "add up to more than 2.0 MiB" in form.first_error()


def test_an_unknown_source_means_the_editor(exercise):
    form = SubmissionForm({"framework": "flask"}, exercise=exercise, source="ftp")

    assert form.source == "files"


# Request size


def test_a_request_over_the_limit_is_named_before_it_is_read():
    message = request_too_big(str(MAX_REQUEST_BYTES + 1), policy=DEFAULT_POLICY)

    assert message.startswith("The upload is too large to be accepted (6.0 MiB).")
    assert request_too_big(str(MAX_REQUEST_BYTES), policy=DEFAULT_POLICY) == ""
    assert request_too_big(None, policy=DEFAULT_POLICY) == ""
    assert request_too_big("garbage", policy=DEFAULT_POLICY) == ""
