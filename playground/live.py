"""A learner's live app: their editor files started in the sandbox for a few minutes.

Every way of using a live app (the console on the exercise page, and anything later) comes
through these functions. The site never talks to the app itself: it sends a LiveJob to the
grading hosts (grading.interactive) and then passes requests and replies through the broker,
so the app's container is never reachable from the network, wherever the host is.

What the site keeps, in the broker's Redis, all of it expiring shortly after the app:

- OWNER_KEY, a hash per session: the learner it belongs to, the exercise and framework, when
  it was started, and when the site asked it to stop. Only its owner may use a session;
  anyone else, staff included, is told it does not exist (a live app is private work in
  progress, and what staff need to see is in submissions).
- LEARNER_KEY, the learner's current session: one live app per learner, so starting a new
  one stops the old one.

Starts are expensive (a container each), so they are rate-limited per learner and per client
address; requests are limited per learner, one at a time, each waiting at most
REPLY_TIMEOUT seconds for the app's answer, and at most WAIT_SLOTS of them wait at once on
the whole site.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import redis as redis_lib
from celery import current_app
from kombu.exceptions import OperationalError as BrokerError

from accounts.throttles import Throttle, wait_text
from courses.access import course_role
from courses.models import Enrolment
from courses.services import is_enrolled
from exercises.models import Exercise
from exercises.uploads import check_editor_files
from grading.interactive import (
    INTERACTIVE_QUEUE,
    LIVE_KEY,
    LIVE_LIFETIME,
    LIVE_REPLY,
    LIVE_REQUESTS,
    LIVE_TASK,
    MAX_FILES,
    MAX_FILES_BYTES,
    METHODS,
    LiveJob,
    LiveRequest,
    MessageRejected,
    new_id,
)
from playground.broker import broker
from sandbox.archive import SubmissionRejected
from sandbox.exchanges import exchange_from_data
from sandbox.policy import policy_for
from sandbox.results import timestamp

OWNER_KEY = "webcourse:live:{session}:owner"
LEARNER_KEY = "webcourse:live:learner:{user_id}"
START_LOCK = "webcourse:live:learner:{user_id}:starting"
REQUEST_LOCK = "webcourse:live:learner:{user_id}:asking"
WAIT_SLOT = "webcourse:live:wait-slot:{number}"

# What the site remembers outlives the app by this much, so a late page still gets "stopped".
KEEP_AFTER = 120
# A session no grading host has picked up after this long is reported as failed.
START_TIMEOUT = 60
REPLY_TIMEOUT = 15  # seconds a request waits for the app's answer
MAX_REPLY_BYTES = 256 * 1024  # an exchange is far smaller; anything bigger is not one
MAX_HEADER_LINES_CHARS = 20_000
# Web threads that may wait for a live app's answer at once, site-wide: an app that never
# answers holds a thread for REPLY_TIMEOUT seconds, and the site must keep serving pages
# (gunicorn runs 3 workers of 4 threads by default).
WAIT_SLOTS = 6

START_THROTTLE = Throttle("live-start", limit=10, window=3600)  # per learner
START_IP_THROTTLE = Throttle("live-start-ip", limit=30, window=3600)  # per client address
REQUEST_THROTTLE = Throttle("live-request", limit=60, window=60)  # per learner

STATES = ("starting", "booting", "running", "stopped", "failed")
ACTIVE = ("starting", "booting", "running")

NOT_FOUND = "There is no such live app, or it is not yours."
BROKER_DOWN = (
    "Live apps cannot be reached right now: the server that runs them is not answering. "
    "Your files are safe in the editor; please try again in a minute."
)
NO_HOST = (
    "No grading server took your app within {seconds} s: they may all be busy. "
    "Please start it again in a minute."
)


class LiveError(Exception):
    """A live-app call refused; the message is a sentence for the learner."""


class LiveNotFound(LiveError):
    """No such session, or it is someone else's (answered as 404)."""


class LiveRefused(LiveError, ValueError):
    """Bad input or a state that does not allow it (answered as 400)."""


