"""Running a lesson's code block in the sandbox, for a reader of the lesson.

`run_start` checks that the reader may run the block (a signed-in reader of a lesson they may
see, within the rate limits), builds the run from the lesson's text (the block's example, with
the reader's edit of the block and the requests they chose, headers included), checks it
against the run protocol (grading.interactive) and sends it to the grading hosts. Nothing is
stored in the database: the broker keeps who started the run, and the host leaves its result
there, where `run_result` reads it for that reader only, checking its shape and bounds again —
it holds what the reader's code printed and answered, and is as hostile as that code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis as redis_lib
from celery import current_app
from kombu.exceptions import OperationalError

from accounts.throttles import Throttle, wait_text
from grading.interactive import (
    INTERACTIVE_QUEUE,
    MAX_REQUESTS,
    RESULT_KEY,
    RESULT_TTL,
    RUN_TASK,
    LiveRequest,
    MessageRejected,
    RunJob,
    new_id,
)
from lessons.models import Lesson
from lessons.runnable import (
    ExampleRequest,
    example_files,
    read_header,
    request_headers,
    runnable_blocks,
)
from playground.broker import broker
from sandbox.exchanges import exchange_from_data

OWNER_KEY = "webcourse:run:{run_id}:owner"
# The owner is kept as long as the result may wait, plus the time a run may take to start.
OWNER_TTL = RESULT_TTL + 120
# Runs a minute per learner and per address: far more than anyone reading clicks Run, few
# enough that a script cannot keep the grading hosts busy.
RUNS_PER_LEARNER = Throttle("run-learner", limit=30, window=60)
RUNS_PER_IP = Throttle("run-ip", limit=60, window=60)
MAX_CODE_CHARS = 64 * 1024
# A request's headers as the reader types them: room for 20 full ones.
MAX_HEADER_TEXT_CHARS = 24 * 1024
MAX_OUTPUT_CHARS = 64 * 1024
MAX_MESSAGE_CHARS = 2000
STATUSES = ("ok", "error", "timeout")
UNREADABLE = "The run sent back a result that cannot be read."
UNAVAILABLE = "Running code is unavailable right now. Try again in a few minutes."


class RunRefused(Exception):
    """A run cannot start; `message` says why to the reader, `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400, retry_after: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RunResult:
    """What a run did, as a page shows it."""

    status: str  # "ok", "error" or "timeout"
    message: str
    stdout: str
    stderr: str
    exit_code: int | None
    exchanges: tuple[dict[str, Any], ...]
    duration_ms: float | None

    @property
    def timed_out(self) -> bool:
        return self.status == "timeout"


def _owner_key(run_id: str) -> str:
    return OWNER_KEY.format(run_id=run_id)


def _check_rate(user, ip: str) -> None:
    for throttle, key in ((RUNS_PER_LEARNER, f"user:{user.pk}"), (RUNS_PER_IP, ip)):
        wait = throttle.retry_after(key)
        if wait:
            raise RunRefused(
                f"You are running code very often: wait {wait_text(wait)} and try again.",
                status=429,
                retry_after=wait,
            )


def _encodable(value: Any) -> bool:
    """Tell whether a value is not text, or text that UTF-8 can carry (no lone surrogates)."""
    if not isinstance(value, str):
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _header_lines(text: Any, number: int) -> list[tuple[str, str]]:
    """Return the headers of request `number`, typed one `Name: value` a line."""
    if text in (None, ""):
        return []
    if not isinstance(text, str) or len(text) > MAX_HEADER_TEXT_CHARS:
        raise RunRefused(f"Request {number}: write its headers as text, one per line: Name: value.")
    headers = []
    for line in text.splitlines():
        if line.strip():
            try:
                headers.append(read_header(line))
            except ValueError as exc:
                raise RunRefused(f"Request {number}: {exc}.") from None
    return headers


def _requests(kind: str, given: list[Any] | None, default: tuple[ExampleRequest, ...]):
    """Return the requests of an app run as LiveRequests: the reader's, else the author's.

    Each is a dict with a method, a path, and optionally a body and headers (text, one
    `Name: value` a line, as the page has them); a body gets its Content-Type unless the
    headers give one.
    """
    if kind != "app":
        return ()
    if given is None:
        given = [request.as_dict() for request in default]
    if not isinstance(given, list):
        raise RunRefused("The requests must be a list.")
    if len(given) > MAX_REQUESTS:
        raise RunRefused(f"Send at most {MAX_REQUESTS} requests at a time.")
    requests = []
    for number, data in enumerate(given, start=1):
        if not isinstance(data, dict):
            raise RunRefused(f"Request {number} must have a method and a path.")
        body = data.get("body") or ""
        if not all(_encodable(data.get(key)) for key in ("method", "path", "body", "headers")):
            raise RunRefused(f"Request {number} holds characters that cannot be sent.")
        headers = _header_lines(data.get("headers"), number)
        message = {
            "method": data.get("method"),
            "path": data.get("path"),
            "body": body,
            "headers": [
                list(pair)
                for pair in request_headers(headers, body if isinstance(body, str) else "")
            ],
        }
        try:
            requests.append(LiveRequest.from_message(message))
        except MessageRejected as exc:
            raise RunRefused(f"Request {number}: {exc}.") from None
    return tuple(requests)


def run_start(
    *,
    user,
    ip: str,
    lesson: int,
    block: int,
    code: str | None = None,
    requests: list[Any] | None = None,
) -> str:
    """Send block `block` of lesson `lesson` to run for `user`; return the run's id.

    `code` is the reader's edit of the block (None: the author's code); `requests`, for an
    app block, the requests to send (None: the author's examples), each a dict with a method,
    a path and optionally a body and headers. Raise RunRefused saying why a run cannot start.
    """
    if not getattr(user, "is_authenticated", False):
        raise RunRefused("Sign in to run this example.", status=403)
    _check_rate(user, ip)
    found = Lesson.objects.visible_to(user).filter(id=lesson).only("id", "body").first()
    if found is None:
        raise RunRefused("There is no such lesson.", status=404)
    blocks = runnable_blocks(found.body)
    if not 0 <= block < len(blocks) or not blocks[block].usable:
        raise RunRefused("This block of the lesson cannot be run.", status=404)
    chosen = blocks[block]
    if code is not None and (not isinstance(code, str) or len(code) > MAX_CODE_CHARS):
        raise RunRefused(f"The code is too long: at most {MAX_CODE_CHARS // 1024} KiB.")
    if not _encodable(code):
        raise RunRefused("The code holds characters that cannot be sent.")
    live_requests = _requests(chosen.kind, requests, chosen.requests)
    job = RunJob(
        run_id=new_id(),
        kind=chosen.kind,
        files=example_files(found.body, chosen, code),
        entry=chosen.entry,
        framework=chosen.framework,
        requests=live_requests,
        queued_at=datetime.now(UTC).isoformat(),
    )
    try:
        RunJob.from_message(job.to_message())
    except MessageRejected as exc:
        raise RunRefused(f"This example cannot run: {exc}.") from None
    # Only runs that are sent count against the limits.
    RUNS_PER_LEARNER.hit(f"user:{user.pk}")
    RUNS_PER_IP.hit(ip)
    try:
        broker().set(_owner_key(job.run_id), str(user.pk), ex=OWNER_TTL)
        current_app.send_task(RUN_TASK, args=(job.to_message(),), queue=INTERACTIVE_QUEUE)
    except (redis_lib.RedisError, OperationalError, OSError):
        raise RunRefused(UNAVAILABLE, status=503) from None
    return job.run_id


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _parse(raw: bytes | str, run_id: str) -> RunResult:
    """Read a host's result, keeping only its known fields within their bounds."""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("run_id") != run_id:
        return RunResult("error", UNREADABLE, "", "", None, (), None)
    status = data.get("status") if data.get("status") in STATUSES else "error"
    exit_code = data.get("exit_code")
    if not isinstance(exit_code, int) or isinstance(exit_code, bool):
        exit_code = None
    duration = data.get("duration_ms")
    if not isinstance(duration, int | float) or isinstance(duration, bool):
        duration = None
    raw_exchanges = data.get("exchanges")
    exchanges = [
        exchange_from_data(item)
        for item in (raw_exchanges if isinstance(raw_exchanges, list) else [])[:MAX_REQUESTS]
    ]
    return RunResult(
        status=status,
        message=_text(data.get("message"), MAX_MESSAGE_CHARS),
        stdout=_text(data.get("stdout"), MAX_OUTPUT_CHARS),
        stderr=_text(data.get("stderr"), MAX_OUTPUT_CHARS),
        exit_code=exit_code,
        exchanges=tuple(item for item in exchanges if item is not None),
        duration_ms=None if duration is None else round(float(duration), 1),
    )


def run_result(*, user, run_id: str) -> RunResult | None:
    """Return the result of the reader's run, or None while it is still running.

    Raise RunRefused (404) when the run is not this reader's (or no longer known), 503 when
    the broker cannot be reached. Reading does not consume the result: a page may ask again.
    """
    if not getattr(user, "is_authenticated", False):
        raise RunRefused("There is no such run.", status=404)
    if not isinstance(run_id, str) or not 0 < len(run_id) <= 64 or not run_id.isalnum():
        raise RunRefused("There is no such run.", status=404)
    try:
        client = broker()
        owner = client.get(_owner_key(run_id))
        if owner is None or owner.decode() != str(user.pk):
            raise RunRefused("There is no such run.", status=404)
        raw = client.lindex(RESULT_KEY.format(run_id=run_id), 0)
    except (redis_lib.RedisError, OSError):
        raise RunRefused(UNAVAILABLE, status=503) from None
    return None if raw is None else _parse(raw, run_id)
