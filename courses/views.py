"""The catalog, course pages, the learner's dashboard and progress, and accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from courses.forms import LoginForm, SignupForm
from courses.models import Course, LessonProgress
from courses.progress import (
    ReadState,
    course_progress,
    courses_progress,
    lesson_mark_read,
    lesson_mark_unread,
)
from courses.throttles import (
    client_ip,
    login_ip_throttle,
    login_username_throttle,
    signup_throttle,
    username_key,
    wait_text,
)
from lessons.models import Lesson
from lessons.navigation import course_outline
from sandbox.models import Submission

RECENT_SUBMISSIONS = 10


def catalog(request: HttpRequest) -> HttpResponse:
    """List the courses that have something to read, with the learner's progress in each."""
    # listed() already joins published lessons, so the count covers only those.
    courses = list(
        Course.objects.listed()
        .only("slug", "title", "summary", "updated")
        .annotate(lesson_count=Count("chapters__lessons", distinct=True))
    )
    if request.user.is_authenticated:
        progress = courses_progress(learner=request.user, courses=courses)
        for course in courses:
            course.progress = progress[course.id]
    return render(request, "courses/catalog.html", {"courses": courses})


def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's description and its chapters with their lessons."""
    course_obj = get_object_or_404(Course.objects.defer("description"), slug=course)
    is_staff = request.user.is_staff
    outline = course_outline(course_obj, include_drafts=is_staff)
    if not outline and not is_staff:
        raise Http404("No such course.")
    progress = None
    if request.user.is_authenticated:
        progress = course_progress(learner=request.user, course=course_obj)
    context = {
        "course": course_obj,
        "outline": outline,
        "staff_view": is_staff,
        "progress": progress,
        "read_ids": progress.read_ids if progress else frozenset(),
    }
    return render(request, "courses/course.html", context)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show the learner's courses with their progress, and their latest submissions."""
    learner = request.user
    listed = Course.objects.listed().only("slug", "title", "summary", "updated")
    started = list(
        listed.filter(
            Q(
                id__in=LessonProgress.objects.filter(learner=learner).values(
                    "lesson__chapter__course"
                )
            )
            | Q(id__in=Submission.objects.filter(learner=learner).values("exercise__course"))
        )
    )
    # A new learner sees every course, so the dashboard says where to start.
    courses = started or list(listed)
    progress = courses_progress(learner=learner, courses=courses)
    for course in courses:
        course.progress = progress[course.id]
    # The result's status only: the whole result carries the app's log.
    submissions = list(
        Submission.objects.filter(learner=learner)
        .select_related("exercise")
        .annotate(outcome=KT("result__status"))
        .only(
            "id",
            "framework",
            "state",
            "score",
            "max_score",
            "created",
            "exercise__slug",
            "exercise__title",
        )
        .order_by("-created", "-id")[:RECENT_SUBMISSIONS]
    )
    now = timezone.now()
    for submission in submissions:
        submission.ago = _ago(submission.created, now)
    context = {"courses": courses, "started": bool(started), "submissions": submissions}
    return render(request, "courses/dashboard.html", context)


def _ago(moment: datetime, now: datetime) -> str:
    """Return "just now" or "3 hours ago"."""
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


def _readable_lesson(request: HttpRequest, course: str, chapter: str, lesson: str) -> Lesson:
    """Fetch a lesson the user may read (drafts only for staff), or 404."""
    return get_object_or_404(
        Lesson.objects.visible_to(request.user).only("id", "status"),
        chapter__course__slug=course,
        chapter__slug=chapter,
        slug=lesson,
    )


def _set_read(
    request: HttpRequest, course: str, chapter: str, lesson: str, *, read: bool
) -> HttpResponse:
    """Mark a lesson read or unread, then show the new state (htmx) or go back to the lesson."""
    lesson_url = reverse(
        "lessons:lesson", kwargs={"course": course, "chapter": chapter, "lesson": lesson}
    )
    if not request.user.is_authenticated:
        return redirect_to_login(lesson_url)
    lesson_obj = _readable_lesson(request, course, chapter, lesson)
    if request.method != "POST":
        # Reached after logging in from a "Mark as read" click: nothing is changed by a GET.
        return redirect(lesson_url)
    if read:
        lesson_mark_read(learner=request.user, lesson=lesson_obj)
    else:
        lesson_mark_unread(learner=request.user, lesson=lesson_obj)
    if request.htmx:
        state = ReadState(course, chapter, lesson, is_read=read)
        return render(request, "courses/read_status.html", {"reading": state})
    return redirect(f"{lesson_url}#lesson-progress")


@require_http_methods(["GET", "POST"])
def lesson_read(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Mark a lesson as read by the learner."""
    return _set_read(request, course, chapter, lesson, read=True)


@require_http_methods(["GET", "POST"])
def lesson_unread(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Mark a lesson as not read by the learner."""
    return _set_read(request, course, chapter, lesson, read=False)


def _next_url(request: HttpRequest) -> str:
    """Return the safe page to go to after signing up, or the catalog."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path: redirect() would look a bare word such as "0" up as a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
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
    next_value = next_url if next_url != "courses:catalog" else ""
    throttle, address = signup_throttle(), client_ip(request)
    if request.method == "POST" and (wait := throttle.retry_after(address)):
        # Refused before the form is read; what was typed (bar the passwords) is shown again.
        form = SignupForm(initial={k: request.POST.get(k, "") for k in ("username", "email")})
        context = {
            "form": form,
            "next": next_value,
            "throttled": (
                "Too many accounts were created from your network in the last hour. "
                f"Try again in {wait_text(wait)}, or ask your instructor for help."
            ),
        }
        return _too_many(render(request, "registration/signup.html", context, status=429), wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        throttle.hit(address)
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": next_value})


class LoginView(auth_views.LoginView):
    """Django's log-in, refused for a while after too many failures from an address or for a
    username, so that passwords cannot be guessed at speed."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = username_key(request.POST.get("username", ""))
        self.failure_keys = [
            (login_ip_throttle(), client_ip(request)),
            (login_username_throttle(), username),
        ]
        wait = max(throttle.retry_after(key) for throttle, key in self.failure_keys)
        if wait:
            # The password is not even checked: a correct guess must not be told apart.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username", "")}
            )
            context = self.get_context_data(
                form=form,
                throttled=(
                    "Too many failed log-ins for this account or from your network. "
                    f"Try again in {wait_text(wait)}. If you forgot your password, ask your "
                    "instructor to set a new one."
                ),
            )
            return _too_many(self.render_to_response(context, status=429), wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        for throttle, key in self.failure_keys:
            throttle.hit(key)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        # The account's owner is in: guesses made at it so far no longer count against them.
        # The address keeps its count, or one account of one's own would reset it.
        throttle, key = self.failure_keys[1]
        throttle.reset(key)
        return super().form_valid(form)


def _too_many(response: HttpResponse, wait: int) -> HttpResponse:
    response["Retry-After"] = str(wait)
    return response


class LogoutView(auth_views.LogoutView):
    """Log out on POST; on GET ask first, since a link must never log anyone out."""

    http_method_names = ["get", "post", "options"]
    template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return render(request, self.template_name, {"next": request.GET.get("next", "")})
