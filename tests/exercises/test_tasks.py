"""The grading tasks, run by a real Celery worker on a private Redis, grading in Docker."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from config.celery import app as celery_app
from exercises import services
from exercises.models import Submission
from exercises.tasks import GradingRequest, grade_submission, sweep
from sandbox import runner
from sandbox.policy import DEFAULT_POLICY
from tests.celery_fixtures import (
    HELLO_DIR,
    hello_archive,
    wait_for_rows,
    wait_until_graded,
)
from tests.factories import ExerciseFactory

FRAMEWORKS = ("flask", "django", "fastapi")


def comparable(result: dict) -> dict:
    """Return a result without what differs from run to run (timings, app output)."""
    return {
        "status": result["status"],
        "score": result["score"],
        "max_score": result["max_score"],
        "message": result["message"],
        "tests": [
            (t["name"], t["status"], t["points"], t["max_points"], t["message"])
            for t in result["tests"]
        ],
    }


def command_line_result(kind: str, framework: str) -> dict:
    out = io.StringIO()
    call_command(
        "grade", str(HELLO_DIR), str(HELLO_DIR / kind / framework),
        "--framework", framework, "--json", stdout=out,
    )  # fmt: skip
    return json.loads(out.getvalue())


def submit_all(learner, exercise, kind: str) -> list[Submission]:
    return [
        services.submission_create(
            learner=learner,
            exercise=exercise,
            framework=fw,
            archive=hello_archive(kind, fw),
            bucket=None,  # three at once: past the rate limits on purpose
        )
        for fw in FRAMEWORKS
    ]


# Configuration ---------------------------------------------------------------------------


def test_grading_is_acknowledged_late_on_its_own_queue_within_time_limits():
    assert grade_submission.acks_late is True
    assert grade_submission.reject_on_worker_lost is True
    assert grade_submission.Request is GradingRequest
    assert celery_app.amqp.router.route({}, grade_submission.name)["queue"].name == "grading"
    soft, hard = grade_submission.soft_time_limit, grade_submission.time_limit
    assert DEFAULT_POLICY.wall_timeout < soft < hard
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_the_sweep_runs_periodically():
    schedules = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedules[sweep.name] <= services.STUCK_QUEUED_AFTER.total_seconds()


def test_a_hard_time_limit_puts_the_submission_back_in_the_queue(db, learner):
    submission = Submission.objects.create(
        learner=learner, exercise=ExerciseFactory(), framework="flask", archive=b"PK"
    )
    Submission.objects.filter(pk=submission.pk).update(
        state=Submission.State.RUNNING, started_at=timezone.now(), grading_attempts=1
    )
    # What the worker's main process calls after killing a pool process at the hard limit.
    grade_submission.on_failure(TimeLimitExceeded(95), "task-id", (submission.pk,), {}, einfo=None)
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts) == (Submission.State.QUEUED, 1)


# Through a real worker --------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.sandbox
def test_the_worker_passes_the_hello_solutions_like_the_command_line(
    celery_worker_proc, hello_exercise, hello_spec, learner
):
    submitted = submit_all(learner, hello_exercise, "solution")
    graded = wait_until_graded([s.pk for s in submitted], workers=[celery_worker_proc])

    for framework, submission in zip(FRAMEWORKS, graded, strict=True):
        assert submission.verdict == "passed", (framework, submission.result["message"])
        assert submission.score == submission.max_score > 0
        assert submission.grading_attempts == 1
        expected = comparable(command_line_result("solution", framework))
        assert comparable(submission.result) == expected, framework
        direct = runner.grade(
            spec=hello_spec, archive=hello_archive("solution", framework), framework=framework
        )
        assert comparable(submission.result) == comparable(direct), framework


@pytest.mark.celery
@pytest.mark.sandbox
def test_the_worker_fails_the_hello_starters_like_the_command_line(
    celery_worker_proc, hello_exercise, learner
):
    submitted = submit_all(learner, hello_exercise, "starter")
    graded = wait_until_graded([s.pk for s in submitted], workers=[celery_worker_proc])

    for framework, submission in zip(FRAMEWORKS, graded, strict=True):
        assert submission.verdict == "failed", (framework, submission.result["message"])
        assert submission.score < submission.max_score
        expected = comparable(command_line_result("starter", framework))
        assert comparable(submission.result) == expected, framework


@pytest.mark.celery
@pytest.mark.sandbox
def test_a_duplicated_message_grades_the_submission_once(
    celery_worker_proc, hello_exercise, learner
):
    submission = services.submission_create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )
    # As if Redis redelivered the message twice (acks_late after a lost connection).
    grade_submission.delay(submission.pk)
    grade_submission.delay(submission.pk)

    (graded,) = wait_until_graded([submission.pk], workers=[celery_worker_proc])
    wait_for_rows(
        lambda: celery_worker_proc.log().count("exercises.tasks.grade_submission[") >= 6,
        timeout=60,
        what="the worker to receive and finish all three messages",
        workers=[celery_worker_proc],
    )
    graded.refresh_from_db()
    assert graded.verdict == "passed"
    assert graded.grading_attempts == 1


@pytest.mark.celery
@pytest.mark.sandbox
def test_the_sweep_task_enqueues_a_submission_whose_message_was_lost(
    celery_worker_proc, hello_exercise, learner
):
    # Saved, but its message never reached Redis (say, Redis was restarting).
    submission = Submission.objects.create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )
    Submission.objects.filter(pk=submission.pk).update(
        queued_at=timezone.now() - services.STUCK_QUEUED_AFTER - timedelta(seconds=1)
    )

    sweep.delay()

    (graded,) = wait_until_graded([submission.pk], workers=[celery_worker_proc])
    assert graded.verdict == "passed"
    assert graded.grading_attempts == 1
