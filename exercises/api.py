"""The terminal API: submit a zip with a personal API token, and read a submission's result.

Requests authenticate with `Authorization: Bearer <token>` only, never with the session
cookie, so the views are exempt from CSRF checks: a page on another site cannot make a
browser send the token. Every answer is JSON; errors are {"error": "<plain words>"}.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.tokens import token_authenticate
from exercises.models import Exercise, Framework, Submission
from exercises.ratelimit import SubmissionLimited, submission_allowance
from exercises.services import submission_create
from sandbox.archive import SubmissionRejected, unpack_submission
from sandbox.policy import MiB, SandboxPolicy, policy_for
from sandbox.results import in_order, learner_tests

# How often a waiting request looks at the submission's row.
WAIT_POLL_INTERVAL = 0.25
# A waiting request gives up this long after the longest a grading may run: the submission
# may have waited in the queue first. The learner can then ask for it at status_url.
WAIT_MARGIN = 30.0
# Room for a multipart request's boundaries and headers around the zip itself.
MULTIPART_OVERHEAD = 64 * 1024
# A waiting request's slot outlives its wait by this much, then expires even if the process
# holding it died without giving it back.
WAIT_SLOT_SLACK = 10

BUSY_MESSAGE = (
    "Your submission is saved and queued, but the site is already waiting on as many "
    "gradings as it can for other requests, so this answer does not wait. Ask status_url for "
    "the result in a minute (with the same Authorization header)."
)
SLOW_MESSAGE = (
    "Your submission is not graded yet: it waited in the queue or took long. Ask status_url "
    "for the result in a minute (with the same Authorization header)."
)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})

BODY_HELP = (
    "Send the zip as the request body (curl --data-binary @app.zip) "
    "or as a form field named “file” (curl -F file=@app.zip)."
)


class ApiError(Exception):
    """An answer other than success, with a message for the learner."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(data: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """Return indented JSON ending in a newline, readable as curl prints it."""
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False) + "\n"
    return HttpResponse(body, status=status, content_type="application/json")


def api_view(*methods: str) -> Callable:
    """Make a view answer JSON, authenticate its token, and accept only `methods`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @never_cache
        @transaction.non_atomic_requests  # a waiting request must not hold a transaction
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        f"This address accepts {' and '.join(methods)} requests only.",
                        {"Allow": ", ".join(methods)},
                    )
                request.user = _token_user(request)
                return view(request, *args, **kwargs)
            except ApiError as exc:
                response = json_response({"error": exc.message}, status=exc.status)
                for name, value in exc.headers.items():
                    response[name] = value
                return response

        return wrapper

    return decorate


@api_view("POST")
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    """Save a zip as a submission to an exercise; with ?wait=1, answer once it is graded."""
    exercise = _exercise(request, slug)
    wait = _flag(request, "wait")
    # Checked again, atomically, when the submission is saved; this spares reading the upload.
    allowance = submission_allowance(learner=request.user, exercise=exercise)
    if not allowance.allowed:
        raise _limited(SubmissionLimited(allowance))
    policy = policy_for(exercise.limits)
    archive = _read_archive(request, policy)
    framework = _framework(request, exercise)
    _check_archive(archive, policy)
    try:
        submission = submission_create(
            learner=request.user, exercise=exercise, framework=framework, archive=archive
        )
    except SubmissionLimited as exc:
        raise _limited(exc) from exc
    except SubmissionRejected as exc:
        raise ApiError(400, str(exc)) from exc
    if not wait:
        return json_response(submission_json(request, submission), status=201)
    timeout = policy.wall_timeout + WAIT_MARGIN
    with wait_slot(hold_for=timeout) as slot:
        if not slot:
            body = {**submission_json(request, submission), "message": BUSY_MESSAGE}
            return json_response(body, status=202)
        submission = wait_until_done(submission.pk, timeout=timeout)
    if submission.state == Submission.State.DONE:
        return json_response(submission_json(request, submission), status=200)
    body = {**submission_json(request, submission), "message": SLOW_MESSAGE}
    return json_response(body, status=202)


@api_view("GET", "HEAD")
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the state and, once graded, the result of one of the learner's submissions."""
    submission = (
        Submission.objects.filter(pk=pk, learner=request.user).select_related("exercise").first()
    )
    if submission is None:
        raise ApiError(404, f"You have no submission number {pk}.")
    return json_response(submission_json(request, submission))


def submission_json(request: HttpRequest, submission: Submission) -> dict[str, Any]:
    """Return what the API tells a learner about a submission."""
    done = submission.state == Submission.State.DONE
    return {
        "id": submission.pk,
        "exercise": submission.exercise.slug,
        "framework": submission.framework,
        "attempt": submission.attempt,
        "state": submission.state,
        "phase": submission.phase,
        "url": request.build_absolute_uri(submission_page_path(submission.pk)),
        "status_url": request.build_absolute_uri(
            reverse("api:submission", kwargs={"pk": submission.pk})
        ),
        "created": submission.created,
        "result": in_order(learner_result(submission.result)) if done else None,
    }


