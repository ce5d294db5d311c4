"""The instructor area's exercise pages: list, create, edit, validate and publish.

Every view asks courses.access first: learners, anonymous visitors and staff of other courses
never get past it, and assistants may look but change nothing (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from authoring.exercises import (
    ExerciseInvalid,
    PublishRefused,
    exercise_publish,
    exercise_save,
    exercise_validate,
    version_history,
)
from authoring.forms import ExerciseForm
from courses.access import INSTRUCTOR, staff_course
from exercises.models import Exercise
from exercises.validations import publish_refusal, version_validations
from lessons.markdown import render_markdown
from sandbox.textsafety import parse_json

# Instructions longer than this are not previewed (the form still saves them).
MAX_PREVIEW_CHARS = 200_000


def _exercise(course, slug: str) -> Exercise:
    return get_object_or_404(Exercise.objects.select_related("course"), course=course, slug=slug)


@login_required
@require_GET
def exercise_list(request: HttpRequest, course: str) -> HttpResponse:
    """List a course's exercises, drafts included, for its staff."""
    course_obj, role = staff_course(request.user, course)
    exercises = course_obj.exercises.select_related("lesson").order_by("order", "slug")
    return render(
        request,
        "authoring/exercise_list.html",
        {"course": course_obj, "role": role, "exercises": exercises},
    )


@login_required
@require_http_methods(["GET", "POST"])
def exercise_new(request: HttpRequest, course: str) -> HttpResponse:
    """Create an exercise: a draft until its first version passes validation."""
    course_obj, role = staff_course(request.user, course, edit=True)
    form = ExerciseForm(request.POST or None, request.FILES or None, course=course_obj)
    if request.method == "POST" and form.is_valid():
        response = _save(request, form, course_obj, None)
        if response is not None:
            return response
    return _edit_page(request, form, course_obj, role, None)


@login_required
@require_http_methods(["GET", "POST"])
def exercise_edit(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Edit an exercise: its fields, its files, its versions and their validation."""
    course_obj, role = staff_course(request.user, course, edit=request.method == "POST")
    exercise_obj = _exercise(course_obj, exercise)
    if request.method == "POST":
        form = ExerciseForm(request.POST, request.FILES, course=course_obj)
        if form.is_valid():
            response = _save(request, form, course_obj, exercise_obj)
            if response is not None:
                return response
    else:
        form = ExerciseForm(initial=ExerciseForm.initial_for(exercise_obj), course=course_obj)
    return _edit_page(request, form, course_obj, role, exercise_obj)


def _save(request, form: ExerciseForm, course, exercise: Exercise | None) -> HttpResponse | None:
    """Save a valid form; None (the form holding the reason) when the exercise is refused."""
    try:
        outcome = exercise_save(
            course=course, exercise=exercise, fields=form.exercise_fields(), publish=form.publish
        )
    except ExerciseInvalid as exc:
        form.add_error(None, exc.problems)
        return None
    saved = f"Saved. Version {outcome.version.number}" + (
        " is new: validate it before publishing." if outcome.new_version else "."
    )
    messages.success(request, saved)
    if outcome.publish_refused:
        messages.warning(request, f"Not published: {outcome.publish_refused}")
    return redirect("teach:exercise_edit", course=course.slug, exercise=outcome.exercise.slug)


def _edit_page(request, form, course, role, exercise: Exercise | None) -> HttpResponse:
    version = exercise.current_version() if exercise is not None else None
    context = {
        "course": course,
        "role": role,
        "may_edit": role == INSTRUCTOR,
        "exercise": exercise,
        "form": form,
        "version": version,
        "history": version_history(exercise) if exercise is not None else [],
        "editor_files": _typed_files(form, exercise),
    }
    if exercise is not None:
        context.update(_validation_context(exercise, version))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "authoring/exercise_edit.html", context, status=status)


def _typed_files(form: ExerciseForm, exercise: Exercise | None) -> dict[str, str]:
    """Return the files the editor shows: as typed when a post was refused, else as stored."""
    if form.is_bound:
        files = form.cleaned_data.get("files") if hasattr(form, "cleaned_data") else None
        if isinstance(files, dict):
            return files
        try:
            parsed = parse_json((form.data.get("files") or "{}").encode())
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return {str(k): v for k, v in parsed.items() if isinstance(v, str)}
    return dict(exercise.files) if exercise is not None else {}


def _validation_context(exercise: Exercise, version) -> dict:
    pairs = version_validations(version)
    return {
        "exercise": exercise,
        "version": version,
        "validations": pairs,
        "validation_running": any(pair.running for pair in pairs),
        "publish_refusal": publish_refusal(exercise),
    }


@login_required
@require_POST
def exercise_validate_view(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Grade the current version's solutions and starters on the grading queue."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    exercise_obj = _exercise(course_obj, exercise)
    try:
        exercise_validate(exercise=exercise_obj)
    except ExerciseInvalid as exc:
        messages.error(request, " ".join(exc.problems))
    return redirect(
        f"{_edit_url(course_obj, exercise_obj)}#validation",
    )


@login_required
@require_GET
def exercise_validation(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Return the validation panel (polled by htmx while the validation runs)."""
    course_obj, role = staff_course(request.user, course)
    exercise_obj = _exercise(course_obj, exercise)
    context = _validation_context(exercise_obj, exercise_obj.current_version())
    context.update(course=course_obj, may_edit=role == INSTRUCTOR)
    return render(request, "authoring/_exercise_validation.html", context)


@login_required
@require_POST
def exercise_publish_view(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Publish an exercise whose current version passed validation."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    exercise_obj = _exercise(course_obj, exercise)
    try:
        exercise_publish(exercise=exercise_obj)
    except PublishRefused as exc:
        messages.error(request, f"Not published: {exc}")
    else:
        messages.success(request, "Published: learners can see this exercise now.")
    return redirect(_edit_url(course_obj, exercise_obj))


@login_required
@require_POST
def instructions_preview(request: HttpRequest, course: str) -> HttpResponse:
    """Render instructions as learners will see them (the form's live preview)."""
    staff_course(request.user, course)
    text = request.POST.get("instructions", "")[:MAX_PREVIEW_CHARS]
    return render(
        request, "authoring/_exercise_preview.html", {"instructions_html": render_markdown(text)}
    )


def _edit_url(course, exercise: Exercise) -> str:
    return reverse("teach:exercise_edit", kwargs={"course": course.slug, "exercise": exercise.slug})
