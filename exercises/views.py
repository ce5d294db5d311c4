"""Exercise pages: instructions, the editor and its drafts, submitting, live status, results.

Access: exercises are public once published (staff also see drafts). A submission, its
status and its files are visible to the learner who made it, to site staff and to the staff
of its course; anyone else gets a 404, as if it did not exist. Drafts are only ever read and
written for the signed-in learner.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from courses.access import may_edit
from exercises.attempts import learner_attempts, queue_position
from exercises.forms import DraftForm, SubmissionForm, request_too_big
from exercises.models import Exercise, Framework, Submission, Verdict
from exercises.ratelimit import SubmissionLimited, submission_allowance
from exercises.services import submission_create
from exercises.workspace import draft_save as save_draft
from exercises.workspace import learner_workspace
from lessons.navigation import course_outline
from sandbox import images
from sandbox.archive import SubmissionRejected
from sandbox.policy import policy_for
from sandbox.results import failure_groups, learner_tests
from sandbox.spec import FRAMEWORK_ENTRY_POINTS

# The page shows its own title; a README's first heading repeats it.
_LEADING_H1 = re.compile(r"\A\s*<h1\b[^>]*>.*?</h1>\s*", re.DOTALL)
PHASES = ("queued", "booting", "testing", "done")
FILES_GONE_MESSAGE = (
    "The files of this submission are no longer kept: a newer or better submission of the "
    "same exercise replaced them. Its result and score are kept.\n"
)
PHASE_LABELS = {
    "queued": "Queued",
    "booting": "Starting your app",
    "testing": "Running the tests",
    "done": "Done",
}


# Fetching with access checks ------------------------------------------------------------


def _get_exercise(request: HttpRequest, slug: str) -> Exercise:
    """Return an exercise the user may see: published ones, and drafts for staff."""
    exercises = Exercise.objects.select_related("course", "lesson__chapter__course")
    if not request.user.is_staff:
        exercises = exercises.published()
    return get_object_or_404(exercises, slug=slug)


def _get_submission(request: HttpRequest, pk: int, *, archive: bool = False) -> Submission:
    """Return a submission the user may see, else 404.

    Learners see their own; site staff see any; a course's staff (courses.access) see those
    made to their course's exercises.
    """
    submissions = Submission.objects.select_related("exercise__course", "learner")
    if archive:
        submissions = submissions.select_related("archive")
    if not request.user.is_staff:
        # The course's own staff see its learners' submissions (courses.access).
        submissions = submissions.filter(
            Q(learner=request.user) | Q(exercise__course__staff__user=request.user)
        ).distinct()
    return get_object_or_404(submissions, pk=pk)


def _framework(exercise: Exercise, framework: str) -> str:
    if not exercise.offers(framework):
        raise Http404("This exercise is not offered in that framework.")
    return framework


# The exercise page ------------------------------------------------------------------------


@require_GET
def exercise(request: HttpRequest, exercise: str) -> HttpResponse:
    """Show an exercise: instructions, the sandbox, and the learner's workspace."""
    exercise_obj = _get_exercise(request, exercise)
    workspace = None
    if request.user.is_authenticated:
        workspace = learner_workspace(
            learner=request.user,
            exercise=exercise_obj,
            framework=request.GET.get("framework"),
        )
    context = _page_context(exercise_obj, workspace)
    if request.user.is_authenticated and exercise_obj.deadline is not None:
        context["deadline"] = exercise_obj.deadline_for(request.user)
        context["extended"] = context["deadline"] != exercise_obj.deadline
    return render(request, "exercises/exercise.html", context)