class LiveLimited(LiveError):
    """A rate limit refused it (answered as 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class LiveUnavailable(LiveError):
    """The broker cannot be reached (answered as 503)."""


class LiveTimeout(LiveError):
    """The app did not answer in time (answered as 504)."""


_BROKER_ERRORS = (redis_lib.exceptions.RedisError, BrokerError, OSError)


@dataclass(frozen=True)
class LiveSession:
    """A live app as the page shows it."""

    session: str
    exercise: str  # its slug
    framework: str
    state: str  # one of STATES
    message: str = ""  # why it failed or stopped, in words for the learner
    expires: float | None = None  # epoch seconds, once it runs

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def seconds_left(self, now: float | None = None) -> int:
        if self.expires is None:
            return 0
        now = time.time() if now is None else now
        return max(0, math.floor(self.expires - now))

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "exercise": self.exercise,
            "framework": self.framework,
            "state": self.state,
            "message": self.message,
            "seconds_left": self.seconds_left(),
        }


# Who may start one -------------------------------------------------------------------------


def live_exercise(*, user, slug: str) -> Exercise:
    """Return the exercise a user may try live: one they see and may submit to, else refuse."""
    exercises = Exercise.objects.select_related("course")
    if not user.is_staff:
        exercises = exercises.published()
    exercise = exercises.filter(slug=slug).first()
    if exercise is None:
        raise LiveNotFound("There is no such exercise.")
    course = exercise.course
    if not (
        course_role(user, course) is not None
        or is_enrolled(course=course, learner=user)
        or course.enrolment == Enrolment.OPEN
    ):
        raise LiveRefused(
            "This course is by invitation, and you are not on its roster. Ask your "
            "instructor for the course's invitation link to try your app here."
        )
    return exercise


def _checked_files(exercise: Exercise, framework: str, files: Any) -> dict[str, str]:
    if not isinstance(framework, str) or not exercise.offers(framework):
        raise LiveRefused("Choose one of the exercise's frameworks to start your app.")
    try:
        checked = check_editor_files(files, policy=policy_for(exercise.limits))
    except SubmissionRejected as exc:
        raise LiveRefused(str(exc)) from None
    if not checked:
        raise LiveRefused("There are no files to start: write your app in the editor first.")
    if len(checked) > MAX_FILES:
        raise LiveRefused(
            f"A live app may have at most {MAX_FILES} files; yours has {len(checked)}. "
            "Submit it for grading instead, or leave out files it does not need."
        )
    size = sum(len(path.encode()) + len(text.encode()) for path, text in checked.items())
    if size > MAX_FILES_BYTES:
        raise LiveRefused(
            f"A live app's files may come to at most {MAX_FILES_BYTES // 1024} KiB; yours "
            f"come to {math.ceil(size / 1024)} KiB."
        )
    return checked


def _limited(throttle: Throttle, key: str, what: str) -> None:
    wait = throttle.retry_after(key)
    if wait:
        raise LiveLimited(f"{what} Try again in {wait_text(wait)}.", wait)


# The service -------------------------------------------------------------------------------


def live_start(*, user, exercise: Exercise, framework: str, files: Any, ip: str) -> LiveSession:
    """Start a learner's files as a live app of `exercise`; stop their previous one.

    `exercise` comes from `live_exercise`. Raise LiveRefused for files or a framework that
    would not be accepted as a submission, LiveLimited past the limits on starts (per learner
    and per client address `ip`), LiveUnavailable when the broker cannot be reached.
    """
    files = _checked_files(exercise, framework, files)
    _limited(START_THROTTLE, f"user:{user.pk}", "You have started your app many times lately.")
    _limited(START_IP_THROTTLE, f"ip:{ip}", "Many apps were started from your network lately.")
    session = new_id()
    job = LiveJob(
        session=session,
        files=files,
        framework=framework,
        lifetime=LIVE_LIFETIME,
        queued_at=timestamp(),
    )
    message = job.to_message()
    try:
        LiveJob.from_message(message)  # the host reads it so: refuse here rather than there
    except MessageRejected as exc:
        raise LiveRefused(
            f"Your files cannot be started live: {exc}. File and folder names may use only "
            "the letters a-z and A-Z, digits, and _ . - (folders separated by /)."
        ) from None
    keep = int(LIVE_LIFETIME + START_TIMEOUT + KEEP_AFTER)
    client = broker()
    try:
        # Two starts at once from one learner would leave two apps: one at a time.
        if not client.set(START_LOCK.format(user_id=user.pk), session, nx=True, ex=10):
            raise LiveLimited("Your app is being started already.", 2)
        try:
            previous = client.get(LEARNER_KEY.format(user_id=user.pk))
            if previous:
                _stop(client, previous.decode())
            pipe = client.pipeline()
            pipe.hset(
                OWNER_KEY.format(session=session),
                mapping={
                    "user": str(user.pk),
                    "exercise": exercise.slug,
                    "framework": framework,
                    "created": repr(time.time()),
                },
            )
            pipe.expire(OWNER_KEY.format(session=session), keep)
            pipe.set(LEARNER_KEY.format(user_id=user.pk), session, ex=keep)
            pipe.execute()
            current_app.send_task(LIVE_TASK, args=(message,), queue=INTERACTIVE_QUEUE)
        finally:
            client.delete(START_LOCK.format(user_id=user.pk))
    except _BROKER_ERRORS:
        raise LiveUnavailable(BROKER_DOWN) from None
    START_THROTTLE.hit(f"user:{user.pk}")
    START_IP_THROTTLE.hit(f"ip:{ip}")
    return LiveSession(session, exercise.slug, framework, "starting")


def live_state(*, user, session: str) -> LiveSession:
    """Return a learner's live app as it stands; LiveNotFound unless it is theirs."""
    try:
        return _state(broker(), user, session)
    except _BROKER_ERRORS:
        raise LiveUnavailable(BROKER_DOWN) from None