def learner_result(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return a stored result with its tests as the learner may see them (see learner_tests)."""
    if not result:
        return result
    tests = learner_tests(result.get("tests", []))
    return {**result, "tests": [test.as_dict() for test in tests]}


def submission_page_path(pk: int) -> str:
    """Return the path of a submission's page on the site."""
    try:
        return reverse("exercises:submission", kwargs={"pk": pk})
    except NoReverseMatch:
        return f"/submissions/{pk}/"


def wait_until_done(pk: int, *, timeout: float) -> Submission:
    """Poll a submission's row until it is graded or `timeout` seconds pass; return it.

    Each look is its own autocommit query, so no transaction or lock stays open while the
    request waits, and a worker's result becomes visible at the next look.
    """
    deadline = time.monotonic() + timeout
    rows = Submission.objects.select_related("exercise")
    while True:
        submission = rows.get(pk=pk)
        if submission.state == Submission.State.DONE or time.monotonic() >= deadline:
            return submission
        pause(WAIT_POLL_INTERVAL)


@contextmanager
def wait_slot(*, hold_for: float) -> Iterator[bool]:
    """Hold one of the site's API_WAIT_SLOTS while the block runs; give False if none is free.

    Each slot is a cache key taken with an atomic add and an expiry just past the wait, so
    a slot cannot be taken twice, and one whose process died comes free by itself.
    """
    token = uuid.uuid4().hex
    timeout = math.ceil(hold_for) + WAIT_SLOT_SLACK
    for number in range(settings.API_WAIT_SLOTS):
        key = f"exercises:api-wait-slot:{number}"
        if cache.add(key, token, timeout=timeout):
            try:
                yield True
            finally:
                if cache.get(key) == token:
                    cache.delete(key)
            return
    yield False


def pause(seconds: float) -> None:
    """Sleep between two looks at a waiting submission (a seam for tests)."""
    time.sleep(seconds)


# Helpers ------------------------------------------------------------------------------


def _token_user(request: HttpRequest):
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    secret = secret.strip()
    challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
    if scheme.lower() != "bearer" or not secret:
        raise ApiError(
            401,
            "Send your API token in the header “Authorization: Bearer <token>”. "
            f"You can create a token at {_tokens_page(request)}.",
            challenge,
        )
    user = token_authenticate(secret)
    if user is None:
        raise ApiError(
            401,
            "This API token is not valid: it was mistyped or has been revoked. "
            f"You can create a new one at {_tokens_page(request)}.",
            {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
        )
    return user


def _tokens_page(request: HttpRequest) -> str:
    try:
        path = reverse("accounts:tokens")
    except NoReverseMatch:
        path = "/accounts/tokens/"
    return request.build_absolute_uri(path)


def _exercise(request: HttpRequest, slug: str) -> Exercise:
    exercises = Exercise.objects.all() if request.user.is_staff else Exercise.objects.published()
    exercise = exercises.filter(slug=slug).first()
    if exercise is None:
        raise ApiError(404, f"There is no exercise “{slug}”. Check its name in the address.")
    return exercise


def _flag(request: HttpRequest, name: str) -> bool:
    value = request.GET.get(name, "").strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ApiError(400, f"“{name}” must be 1 or 0, not “{value}”.")


def _limited(exc: SubmissionLimited) -> ApiError:
    return ApiError(429, str(exc), {"Retry-After": str(exc.retry_after)})


def _framework(request: HttpRequest, exercise: Exercise) -> str:
    offered = list(exercise.frameworks)
    requested = request.GET.get("framework", "")
    if not requested and request.content_type == "multipart/form-data":
        requested = request.POST.get("framework", "")
    requested = requested.strip().lower()
    choices = " or ".join(f"?framework={f}" for f in offered)
    if not requested:
        if len(offered) == 1:
            return offered[0]
        raise ApiError(
            400,
            f"Say which framework your app uses: this exercise can be solved with "
            f"{_names(offered)}. Add {choices} to the address.",
        )
    if not exercise.offers(requested):
        raise ApiError(
            400,
            f"This exercise can be solved with {_names(offered)}; “{requested}” is not one "
            f"of them. Use {choices}.",
        )
    return requested


def _names(frameworks: list[str]) -> str:
    labels = dict(Framework.choices)
    names = [labels.get(f, f) for f in frameworks]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _read_archive(request: HttpRequest, policy: SandboxPolicy) -> bytes:
    """Return the uploaded zip, from a multipart field `file` or the raw request body."""
    limit = policy.max_archive_bytes
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if request.content_type == "multipart/form-data":
        # Refused before parsing, so an oversized upload is never written to disk.
        if length > limit + MULTIPART_OVERHEAD:
            raise ApiError(413, _too_big(length, limit))
        try:
            upload = request.FILES.get("file")
        except MultiPartParserError as exc:
            raise ApiError(400, f"The form data could not be read. {BODY_HELP}") from exc
        if upload is None:
            raise ApiError(400, f"The form has no field named “file”. {BODY_HELP}")
        if upload.size > limit:
            raise ApiError(413, _too_big(upload.size, limit))
        data = upload.read()
    else:
        # Any content type is read as the zip itself: curl --data-binary without a
        # Content-Type header says "application/x-www-form-urlencoded".
        if length > limit:
            raise ApiError(413, _too_big(length, limit))
        data = request.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, _too_big(len(data), limit))
    if not data:
        raise ApiError(400, f"The request has no zip in it. {BODY_HELP}")
    return data


def _too_big(size: int, limit: int) -> str:
    return (
        f"Your files are {size / MiB:.1f} MiB once zipped; the limit is {limit / MiB:g} MiB. "
        "Leave out virtual environments, databases and other generated files."
    )


def _check_archive(archive: bytes, policy: SandboxPolicy) -> None:
    """Unpack the zip into a scratch folder, so a bad one is refused now, not when graded."""
    with tempfile.TemporaryDirectory(prefix="upload-") as scratch:
        try:
            unpack_submission(archive, Path(scratch), policy=policy)
        except SubmissionRejected as exc:
            raise ApiError(400, str(exc)) from exc
