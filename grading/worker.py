"""The grading host's Celery app: ``celery -A grading.worker worker -Q grading,interactive``.

Configured from the environment only (grading.host.HostSettings): it needs the broker and a
Docker engine, and no database, no shared disk and no course content: each job carries the
tests and the learner's files, and results go back on the ``results`` queue, where the
site's worker (``celery -A config worker -Q results,celery``) applies them. On the
``interactive`` queue come live apps (LIVE_TASK), each started in a process of its own
(grading.live), so that it holds no grading slot for its lifetime, and readers' runs of a
lesson's code (RUN_TASK, grading.interactive), whose results go straight into the broker,
where the site waits for them. The worker takes from its queues in turn (the Redis transport
rotates them after each message), so a run waits for one free slot, never behind every
grading queued before it.

At start the host removes what an earlier run of it left in its engine (containers labelled
with its host id) and in its run folder, and publishes its status (grading.hosts); then it
renews the status every HEARTBEAT_SECONDS and sweeps its orphans every minute, and it
withdraws the status at a clean shutdown. Its main process also keeps the host's warm pool
filled (sandbox.pool; SANDBOX_WARM_POOL_MAX) and removes the warm containers at shutdown.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import redis as redis_lib
from celery import Celery, Task, signals
from celery.exceptions import TimeLimitExceeded
from celery.worker import state as worker_state
from celery.worker.request import Request

from grading import host as grading_host
from grading import live, logs, runs
from grading.interactive import (
    INTERACTIVE_QUEUE,
    LIVE_TASK,
    RUN_TASK,
    RUN_TIMEOUT,
    LiveJob,
    MessageRejected,
    RunJob,
)
from grading.jobs import (
    GRADE_TASK,
    GRADING_QUEUE,
    LOST_TASK,
    RESULT_TASKS,
    RESULTS_QUEUE,
    GradingJob,
    JobRejected,
    grading_time_limits,
)
from sandbox import engine
from sandbox.engine import EngineUnavailable
from sandbox.policy import DEFAULT_POLICY

logger = logging.getLogger(__name__)

settings = grading_host.HostSettings.from_environment()

app = Celery("grading", set_as_current=False)
app.conf.update(
    broker_url=settings.broker_url,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": int(os.environ.get("VISIBILITY_TIMEOUT", 600))},
    result_backend=None,
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    worker_concurrency=settings.concurrency,
    task_default_queue=GRADING_QUEUE,
    task_routes={
        **{name: {"queue": RESULTS_QUEUE} for name in RESULT_TASKS},
        LIVE_TASK: {"queue": INTERACTIVE_QUEUE},
        RUN_TASK: {"queue": INTERACTIVE_QUEUE},
    },
    worker_hijack_root_logger=True,
)

SOFT_TIME_LIMIT, TIME_LIMIT = grading_time_limits(DEFAULT_POLICY)  # jobs bring their own
# A run ends within RUN_TIMEOUT by itself (its container ends at its own deadline); these only
# stop a run whose host side hangs, with time to clean up and say so first.
RUN_SOFT_TIME_LIMIT = RUN_TIMEOUT + 10
RUN_HARD_TIME_LIMIT = RUN_TIMEOUT + 20

_redis: dict[int, redis_lib.Redis] = {}  # by process id: a forked pool process makes its own
_status: grading_host.StatusLoop | None = None
_warm_pool = None  # sandbox.pool.PoolKeeper, in the main process


def broker() -> redis_lib.Redis:
    """Return a Redis client on the broker for this process."""
    client = _redis.get(os.getpid())
    if client is None:
        client = _redis[os.getpid()] = redis_lib.Redis.from_url(settings.broker_url)
    return client


def send(name: str, args: tuple) -> None:
    """Send a message to the site's worker on the results queue."""
    app.send_task(name, args=args, queue=RESULTS_QUEUE)


def _job_id(args: Any) -> tuple[str, int] | None:
    try:
        job = args[0]
        return str(job["job_id"]), int(job["submission"])
    except (LookupError, TypeError, ValueError):
        return None


class GradingRequest(Request):
    """A job as the worker's main process sees it."""

    def reject(self, requeue: bool = False) -> None:
        # Celery gives the message back to the broker when the pool process running it died
        # (reject_on_worker_lost): drop the claim, or the redelivered job would be skipped.
        if requeue and not self.acknowledged:
            ids = _job_id(self.args)
            if ids is not None:
                try:
                    grading_host.release(broker(), ids[0])
                except Exception:  # never break the main loop; the claim expires anyway
                    logger.exception("Could not release job %s", ids[0])
        super().reject(requeue=requeue)