def live_current(*, user, exercise: Exercise) -> LiveSession | None:
    """Return the learner's live app of `exercise` while it is starting or running, else None.

    The page shows it again after a reload. A broker that cannot be reached means none.
    """
    if not user.is_authenticated:
        return None
    try:
        client = broker(quick=True)
        session = client.get(LEARNER_KEY.format(user_id=user.pk))
        if not session:
            return None
        state = _state(client, user, session.decode())
    except (*_BROKER_ERRORS, LiveNotFound):
        return None
    return state if state.active and state.exercise == exercise.slug else None


def live_request(*, user, session: str, data: Any) -> dict[str, Any]:
    """Send one request to a learner's running app and return the exchange (sandbox.exchanges).

    `data` is a request as grading.interactive.LiveRequest reads it. Raise LiveRefused for a
    bad request or an app that is not running, LiveLimited past REQUEST_THROTTLE, while
    another request of the learner waits or while every one of the WAIT_SLOTS is taken,
    LiveTimeout when the app did not answer within REPLY_TIMEOUT seconds, LiveUnavailable
    when the broker cannot be reached.
    """
    if isinstance(data, dict):
        data = {**data, "request_id": new_id()}
    try:
        request = LiveRequest.from_message(data)
    except MessageRejected as exc:
        raise LiveRefused(_sentence(str(exc))) from None
    try:
        client = broker()
        state = _state(client, user, session)
        if state.state != "running":
            raise LiveRefused(_not_running(state))
        _limited(REQUEST_THROTTLE, f"user:{user.pk}", "You are sending requests very fast.")
        lock = REQUEST_LOCK.format(user_id=user.pk)
        if not client.set(lock, request.request_id, nx=True, ex=REPLY_TIMEOUT + 5):
            raise LiveLimited("Wait for the answer to your last request first.", 2)
        try:
            slot = _wait_slot(client, request.request_id)
            if slot is None:
                raise LiveLimited("Many apps are being asked right now: try again shortly.", 2)
            REQUEST_THROTTLE.hit(f"user:{user.pk}")
            try:
                reply = _ask(client, session, request, state)
            finally:
                client.delete(slot)
        finally:
            client.delete(lock)
    except _BROKER_ERRORS:
        raise LiveUnavailable(BROKER_DOWN) from None
    if reply is None:
        raise LiveTimeout(f"Your app did not answer within {REPLY_TIMEOUT} s.")
    exchange = None
    if len(reply) <= MAX_REPLY_BYTES:
        try:
            exchange = exchange_from_data(json.loads(reply))
        except ValueError:
            exchange = None
    if exchange is None:
        raise LiveRefused("The answer from your app could not be read. Send the request again.")
    return exchange


