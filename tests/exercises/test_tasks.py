"""Grading through Celery: a real grading host and the site's worker on a private Redis."""

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
from exercises.tasks import grading_finished, grading_lost, grading_started, sweep
from grading import hosts, worker
from grading.jobs import GRADE_TASK, LOST_TASK
from sandbox import runner
from sandbox.policy import DEFAULT_POLICY
from tests.celery_fixtures import (
    HELLO_DIR,
    hello_archive,
    wait_for_rows,
    wait_until_graded,
)

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
    grade = worker.grade
    assert grade.name == GRADE_TASK
    assert grade.acks_late is True
    assert grade.reject_on_worker_lost is True
    assert grade.Request is worker.GradingRequest
    assert celery_app.amqp.router.route({}, GRADE_TASK)["queue"].name == "grading"
    soft, hard = grade.soft_time_limit, grade.time_limit
    assert DEFAULT_POLICY.wall_timeout < soft < hard
    assert worker.app.conf.worker_prefetch_multiplier == 1
    for task in (grading_started, grading_finished, grading_lost):
        assert celery_app.amqp.router.route({}, task.name)["queue"].name == "results"
        assert worker.app.amqp.router.route({}, task.name)["queue"].name == "results"


def test_the_sweep_runs_often_enough_to_notice_a_dead_host():
    schedules = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedules[sweep.name] <= hosts.HEARTBEAT_SECONDS
    assert schedules[sweep.name] + hosts.LOST_AFTER_SECONDS < 30


def test_a_hard_time_limit_reports_the_job_lost(monkeypatch):
    sent = []
    monkeypatch.setattr(worker, "send", lambda name, args: sent.append((name, args)))
    job = {"job_id": "abc123", "submission": 7}
    # What the host's main process calls after killing a pool process at the hard limit.
    worker.grade.on_failure(TimeLimitExceeded(95), "task-id", (job,), {}, einfo=None)
    assert sent == [(LOST_TASK, ("abc123", 7, worker.settings.host, "time limit"))]


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
def test_a_duplicated_job_is_graded_once(celery_worker_proc, hello_exercise, learner):
    submission = Submission.objects.create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
        job_id="0123456789abcdef",
    )
    # As if the job were sent twice (the sweep, after a long wait in the queue).
    services._send(submission.pk, submission.job_id)
    services._send(submission.pk, submission.job_id)

    (graded,) = wait_until_graded([submission.pk], workers=[celery_worker_proc])
    wait_for_rows(
        lambda: celery_worker_proc.log().count("grading.grade[") >= 4,
        timeout=60,
        what="the host to receive and finish both copies",
        workers=[celery_worker_proc],
    )
    graded.refresh_from_db()
    assert graded.verdict == "passed"
    assert graded.grading_attempts == 1
    assert celery_worker_proc.log().count(f"Job {submission.job_id} (submission") == 1
    assert f"Job {submission.job_id} is already taken" in celery_worker_proc.log()


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
