"""The instructor area's regrades: start one for an exercise, then follow its report.

Instructors start regrades; assistants may read a regrade's report but not start one.
Every view asks courses.access first, and finds the exercise or regrade within that course.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from authoring.grading_forms import RegradeForm
from courses.access import staff_course
from exercises.models import Exercise, Regrade
from exercises.regrades import regrade_plan, regrade_report, regrade_start


@login_required
@require_http_methods(["GET", "POST"])
def regrade_new(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Show what a regrade would cover, with the "allow lower scores" choice; start it on POST."""
    course_obj, _role = staff_course(request.user, course, edit=True)
    exercise_obj = get_object_or_404(Exercise, course=course_obj, slug=exercise)
    data = request.POST if request.method == "POST" else request.GET
    form = RegradeForm(data, exercise=exercise_obj)
    if not form.is_valid():
        context = {"course": course_obj, "exercise": exercise_obj, "form": form, "plan": None}
        return render(request, "authoring/regrade_confirm.html", context, status=400)
    if request.method == "POST":
        regrade = regrade_start(
            exercise=exercise_obj,
            requested_by=request.user,
            lower_best=form.cleaned_data["lower_best"],
            **form.plan_options(),
        )
        return redirect("teach:regrade", course=course_obj.slug, pk=regrade.pk)
    plan = regrade_plan(exercise=exercise_obj, **form.plan_options())
    context = {"course": course_obj, "exercise": exercise_obj, "form": form, "plan": plan}
    return render(request, "authoring/regrade_confirm.html", context)


def _get_regrade(request: HttpRequest, course: str, pk: int) -> tuple:
    course_obj, _role = staff_course(request.user, course)
    regrade = get_object_or_404(
        Regrade.objects.select_related("exercise", "version", "requested_by"),
        pk=pk,
        exercise__course=course_obj,
    )
    return course_obj, regrade


@login_required
@require_GET
def regrade_detail(request: HttpRequest, course: str, pk: int) -> HttpResponse:
    """Show a regrade: its progress while it runs, then per learner the best before and now."""
    course_obj, regrade = _get_regrade(request, course, pk)
    context = {"course": course_obj, "report": regrade_report(regrade=regrade)}
    return render(request, "authoring/regrade_report.html", context)


@login_required
@require_GET
def regrade_progress(request: HttpRequest, course: str, pk: int) -> HttpResponse:
    """Answer the report's poll: the progress and report so far, and stop once it is done."""
    course_obj, regrade = _get_regrade(request, course, pk)
    report = regrade_report(regrade=regrade)
    context = {"course": course_obj, "report": report}
    html = render_to_string("authoring/regrade_body.html", context, request=request)
    if report.finished:
        return HttpResponseStopPolling(html)
    return HttpResponse(html)