MAX_ROUTES = 50  # listed in the console


def live_routes(*, user, session: str) -> tuple[list[tuple[str, str]], bool]:
    """Return the (method, path) routes a running FastAPI app lists in its /openapi.json, and
    whether they are all of them (False: its answer was longer than the console reads)."""
    state = live_state(user=user, session=session)
    if state.framework != "fastapi":
        raise LiveRefused("Only FastAPI apps list their routes.")
    exchange = live_request(user=user, session=session, data={"path": "/openapi.json"})
    routes = openapi_routes(exchange, limit=MAX_ROUTES + 1)
    body = (exchange.get("response") or {}).get("body") or {}
    complete = not body.get("truncated") and len(routes) <= MAX_ROUTES
    return routes[:MAX_ROUTES], complete


def live_stop(*, user, session: str) -> LiveSession:
    """Ask a learner's live app to stop; stopping one that has stopped changes nothing."""
    try:
        client = broker()
        state = _state(client, user, session)
        if state.active:
            _stop(client, session)
            client.delete(LEARNER_KEY.format(user_id=user.pk))
            state = _state(client, user, session)
    except _BROKER_ERRORS:
        raise LiveUnavailable(BROKER_DOWN) from None
    return state


# Reading examples and routes ----------------------------------------------------------------


def header_lines(text: Any) -> list[list[str]]:
    """Return the headers typed one per line as "Name: value" pairs; LiveRefused otherwise."""
    if text in (None, ""):
        return []
    if not isinstance(text, str) or len(text) > MAX_HEADER_LINES_CHARS:
        raise LiveRefused("Type the headers as text, one per line: Name: value.")
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise LiveRefused(f"Header line {number} is not “Name: value”: {line[:60]}")
        pairs.append([name.strip(), value.strip()])
    return pairs


def openapi_routes(exchange: dict[str, Any], *, limit: int = MAX_ROUTES) -> list[tuple[str, str]]:
    """Return the routes of an /openapi.json answer: (METHOD, path), at most `limit`.

    A long answer arrives cut (sandbox.exchanges keeps 8 KiB of it, pretty-printed with an
    indent of 2). FastAPI writes "paths" before the bulky "components", so the routes are
    then read line by line from what was kept.
    """
    response = exchange.get("response") or {}
    body = response.get("body") or {}
    if response.get("status") != 200 or body.get("kind") != "json":
        return []
    text = body.get("text") or ""
    if body.get("truncated"):
        return _routes_of_cut_text(text)[:limit]
    try:
        paths = json.loads(text).get("paths")
    except (ValueError, AttributeError):
        return []
    if not isinstance(paths, dict):
        return []
    routes = []
    for path, operations in paths.items():
        if not isinstance(path, str) or not isinstance(operations, dict):
            continue
        for method in operations:
            if isinstance(method, str) and method.upper() in METHODS:
                routes.append((method.upper(), path[:200]))
    return routes[:limit]


_PATHS_LINE = '  "paths": {'
_PATH_LINE = re.compile(r'^    ("(?:[^"\\]|\\.)*"): \{(?:\},?)?$')
_OPERATION_LINE = re.compile(r'^      "([a-z]+)": \{(?:\},?)?$')


def _routes_of_cut_text(text: str) -> list[tuple[str, str]]:
    """Return the routes in the "paths" of a pretty-printed OpenAPI text cut anywhere."""
    lines = text.split("\n")
    try:
        start = lines.index(_PATHS_LINE) + 1
    except ValueError:
        return []
    routes, path = [], None
    for line in lines[start:]:
        if line.startswith("  }") or not line.startswith("    "):
            break  # the end of "paths"
        if found := _PATH_LINE.match(line):
            try:
                path = json.loads(found[1])
            except ValueError:
                path = None
        elif (
            (found := _OPERATION_LINE.match(line))
            and path is not None
            and found[1].upper() in METHODS
        ):
            routes.append((found[1].upper(), path[:200]))
    return routes


# Broker keys ---------------------------------------------------------------------------------