class GradingTask(Task):
    Request = GradingRequest

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called in the main process when the hard time limit killed the pool process: the
        # message is acknowledged, so the site must send the submission again.
        if isinstance(exc, TimeLimitExceeded):
            ids = _job_id(args)
            if ids is not None:
                try:
                    send(LOST_TASK, (ids[0], ids[1], settings.host, "time limit"))
                except Exception:  # the site's sweep finds the row past its deadline
                    logger.exception("Could not report job %s as lost", ids[0])


@app.task(
    base=GradingTask,
    name=GRADE_TASK,
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
def grade(job: dict[str, Any]) -> None:
    """Grade one job and send the result back; a job claimed already is skipped."""
    try:
        parsed = GradingJob.from_message(job)
    except JobRejected as exc:
        logger.error("Refused a job that cannot be graded: %s", exc)
        return
    grading_host.grade_job(parsed, host=settings.host, redis=broker(), send=send)


@app.task(
    name=LIVE_TASK,
    # Taken at once: redelivered, a start would find its session claimed anyway, and the
    # learner who waited sees "booting" for too long and starts the app again.
    acks_late=False,
    soft_time_limit=20,
    time_limit=30,
    ignore_result=True,
)
def live_app(job: dict[str, Any]) -> None:
    """Start a live app in a process of its own (grading.live) and return at once."""
    try:
        parsed = LiveJob.from_message(job)
    except MessageRejected as exc:
        logger.error("Refused a live job: %s", exc)
        return
    live.start_live_app(parsed, redis=broker(), host=settings.host, broker_url=settings.broker_url)


class RunTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Called in the main process when the hard time limit killed the pool process: the
        # reader is still waiting for a result.
        if isinstance(exc, TimeLimitExceeded):
            try:
                runs.report_lost(broker(), RunJob.from_message(args[0]).run_id)
            except Exception:  # the reader's wait ends at its own time limit
                logger.exception("Could not report a lost run")


@app.task(
    base=RunTask,
    name=RUN_TASK,
    # A run is short and its reader is waiting: a message is taken off the queue when it is
    # received, and a run lost with its worker is not run again minutes later for nobody.
    acks_late=False,
    soft_time_limit=RUN_SOFT_TIME_LIMIT,
    time_limit=RUN_HARD_TIME_LIMIT,
    ignore_result=True,
)
def run(job: dict[str, Any]) -> None:
    """Run a lesson's code (a script, or an app with its requests) and push the result."""
    try:
        parsed = RunJob.from_message(job)
    except MessageRejected as exc:
        logger.error("Refused a run that cannot be run: %s", exc)
        return
    if parsed.kind == "app":
        live.run_app_job(parsed, redis=broker(), host=settings.host)
    else:
        runs.run_job(parsed, redis=broker(), host=settings.host)


# The host's life ----------------------------------------------------------------------------


@signals.worker_init.connect
def _on_start(**kwargs) -> None:
    # Before any job is taken: whatever this host's containers are, their worker is gone.
    grading_host.sweep_own_orphans(starting=True)
    global _status
    _status = grading_host.StatusLoop(
        host=settings.host,
        capacity=settings.concurrency,
        redis=broker(),
        running=lambda: len(worker_state.active_requests),
    )
    _status.publish()
    engine.client.cache_clear()  # the pool processes are forked next: each opens its own


@signals.worker_ready.connect
def _on_ready(**kwargs) -> None:
    if _status is not None:
        _status.start()
    _start_warm_pool()
    logger.info("Grading host %s ready (%d at once)", settings.host, settings.concurrency)


def _start_warm_pool() -> None:
    # After the pool processes are forked: the keeper is a thread of the main process only.
    global _warm_pool
    if settings.warm_pool > 0:
        _warm_pool = grading_host.warm_pool_keeper(
            maximum=settings.warm_pool, running=lambda: len(worker_state.active_requests)
        )
        _warm_pool.start()
        logger.info("Warm pool: up to %d containers", settings.warm_pool)


@signals.worker_process_init.connect
def _on_pool_process(**kwargs) -> None:
    engine.client.cache_clear()


@signals.worker_shutdown.connect
def _on_shutdown(**kwargs) -> None:
    if _warm_pool is not None:
        _warm_pool.stop()
    if _status is not None:
        _status.stop()


# Logs: text by default; LOG_FORMAT=json writes one JSON object per line (as the site does).
# Either way each line about a job carries its submission, job and host (grading.logs).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _format_logs(logger: logging.Logger, **kwargs: Any) -> None:
    for handler in logger.handlers:
        handler.addFilter(logs.ContextFilter())
        if LOG_FORMAT == "json":
            handler.setFormatter(logs.json_formatter())
