from __future__ import annotations

import pytest
from django.core.cache import cache

from exercises.models import Submission
from exercises.ratelimit import (
    SubmissionLimited,
    TokenBucket,
    submission_allowance,
)
from exercises.services import submission_create
from sandbox.archive import SubmissionRejected, pack_files
from tests.factories import ExerciseFactory, UserFactory

ZIP = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
T0 = 1_700_000_000.0
BUCKET = TokenBucket(capacity=3, refill_seconds=20)


@pytest.fixture
def exercise(db):
    return ExerciseFactory(frameworks=["flask"])


def submit(learner, exercise, *, now: float) -> Submission:
    return submission_create(
        learner=learner, exercise=exercise, framework="flask", archive=ZIP, bucket=BUCKET, now=now
    )


def finish(submission: Submission, status: str = "failed") -> None:
    Submission.objects.filter(pk=submission.pk).update(
        state=Submission.State.DONE, result={"status": status}, verdict=status, score=0, max_score=1
    )


def test_a_fresh_bucket_allows_a_submission_with_all_its_tokens(learner, exercise):
    allowance = submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0)

    assert allowance.allowed
    assert allowance.tokens == 3
    assert allowance.message == ""


def test_the_fourth_quick_submission_waits_for_a_token(learner, exercise):
    for _ in range(3):
        finish(submit(learner, exercise, now=T0))

    with pytest.raises(SubmissionLimited) as refused:
        submit(learner, exercise, now=T0 + 5)

    assert refused.value.allowance.wait_seconds == 15  # a quarter of a token came back
    assert str(refused.value) == "Next submission possible in 15 s."
    assert refused.value.retry_after == 15
    assert Submission.objects.count() == 3


def test_a_token_comes_back_after_the_refill_time(learner, exercise):
    for _ in range(3):
        finish(submit(learner, exercise, now=T0))

    assert not submission_allowance(
        learner=learner, exercise=exercise, bucket=BUCKET, now=T0 + 19
    ).allowed
    later = submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0 + 20)
    assert later.allowed
    assert later.tokens == 1
    submit(learner, exercise, now=T0 + 20)


def test_the_bucket_never_holds_more_than_its_capacity(learner, exercise):
    finish(submit(learner, exercise, now=T0))

    allowance = submission_allowance(
        learner=learner, exercise=exercise, bucket=BUCKET, now=T0 + 3600
    )

    assert allowance.tokens == 3


def test_buckets_are_per_exercise(learner, exercise):
    for _ in range(3):
        finish(submit(learner, exercise, now=T0))
    other = ExerciseFactory(frameworks=["flask"])

    assert submission_allowance(learner=learner, exercise=other, bucket=BUCKET, now=T0).allowed


def test_only_one_submission_is_graded_at_a_time_across_exercises(learner, exercise):
    running = submit(learner, exercise, now=T0)
    Submission.objects.filter(pk=running.pk).update(state=Submission.State.RUNNING)
    other = ExerciseFactory(frameworks=["flask"])

    with pytest.raises(SubmissionLimited) as refused:
        submission_create(
            learner=learner, exercise=other, framework="flask", archive=ZIP, now=T0 + 60
        )

    assert refused.value.allowance.active == running
    assert f"submission #{running.pk} is still being graded" in str(refused.value)
    assert not Submission.objects.filter(exercise=other).exists()


def test_another_learners_running_submission_does_not_block(learner, exercise):
    submit(UserFactory(), exercise, now=T0)

    assert submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0).allowed


def test_a_not_gradable_submission_gives_its_token_back(learner, exercise):
    for _ in range(5):
        finish(submit(learner, exercise, now=T0), status="error")

    allowance = submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0)

    assert allowance.allowed
    assert allowance.tokens == 3


def test_a_timeout_costs_its_token(learner, exercise):
    for _ in range(3):
        finish(submit(learner, exercise, now=T0), status="timeout")

    assert not submission_allowance(
        learner=learner, exercise=exercise, bucket=BUCKET, now=T0
    ).allowed


def test_a_rejected_archive_costs_nothing(learner, exercise):
    for _ in range(3):
        with pytest.raises(SubmissionRejected):
            submission_create(
                learner=learner,
                exercise=exercise,
                framework="flask",
                archive=b"not a zip",
                bucket=BUCKET,
                now=T0,
            )

    assert (
        submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0).tokens == 3
    )
    assert not Submission.objects.exists()


def test_a_lost_cache_counts_as_a_full_bucket(learner, exercise):
    for _ in range(3):
        finish(submit(learner, exercise, now=T0))
    cache.clear()

    assert submission_allowance(learner=learner, exercise=exercise, bucket=BUCKET, now=T0).allowed


def test_a_submission_is_enqueued_after_commit(
    learner, exercise, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        submit(learner, exercise, now=T0)

    assert len(callbacks) == 1
