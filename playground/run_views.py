"""Running a lesson's code block from its page: start a run, then ask for its result.

The lesson page's script posts the block (and the reader's edit of it) to `run_start_view`
and polls `run_result_view` until the run is done; both call playground.runs, which checks
who may run what. Only signed-in readers run code: an anonymous page shows a sign-in link.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.throttles import client_ip
from playground.runs import RunRefused, run_result, run_start
from sandbox.textsafety import JSONRefused, parse_json


def _refused(exc: RunRefused) -> HttpResponse:
    response = HttpResponse(
        exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
    )
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _whole_number(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


@require_POST
def run_start_view(request: HttpRequest) -> HttpResponse:
    """Start a run of a lesson's block; answer its id and where its result will be (202)."""
    if not request.user.is_authenticated:
        return _refused(RunRefused("Sign in to run this example.", status=403))
    lesson = _whole_number(request.POST.get("lesson"))
    block = _whole_number(request.POST.get("block"))
    if lesson is None or block is None:
        return _refused(RunRefused("Say which lesson and block to run."))
    requests = None
    if "requests" in request.POST:
        try:
            requests = parse_json(request.POST["requests"])
        except JSONRefused as exc:
            return _refused(RunRefused(f"The requests cannot be read: {exc}."))
        except ValueError:  # not JSON, or nested deeper than any list of requests
            return _refused(RunRefused("The requests cannot be read."))
        if not isinstance(requests, list):
            return _refused(RunRefused("The requests must be a list."))
    try:
        run_id = run_start(
            user=request.user,
            ip=client_ip(request),
            lesson=lesson,
            block=block,
            code=request.POST.get("code"),
            requests=requests,
        )
    except RunRefused as exc:
        return _refused(exc)
    result_url = reverse("playground:run_result", kwargs={"run_id": run_id})
    return JsonResponse({"run_id": run_id, "result_url": result_url}, status=202)


@never_cache
@require_GET
def run_result_view(request: HttpRequest, run_id: str) -> HttpResponse:
    """Show a run's output once it is done; 202 with no body while it runs."""
    try:
        result = run_result(user=request.user, run_id=run_id)
    except RunRefused as exc:
        return _refused(exc)
    if result is None:
        return HttpResponse(status=202)
    return render(request, "playground/_run_result.html", {"result": result})
