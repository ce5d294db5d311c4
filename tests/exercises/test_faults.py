"""Nothing is lost when a grading host or the site's worker dies, or Redis restarts mid-burst."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from exercises import services
from exercises.models import Submission
from tests.celery_fixtures import (
    hello_archive,
    slow_booting_hello_archive,
    wait_for_rows,
    wait_until_graded,
)

pytestmark = [pytest.mark.celery, pytest.mark.sandbox]


def submit_slow(learner, exercise) -> Submission:
    return services.submission_create(
        learner=learner,
        exercise=exercise,
        framework="flask",
        archive=slow_booting_hello_archive(),
        bucket=None,  # one learner's submissions in a row: no waiting on the rate limits
    )


def wait_until_mid_grade(submission: Submission, worker) -> None:
    """Wait until a worker has claimed the submission and its app is booting or under test."""
    in_progress = Submission.objects.filter(
        pk=submission.pk, state=Submission.State.RUNNING, phase__in=["booting", "testing"]
    )
    wait_for_rows(in_progress.exists, timeout=60, what="the grading to start", workers=[worker])


def test_a_pool_process_killed_mid_grade_is_graded_again_exactly_once(
    celery_worker_proc, hello_exercise, learner
):
    submission = submit_slow(learner, hello_exercise)
    wait_until_mid_grade(submission, celery_worker_proc)

    for pid in celery_worker_proc.pool_pids():
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would

    (graded,) = wait_until_graded([submission.pk], workers=[celery_worker_proc])
    assert "WorkerLostError" in celery_worker_proc.log()  # it really died mid-grade
    assert graded.verdict == "passed"
    assert graded.score == graded.max_score
    assert graded.grading_attempts == 2  # the lost one, then one complete grading
    # The broker gave the job back and the host graded it again under the same job id.
    assert celery_worker_proc.log().count(f"Job {graded.job_id} (submission") == 1


def test_a_host_killed_mid_grade_is_graded_once_by_another_host(
    start_celery_worker, start_grading_host, hello_exercise, learner
):
    start_celery_worker()
    doomed = start_grading_host()
    submission = submit_slow(learner, hello_exercise)
    wait_until_mid_grade(submission, doomed)

    doomed.kill()  # the whole host, main process included: nobody gives the message back
    time.sleep(0.5)
    submission.refresh_from_db()
    assert submission.state == Submission.State.RUNNING
    assert submission.grading_host == doomed.host_id
    lost_job = submission.job_id

    # The periodic sweep finds the row running past its deadline (here: at once).
    report = services.submission_sweep(
        stuck_after=services.STUCK_QUEUED_AFTER, abandoned_after=timedelta(0)
    )
    assert report.reset == [submission.pk]
    survivor = start_grading_host()

    (graded,) = wait_until_graded([submission.pk], workers=[doomed, survivor])
    assert graded.verdict == "passed"
    assert graded.grading_attempts == 2
    assert graded.job_id != lost_job
    assert graded.grading_host == survivor.host_id
    assert "succeeded" not in doomed.log()
    assert "grading.grade[" in survivor.log()


def test_a_redis_restart_during_a_burst_loses_no_submission(
    start_celery_worker, start_grading_host, redis_server, hello_exercise, learner
):
    # Both run as scripts/up and compose run them: started again if they fail.
    # (A Celery worker has been seen to exit when its broker client failed while it restored
    # the messages it held as Redis went down.)
    site_worker = start_celery_worker(supervised=True)
    host = start_grading_host(supervised=True)
    workers = [site_worker, host]
    archive = hello_archive("solution", "flask")

    def submit(count: int) -> list[int]:
        return [
            services.submission_create(
                learner=learner,
                exercise=hello_exercise,
                framework="flask",
                archive=archive,
                bucket=None,  # many at once: past the rate limits on purpose
            ).pk
            for _ in range(count)
        ]

    ids = submit(10)
    wait_for_rows(
        Submission.objects.filter(pk__in=ids, state=Submission.State.RUNNING).exists,
        timeout=60,
        what="the first gradings to start",
        workers=workers,
    )

    redis_server.stop(crash=True)  # queued and unacknowledged messages are gone
    ids += submit(10)  # saved while the broker is down: their messages cannot be sent
    redis_server.start()

    # The periodic sweep, run here every two seconds, enqueues what Redis lost. A grading
    # that was running at the crash may have had its report lost with it: the sweep sends
    # it again once it is past its deadline, which is shortened here from the exercise's
    # (hard time limit plus a margin, 110 s) to 20 s (a hello grading takes about one).
    done = Submission.objects.filter(pk__in=ids, state=Submission.State.DONE)
    requeued: set[int] = set()
    reset: set[int] = set()

    def all_graded() -> bool:
        if done.count() == len(ids):
            return True
        report = services.submission_sweep(
            stuck_after=timedelta(seconds=5), abandoned_after=timedelta(seconds=20)
        )
        requeued.update(report.requeued)
        reset.update(report.reset)
        time.sleep(2)
        return False

    wait_for_rows(all_graded, timeout=240, what="20 submissions", workers=workers)
    graded = wait_until_graded(ids)
    assert [s.verdict for s in graded] == ["passed"] * 20
    # A report of a grading under way when Redis died may be lost with it (the host has no
    # database to write to): the sweep then grades that row again, as a new job. At most the
    # two gradings running at the crash can be affected.
    attempts = [s.grading_attempts for s in graded]
    assert set(attempts) <= {1, 2}
    assert attempts.count(2) <= 2, attempts
    assert reset <= set(ids[:10]) and len(reset) <= 2
    # Both kinds of loss happened: messages queued in the old Redis, and never-sent ones.
    assert requeued & set(ids[:10])
    assert set(ids[10:]) <= requeued


def test_a_supervised_site_worker_that_dies_is_started_again_and_applies_the_reports(
    start_celery_worker, start_grading_host, hello_exercise, learner
):
    site_worker = start_celery_worker(supervised=True)
    host = start_grading_host()
    os.kill(site_worker.main_pid(), signal.SIGKILL)  # Celery's main process, not the supervisor
    wait_for_rows(
        lambda: site_worker.log().count(" ready.") == 2,
        timeout=60,
        what="the site's worker to be started again",
        workers=[site_worker],
    )

    submission = services.submission_create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )

    (graded,) = wait_until_graded([submission.pk], workers=[site_worker, host])
    assert graded.verdict == "passed"
    assert "stopped (exit status 137); starting it again in 1 s" in site_worker.log()


def test_a_docker_outage_delays_grading_without_failing_the_submission(
    start_celery_worker, start_grading_host, hello_exercise, learner, tmp_path
):
    start_celery_worker()
    # A host whose Docker engine does not answer (socket gone, daemon restarting).
    stranded = start_grading_host(docker_host=f"unix://{tmp_path}/no-docker.sock")
    submission = services.submission_create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
    )
    wait_for_rows(
        lambda: "retry: Retry in" in stranded.log(),
        timeout=60,
        what="the grading to be retried",
        workers=[stranded],
    )
    stranded.stop()
    submission.refresh_from_db()
    assert (submission.state, submission.grading_attempts) == (Submission.State.QUEUED, 0)

    start_grading_host()  # Docker is back
    services.submission_sweep(stuck_after=timedelta(0))

    (graded,) = wait_until_graded([submission.pk], workers=[stranded])
    assert graded.verdict == "passed"
    assert graded.grading_attempts == 1  # the attempts without Docker did not count
