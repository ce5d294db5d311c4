"""The catalog, course pages and dashboard, with the learner's progress; marking lessons read."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from courses.models import Course, Enrolment
from courses.services import RosterError, enrollment_join, invitation_valid, is_enrolled
from exercises.models import Submission
from lessons.models import Lesson, Status
from lessons.navigation import course_outline
from lessons.reading import ReadState
from progress.models import LessonProgress
from progress.services import (
    course_progress,
    courses_progress,
    lesson_mark_read,
    lesson_mark_unread,
)

RECENT_SUBMISSIONS = 10


def catalog(request: HttpRequest) -> HttpResponse:
    """List the courses that have something to read, with the learner's progress in each."""
    # listed() already joins published lessons, so the count covers only those.
    courses = list(
        Course.objects.listed()
        .only("slug", "title", "summary", "updated")
        .annotate(
            lesson_count=Count("chapters__lessons", distinct=True),
            exercise_count=Count(
                "exercises", filter=Q(exercises__status=Status.PUBLISHED), distinct=True
            ),
        )
    )
    if request.user.is_authenticated:
        progress = courses_progress(learner=request.user, courses=courses)
        for course in courses:
            course.progress = progress[course.id]
    return render(request, "progress/catalog.html", {"courses": courses})


def course_detail(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's description and its chapters with their lessons."""
    course_obj = get_object_or_404(
        Course.objects.defer("description").with_membership(request.user), slug=course
    )
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
        "enrolled": course_obj.user_enrolled,
        "teaching": course_obj.user_teaches,
        "is_open": course_obj.enrolment == Enrolment.OPEN,
    }
    return render(request, "progress/course.html", context)


@require_http_methods(["GET", "POST"])
def course_join(request: HttpRequest, course: str) -> HttpResponse:
    """Put the learner on an open course's roster (the course page's Join button)."""
    course_obj = get_object_or_404(Course, slug=course)
    if not request.user.is_authenticated:
        return redirect_to_login(course_obj.get_absolute_url())
    if request.method != "POST":
        return redirect(course_obj)
    try:
        enrollment_join(course=course_obj, learner=request.user)
    except RosterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You have joined {course_obj.title}.")
    return redirect(course_obj)


@require_http_methods(["GET", "POST"])
def course_join_invite(request: HttpRequest, course: str, code: str) -> HttpResponse:
    """Ask to confirm joining with an invitation link (GET), then join (POST)."""
    course_obj = get_object_or_404(Course, slug=course)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = {
        "course": course_obj,
        "valid": invitation_valid(course=course_obj, code=code),
        "enrolled": is_enrolled(course=course_obj, learner=request.user),
    }
    if request.method == "POST" and context["valid"] and not context["enrolled"]:
        try:
            enrollment_join(course=course_obj, learner=request.user, code=code)
        except RosterError:  # rotated since the page was shown
            context["valid"] = False
        else:
            messages.success(request, f"You have joined {course_obj.title}.")
            return redirect(course_obj)
    status = 200 if context["valid"] else 404
    return render(request, "progress/join.html", context, status=status)


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
    # Not the result: it carries the app's whole log.
    submissions = list(
        Submission.objects.filter(learner=learner)
        .select_related("exercise")
        .only(
            "id",
            "framework",
            "state",
            "verdict",
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
    return render(request, "progress/dashboard.html", context)


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
        return render(request, "progress/read_status.html", {"reading": state})
    return redirect(f"{lesson_url}#lesson-progress")


@require_http_methods(["GET", "POST"])
def lesson_read(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Mark a lesson as read by the learner."""
    return _set_read(request, course, chapter, lesson, read=True)


@require_http_methods(["GET", "POST"])
def lesson_unread(request: HttpRequest, course: str, chapter: str, lesson: str) -> HttpResponse:
    """Mark a lesson as not read by the learner."""
    return _set_read(request, course, chapter, lesson, read=False)
