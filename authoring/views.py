"""The instructor area (/teach/): the courses a user teaches, and each course's overview.

Every view here asks courses.access first; learners, anonymous visitors and staff of other
courses never get past that, and a view that changes something asks for an instructor
(assistants get 403). A change is a POST; a GET of its address (say, after logging in from
a button) changes nothing and leads back to the overview, except where the GET asks to
confirm the change. Who may ask comes before which method: a learner gets 404 whatever
the method, an assistant 403 for every change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from authoring import services as outline
from authoring.course_forms import (
    ChapterForm,
    EnrolmentForm,
    LessonForm,
    LessonStatusForm,
    MoveForm,
    StaffForm,
)
from courses import services as roster
from courses.access import INSTRUCTOR, staff_course
from courses.models import Chapter, Course, CourseStaff, Enrollment, Status
from exercises.models import Exercise
from lessons.models import Lesson


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """List the courses the user teaches, with their counts."""
    courses = list(
        Course.objects.taught_by(request.user).annotate(
            learner_count=Count("enrollments", distinct=True),
            lesson_count=Count("chapters__lessons", distinct=True),
            exercise_count=Count("exercises", distinct=True),
        )
    )
    if not courses:
        raise Http404("You do not teach a course here.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(request, "authoring/home.html", {"courses": courses})


@login_required
def course(request: HttpRequest, course: str) -> HttpResponse:
    """Show a course's overview for its staff: outline, exercises, roster and staff."""
    course_obj, role = staff_course(request.user, course)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _overview(request, course_obj, role)


# The outline ------------------------------------------------------------------------------


@login_required
def chapter_create(request: HttpRequest, course: str) -> HttpResponse:
    """Add a chapter at the end of the course."""
    course_obj, role = staff_course(request.user, course, edit=True)
    if request.method != "POST":
        return _back(course_obj)
    form = ChapterForm(request.POST)
    if form.is_valid():
        try:
            chapter = outline.chapter_create(course=course_obj, title=form.cleaned_data["title"])
        except outline.OutlineError as exc:
            form.add_error("title", str(exc))
        else:
            messages.success(request, f"Chapter “{chapter.title}” added.")
            return _back(course_obj, f"chapter-{chapter.pk}")
    return _overview(request, course_obj, role, chapter_form=form, status=400)


@login_required
def lesson_create(request: HttpRequest, course: str) -> HttpResponse:
    """Add a draft lesson at the end of one of the course's chapters."""
    course_obj, role = staff_course(request.user, course, edit=True)
    if request.method != "POST":
        return _back(course_obj)
    form = LessonForm(request.POST, course=course_obj)
    if form.is_valid():
        try:
            lesson = outline.lesson_create(
                chapter=form.cleaned_data["chapter"], title=form.cleaned_data["title"]
            )
        except outline.OutlineError as exc:
            form.add_error("title", str(exc))
        else:
            messages.success(request, f"Lesson “{lesson.title}” added as a draft.")
            return _back(course_obj, f"lesson-{lesson.pk}")
    return _overview(request, course_obj, role, lesson_form=form, status=400)


@login_required
def chapter_move(request: HttpRequest, course: str, chapter: int) -> HttpResponse:
    """Move a chapter one place up or down."""
    course_obj, role = staff_course(request.user, course, edit=True)
    chapter_obj = get_object_or_404(Chapter, pk=chapter, course=course_obj)
    return _move(
        request,
        course_obj,
        role,
        chapter_obj,
        "chapter",
        lambda direction: outline.chapter_move(chapter=chapter_obj, direction=direction),
    )


@login_required
def lesson_move(request: HttpRequest, course: str, lesson: int) -> HttpResponse:
    """Move a lesson one place up or down in its chapter."""
    course_obj, role = staff_course(request.user, course, edit=True)
    lesson_obj = _course_lesson(course_obj, lesson)
    return _move(
        request,
        course_obj,
        role,
        lesson_obj,
        "lesson",
        lambda direction: outline.lesson_move(lesson=lesson_obj, direction=direction),
    )


def _move(request, course_obj, role, item, noun: str, move) -> HttpResponse:
    """Move a chapter or lesson as the posted direction says, and show the outline changed."""
    if request.method != "POST":
        return _back(course_obj, f"{noun}-{item.pk}")
    form = MoveForm(request.POST)
    direction = form.cleaned_data["direction"] if form.is_valid() else ""
    if direction:
        move(direction)
    return _outline_changed(
        request,
        course_obj,
        role,
        anchor=f"{noun}-{item.pk}",
        direction=direction,
        announce=f"{noun.capitalize()} “{item.title}” moved {direction}." if direction else "",
    )


@login_required
def lesson_status(request: HttpRequest, course: str, lesson: int) -> HttpResponse:
    """Publish a lesson, or turn it back into a draft."""
    course_obj, role = staff_course(request.user, course, edit=True)
    lesson_obj = _course_lesson(course_obj, lesson)
    if request.method != "POST":
        return _back(course_obj, f"lesson-{lesson_obj.pk}")
    form = LessonStatusForm(request.POST)
    announce = ""
    if form.is_valid():
        outline.lesson_set_status(lesson=lesson_obj, status=form.cleaned_data["status"])
        shown = "published" if lesson_obj.is_published else "a draft again"
        announce = f"Lesson “{lesson_obj.title}” is {shown}."
    return _outline_changed(
        request, course_obj, role, anchor=f"lesson-{lesson_obj.pk}", announce=announce
    )


# Roster and enrolment ----------------------------------------------------------------------


