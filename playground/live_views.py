"""The live console's addresses: start a learner's app, follow it, send it requests, stop it.

Each answers JSON for console.js: the live app's state, or the exchange rendered as the page
shows it, or {"error": a sentence} with the status that fits (400 bad input, 404 not yours,
429 too many, 503 broker down, 504 no answer from the app). Only signed-in learners use them,
and only on their own live app: anyone else's session is a 404. Nothing here touches the
editor's files, which stay in the page (and its draft) whatever is answered.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from accounts.throttles import client_ip
from playground.live import (
    LiveError,
    LiveLimited,
    LiveNotFound,
    LiveRefused,
    LiveSession,
    LiveTimeout,
    LiveUnavailable,
    header_lines,
    live_exercise,
    live_request,
    live_routes,
    live_start,
    live_state,
    live_stop,
)
from sandbox.textsafety import JSONRefused, parse_json

MAX_BODY_BYTES = 512 * 1024  # a start's files (256 KiB of text) as JSON, with room to spare
STATUSES = {
    LiveNotFound: 404,
    LiveRefused: 400,
    LiveLimited: 429,
    LiveUnavailable: 503,
    LiveTimeout: 504,
}


def _refusal(exc: LiveError) -> JsonResponse:
    status = next((code for kind, code in STATUSES.items() if isinstance(exc, kind)), 400)
    response = JsonResponse({"error": str(exc)}, status=status)
    if isinstance(exc, LiveLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _signed_out() -> JsonResponse:
    return JsonResponse(
        {"error": "You are not signed in any more. Sign in again to try your app live."},
        status=403,
    )


def _json_body(request: HttpRequest) -> dict[str, Any]:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise LiveRefused(
            f"What you sent is larger than {MAX_BODY_BYTES // 1024} KiB: leave out large files."
        )
    try:
        data = parse_json(request.body or b"{}")
    except JSONRefused as exc:
        raise LiveRefused(f"The request cannot be read: {exc}.") from None
    except ValueError:  # not JSON, or not UTF-8 (a UnicodeDecodeError is a ValueError)
        raise LiveRefused("The request must be a JSON object.") from None
    if not isinstance(data, dict):
        raise LiveRefused("The request must be a JSON object.")
    return data


def _state_answer(state: LiveSession) -> JsonResponse:
    return JsonResponse(state.as_dict())


@require_POST
def live_start_view(request: HttpRequest, exercise: str) -> JsonResponse:
    """Start the editor's files (JSON {"framework", "files"}) as the learner's live app."""
    if not request.user.is_authenticated:
        return _signed_out()
    try:
        exercise_obj = live_exercise(user=request.user, slug=exercise)
        data = _json_body(request)
        state = live_start(
            user=request.user,
            exercise=exercise_obj,
            framework=data.get("framework"),
            files=data.get("files"),
            ip=client_ip(request),
        )
    except LiveError as exc:
        return _refusal(exc)
    return _state_answer(state)


@login_required
@require_GET
def live_state_view(request: HttpRequest, session: str) -> JsonResponse:
    """Answer the console's poll: the live app's state and the seconds it has left."""
    try:
        return _state_answer(live_state(user=request.user, session=session))
    except LiveError as exc:
        return _refusal(exc)


@require_POST
def live_request_view(request: HttpRequest, session: str) -> JsonResponse:
    """Send one request (JSON {"method", "path", "headers": text, "body"}) to the live app."""
    if not request.user.is_authenticated:
        return _signed_out()
    try:
        data = _json_body(request)
        exchange = live_request(
            user=request.user,
            session=session,
            data={
                "method": data.get("method"),
                "path": data.get("path"),
                "headers": header_lines(data.get("headers")),
                "body": data.get("body"),
            },
        )
    except LiveError as exc:
        return _refusal(exc)
    html = render_to_string("playground/_live_exchange.html", {"exchange": exchange}, request)
    return JsonResponse({"exchange": exchange, "html": html})


@require_POST
def live_routes_view(request: HttpRequest, session: str) -> JsonResponse:
    """List the routes of a running FastAPI app (from its /openapi.json)."""
    if not request.user.is_authenticated:
        return _signed_out()
    try:
        routes, complete = live_routes(user=request.user, session=session)
    except LiveError as exc:
        return _refusal(exc)
    return JsonResponse(
        {"routes": [{"method": m, "path": p} for m, p in routes], "complete": complete}
    )


@require_POST
def live_stop_view(request: HttpRequest, session: str) -> JsonResponse:
    """Stop the learner's live app."""
    if not request.user.is_authenticated:
        return _signed_out()
    try:
        return _state_answer(live_stop(user=request.user, session=session))
    except LiveError as exc:
        return _refusal(exc)
