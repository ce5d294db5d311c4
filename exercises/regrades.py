"""Regrades: sending graded submissions of an exercise to be graded again, and their report.

A regrade covers one submission, one learner's submissions to an exercise, or the whole
exercise. For a whole exercise it takes each learner's latest and best submission by
default: the best is what counts and the latest is the learner's current work, while the
rest can be many times more gradings (every attempt of a whole class) for little change;
"every submission" is there when the instructor wants it. Only graded submissions are taken
(one in grading is being graded already), and those whose files are no longer kept are left
out and counted. Each submission goes through the grading path of a new submission
(services.submission_regrade: a new job on the grading queue, the current version of the
exercise recorded on the row) without being charged to the learner's rate limit.

The rule on scores is in exercises.history: unless the regrade allows lower scores, no
submission's counted score goes down, so no learner's best does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet

from exercises.history import fraction
from exercises.models import GradingResult, Regrade, RegradeItem, Submission
from exercises.services import submission_regrade


@dataclass(frozen=True)
class RegradePlan:
    """What a regrade of the given scope would send, before it is started."""

    scope: str
    submissions: QuerySet[Submission]  # graded ones with their files: these are sent
    without_files: QuerySet[Submission]  # graded ones whose files are gone: skipped

    @property
    def learner_count(self) -> int:
        return self.submissions.values("learner").distinct().count()


def regrade_plan(
    *,
    exercise,
    learner=None,
    submission: Submission | None = None,
    submissions: QuerySet[Submission] | None = None,
    every: bool = False,
) -> RegradePlan:
    """Return the submissions a regrade would cover: one, a learner's, a selection, or all.

    Without `submission`, `submissions` or `learner`, the whole exercise: each learner's
    latest and best submission, or every submission when `every`.
    """
    mine = Submission.objects.filter(exercise=exercise)
    if submission is not None:
        scope, chosen = Regrade.Scope.SUBMISSION, mine.filter(pk=submission.pk)
    elif submissions is not None:
        scope, chosen = Regrade.Scope.SELECTION, mine.filter(pk__in=submissions.values("pk"))
    elif learner is not None:
        scope, chosen = Regrade.Scope.LEARNER, mine.filter(learner=learner)
    elif every:
        scope, chosen = Regrade.Scope.ALL, mine
    else:
        scope = Regrade.Scope.EXERCISE
        chosen = mine.filter(
            Q(pk__in=mine.latest_per_learner().values("pk"))
            | Q(pk__in=mine.best_per_learner().values("pk"))
        )
    graded = chosen.filter(state=Submission.State.DONE).order_by("learner_id", "created", "pk")
    return RegradePlan(
        scope=scope,
        submissions=graded.filter(archive__isnull=False),
        without_files=graded.filter(archive__isnull=True),
    )


def regrade_start(
    *,
    exercise,
    requested_by,
    learner=None,
    submission: Submission | None = None,
    submissions: QuerySet[Submission] | None = None,
    every: bool = False,
    lower_best: bool = False,
) -> Regrade:
    """Start a regrade of an exercise's submissions (see regrade_plan) and return it.

    Every way of regrading (the instructor area, the admin action) comes through here. The
    jobs are sent once the transaction commits. `lower_best` allows a regrade to lower a
    submission's counted score, and so a learner's best.
    """
    plan = regrade_plan(
        exercise=exercise,
        learner=learner,
        submission=submission,
        submissions=submissions,
        every=every,
    )
    with transaction.atomic():
        chosen = list(plan.submissions.select_for_update().defer("result"))
        regrade = Regrade.objects.create(
            exercise=exercise,
            version=exercise.current_version(),
            requested_by=requested_by,
            scope=plan.scope,
            lower_best=lower_best,
            old_bests=_bests(exercise, {s.learner_id for s in chosen}),
            skipped=plan.without_files.count(),
        )
        RegradeItem.objects.bulk_create(
            RegradeItem(
                regrade=regrade,
                submission=s,
                old_verdict=s.verdict,
                old_score=s.score,
                old_max_score=s.max_score,
                old_version_id=s.version_id,
            )
            for s in chosen
        )
        submission_regrade(submissions=chosen, regrade=regrade)
    return regrade


def _bests(exercise, learner_ids: set[int]) -> dict[str, dict | None]:
    """Return each learner's best submission on the exercise now, by learner id (as text)."""
    best = (
        Submission.objects.filter(exercise=exercise, learner_id__in=learner_ids)
        .best_per_learner()
        .values("pk", "learner_id", "score", "max_score")
    )
    found = {
        str(row["learner_id"]): {
            "submission": row["pk"],
            "score": row["score"],
            "max_score": row["max_score"],
        }
        for row in best
    }
    return {str(pk): found.get(str(pk)) for pk in sorted(learner_ids)}


