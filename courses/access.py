"""Who may do what on a course: the one place the instructor area's views ask.

A course's staff (CourseStaff) are instructors, who may do everything on the course, and
assistants, who read the gradebook and submissions but change nothing. Superusers act as
instructors of every course. Everyone else is refused: the course's teaching pages answer
404 to them, as if they did not exist, and an assistant asking to change something gets 403.
"""

from __future__ import annotations

import time

from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courses.models import Course, CourseStaff

INSTRUCTOR = CourseStaff.Role.INSTRUCTOR
ASSISTANT = CourseStaff.Role.ASSISTANT


def course_role(user, course: Course) -> str | None:
    """Return `user`'s role on `course` (instructor or assistant), or None for non-staff."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return INSTRUCTOR
    return (
        CourseStaff.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    )


def may_edit(user, course: Course) -> bool:
    """Say whether `user` may change `course`: its content, exercises, grades and roster."""
    return course_role(user, course) == INSTRUCTOR


def staff_course(user, slug: str, *, edit: bool = False) -> tuple[Course, str]:
    """Return the course with this slug and `user`'s role there, or refuse.

    Raise Http404 when there is no such course or `user` is not on its staff, and
    PermissionDenied when `edit` is asked of an assistant. Callers make sure the user is
    signed in first (login_required), so anonymous visitors are sent to sign in.
    """
    course = Course.objects.filter(slug=slug).first()
    role = course_role(user, course) if course is not None else None
    if role is None:
        raise Http404("No such course.")
    if edit and role != INSTRUCTOR:
        raise PermissionDenied("Only the course's instructors may change it.")
    return course, role


# Whether a user teaches is asked on every page (the header's Teach link), so the answer is
# kept in their session: asked when they log in, and again only after their staff roles
# changed (courses/signals.py leaves a mark in the cache, newer than the session's answer).
# If the mark is lost, the link may be stale until they log in again: the teaching pages
# check access themselves.
TEACHING_SESSION_KEY = "teaches_a_course"


def teaching_changed_key(user_id: int) -> str:
    return f"teaching-changed:{user_id}"


def teaches_a_course(user, session: SessionBase) -> bool:
    """Say whether `user` is on the staff of any course (superusers teach every course).

    `session` is the user's, where the answer is kept.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    known = session.get(TEACHING_SESSION_KEY)
    changed = cache.get(teaching_changed_key(user.pk), 0.0)
    if known is None or known[1] < changed:
        teaches = CourseStaff.objects.filter(user=user).exists()
        session[TEACHING_SESSION_KEY] = [teaches, time.time()]
        return teaches
    return bool(known[0])