@login_required
def enrolment(request: HttpRequest, course: str) -> HttpResponse:
    """Make the course open to every signed-in learner, or by invitation only."""
    course_obj, role = staff_course(request.user, course, edit=True)
    if request.method != "POST":
        return _back(course_obj, "enrolment")
    form = EnrolmentForm(request.POST)
    if not form.is_valid():
        return _overview(request, course_obj, role, enrolment_form=form, status=400)
    roster.course_set_enrolment(course=course_obj, enrolment=form.cleaned_data["enrolment"])
    messages.success(request, f"Enrolment: {course_obj.get_enrolment_display()}.")
    return _back(course_obj, "enrolment")


@login_required
def invitation_rotate(request: HttpRequest, course: str) -> HttpResponse:
    """Make a new invitation link; links with the old code stop working."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    if request.method == "POST":
        roster.course_rotate_invitation(course=course_obj)
        messages.success(request, "A new invitation link is ready; the old one no longer works.")
    return _back(course_obj, "enrolment")


@login_required
def roster_remove(request: HttpRequest, course: str, learner: int) -> HttpResponse:
    """Ask to confirm (GET), then take a learner off the roster (POST)."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("learner"), course=course_obj, learner_id=learner
    )
    if request.method != "POST":
        return render(
            request,
            "authoring/confirm_remove.html",
            {"course": course_obj, "removing": "learner", "person": enrollment.learner},
        )
    roster.enrollment_remove(course=course_obj, learner_id=enrollment.learner_id)
    name = enrollment.learner.get_username()
    messages.success(request, f"{name} is no longer on the roster.")
    return _back(course_obj, "roster")


# Staff ---------------------------------------------------------------------------------------


@login_required
def staff_add(request: HttpRequest, course: str) -> HttpResponse:
    """Add someone to the course's staff by username, or change their role."""
    course_obj, role = staff_course(request.user, course, edit=True)
    if request.method != "POST":
        return _back(course_obj, "staff")
    form = StaffForm(request.POST)
    if form.is_valid():
        try:
            member = roster.staff_add(
                course=course_obj,
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
            )
        except roster.RosterError as exc:
            form.add_error("username", str(exc))
        else:
            name, shown = member.user.get_username(), member.get_role_display().lower()
            messages.success(request, f"{name} is now an {shown} of this course.")
            return _back(course_obj, "staff")
    return _overview(request, course_obj, role, staff_form=form, status=400)


@login_required
def staff_remove(request: HttpRequest, course: str, member: int) -> HttpResponse:
    """Ask to confirm (GET), then remove someone from the course's staff (POST)."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    member_obj = get_object_or_404(
        CourseStaff.objects.select_related("user"), course=course_obj, pk=member
    )
    if request.method != "POST":
        return render(
            request,
            "authoring/confirm_remove.html",
            {
                "course": course_obj,
                "removing": "staff",
                "person": member_obj.user,
                "member_pk": member_obj.pk,
            },
        )
    try:
        roster.staff_remove(course=course_obj, member_id=member_obj.pk)
    except roster.RosterError as exc:
        messages.error(request, str(exc))
    else:
        name = member_obj.user.get_username()
        messages.success(request, f"{name} is no longer on the course's staff.")
    return _back(course_obj, "staff")


# Helpers -------------------------------------------------------------------------------------


def _course_lesson(course: Course, pk: int) -> Lesson:
    return get_object_or_404(
        Lesson.objects.select_related("chapter"), pk=pk, chapter__course=course
    )


def _back(course: Course, anchor: str = "") -> HttpResponse:
    url = reverse("teach:course", kwargs={"course": course.slug})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _outline_changed(
    request: HttpRequest,
    course: Course,
    role: str,
    *,
    anchor: str,
    direction: str = "",
    announce: str = "",
) -> HttpResponse:
    """Answer htmx with the outline again (focus stays on the item), others with a redirect."""
    if not request.htmx:
        return _back(course, anchor)
    context = {
        "course": course,
        "may_edit": role == INSTRUCTOR,
        "chapters": _chapters(course),
        "changed": anchor,
        "direction": direction,
        "announce": announce,
    }
    return render(request, "authoring/_outline.html", context)


def _chapters(course: Course) -> list[Chapter]:
    """Return the course's chapters in order, each with its `lesson_list` in order."""
    chapters = list(course.chapters.order_by("order", "id"))
    lessons: dict[int, list[Lesson]] = {chapter.pk: [] for chapter in chapters}
    rows = Lesson.objects.filter(chapter__course=course).select_related("chapter__course")
    for lesson in rows.order_by("order", "id"):
        lessons[lesson.chapter_id].append(lesson)
    for chapter in chapters:
        chapter.lesson_list = lessons[chapter.pk]
    return chapters


def _overview(
    request: HttpRequest,
    course: Course,
    role: str,
    *,
    status: int = 200,
    **forms,
) -> HttpResponse:
    """Render the overview; a form passed in (bound, with its errors) replaces the blank one."""
    invitation_path = reverse(
        "courses:join_invite", kwargs={"course": course.slug, "code": course.invite_code}
    )
    context = {
        "course": course,
        "role": role,
        "may_edit": role == INSTRUCTOR,
        "chapters": _chapters(course),
        "exercises": Exercise.objects.filter(course=course).order_by("order", "slug"),
        "enrollments": Enrollment.objects.filter(course=course)
        .select_related("learner")
        .order_by("joined", "id"),
        "staff": CourseStaff.objects.filter(course=course)
        .select_related("user")
        .order_by("role", "user__username"),
        "invitation_url": request.build_absolute_uri(invitation_path),
        "Status": Status,
        "chapter_form": ChapterForm(),
        "lesson_form": LessonForm(course=course),
        "enrolment_form": EnrolmentForm(initial={"enrolment": course.enrolment}),
        "staff_form": StaffForm(),
        **forms,
    }
    return render(request, "authoring/course.html", context, status=status)
