"""A learner's work on an exercise: starter files, editor drafts, uploads, past attempts.

Files from the browser follow the same rules as a submitted zip (sandbox.archive), checked
before anything is stored: a draft that breaks them is refused with a message and the draft
saved before stays as it was.

What counts as an attempt: every submission is numbered by `Submission.attempt` in the
order it was made, but the learner's attempts on the exercise page are the gradable ones.
A submission whose verdict is "error" could not be started or graded; it is listed as "not
gradable", gets no attempt number and gives its rate-limit token back (exercises.ratelimit).
The best score over the gradable attempts is the one that counts
(`Submission.objects.best_per_learner()`).
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Exists, OuterRef

from exercises.models import GRADABLE, Draft, Submission, Verdict
from exercises.ratelimit import Allowance, submission_allowance
from sandbox.archive import SubmissionRejected, pack_files, unpack_submission
from sandbox.policy import SandboxPolicy, policy_for

# The editor refuses longer paths (frontend/src/paths.js); the server agrees.
MAX_PATH_LENGTH = 200


# Starter files ------------------------------------------------------------------------


def starter_files(exercise, framework: str) -> dict[str, str]:
    """Return the starter files of an exercise for a framework, keyed by path inside it."""
    prefix = f"starter/{framework}/"
    return {
        path[len(prefix) :]: text
        for path, text in sorted(exercise.files.items())
        if path.startswith(prefix)
    }


def starter_zip(exercise, framework: str) -> bytes:
    """Return the starter files as a zip holding one folder, named after the exercise."""
    folder = f"{exercise.slug}-{framework}"
    files = starter_files(exercise, framework)
    return pack_files({f"{folder}/{path}": text for path, text in files.items()})


# Drafts -------------------------------------------------------------------------------


def learner_drafts(*, learner, exercise) -> dict[str, Draft]:
    """Return a learner's drafts of an exercise, by framework."""
    return {d.framework: d for d in Draft.objects.filter(learner=learner, exercise=exercise)}


def draft_save(*, learner, exercise, framework: str, files: Any) -> Draft:
    """Store the editor's files as the learner's draft, or raise SubmissionRejected.

    Nothing is written when the files break a rule, so the previous draft is kept.
    """
    _check_framework(exercise, framework)
    checked = check_editor_files(files, policy=policy_for(exercise.limits))
    draft, _ = Draft.objects.update_or_create(
        learner=learner, exercise=exercise, framework=framework, defaults={"files": checked}
    )
    return draft


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


def _check_framework(exercise, framework: str) -> None:
    if not exercise.offers(framework):
        raise SubmissionRejected(f"This exercise is not offered in “{framework}”.")


# Packing what the learner sends -------------------------------------------------------


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


# Attempts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One submission as the learner's history shows it."""

    submission: Submission
    status: str  # the verdict, "" while it is being graded
    number: int | None  # among the gradable attempts; None when not gradable or pending
    best: bool = False

    @property
    def done(self) -> bool:
        return self.submission.state == Submission.State.DONE

    @property
    def gradable(self) -> bool:
        return self.status != Verdict.ERROR


@dataclass(frozen=True)
class AttemptHistory:
    """A learner's submissions to an exercise, newest first, and the best one."""

    attempts: list[Attempt]
    best: Attempt | None

    @property
    def counted(self) -> int:
        return sum(a.number is not None for a in self.attempts)


def learner_attempts(*, learner, exercise) -> AttemptHistory:
    """Return a learner's attempts at an exercise (one query; archives and logs not loaded)."""
    mine = Submission.objects.filter(learner=learner, exercise=exercise)
    best = mine.best_per_learner().filter(pk=OuterRef("pk"))
    submissions = list(
        mine.defer("archive", "result").annotate(is_best=Exists(best)).order_by("created", "pk")
    )
    numbered: list[tuple[Submission, int | None]] = []
    count = 0
    for submission in submissions:
        if submission.verdict in GRADABLE:
            count += 1
            numbered.append((submission, count))
        else:
            numbered.append((submission, None))
    attempts = [
        Attempt(
            submission=submission,
            status=submission.verdict,
            number=number,
            best=submission.is_best,
        )
        for submission, number in reversed(numbered)
    ]
    best = next((a for a in attempts if a.best), None)
    return AttemptHistory(attempts=attempts, best=best)


def queue_position(submission: Submission) -> int | None:
    """Return how many queued submissions are ahead of a queued one (None once it started)."""
    if submission.state != Submission.State.QUEUED:
        return None
    return Submission.objects.filter(
        state=Submission.State.QUEUED, queued_at__lt=submission.queued_at
    ).count()


# The exercise page's workspace --------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """What a signed-in learner's exercise page shows of their own work."""

    framework: str  # the framework to open the editor with
    chosen: bool  # True when `framework` comes from a draft or the request, not a default
    files: dict[str, dict[str, str]]  # per framework: the draft, else the starter files
    starters: dict[str, dict[str, str]]
    saved: dict[str, str]  # per framework with a draft: when it was saved (ISO 8601)
    history: AttemptHistory
    latest: Submission | None  # the newest submission, with its result
    allowance: Allowance


def learner_workspace(*, learner, exercise, framework: str | None = None) -> Workspace:
    """Gather a learner's drafts, attempts and submit allowance for an exercise page."""
    drafts = learner_drafts(learner=learner, exercise=exercise)
    starters = {fw: starter_files(exercise, fw) for fw in exercise.frameworks}
    chosen = framework is not None and exercise.offers(framework)
    if not chosen and drafts:
        framework = max(drafts.values(), key=lambda d: d.updated).framework
        chosen = True
    if not chosen:
        framework = exercise.frameworks[0] if exercise.frameworks else ""
    latest = (
        Submission.objects.filter(learner=learner, exercise=exercise)
        .defer("archive")
        .order_by("-created", "-pk")
        .first()
    )
    return Workspace(
        framework=framework,
        chosen=chosen,
        files={fw: drafts[fw].files if fw in drafts else starters[fw] for fw in starters},
        starters=starters,
        saved={fw: d.updated.isoformat() for fw, d in drafts.items()},
        history=learner_attempts(learner=learner, exercise=exercise),
        latest=latest,
        allowance=submission_allowance(learner=learner, exercise=exercise),
    )
