"""Submission's verdict queries: passed, best and latest per learner; Exercise.offers and
Exercise.with_progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exercises.models import Exercise, Framework, Submission, Verdict
from sandbox.spec import FRAMEWORKS
from tests.factories import ExerciseFactory, SubmissionFactory, UserFactory

pytestmark = pytest.mark.django_db


def submission(learner, exercise, verdict="", *, score=None, minutes=0) -> Submission:
    scored = {} if score is None else {"score": score}
    made = SubmissionFactory(learner=learner, exercise=exercise, verdict=verdict, **scored)
    moment = timezone.now() + timedelta(minutes=minutes)
    Submission.objects.filter(pk=made.pk).update(created=moment)
    return made


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_passed_are_the_submissions_with_a_passed_verdict(learner):
    exercise = ExerciseFactory()
    passed = submission(learner, exercise, Verdict.PASSED)
    submission(learner, exercise, Verdict.FAILED)
    submission(learner, exercise)  # still queued

    assert pks(Submission.objects.passed()) == {passed.pk}


def test_the_best_is_the_highest_gradable_score_and_the_earliest_on_a_tie(learner):
    exercise = ExerciseFactory()
    submission(learner, exercise, Verdict.FAILED, score=2, minutes=0)
    best = submission(learner, exercise, Verdict.FAILED, score=5, minutes=1)
    submission(learner, exercise, Verdict.FAILED, score=5, minutes=2)
    submission(learner, exercise, Verdict.ERROR, score=9, minutes=3)  # not gradable
    submission(learner, exercise, minutes=4)  # not graded yet

    assert pks(Submission.objects.best_per_learner()) == {best.pk}


def test_best_and_latest_are_per_learner_and_exercise(learner):
    exercise, other_exercise, other_learner = ExerciseFactory(), ExerciseFactory(), UserFactory()
    mine = submission(learner, exercise, Verdict.PASSED, minutes=0)
    my_latest = submission(learner, exercise, Verdict.FAILED, minutes=1)
    theirs = submission(other_learner, exercise, Verdict.FAILED)
    elsewhere = submission(learner, other_exercise, Verdict.FAILED)
    only_errors = submission(UserFactory(), exercise, Verdict.ERROR)

    assert pks(Submission.objects.best_per_learner()) == {mine.pk, theirs.pk, elsewhere.pk}
    assert pks(Submission.objects.latest_per_learner()) == {
        my_latest.pk, theirs.pk, elsewhere.pk, only_errors.pk
    }  # fmt: skip


def test_an_exercise_offers_only_its_own_frameworks():
    exercise = ExerciseFactory(frameworks=["flask", "fastapi"])

    assert exercise.offers("flask")
    assert not exercise.offers("django")
    assert not exercise.offers("bottle")


def test_the_framework_choices_are_the_engines_list():
    assert dict(Framework.choices) == FRAMEWORKS


# Exercise.with_progress


def progress_of(learner) -> dict[str, list]:
    rows = Exercise.objects.with_progress(learner).values_list(
        "slug", "passed", "attempted", "best_score", "best_max_score"
    )
    return {slug: rest for slug, *rest in rows}


def test_with_progress_tells_not_started_attempted_and_passed_with_the_best_score(learner):
    untouched, failing, passing, broken = (
        ExerciseFactory(slug=slug) for slug in ("a-untouched", "b-failing", "c-passing", "d-broken")
    )
    submission(learner, failing, Verdict.FAILED, score=2, minutes=0)
    submission(learner, failing, Verdict.FAILED, score=4, minutes=1)
    submission(learner, failing, Verdict.FAILED, score=3, minutes=2)
    submission(learner, passing, Verdict.FAILED, score=4, minutes=0)
    submission(learner, passing, Verdict.PASSED, minutes=1)
    submission(learner, passing, Verdict.FAILED, score=1, minutes=2)  # a pass is not undone
    submission(learner, broken, Verdict.ERROR, minutes=0)  # not gradable: no score counts
    SubmissionFactory(exercise=untouched, verdict=Verdict.PASSED)  # someone else's

    assert progress_of(learner) == {
        "a-untouched": [False, False, None, None],
        "b-failing": [False, True, 4, 10],
        "c-passing": [True, True, 10, 10],
        "d-broken": [False, True, None, None],
    }