def _page_context(exercise: Exercise, workspace, **extra) -> dict:
    labels = dict(Framework.choices)
    frameworks = [(f, labels.get(f, f)) for f in exercise.frameworks]
    policy = policy_for(exercise.limits)
    # instructions_html was sanitized (nh3) when the exercise was saved.
    instructions = mark_safe(_LEADING_H1.sub("", exercise.instructions_html, count=1))  # noqa: S308
    context = {
        "exercise": exercise,
        "instructions": instructions,
        "frameworks": frameworks,
        # One line per framework on what to submit, shown under the framework picker.
        "framework_notes": [(f, FRAMEWORK_ENTRY_POINTS.get(f, "")) for f in exercise.frameworks],
        "packages": [_split_requirement(line) for line in images.runner_packages()],
        "limits": policy.describe(),
        "workspace": workspace,
        "tokens_url": _tokens_url(),
        "deadline": exercise.deadline,
        "form_errors": {},
    }
    if workspace is not None:
        context["editor_data"] = {
            "framework": workspace.framework,
            "chosen": workspace.chosen,
            "frameworks": [{"key": f, "label": label} for f, label in frameworks],
            "files": workspace.files,
            "starters": workspace.starters,
            # The file each framework's editor opens first (a draft without it opens another).
            "open": {f: exercise.first_file(f) for f in exercise.frameworks},
            "saved": workspace.saved,
            "saveUrl": reverse("exercises:draft_save", kwargs={"exercise": exercise.slug}),
            "maxFiles": min(policy.max_files, settings.DATA_UPLOAD_MAX_NUMBER_FILES or 10**6),
        }
        context["history"] = workspace.history
        context["allowance"] = workspace.allowance
        if workspace.latest is not None:
            context["latest"] = _status_context(
                workspace.latest, where="exercise", exercise=exercise
            )
    context.update(extra)
    return context


def _split_requirement(line: str) -> tuple[str, str]:
    """Return ("flask", ">=3.0,<4") for "flask>=3.0,<4"."""
    match = re.match(r"([A-Za-z0-9._\[\]-]+)\s*(.*)", line)
    return (match.group(1), match.group(2).strip()) if match else (line, "")


def _tokens_url() -> str | None:
    try:
        return reverse("accounts:tokens")
    except NoReverseMatch:
        return None


@require_GET
def starter_zip_download(request: HttpRequest, exercise: str, framework: str) -> HttpResponse:
    """Send the starter files of a framework as a zip."""
    exercise_obj = _get_exercise(request, exercise)
    framework = _framework(exercise_obj, framework)
    if not exercise_obj.starter_files(framework):
        raise Http404("This exercise has no starter files for that framework.")
    return _zip_response(
        exercise_obj.starter_zip(framework), f"{exercise_obj.slug}-{framework}-starter.zip"
    )


# Drafts -------------------------------------------------------------------------------------


