"""The instructor area's deadline page: an exercise's deadline, late policy and extensions.

Assistants may read the page; only instructors change anything. A form with a mistake comes
back with what was typed and the reason in plain words, and nothing is saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from authoring.grading_forms import DeadlineForm, ExtensionForm
from courses.access import may_edit, staff_course
from exercises.deadlines import (
    deadline_extension_remove,
    deadline_extension_set,
    exercise_deadline_set,
)
from exercises.models import DeadlineExtension, Exercise


def _exercise(request: HttpRequest, course: str, slug: str, *, edit: bool) -> Exercise:
    course_obj, _role = staff_course(request.user, course, edit=edit)
    exercises = Exercise.objects.select_related("course")
    return get_object_or_404(exercises, course=course_obj, slug=slug)


def _page(request, exercise: Exercise, *, deadline_form=None, extension_form=None, status=200):
    extensions = exercise.extensions.select_related("learner").order_by("learner__username")
    context = {
        "course": exercise.course,
        "exercise": exercise,
        "may_edit": may_edit(request.user, exercise.course),
        "time_zone": timezone.get_current_timezone_name(),
        "deadline_form": deadline_form
        or DeadlineForm(
            initial={
                "deadline": exercise.deadline and timezone.localtime(exercise.deadline),
                "late_policy": exercise.late_policy,
                "late_penalty": exercise.late_penalty,
            }
        ),
        "extension_form": extension_form or ExtensionForm(exercise=exercise),
        "extensions": [
            (
                extension,
                ExtensionForm(
                    exercise=exercise,
                    initial={
                        "username": extension.learner.get_username(),
                        "until": timezone.localtime(extension.until),
                    },
                    prefix=f"ext{extension.pk}",
                ),
            )
            for extension in extensions
        ],
    }
    return render(request, "authoring/deadline_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def deadline_edit(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Show an exercise's deadline, late policy and extensions; set the first two on POST."""
    exercise_obj = _exercise(request, course, exercise, edit=request.method == "POST")
    if request.method != "POST":
        return _page(request, exercise_obj)
    form = DeadlineForm(request.POST)
    if not form.is_valid():
        return _page(request, exercise_obj, deadline_form=form, status=400)
    exercise_deadline_set(
        exercise=exercise_obj,
        deadline=form.cleaned_data["deadline"],
        late_policy=form.cleaned_data["late_policy"],
        late_penalty=form.cleaned_data["late_penalty"],
    )
    messages.success(request, "Deadline and late policy saved.")
    return redirect("teach:deadline", course=course, exercise=exercise)


@login_required
@require_POST
def extension_save(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Give a learner an extension, or change theirs."""
    exercise_obj = _exercise(request, course, exercise, edit=True)
    prefix = request.POST.get("prefix") or None
    form = ExtensionForm(request.POST, exercise=exercise_obj, prefix=prefix)
    if not form.is_valid():
        return _page(request, exercise_obj, extension_form=form, status=400)
    learner = form.cleaned_data["username"]
    deadline_extension_set(exercise=exercise_obj, learner=learner, until=form.cleaned_data["until"])
    messages.success(request, f"Extension for {learner.get_username()} saved.")
    return redirect("teach:deadline", course=course, exercise=exercise)


@login_required
@require_POST
def extension_remove(request: HttpRequest, course: str, exercise: str, pk: int) -> HttpResponse:
    """Take a learner's extension away."""
    exercise_obj = _exercise(request, course, exercise, edit=True)
    extension = get_object_or_404(DeadlineExtension, pk=pk, exercise=exercise_obj)
    deadline_extension_remove(extension=extension)
    messages.success(request, f"Extension for {extension.learner.get_username()} removed.")
    return redirect("teach:deadline", course=course, exercise=exercise)
