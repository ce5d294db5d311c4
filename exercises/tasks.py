"""Celery tasks of the site's worker (``celery -A config worker -Q results,celery``).

The grading itself is a job on the grading queue, run by a grading host (grading.worker),
which has no database. What a host reports comes back here on the results queue: that it
started a job, the result, or that it lost the job. Each task calls one service, which applies
the report to the submission's row only while the job is still the row's; reports about an
instructor's validation of an exercise (a job id of exercises.validations) go to that row.
Then the periodic tasks run by beat: the sweep and the archive pruning.

Reports are acknowledged on receipt, not late: applying one takes milliseconds and a lost one
costs only a regrade (the sweep finds the row), while a worker holding unacknowledged
messages when Redis restarts can fail to reconnect (kombu's restore of unacknowledged
messages on a closed connection), which would stop every grading from being recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from exercises import services, validations
from grading import logs
from grading.jobs import FINISHED_TASK, LOST_TASK, STARTED_TASK

logger = logging.getLogger(__name__)


@shared_task(name=STARTED_TASK, ignore_result=True, acks_late=False)
def grading_started(job_id: str, submission_id: int, host: str, phase: str) -> None:
    """A grading host started a job ("booting") or reached a later phase ("testing")."""
    if validations.is_validation_job(job_id):
        validations.validation_started(
            job_id=job_id, validation_id=submission_id, host=host, phase=phase
        )
        return
    with logs.bound(submission_id=submission_id, job_id=job_id, host=host):
        services.submission_grading_started(
            job_id=job_id, submission_id=submission_id, host=host, phase=phase
        )


@shared_task(name=FINISHED_TASK, ignore_result=True, acks_late=False)
def grading_finished(job_id: str, submission_id: int, host: str, result: Any) -> None:
    """A grading host finished a job: store its result, once."""
    if validations.is_validation_job(job_id):
        validations.validation_finished(
            job_id=job_id, validation_id=submission_id, host=host, result=result
        )
        return
    with logs.bound(submission_id=submission_id, job_id=job_id, host=host):
        services.submission_grading_finished(
            job_id=job_id, submission_id=submission_id, host=host, result=result
        )


@shared_task(name=LOST_TASK, ignore_result=True, acks_late=False)
def grading_lost(job_id: str, submission_id: int, host: str, reason: str) -> None:
    """A grading host could not finish a job: queue the submission again."""
    if validations.is_validation_job(job_id):
        validations.validation_lost(
            job_id=job_id, validation_id=submission_id, host=host, reason=reason
        )
        return
    with logs.bound(submission_id=submission_id, job_id=job_id, host=host):
        services.submission_grading_lost(
            job_id=job_id, submission_id=submission_id, host=host, reason=reason
        )


@shared_task(name="exercises.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, Any]:
    """Send again submissions a lost message or a dead grading host left behind."""
    report = services.submission_sweep(stuck_after=services.STUCK_QUEUED_AFTER)
    if any(report.as_dict().values()):
        logger.warning("Sweep: %s", report.as_dict())
    return report.as_dict()


@shared_task(name="exercises.tasks.prune_archives", ignore_result=True)
def prune_archives() -> dict[str, Any]:
    """Drop the zips of old, superseded submissions (ARCHIVE_RETENTION_DAYS)."""
    report = services.submission_archives_prune(older_than=services.archive_retention())
    if report.files_dropped or report.archives_deleted:
        logger.info("Pruned archives: %s", report.as_dict())
    return report.as_dict()
