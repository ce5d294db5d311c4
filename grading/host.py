"""What a grading host does: grade a job, say how it went, keep its status and its engine clean.

A host claims each job in the broker before it grades it (a key per job, set only if absent),
so a job delivered twice (the site sent it again while it waited in a long queue, or the
broker redelivered it) is graded once. It tells the site that it started and, later, the
result; the site's database row decides whether either still counts. That the tests are
running is said only once they have run for PHASE_REPORT_DELAY: most tests finish sooner, and
then the result says it instead, one message (and one write on the site) fewer per grading.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grading import hosts, logs
from grading.jobs import (
    FINISHED_TASK,
    HARD_LIMIT_MARGIN,
    LOST_TASK,
    STARTED_TASK,
    GradingJob,
    grading_time_limits,
)
from sandbox import engine, images, pool, runner
from sandbox.engine import EngineUnavailable
from sandbox.policy import DEFAULT_POLICY

logger = logging.getLogger(__name__)

CLAIM_PREFIX = "webcourse:grading-job:"
# Containers, run folders and harness cgroups older than the longest grading any exercise may
# ask for are orphans (a host's own; containers also end themselves at their deadline).
ORPHAN_AGE = DEFAULT_POLICY.OVERRIDABLE["wall_timeout"][3] + HARD_LIMIT_MARGIN + 30.0
ORPHAN_SWEEP_SECONDS = 60.0
# A later phase ("testing") is reported only if it still runs after this many seconds. The
# submission page asks for the status twice a second, so a shorter phase is seldom seen.
PHASE_REPORT_DELAY = 0.5
# A host skips its check that the Docker engine answers before a job when the engine answered
# this process that recently (the previous job's last call): in a queue of jobs the check
# would only repeat what that call said. An engine lost since is found by the grading itself,
# whose EngineUnavailable puts the job back without counting the attempt.
ENGINE_CHECK_SKIP_SECONDS = 2.0

Send = Callable[[str, tuple], None]


@dataclass(frozen=True)
class HostSettings:
    """A grading host's settings, all from its environment: it has no other configuration.

    REDIS_URL (the broker), GRADING_HOST_ID (default: the machine's name; unique per worker),
    GRADING_CONCURRENCY (gradings at once), SANDBOX_WARM_POOL_MAX (warm containers kept ready
    at most; default: the machine's cores, up to 4; 0: none). The engine reads its own:
    SANDBOX_RUN_DIR (the scratch folder for runs), SANDBOX_IMAGE, and DOCKER_HOST (the Docker
    SDK's).
    """

    broker_url: str
    host: str
    concurrency: int
    warm_pool: int = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> HostSettings:
        concurrency = environ.get("GRADING_CONCURRENCY", "2")
        if not concurrency.isdigit() or int(concurrency) < 1:
            raise ValueError(f"GRADING_CONCURRENCY must be a whole number ≥ 1, not {concurrency!r}")
        return cls(
            broker_url=environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            host=environ.get("GRADING_HOST_ID") or socket.gethostname(),
            concurrency=int(concurrency),
            warm_pool=pool.max_size(environ),
        )


# Grading one job -----------------------------------------------------------------------------


def claim(redis, job: GradingJob, host: str) -> bool:
    """Claim a job for this host in the broker; False if someone already has it."""
    ttl = int(grading_time_limits(job.policy)[1] + 30)
    return bool(redis.set(CLAIM_PREFIX + job.job_id, host, nx=True, ex=ttl))


def release(redis, job_id: str) -> None:
    """Give up a claim, so that the job may be graded again (after a retry or a redelivery)."""
    redis.delete(CLAIM_PREFIX + job_id)


def grade_job(job: GradingJob, *, host: str, redis, send: Send) -> dict[str, Any] | None:
    """Grade a job and send what happened to the site; return the result (None: not ours).

    Raise EngineUnavailable when the Docker engine does not answer (the caller retries the
    job later; it did not count), and whatever else broke the grader (the site is told, and
    sends the submission again as a new job). Every log line meanwhile names the job.
    """
    with logs.bound(
        submission_id=job.submission, job_id=job.job_id, exercise=job.exercise, host=host
    ):
        return _grade_job(job, host=host, redis=redis, send=send)


def _grade_job(job: GradingJob, *, host: str, redis, send: Send) -> dict[str, Any] | None:
    if not claim(redis, job, host):
        logger.info("Job %s is already taken; not graded again here", job.job_id)
        return None
    ids = (job.job_id, job.submission, host)
    try:
        engine.ping(unless_answered_within=ENGINE_CHECK_SKIP_SECONDS)
    except EngineUnavailable:
        release(redis, job.job_id)
        raise
    send(STARTED_TASK, (*ids, "booting"))
    phases = PhaseReports(lambda phase: send(STARTED_TASK, (*ids, phase)))
    try:
        result = runner.grade(
            spec=job.spec(),
            archive=job.archive,
            framework=job.framework,
            on_phase=phases.reached,
            queued_at=job.queued_datetime(),
        )
    except EngineUnavailable:
        phases.cancel()
        release(redis, job.job_id)
        send(LOST_TASK, (*ids, "engine"))
        raise
    except BaseException:
        phases.cancel()
        send(LOST_TASK, (*ids, "grader"))
        raise
    phases.cancel()
    send(FINISHED_TASK, (*ids, result))
    logger.info(
        "Job %s (submission %s, %s): %s", job.job_id, job.submission, job.exercise, result["status"]
    )
    return result


class PhaseReports:
    """Report the phases after "booting" (said with the start) once they last PHASE_REPORT_DELAY.

    A report is sent from a timer thread; `cancel()` drops the one still waiting. A report sent
    while the result is on its way is harmless: the site ignores phases of a finished row.
    """

    def __init__(self, report: Callable[[str], None], delay: float = PHASE_REPORT_DELAY) -> None:
        self._report = report
        self._delay = delay
        self._timer: threading.Timer | None = None

    def reached(self, phase: str) -> None:
        self.cancel()
        if phase == "booting":  # said with the start
            return
        # In a copy of this context, so that its log lines still name the job.
        context = contextvars.copy_context()
        self._timer = threading.Timer(self._delay, context.run, args=(self._send, phase))
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _send(self, phase: str) -> None:
        try:
            self._report(phase)
        except Exception:  # progress only: the result still comes
            logger.warning("Could not report phase %r", phase, exc_info=True)


# The host's status and its engine ------------------------------------------------------------


def docker_health() -> str:
    """Return "ok", or why this host cannot grade now (engine down, runner image missing)."""
    try:
        engine.ping()
        if not images.runner_image_ready():
            return f"the runner image {images.runner_image_tag()} is missing"
    except EngineUnavailable as exc:
        return str(exc)[:300]
    return "ok"


def sweep_own_orphans(*, starting: bool = False) -> int | None:
    """Remove this host's orphaned containers and run folders; None if Docker does not answer.

    At start every container of this host's is an orphan (its worker is gone); later only
    those older than any grading.
    """
    try:
        removed = runner.sweep_orphans(0 if starting else ORPHAN_AGE, cgroup_age=ORPHAN_AGE)
    except EngineUnavailable as exc:
        logger.warning("Orphans not swept: %s", exc)
        return None
    if removed:
        logger.warning("Removed %d orphaned sandbox containers of this host", removed)
    return removed


class StatusLoop:
    """Publish this host's status every HEARTBEAT_SECONDS and sweep its orphans now and then.

    Runs as a thread of the worker's main process; `stop()` withdraws the status.
    """

    def __init__(self, *, host: str, capacity: int, redis, running: Callable[[], int]) -> None:
        self.host = host
        self.capacity = capacity
        self.redis = redis
        self.running = running
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="grading-host-status", daemon=True)
        self._next_sweep = time.monotonic() + ORPHAN_SWEEP_SECONDS

    def status(self) -> hosts.HostStatus:
        return hosts.HostStatus(
            host=self.host,
            capacity=self.capacity,
            running=self.running(),
            docker=docker_health(),
            seen=time.time(),
        )

    def publish(self) -> None:
        try:
            hosts.publish(self.redis, self.status())
        except Exception:  # the broker may be restarting: say it next time
            logger.warning("Could not publish this host's status", exc_info=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        try:
            hosts.withdraw(self.redis, self.host)
        except Exception:
            logger.warning("Could not withdraw this host's status", exc_info=True)

    def _loop(self) -> None:
        while not self._stop.wait(hosts.HEARTBEAT_SECONDS):
            self.publish()
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + ORPHAN_SWEEP_SECONDS
                try:
                    sweep_own_orphans()
                except Exception:  # a sweep must never stop the heartbeat
                    logger.exception("Sweeping this host's orphans failed")


# The warm pool --------------------------------------------------------------------------------


def warm_pool_keeper(*, maximum: int, running: Callable[[], int]) -> pool.PoolKeeper:
    """Return the keeper of this host's warm containers (started by the worker's main process).

    Its size follows `running()`, the gradings running on this host now (see sandbox.pool).
    """
    return pool.PoolKeeper(maximum=maximum, running=running)