@require_POST
def draft_save(request: HttpRequest, exercise: str) -> JsonResponse:
    """Store the editor's files as the learner's draft; answer JSON either way."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"error": "You are not logged in any more. Log in again to keep saving."}, status=403
        )
    exercise_obj = _get_exercise(request, exercise)
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse(
            {"error": "Your files are too large to be saved: leave out large files."}, status=413
        )
    form = DraftForm.from_body(body, exercise=exercise_obj)
    if not form.is_valid():
        return JsonResponse({"error": form.first_error()}, status=400)
    try:
        draft = save_draft(
            learner=request.user,
            exercise=exercise_obj,
            framework=form.cleaned_data["framework"],
            files=form.cleaned_data["files"],
        )
    except SubmissionRejected as exc:
        return JsonResponse({"error": f"Not saved: {exc}"}, status=400)
    return JsonResponse({"saved": draft.updated.isoformat(), "framework": draft.framework})


# Submitting ---------------------------------------------------------------------------------


@csrf_exempt  # checked by _submit, once the body is known to be of a sane size
@require_POST
def submit(request: HttpRequest, exercise: str) -> HttpResponse:
    """Submit the editor's files, a zip or a folder for grading.

    The size of the body is checked before anything reads it; CSRF is checked right after
    (Django's own pattern for views that must look at a request before its body is parsed).
    """
    source = request.GET.get("source", "files")
    if source not in SubmissionForm.SOURCES:
        source = "files"
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    exercise_obj = _get_exercise(request, exercise)
    too_big = request_too_big(
        request.META.get("CONTENT_LENGTH"), policy=policy_for(exercise_obj.limits)
    )
    if too_big:
        return _submit_failed(request, exercise_obj, source, too_big, status=413, parsed=False)
    # Checked again, atomically, when the submission is saved; checked now so that a learner
    # over the limit costs no parsing, packing or unpacking of what they sent. The answer
    # changes nothing, so it may come before the CSRF check.
    allowance = submission_allowance(learner=request.user, exercise=exercise_obj)
    if not allowance.allowed:
        return _limited(request, exercise_obj, source, SubmissionLimited(allowance), parsed=False)
    try:
        return _submit(request, exercise_obj, source)
    except (TooManyFilesSent, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        message = (
            f"The folder has too many files to upload one by one (at most {limit}). "
            "Zip the folder and upload the zip instead."
            if source == "folder"
            else "The upload is too large to be accepted. Leave out large files."
        )
        return _submit_failed(request, exercise_obj, source, message, status=413, parsed=False)


@csrf_protect
def _submit(request: HttpRequest, exercise: Exercise, source: str) -> HttpResponse:
    form = SubmissionForm(request.POST, request.FILES, exercise=exercise, source=source)
    if not form.is_valid():
        return _submit_failed(request, exercise, source, form.first_error(), status=400)
    try:
        submission = submission_create(
            learner=request.user,
            exercise=exercise,
            framework=form.cleaned_data["framework"],
            archive=form.cleaned_data["zip"],
        )
    except SubmissionLimited as exc:
        return _limited(request, exercise, source, exc)
    except SubmissionRejected as exc:
        return _submit_failed(request, exercise, source, str(exc), status=400)
    if request.htmx:
        return _submitted_fragment(request, submission)
    return redirect("exercises:submission", pk=submission.pk)


def _limited(
    request: HttpRequest,
    exercise: Exercise,
    source: str,
    exc: SubmissionLimited,
    *,
    parsed: bool = True,
) -> HttpResponse:
    response = _submit_failed(request, exercise, source, str(exc), status=429, parsed=parsed)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _submit_failed(
    request: HttpRequest,
    exercise: Exercise,
    source: str,
    message: str,
    *,
    status: int,
    parsed: bool = True,
) -> HttpResponse:
    """Show why a submission was refused, next to the form it came from.

    `parsed` is False when the body was refused unread: the framework chosen is then unknown.
    """
    if request.htmx:
        # htmx swaps only 2xx answers: the error is the content, the status is in the words.
        html = render_to_string(
            "exercises/_form_error.html",
            {
                "source": source,
                "message": message,
                "allowance": submission_allowance(learner=request.user, exercise=exercise),
                "exercise": exercise,
                "oob": True,
            },
            request=request,
        )
        response = HttpResponse(html)
        retarget(response, f"#{source}-errors")
        return reswap(response, "innerHTML")
    framework = request.POST.get("framework") if parsed else None
    workspace = learner_workspace(learner=request.user, exercise=exercise, framework=framework)
    context = _page_context(exercise, workspace, form_errors={source: message})
    return render(request, "exercises/exercise.html", context, status=status)


def _submitted_fragment(request: HttpRequest, submission: Submission) -> HttpResponse:
    """Answer an htmx submit: the live status in the result panel, the other panels updated."""
    status = _status_context(submission, where="exercise")
    context = {
        "status": status,
        "history": learner_attempts(learner=submission.learner, exercise=submission.exercise),
        "allowance": submission_allowance(learner=submission.learner, exercise=submission.exercise),
        "exercise": submission.exercise,
        "announce": f"Submission #{submission.pk} received. {status['text']}",
    }
    response = HttpResponse(render_to_string("exercises/_submitted.html", context, request=request))
    retarget(response, "#latest")
    return reswap(response, "innerHTML show:#latest:top")


# Submissions --------------------------------------------------------------------------------


@login_required
@require_GET
def submission(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one submission: its live status while graded, then its result."""
    submission_obj = _get_submission(request, pk)
    context = {
        "submission": submission_obj,
        "exercise": submission_obj.exercise,
        "status": _status_context(submission_obj, where="page"),
        "is_own": submission_obj.learner_id == request.user.pk,
        "retention_days": settings.ARCHIVE_RETENTION_DAYS,
        "may_regrade": may_edit(request.user, submission_obj.exercise.course),
    }
    return render(request, "exercises/submission.html", context)


@login_required
@require_GET
def submission_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer the status poll: 204 when nothing changed, the result (and stop) once done."""
    submission_obj = _get_submission(request, pk)
    where = "exercise" if request.GET.get("where") == "exercise" else "page"
    status = _status_context(submission_obj, where=where)
    if not status["done"] and request.GET.get("seen") == status["key"]:
        return HttpResponse(status=204)
    context = {"status": status, "announce": status["text"]}
    if status["done"] and where == "exercise" and submission_obj.learner_id == request.user.pk:
        # The result changes the attempts table and when the next submission is possible.
        learner, exercise_obj = submission_obj.learner, submission_obj.exercise
        context["history"] = learner_attempts(learner=learner, exercise=exercise_obj)
        context["allowance"] = submission_allowance(learner=learner, exercise=exercise_obj)
        context["exercise"] = exercise_obj
        context["refresh_panels"] = True
    html = render_to_string("exercises/_status.html", context, request=request)
    if status["done"] and request.htmx:
        return HttpResponseStopPolling(html)
    return HttpResponse(html)


@login_required
@require_GET
def submission_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the files of a submission back as the zip that was graded."""
    submission_obj = _get_submission(request, pk, archive=True)
    if not submission_obj.files_kept:
        return HttpResponse(
            FILES_GONE_MESSAGE, status=410, content_type="text/plain; charset=utf-8"
        )
    name = f"{submission_obj.exercise.slug}-{submission_obj.framework}-submission-{pk}.zip"
    return _zip_response(bytes(submission_obj.archive), name)


def _status_context(
    submission: Submission, *, where: str, exercise: Exercise | None = None
) -> dict:
    """Return what the status and result partials show of a submission.

    `exercise` is the submission's, when the caller has it already (with its course).
    """
    done = submission.state == Submission.State.DONE
    phase = "done" if done else (submission.phase or "booting")
    if submission.state == Submission.State.QUEUED:
        phase = "queued"
    ahead = queue_position(submission)
    result = submission.result if done else None
    status = submission.verdict if done else ""
    return {
        "submission": submission,
        "done": done,
        "phase": phase,
        "phases": [
            {
                "key": key,
                "label": PHASE_LABELS[key],
                "state": _phase_state(key, phase),
            }
            for key in PHASES
        ],
        "ahead": ahead,
        "text": _phase_text(phase, ahead, status, result),
        "key": f"{submission.state}:{phase}:{ahead}",
        "verdict": status,
        "result": result,
        "tests": _visible_tests(result),
        "where": where,
        "next": _next_step(exercise or submission.exercise) if status == Verdict.PASSED else None,
    }


class NextStep(NamedTuple):
    """Where a learner goes after passing an exercise."""

    label: str  # "Lesson", "Exercise", or "Course" after the last step
    title: str
    url: str


def _next_step(exercise: Exercise) -> NextStep:
    """Return the lesson or exercise after this one in course order, else the course page."""
    outline = course_outline(exercise.course, include_drafts=False)
    here = outline.exercise(exercise.id)
    following = outline.step_after(here) if here is not None else None
    if following is None:
        return NextStep("Course", outline.title, outline.url)
    return NextStep(following.kind.capitalize(), following.title, following.url)


def _phase_state(key: str, current: str) -> str:
    order = PHASES.index
    if key == current:
        return "done" if key == "done" else "current"
    return "done" if order(key) < order(current) else "todo"


def _phase_text(phase: str, ahead: int | None, status: str, result: dict | None) -> str:
    if phase == "queued":
        if not ahead:
            return "Queued: yours is next."
        noun = "submission" if ahead == 1 else "submissions"
        return f"Queued: {ahead} {noun} ahead of yours."
    if phase == "booting":
        return "Starting your app…"
    if phase == "testing":
        return "Running the tests…"
    verdict = Verdict(status).label if status in Verdict.values else "Done"
    if result and status != Verdict.ERROR:
        score, max_score = result.get("score", 0), result.get("max_score", 0)
        return f"Graded: {verdict}, {score} of {max_score} points."
    return f"Graded: {verdict}."


def _visible_tests(result: dict | None) -> list[dict]:
    """Return the tests as the learner may see them: groups of a shared cause, then the rest.

    The grader stores them so already; learner_tests hides a hidden test of a result stored
    by an older grader as well.
    """
    tests = learner_tests((result or {}).get("tests", []))
    return failure_groups(test.as_dict() for test in tests)


def _zip_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
