"""A learner's past attempts at an exercise, and a queued submission's place in the queue.

What counts as an attempt: every submission is numbered by `Submission.attempt` in the
order it was made, but the learner's attempts on the exercise page are the gradable ones.
A submission whose verdict is "error" could not be started or graded; it is listed as "not
gradable", gets no attempt number and gives its rate-limit token back (exercises.ratelimit).
The best score over the gradable attempts is the one that counts
(`Submission.objects.best_per_learner()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from exercises.models import GRADABLE, Submission, Verdict


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
