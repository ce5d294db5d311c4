"""The instructor area (/teach/): the courses a user teaches, and each course's overview.

Every view here asks courses.access first; learners, anonymous visitors and staff of other
courses never get past that.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from courses.access import staff_course
from courses.models import Course


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """List the courses the user teaches."""
    courses = list(
        Course.objects.taught_by(request.user).annotate(
            learner_count=Count("enrollments", distinct=True)
        )
    )
    if not courses:
        raise Http404("You do not teach a course here.")
    return render(request, "authoring/home.html", {"courses": courses})


@login_required
def course(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's overview for its staff."""
    course_obj, role = staff_course(request.user, course)
    return render(request, "authoring/course.html", {"course": course_obj, "role": role})
