"""Files a learner sends: editor files, an uploaded zip, a folder from the browser.

Each is checked before anything is stored, by the same rules as a submitted zip
(sandbox.archive), so a draft or submission that breaks them is refused with a message and
what was saved before stays as it was.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sandbox.archive import SubmissionRejected, pack_files, unpack_submission
from sandbox.policy import SandboxPolicy

# The editor refuses longer paths (frontend/src/paths.js); the server agrees.
MAX_PATH_LENGTH = 200


def check_editor_files(files: Any, *, policy: SandboxPolicy) -> dict[str, str]:
    """Return the editor's files if they follow the submission rules, else raise."""
    if not isinstance(files, Mapping) or not all(
        isinstance(path, str) and isinstance(text, str) for path, text in files.items()
    ):
        raise SubmissionRejected("The files must be sent as an object of file paths to text.")
    for path in files:
        _check_editor_path(path)
    pack_files(files, policy=policy)  # the archive rules: names, duplicates, count, sizes
    return dict(sorted(files.items()))


def _check_editor_path(path: str) -> None:
    shown = path if len(path) <= 80 else path[:77] + "..."
    if len(path) > MAX_PATH_LENGTH:
        raise SubmissionRejected(
            f"A file path is longer than {MAX_PATH_LENGTH} characters: {shown}"
        )
    if "\\" in path:
        raise SubmissionRejected(f"Use / to separate folders, not \\: {shown}")
    if path.startswith("/"):
        raise SubmissionRejected(f"A file path starts with /: {shown}")
    if any(part in ("", ".") for part in path.split("/")):
        raise SubmissionRejected(f"A file path has an empty folder name or a “.” in it: {shown}")
    if unicodedata.normalize("NFC", path) != path:
        # The archive stores names NFC-normalised; a draft must name files the same way.
        raise SubmissionRejected(f"A file name is not in normalised (NFC) Unicode form: {shown}")


def pack_editor_files(files: Any, *, policy: SandboxPolicy) -> bytes:
    """Return a zip of the editor's files, or raise SubmissionRejected."""
    checked = check_editor_files(files, policy=policy)
    if not checked:
        raise SubmissionRejected("There are no files to submit.")
    return pack_files(checked, policy=policy)


def check_upload(data: bytes, *, policy: SandboxPolicy) -> bytes:
    """Return an uploaded zip unchanged if the grader would accept it, else raise.

    It is unpacked once into a scratch folder with the grader's own rules, so every
    problem the grader would find in the archive is reported now, in the same words.
    """
    with tempfile.TemporaryDirectory(prefix="webcourse-upload-") as scratch:
        unpack_submission(data, Path(scratch), policy=policy)
    return data


def pack_folder(files: Iterable[tuple[str, bytes]], *, policy: SandboxPolicy) -> bytes:
    """Zip a folder uploaded by the browser (relative path, content) and check it."""
    contents: dict[str, bytes] = {}
    for path, data in files:
        if path in contents:
            raise SubmissionRejected(f"The folder contains the same file twice: {path}")
        contents[path] = data
    if not contents:
        raise SubmissionRejected("The folder has no files to submit.")
    archive = pack_files(contents)
    if len(archive) > policy.max_archive_bytes:
        raise SubmissionRejected(
            f"The folder makes a zip of {len(archive) / 1024 / 1024:.1f} MiB; uploads may be "
            f"at most {policy.max_archive_bytes // 1024 // 1024} MiB. Leave out virtual "
            "environments, databases and other generated files."
        )
    return check_upload(archive, policy=policy)
