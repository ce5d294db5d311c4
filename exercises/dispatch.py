"""Sending a grading job to the grading hosts' queue: one way for submissions and validations."""

from __future__ import annotations

from celery import current_app

from grading.jobs import GRADE_TASK, GRADING_QUEUE, GradingJob, grading_time_limits


def job_send(job: GradingJob) -> None:
    """Put `job` on the grading queue with its policy's time limits.

    Raise the broker's error (kombu OperationalError, OSError) when it cannot be reached:
    callers decide what an unsent job means for their row.
    """
    soft, hard = grading_time_limits(job.policy)
    current_app.send_task(
        GRADE_TASK,
        args=(job.to_message(),),
        queue=GRADING_QUEUE,
        soft_time_limit=soft,
        time_limit=hard,
    )
