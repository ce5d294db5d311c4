from __future__ import annotations

import pytest

from exercises.attempts import learner_attempts, queue_position
from exercises.models import Submission
from tests.factories import ExerciseFactory, UserFactory, make_submission


@pytest.fixture
def exercise(db):
    return ExerciseFactory(slug="hello", frameworks=["flask", "fastapi"])


# Attempts


def test_attempts_number_only_gradable_results_and_the_best_score_counts(learner, exercise):
    first = make_submission(learner, exercise, status="failed", score=1, minutes=0)
    broken = make_submission(learner, exercise, status="error", score=0, minutes=1)
    second = make_submission(learner, exercise, status="passed", score=3, minutes=2)
    third = make_submission(learner, exercise, status="passed", score=3, minutes=3)
    pending = make_submission(learner, exercise, minutes=4)
    make_submission(UserFactory(), exercise, status="passed", score=3)

    history = learner_attempts(learner=learner, exercise=exercise)

    shown = [(a.submission, a.number, a.status, a.best) for a in history.attempts]
    assert shown == [
        (pending, None, "", False),
        (third, 3, "passed", False),
        (second, 2, "passed", True),  # the earliest of the equal best scores
        (broken, None, "error", False),
        (first, 1, "failed", False),
    ]
    assert history.best.submission == second
    assert history.counted == 3


def test_a_learner_without_graded_attempts_has_no_best(learner, exercise):
    make_submission(learner, exercise, status="error")

    history = learner_attempts(learner=learner, exercise=exercise)

    assert history.best is None
    assert history.counted == 0


def test_the_queue_position_counts_the_queued_submissions_before(learner, exercise):
    ahead = [make_submission(UserFactory(), exercise, minutes=m) for m in (0, 1)]
    make_submission(UserFactory(), exercise, state=Submission.State.RUNNING, minutes=2)
    mine = make_submission(learner, exercise, minutes=3)
    make_submission(UserFactory(), exercise, minutes=4)

    assert queue_position(mine) == 2
    assert queue_position(ahead[0]) == 0
    assert queue_position(make_submission(learner, exercise, status="passed")) is None
