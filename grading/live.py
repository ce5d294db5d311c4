"""Live apps and app runs on a grading host (the messages are in grading.interactive).

A **live app** (LIVE_TASK) runs in a process of its own, ``python -m grading.live``, started by
the task, which returns at once. The process boots the app (sandbox.live), writes the session's
state into LIVE_KEY, answers the requests the site pushes onto LIVE_REQUESTS on LIVE_REPLY,
and stops at a ``{"stop": true}`` message or at the end of the app's lifetime, removing the
container and the run folder whatever happened. Why a process and not the task itself or a
thread of the pool process that ran it:

- a live app holds no grading slot: the task only starts the process, so a host of two pool
  processes still grades two submissions at once while live apps run;
- a pool process can die with a grading (the hard time limit kills it): the live apps are not
  in it. The process stays in the worker's process group, so a host killed whole takes its
  live apps along; their containers then end at boot.py's deadline, and the host's next start
  removes them and their folders (grading.host.sweep_own_orphans);
- the process holds its slot (below) for exactly as long as it lives, even when killed.

The state hash holds "state" (booting, running, stopped, failed), "host" (the host that took
the session), and once it runs "expires" (epoch seconds) and "run" (the run id on its
containers); a failed session also has "message", for the learner. It expires STATE_TTL
seconds after the app's lifetime would have ended.

A host runs at most LIVE_APPS_PER_HOST live apps (default 8). A slot is a name in the abstract
Unix socket namespace, bound by the live app's process: the kernel frees it when the process
ends, however it ends, and it leaves no file behind. When every slot is taken the session
fails with SLOTS_FULL.

An **app run** (a RunJob of kind "app", `run_app_job`) is short and runs in the task itself:
start, send the job's requests in order, stop, and push one result onto RESULT_KEY.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import redis as redis_lib

from grading.interactive import (
    LIVE_KEY,
    LIVE_REPLY,
    LIVE_REQUESTS,
    RESULT_KEY,
    RESULT_TTL,
    RUN_TIMEOUT,
    LiveJob,
    LiveRequest,
    MessageRejected,
    RunJob,
    run_result,
)
from sandbox import exchanges
from sandbox.engine import EngineUnavailable
from sandbox.live import LiveApp, LiveAppFailed, app_files
from sandbox.policy import DEFAULT_POLICY
from sandbox.runner import SANDBOX_START_FAILED

logger = logging.getLogger(__name__)

SLOTS_VARIABLE = "LIVE_APPS_PER_HOST"
DEFAULT_SLOTS = 8
SLOTS_FULL = "All live app slots are in use; try again in a few minutes."
ENGINE_DOWN = "The sandbox is not available on this server right now; please try again in a minute."
REPLY_TTL = 60  # seconds a reply waits for the site
STATE_TTL = 600  # seconds the session's state is kept after its app's lifetime
POLL_SECONDS = 1.0  # how often the relay looks at the app and the clock between requests
MAX_MESSAGE_BYTES = 256 * 1024  # one message on LIVE_REQUESTS (a request is at most 64 KiB)
BROKER_RETRY_SECONDS = 1.0
NOT_RUNNING = "Your app is no longer running; start it again."


def slots_per_host(environ: Mapping[str, str] = os.environ) -> int:
    """Return how many live apps this host may run at once (LIVE_APPS_PER_HOST)."""
    value = environ.get(SLOTS_VARIABLE, str(DEFAULT_SLOTS))
    if not value.isdigit():
        raise ValueError(f"{SLOTS_VARIABLE} must be a whole number ≥ 0, not {value!r}")
    return int(value)


def take_slot(host: str, slots: int) -> socket.socket | None:
    """Take one of this host's live app slots; None when all are taken.

    The slot is held while the returned socket is open (at most until this process ends).
    """
    tag = hashlib.sha256(host.encode()).hexdigest()[:24]
    for number in range(slots):
        holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            holder.bind(f"\0webcourse-live-{tag}-{number}")
        except OSError:
            holder.close()
            continue
        return holder
    return None


# The session's state -----------------------------------------------------------------------


class Session:
    """The keys of one live app session in the broker, and how its state is written."""

    def __init__(self, redis, session: str, lifetime: float) -> None:
        self.redis = redis
        self.key = LIVE_KEY.format(session=session)
        self.requests = LIVE_REQUESTS.format(session=session)
        self.session = session
        self.ttl = int(lifetime + STATE_TTL)

    def claim(self, host: str) -> bool:
        """Take the session for this host; False if a host has it already (a redelivery)."""
        claimed = bool(self.redis.hsetnx(self.key, "host", host))
        self.redis.expire(self.key, self.ttl)
        return claimed

    def set(self, state: str, **fields: Any) -> None:
        mapping = {"state": state, **{k: str(v) for k, v in fields.items()}}
        with self.redis.pipeline() as pipe:
            pipe.hset(self.key, mapping=mapping)
            pipe.expire(self.key, self.ttl)
            pipe.execute()

    def reply(self, request_id: str, exchange: dict[str, Any]) -> None:
        key = LIVE_REPLY.format(session=self.session, request_id=request_id)
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(exchange))
            pipe.expire(key, REPLY_TTL)
            pipe.execute()

    def refuse_pending(self, reason: str, *, limit: int = 100) -> None:
        """Answer the requests still waiting (sent while the app started or stopped)."""
        for _ in range(limit):
            data = self.redis.lpop(self.requests)
            if data is None:
                break
            if len(data) > MAX_MESSAGE_BYTES:
                continue
            try:
                message = json.loads(data)
            except ValueError:
                continue
            request_id = message.get("request_id") if isinstance(message, dict) else None
            if isinstance(request_id, str) and request_id.isalnum() and len(request_id) <= 64:
                self.reply(request_id, _refused(message, reason))
        self.redis.delete(self.requests)

    def next_message(self, timeout: float) -> Any:
        """Return the next message the site pushed (parsed JSON), None after `timeout` s."""
        item = self.redis.blpop([self.requests], timeout=max(timeout, 0.01))
        if item is None:
            return None
        data = item[1]
        if len(data) > MAX_MESSAGE_BYTES:
            return {"too_long": True}
        try:
            return json.loads(data)
        except ValueError:
            return {"not_json": True}


# A live app ---------------------------------------------------------------------------------


def start_live_app(job: LiveJob, *, redis, host: str, broker_url: str) -> subprocess.Popen | None:
    """Start a live app's process, which does the rest, and return it; None if not started
    (the session is taken, or the process could not start: the session then says so)."""
    session = Session(redis, job.session, job.lifetime)
    if not session.claim(host):
        logger.info("Live session %s is already taken; not started again", job.session)
        return None
    session.set("booting")
    _reap()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "grading.live"],
            stdin=subprocess.PIPE,
            env={**os.environ, "REDIS_URL": broker_url, "GRADING_HOST_ID": host},
            close_fds=True,
        )
    except OSError:
        logger.exception("Could not start the process of live session %s", job.session)
        session.set("failed", message=SANDBOX_START_FAILED)
        return None
    _children.append(process)
    try:
        process.stdin.write(json.dumps(job.to_message()).encode())
        process.stdin.close()
    except OSError:
        logger.exception("Could not hand live session %s to its process", job.session)
    return process


_children: list[subprocess.Popen] = []


def _reap() -> None:
    """Collect the exit of live app processes that have ended (no zombies left behind)."""
    _children[:] = [p for p in _children if p.poll() is None]


def serve_live_app(
    job: LiveJob, *, redis, host: str, slots: int | None = None, image: str | None = None
) -> str:
    """Run one live app from start to end in this process; return the state it ended in."""
    session = Session(redis, job.session, job.lifetime)
    holder = take_slot(host, slots_per_host() if slots is None else slots)
    if holder is None:
        session.set("failed", message=SLOTS_FULL)
        _refuse_pending(session, SLOTS_FULL)
        return "failed"
    app = LiveApp(files=job.files, framework=job.framework, lifetime=job.lifetime, image=image)
    ending = NOT_RUNNING
    try:
        try:
            app.start()
        except LiveAppFailed as exc:
            ending = exc.message
        except EngineUnavailable:
            logger.exception("Live session %s could not start", job.session)
            ending = ENGINE_DOWN
        except Exception:
            logger.exception("Live session %s could not start", job.session)
            ending = SANDBOX_START_FAILED
        if app.expires_at is None:
            session.set("failed", message=ending)
            return "failed"
        session.set("running", expires=f"{app.expires_at:.0f}", run=app.run_id)
        logger.info("Live session %s runs as %s", job.session, app.run_id)
        ended = _relay(app, session)
        app.stop()
        if ended is not None:
            ending = ended
            session.set("failed", message=ended)
            return "failed"
        session.set("stopped")
        return "stopped"
    finally:
        app.stop()
        holder.close()
        _refuse_pending(session, ending)


def _refuse_pending(session: Session, reason: str) -> None:
    try:
        session.refuse_pending(reason)
    except redis_lib.RedisError:
        logger.warning("Live session %s: waiting requests not answered", session.session)


def _refused(message: dict[str, Any], reason: str) -> dict[str, Any]:
    """Return the exchange that answers a request the app did not get: only the reason."""
    method, path = message.get("method"), message.get("path")
    return exchanges.exchange(
        method=method if isinstance(method, str) else "",
        path=path if isinstance(path, str) else "",
        error=reason,
    )


def _relay(app: LiveApp, session: Session) -> str | None:
    """Answer the site's requests until a stop or the end of the lifetime.

    Return None, or why the app ended by itself (a crash), in words for the learner.
    """
    while True:
        left = app.expires_at - time.time()
        if left <= 0:
            return None
        if app.ended():
            return app.end_message()
        try:
            message = session.next_message(min(POLL_SECONDS, left))
        except redis_lib.RedisError:
            logger.warning("Live session %s: the broker did not answer", session.session)
            time.sleep(min(BROKER_RETRY_SECONDS, max(left, 0)))
            continue
        if message is None:
            continue
        if isinstance(message, dict) and message.get("stop") is True:
            return None
        _answer(app, session, message)


def _answer(app: LiveApp, session: Session, message: Any) -> None:
    request_id = message.get("request_id") if isinstance(message, dict) else None
    if not isinstance(request_id, str) or not request_id.isalnum() or len(request_id) > 64:
        logger.warning("Live session %s: a request without a request_id", session.session)
        return
    try:
        request = LiveRequest.from_message(message)
    except MessageRejected as exc:
        exchange = _refused(message, str(exc))
    else:
        left = app.expires_at - time.time()
        exchange = app.request(request, timeout=max(min(app.request_timeout, left), 0.1))
    try:
        session.reply(request_id, exchange)
    except redis_lib.RedisError:
        logger.warning("Live session %s: a reply was lost", session.session, exc_info=True)


def main() -> int:
    """Serve the live app whose job comes on stdin (``python -m grading.live``)."""
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s: %(levelname)s/live] %(message)s")
    # httpx logs every request at INFO: a learner's paths are theirs, and one line per console
    # request says nothing an operator needs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Celery's warm shutdown, or anyone, may ask us to end: clean up on the way out.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    try:
        job = LiveJob.from_message(json.loads(sys.stdin.buffer.read(4 * 1024 * 1024)))
    except (ValueError, MessageRejected) as exc:
        logger.error("Refused a live job: %s", exc)
        return 2
    redis = redis_lib.Redis.from_url(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    host = os.environ.get("GRADING_HOST_ID") or socket.gethostname()
    state = serve_live_app(job, redis=redis, host=host)
    logger.info("Live session %s %s", job.session, state)
    return 0


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(128 + signum)


# An app run ---------------------------------------------------------------------------------


def run_app_job(job: RunJob, *, redis, host: str, image: str | None = None) -> dict[str, Any]:
    """Run a RunJob of kind "app": start, send its requests in order, stop; push the result.

    Return the result as pushed onto RESULT_KEY (parsed).
    """
    started = time.monotonic()
    deadline = started + RUN_TIMEOUT
    files = app_files(job.files, job.framework, job.entry)
    # A run has RUN_TIMEOUT in all: its app may not take longer than that to start.
    policy = replace(DEFAULT_POLICY, boot_timeout=min(DEFAULT_POLICY.boot_timeout, RUN_TIMEOUT))
    app = LiveApp(
        files=files, framework=job.framework, lifetime=RUN_TIMEOUT, policy=policy, image=image
    )
    status, message, recorded = "ok", "", []
    try:
        app.start()
    except LiveAppFailed as exc:
        status, message = ("timeout" if exc.status == "timeout" else "error"), exc.message
    except EngineUnavailable:
        logger.exception("Run %s could not start its app", job.run_id)
        status, message = "error", ENGINE_DOWN
    except Exception:
        logger.exception("Run %s could not start its app", job.run_id)
        status, message = "error", SANDBOX_START_FAILED
    else:
        for request in job.requests:
            left = deadline - time.monotonic()
            if left <= 0.05:
                status = "timeout"
                message = f"The run was stopped at its time limit ({RUN_TIMEOUT:g} s)."
                break
            recorded.append(app.request(request, timeout=min(app.request_timeout, left)))
    finally:
        app.stop()
    payload = run_result(
        job.run_id,
        status=status,
        message=message,
        stdout=app.log(),
        exchanges=recorded,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )
    key = RESULT_KEY.format(run_id=job.run_id)
    with redis.pipeline() as pipe:
        pipe.rpush(key, payload)
        pipe.expire(key, RESULT_TTL)
        pipe.execute()
    logger.info("Run %s (app, %s) on %s: %s", job.run_id, job.framework, host, status)
    return json.loads(payload)


if __name__ == "__main__":
    sys.exit(main())
