"""The instructor area's gradebook, learner and exercise analytics pages, and operations.

Each view checks access first: a course's pages are for its staff (courses.access; assistants
read them too), answering 404 to everyone else; operations are for superusers only.
"""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from courses.access import staff_course
from progress.analytics import exercise_analytics as read_exercise_analytics
from progress.gradebook import course_gradebook, csv_header, csv_rows, learner_record
from progress.ops import grading_operations


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name) in ("1", "on", "true")


@login_required
@require_GET
def gradebook(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's gradebook, filtered to one exercise or the learners yet to pass."""
    course_obj, role = staff_course(request.user, course)
    book = course_gradebook(
        course=course_obj,
        include_drafts=_flag(request, "drafts"),
        exercise=request.GET.get("exercise", ""),
        not_passed=_flag(request, "not_passed"),
    )
    return render(request, "progress/teach_gradebook.html", {"book": book, "role": role})


@login_required
@require_GET
def gradebook_csv(request: HttpRequest, course: str) -> HttpResponse:
    """Send the gradebook as CSV (UTF-8 with a BOM, so spreadsheets read its names right)."""
    course_obj, _ = staff_course(request.user, course)
    book = course_gradebook(course=course_obj, include_drafts=_flag(request, "drafts"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{course_obj.slug}-gradebook-{date.today():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(csv_header(book))
    writer.writerows(csv_rows(book))
    return response


@login_required
@require_GET
def learner(request: HttpRequest, course: str, username: str) -> HttpResponse:
    """List one learner's submissions to a course's exercises."""
    course_obj, role = staff_course(request.user, course)
    record = learner_record(course=course_obj, username=username)
    context = {"course": course_obj, "role": role, "record": record}
    return render(request, "progress/teach_learner.html", context)


@login_required
@require_GET
def exercise_analytics(request: HttpRequest, course: str, exercise: str) -> HttpResponse:
    """Show how a course's learners fare on one exercise."""
    course_obj, role = staff_course(request.user, course)
    stats = read_exercise_analytics(course=course_obj, slug=exercise)
    return render(request, "progress/teach_exercise.html", {"stats": stats, "role": role})


@login_required
@require_GET
def ops(request: HttpRequest) -> HttpResponse:
    """Show the state of grading to a superuser."""
    if not request.user.is_superuser:
        raise Http404("No such page.")
    return render(request, "progress/teach_ops.html", {"ops": grading_operations()})
