from __future__ import annotations

import io
import zipfile

import pytest

from exercises.uploads import check_upload, pack_editor_files, pack_folder
from sandbox.archive import NOT_A_ZIP, SubmissionRejected, pack_files
from sandbox.policy import DEFAULT_POLICY


def names(archive: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(archive)).namelist())


def test_editor_files_are_packed_as_a_zip():
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
