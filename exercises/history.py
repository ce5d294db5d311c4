"""Applying a finished grading to its submission, and keeping it in the result history.

Every grading of a submission, the first and each regrade, appends a GradingResult. The
submission row holds the result that counts. A regrade started without "allow lower scores"
(`Regrade.lower_best` False) never lowers it: when the new result is worth less than the
one the submission had, the row keeps its previous result and the new one is kept in the
history only, marked not counted.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from exercises.models import GradingResult, RegradeItem, Submission


def fraction(score: int | None, max_score: int | None) -> float:
    """Return a score as a share of its maximum (0 without a score)."""
    if score is None or not max_score:
        return 0.0
    return score / max_score


def grading_apply(*, rows: QuerySet[Submission], fields: dict[str, Any]) -> bool:
    """Store a grading's `fields` on the submission in `rows` and append it to its history.

    `rows` names the submission conditionally (its current job, still running); nothing is
    stored when it no longer matches. Return True if stored. Call it inside a transaction:
    the row and its history change together.
    """
    submission = (
        rows.select_related("regrade")
        .only("pk", "score", "max_score", "version", "regrade", "regrade__lower_best")
        .first()
    )
    if submission is None:
        return False
    counted = _counts(submission, fields)
    stored = fields if counted else _kept(submission, fields)
    if not rows.update(**stored):
        return False
    entry = GradingResult.objects.create(
        submission_id=submission.pk,
        version_id=submission.version_id,
        regrade_id=submission.regrade_id,
        verdict=fields["verdict"],
        score=fields["score"],
        max_score=fields["max_score"],
        result=fields["result"],
        counted=counted,
        graded_at=fields["finished_at"],
    )
    if submission.regrade_id is not None:
        RegradeItem.objects.filter(
            regrade_id=submission.regrade_id, submission_id=submission.pk
        ).update(new_result=entry)
    return True


def _counts(submission: Submission, fields: dict[str, Any]) -> bool:
    regrade = submission.regrade
    if regrade is None or regrade.lower_best or submission.score is None:
        return True
    new = fraction(fields["score"], fields["max_score"])
    return new >= fraction(submission.score, submission.max_score)


def _kept(submission: Submission, fields: dict[str, Any]) -> dict[str, Any]:
    """Return what to store when the previous result stays: the row ends done, as it was.

    The version goes back to the one the kept result was graded against.
    """
    item = RegradeItem.objects.filter(
        regrade_id=submission.regrade_id, submission_id=submission.pk
    ).first()
    kept = {key: fields[key] for key in ("state", "phase", "finished_at")}
    if item is not None:
        kept["version_id"] = item.old_version_id
    return kept