def _state(client: redis_lib.Redis, user, session: str) -> LiveSession:
    if not isinstance(session, str) or not session.isalnum() or len(session) > 64:
        raise LiveNotFound(NOT_FOUND)
    owner = {
        key.decode(): value.decode(errors="replace")
        for key, value in client.hgetall(OWNER_KEY.format(session=session)).items()
    }
    if not user.is_authenticated or owner.get("user") != str(user.pk):
        raise LiveNotFound(NOT_FOUND)
    host = {
        key.decode(): value.decode(errors="replace")
        for key, value in client.hgetall(LIVE_KEY.format(session=session)).items()
    }
    now = time.time()
    state = host.get("state", "")
    message = host.get("message", "")[:4000]
    expires = _float(host.get("expires"))
    if state not in ("booting", "running", "stopped", "failed"):
        state = "starting"
        created = _float(owner.get("created")) or now
        if now - created > START_TIMEOUT:
            state, message = "failed", NO_HOST.format(seconds=START_TIMEOUT)
    if state == "running" and expires is not None and expires <= now:
        state, message = "stopped", "Your app ran its full time and was stopped."
    if owner.get("stopped") and state in ACTIVE:
        state, message = "stopped", "You stopped your app."
    if state == "stopped" and not message:
        ran_out = expires is not None and expires <= now + 2
        message = (
            "Your app ran its full time and was stopped." if ran_out else "Your app has stopped."
        )
    return LiveSession(
        session=session,
        exercise=owner.get("exercise", ""),
        framework=owner.get("framework", ""),
        state=state,
        message=message,
        expires=expires if state == "running" else None,
    )


def _stop(client: redis_lib.Redis, session: str) -> None:
    keep = int(LIVE_LIFETIME + KEEP_AFTER)
    pipe = client.pipeline()
    pipe.rpush(LIVE_REQUESTS.format(session=session), json.dumps({"stop": True}))
    pipe.expire(LIVE_REQUESTS.format(session=session), keep)
    pipe.hset(OWNER_KEY.format(session=session), "stopped", repr(time.time()))
    pipe.execute()


def _ask(
    client: redis_lib.Redis, session: str, request: LiveRequest, state: LiveSession
) -> bytes | None:
    requests_key = LIVE_REQUESTS.format(session=session)
    reply_key = LIVE_REPLY.format(session=session, request_id=request.request_id)
    pipe = client.pipeline()
    pipe.rpush(requests_key, json.dumps(request.to_message()))
    pipe.expire(requests_key, state.seconds_left() + KEEP_AFTER)
    pipe.execute()
    answer = _waiting_client(client).blpop([reply_key], timeout=REPLY_TIMEOUT)
    return None if answer is None else answer[1]


def _wait_slot(client: redis_lib.Redis, token: str) -> str | None:
    """Take one of the WAIT_SLOTS; return its key, or None when all are taken.

    A slot expires just after the longest wait, so one whose process died comes free.
    """
    for number in range(WAIT_SLOTS):
        key = WAIT_SLOT.format(number=number)
        if client.set(key, token, nx=True, ex=REPLY_TIMEOUT + 5):
            return key
    return None


_waiting: dict[int, redis_lib.Redis] = {}


def _waiting_client(client: redis_lib.Redis) -> redis_lib.Redis:
    """Return a client like `client` whose reads may wait longer than REPLY_TIMEOUT."""
    key = id(client)
    if key not in _waiting:
        kwargs = dict(client.connection_pool.connection_kwargs)
        kwargs["socket_timeout"] = REPLY_TIMEOUT + 5
        pool = client.connection_pool.__class__(
            connection_class=client.connection_pool.connection_class, **kwargs
        )
        _waiting[key] = redis_lib.Redis(connection_pool=pool)
    return _waiting[key]


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _sentence(reason: str) -> str:
    reason = reason.strip().rstrip(".")
    return (reason[:1].upper() + reason[1:] + ".") if reason else "This request is not valid."


def _not_running(state: LiveSession) -> str:
    if state.state in ("starting", "booting"):
        return "Your app is still starting: send the request once it runs."
    return (state.message or "Your app is not running.") + " Start it again to send requests."
