"""Deadlines: setting an exercise's deadline and late policy, and per-learner extensions.

Late is decided against the learner's own deadline (their extension, else the exercise's).
`Submission.late` is set when a submission is made; changing a deadline or an extension
marks the submissions already made again, so "Late" always means late under the deadlines
as they are now. Late submissions are accepted; what they count for is exercises.grades.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from exercises.models import DeadlineExtension, Exercise, Submission


def exercise_deadline_set(
    *, exercise: Exercise, deadline: datetime | None, late_policy: str, late_penalty: int
) -> Exercise:
    """Set (or, with None, clear) an exercise's deadline and late policy."""
    with transaction.atomic():
        exercise.deadline = deadline
        exercise.late_policy = late_policy
        exercise.late_penalty = late_penalty
        exercise.save(update_fields=["deadline", "late_policy", "late_penalty", "updated"])
        _mark_late(exercise)
    return exercise


def deadline_extension_set(*, exercise: Exercise, learner, until: datetime) -> DeadlineExtension:
    """Give a learner their own deadline on an exercise, or change the one they have."""
    with transaction.atomic():
        extension, _ = DeadlineExtension.objects.update_or_create(
            exercise=exercise, learner=learner, defaults={"until": until}
        )
        _mark_late(exercise, learner=learner)
    return extension


def deadline_extension_remove(*, extension: DeadlineExtension) -> None:
    """Take a learner's extension away: the exercise's deadline is theirs again."""
    with transaction.atomic():
        exercise, learner = extension.exercise, extension.learner
        extension.delete()
        _mark_late(exercise, learner=learner)


def _mark_late(exercise: Exercise, *, learner=None) -> None:
    """Mark the exercise's submissions (a learner's only, if given) late or on time again."""
    submissions = Submission.objects.filter(exercise=exercise)
    if learner is not None:
        submissions = submissions.filter(learner=learner)
    if exercise.deadline is None:
        submissions.update(late=False)
        return
    extensions = DeadlineExtension.objects.filter(exercise=exercise)
    if learner is not None:
        extensions = extensions.filter(learner=learner)
    extended = dict(extensions.values_list("learner_id", "until"))
    rest = submissions.exclude(learner_id__in=list(extended))
    rest.filter(created__gt=exercise.deadline).update(late=True)
    rest.filter(created__lte=exercise.deadline).update(late=False)
    for learner_id, until in extended.items():
        theirs = submissions.filter(learner_id=learner_id)
        theirs.filter(created__gt=until).update(late=True)
        theirs.filter(created__lte=until).update(late=False)