# The report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    score: int | None
    max_score: int | None
    submission_id: int | None = None

    def __str__(self) -> str:
        if self.score is None:
            return "—"
        return f"{self.score}/{self.max_score}"

    @property
    def value(self) -> float:
        return fraction(self.score, self.max_score) if self.score is not None else -1.0


@dataclass(frozen=True)
class ItemLine:
    """One submission in a regrade's report."""

    submission: Submission
    old: Score
    new: GradingResult | None  # None while it waits (or when a later regrade took it over)
    superseded: bool  # a later regrade sent it again before this one's result came

    @property
    def pending(self) -> bool:
        return self.new is None and not self.superseded

    @property
    def kept(self) -> bool:
        """Say whether the regrade gave less and the previous result was kept."""
        return self.new is not None and not self.new.counted

    @property
    def given(self) -> Score | None:
        return None if self.new is None else Score(self.new.score, self.new.max_score)


@dataclass
class LearnerLine:
    """One learner in a regrade's report: their best before and now, and their submissions."""

    learner: object
    old_best: Score
    new_best: Score
    items: list[ItemLine] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return any(item.pending for item in self.items)

    @property
    def change(self) -> str:
        """Return "up", "down" or "same": how the learner's best moved."""
        if self.new_best.value > self.old_best.value:
            return "up"
        if self.new_best.value < self.old_best.value:
            return "down"
        return "same"


@dataclass
class RegradeReport:
    regrade: Regrade
    learners: list[LearnerLine]
    total: int
    done: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)

    def count(self, change: str) -> int:
        return sum(1 for line in self.learners if not line.pending and line.change == change)

    @property
    def up(self) -> int:
        return self.count("up")

    @property
    def down(self) -> int:
        return self.count("down")

    @property
    def same(self) -> int:
        return self.count("same")


def regrade_progress(*, regrade: Regrade) -> tuple[int, int]:
    """Return (done, total): how many of a regrade's submissions have their new result."""
    items = RegradeItem.objects.filter(regrade=regrade)
    waiting = items.filter(new_result__isnull=True, submission__regrade=regrade).count()
    total = items.count()
    return total - waiting, total


def regrade_report(*, regrade: Regrade) -> RegradeReport:
    """Return a regrade's report: per learner, their best before and now, and each submission."""
    items = list(
        RegradeItem.objects.filter(regrade=regrade)
        .select_related("submission__learner", "new_result")
        .defer("submission__result", "new_result__result")
        .order_by("submission__learner__username", "submission__created", "submission__pk")
    )
    learners: dict[int, LearnerLine] = {}
    for item in items:
        submission = item.submission
        line = learners.get(submission.learner_id)
        if line is None:
            old = regrade.old_bests.get(str(submission.learner_id)) or {}
            line = learners[submission.learner_id] = LearnerLine(
                learner=submission.learner,
                old_best=Score(old.get("score"), old.get("max_score"), old.get("submission")),
                new_best=Score(None, None),
            )
        line.items.append(
            ItemLine(
                submission=submission,
                old=Score(item.old_score, item.old_max_score),
                new=item.new_result,
                superseded=item.new_result_id is None and submission.regrade_id != regrade.pk,
            )
        )
    best = (
        Submission.objects.filter(exercise=regrade.exercise_id, learner_id__in=list(learners))
        .best_per_learner()
        .values_list("learner_id", "pk", "score", "max_score")
    )
    for learner_id, pk, score, max_score in best:
        learners[learner_id].new_best = Score(score, max_score, pk)
    done = sum(1 for line in learners.values() for item in line.items if not item.pending)
    return RegradeReport(
        regrade=regrade, learners=list(learners.values()), total=len(items), done=done
    )
