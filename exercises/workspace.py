"""The exercise page's workspace: a learner's drafts, starter files, attempts and allowance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exercises.attempts import AttemptHistory, learner_attempts
from exercises.models import Draft, Submission
from exercises.ratelimit import Allowance, submission_allowance
from exercises.uploads import check_editor_files
from sandbox.archive import SubmissionRejected
from sandbox.policy import policy_for


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


def _check_framework(exercise, framework: str) -> None:
    if not exercise.offers(framework):
        raise SubmissionRejected(f"This exercise is not offered in “{framework}”.")


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
    starters = {fw: exercise.starter_files(fw) for fw in exercise.frameworks}
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
