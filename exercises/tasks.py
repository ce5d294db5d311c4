"""Celery tasks: grade one submission; sweep up stuck ones; prune old archives.

Each takes ids (or nothing) and calls one service.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from celery.exceptions import TimeLimitExceeded
from celery.worker.request import Request
from django.db import connection

from exercises import services
from grading import logs
from sandbox.engine import EngineUnavailable
from sandbox.policy import DEFAULT_POLICY

logger = logging.getLogger(__name__)

# Per-exercise limits are sent with each message (see services._enqueue); these defaults
# cover a message sent without them.
SOFT_TIME_LIMIT, TIME_LIMIT = services.grading_time_limits(DEFAULT_POLICY)


class GradingRequest(Request):
    """A grading message as the worker's main process sees it."""

    def reject(self, requeue: bool = False) -> None:
        # Celery gives the message back to the broker when the pool process running it died
        # (reject_on_worker_lost). The row must go back too, or the redelivered message
        # would find it "running" and do nothing until the sweep's deadline.
        if requeue and not self.acknowledged:
            _release(self.args)
        super().reject(requeue=requeue)


class GradingTask(DjangoTask):
    Request = GradingRequest

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called in the main process when the hard time limit killed the pool process; the
        # message is acknowledged, so the row is queued again for the sweep to pick up.
        if isinstance(exc, TimeLimitExceeded):
            _release(args)


def _release(args: Any) -> None:
    try:
        services.submission_release(submission_id=int(args[0]))
    except Exception:
        # Never break the worker's main loop; the sweep recovers the row later.
        logger.exception("Could not release submission %r", args)
    finally:
        # The main process forks new pool processes; it must not hold a database connection.
        if not connection.in_atomic_block:
            connection.close()


@shared_task(
    base=GradingTask,
    name=services.GRADE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    autoretry_for=(EngineUnavailable,),
    max_retries=5,
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    ignore_result=True,
)
def grade_submission(submission_id: int) -> None:
    """Grade one submission; a duplicate message finds it claimed and does nothing."""
    job = grade_submission.request
    with logs.bound(submission_id=submission_id, job_id=job.id, host=job.hostname):
        services.submission_grade(submission_id=submission_id)


@shared_task(name="exercises.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, Any]:
    """Enqueue again submissions a lost message or a dead worker left behind."""
    report = services.submission_sweep(stuck_after=services.STUCK_QUEUED_AFTER)
    if report.requeued or report.reset or report.given_up or report.orphans_removed:
        logger.warning("Sweep: %s", report.as_dict())
    return report.as_dict()


@shared_task(name="exercises.tasks.prune_archives", ignore_result=True)
def prune_archives() -> dict[str, Any]:
    """Drop the zips of old, superseded submissions (ARCHIVE_RETENTION_DAYS)."""
    report = services.submission_archives_prune(older_than=services.archive_retention())
    if report.files_dropped or report.archives_deleted:
        logger.info("Pruned archives: %s", report.as_dict())
    return report.as_dict()
