"""What a grading host does with a run of a lesson's script: run it, leave the result for the site.

The site sends a RunJob (grading.interactive) on the interactive queue and waits on the list
RESULT_KEY for its result; the host pushes exactly one `run_result` there, which expires after
RESULT_TTL whether or not anyone read it. A run is claimed in the broker before it runs, so a
message delivered twice is run once. A run that waited in the queue longer than its reader waits
is not run at all: its result says so (nobody would see the output).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from grading import logs
from grading.interactive import RESULT_KEY, RESULT_TTL, RunJob, run_result
from sandbox import pool, snippets
from sandbox.engine import EngineUnavailable

logger = logging.getLogger(__name__)

CLAIM_KEY = "webcourse:run:{run_id}:claim"
ENGINE_DOWN = "The sandbox is busy or down; try again in a minute."
FAILED = "Something went wrong on our side while running your code; please try again."
TOO_LATE = "This run waited too long for a free sandbox; please run it again."
LOST = "Running your code took too long on our side and was stopped; please try again."


def run_job(job: RunJob, *, redis, host: str) -> None:
    """Run a script job and push its result onto RESULT_KEY; every log line names the run."""
    with logs.bound(run_id=job.run_id, host=host):
        if not redis.set(CLAIM_KEY.format(run_id=job.run_id), host, nx=True, ex=RESULT_TTL):
            logger.info("Run %s is already taken; not run again here", job.run_id)
            return
        pushed = []

        def push(result: str) -> None:
            if not pushed:
                push_result(redis, job.run_id, result)
                pushed.append(result)

        result = _result(job, on_result=lambda ran: push(_ran(job, ran)))
        if result is not None:
            push(result)


def _result(job: RunJob, *, on_result: Callable[[snippets.ScriptRun], None]) -> str | None:
    """Return the result of a run that could not run; None when `on_result` was given it."""
    if job.kind != "script":
        logger.error("Run %s is of kind %r, not a script", job.run_id, job.kind)
        return run_result(job.run_id, status="error", message=FAILED)
    waited = _waited(job.queued_at)
    if waited is not None and waited > RESULT_TTL:
        logger.warning("Run %s waited %.0f s in the queue; not run", job.run_id, waited)
        return run_result(job.run_id, status="error", message=TOO_LATE)
    try:
        # The result goes out as soon as it is known (on_result), before the clean-up; the
        # run takes a warm container of this host's pool when one is ready (sandbox.pool).
        snippets.run_script(job.files, job.entry, on_result=on_result, launch=pool.launch_script)
    except snippets.ScriptRejected as exc:
        logger.info("Run %s refused: %s", job.run_id, exc)
        return run_result(job.run_id, status="error", message=str(exc))
    except EngineUnavailable as exc:
        logger.warning("Run %s not run, the engine is unavailable: %s", job.run_id, exc)
        return run_result(job.run_id, status="error", message=ENGINE_DOWN)
    except Exception:
        logger.exception("Run %s failed", job.run_id)
        return run_result(job.run_id, status="error", message=FAILED)
    return None


def _ran(job: RunJob, ran: snippets.ScriptRun) -> str:
    logger.info(
        "Run %s: %s, exit code %s, %.0f ms",
        job.run_id,
        ran.status,
        ran.exit_code,
        ran.duration * 1000,
    )
    return run_result(
        job.run_id,
        status=ran.status,
        message=ran.message,
        stdout=ran.stdout,
        stderr=ran.stderr,
        exit_code=ran.exit_code,
        duration_ms=round(ran.duration * 1000, 1),
    )


def push_result(redis, run_id: str, result: str) -> None:
    """Push a run's result for the site, to expire after RESULT_TTL."""
    key = RESULT_KEY.format(run_id=run_id)
    pipe = redis.pipeline()
    pipe.rpush(key, result)
    pipe.expire(key, RESULT_TTL)
    pipe.execute()


def report_lost(redis, run_id: str) -> None:
    """Push an error result for a run whose process was killed, unless it pushed one already."""
    if not redis.exists(RESULT_KEY.format(run_id=run_id)):
        push_result(redis, run_id, run_result(run_id, status="error", message=LOST))


def _waited(queued_at: str | None) -> float | None:
    """Return the seconds since the site queued a run, if it said when."""
    try:
        queued = datetime.fromisoformat(queued_at) if queued_at else None
    except ValueError:
        return None
    if queued is None:
        return None
    if queued.tzinfo is None:
        queued = queued.replace(tzinfo=UTC)
    return (datetime.now(UTC) - queued).total_seconds()
