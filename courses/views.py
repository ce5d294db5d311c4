"""The catalog, course pages, and learner accounts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from courses.forms import SignupForm
from courses.models import Course
from lessons.navigation import course_outline


def catalog(request: HttpRequest) -> HttpResponse:
    """List the courses that have something to read."""
    # listed() already joins published lessons, so the count covers only those.
    courses = (
        Course.objects.listed()
        .only("slug", "title", "summary")
        .annotate(lesson_count=Count("chapters__lessons", distinct=True))
    )
    return render(request, "courses/catalog.html", {"courses": courses})


def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's description and its chapters with their lessons."""
    course_obj = get_object_or_404(Course.objects.defer("description"), slug=course)
    is_staff = request.user.is_staff
    outline = course_outline(course_obj, include_drafts=is_staff)
    if not outline and not is_staff:
        raise Http404("No such course.")
    context = {"course": course_obj, "outline": outline, "staff_view": is_staff}
    return render(request, "courses/course.html", context)


def _next_url(request: HttpRequest) -> str:
    """Return the safe page to go to after signing up, or the catalog."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "courses:catalog"


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account, log the new learner in and send them on."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect(next_url)
    next_value = next_url if next_url != "courses:catalog" else ""
    return render(request, "registration/signup.html", {"form": form, "next": next_value})


class LogoutView(auth_views.LogoutView):
    """Log out on POST; on GET ask first, since a link must never log anyone out."""

    http_method_names = ["get", "post", "options"]
    template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, self.template_name, {"next": request.GET.get("next", "")})
