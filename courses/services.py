"""Rosters and staff: learners joining and leaving a course, and who teaches it.

What an invitation-only course means for a learner who is not on its roster: they may read
its published lessons like anyone, but their submissions to its exercises are refused with
a message telling them to ask their instructor for the invitation link. An open course puts
a learner on its roster when they join from the course page, or at their first submission
to one of its exercises. Course staff (and superusers) are never put on a roster by
submitting: they try exercises out, they do not take the course.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from courses.access import course_role
from courses.models import Course, CourseStaff, Enrollment, Enrolment


class RosterError(ValueError):
    """A roster or staff change that cannot be made; the message says why, for the user."""


class InvitationInvalid(RosterError):
    """The invitation code is not (or no longer) the course's."""


class NotOnRoster(RosterError):
    """A learner outside an invitation-only course's roster tried to submit to it."""


INVITATION_INVALID = (
    "This invitation link is not valid: it may have been mistyped, or the course's "
    "instructors have made a new one since. Ask them for the current link."
)
INVITATION_NEEDED = (
    "Only learners on this course's roster may join without the invitation link. "
    "Ask your instructor for it."
)
NOT_ON_ROSTER = (
    "This course is by invitation, and you are not on its roster, so your submission was "
    "not saved. Ask your instructor for the course's invitation link and join with it; "
    "then submit again."
)


def is_enrolled(*, course: Course, learner) -> bool:
    """Say whether `learner` is on `course`'s roster."""
    return (
        learner.is_authenticated
        and Enrollment.objects.filter(course=course, learner=learner).exists()
    )


def invitation_valid(*, course: Course, code: str) -> bool:
    """Say whether `code` is `course`'s current invitation code."""
    return secrets.compare_digest(code, course.invite_code)


def enrollment_join(*, course: Course, learner, code: str | None = None) -> Enrollment:
    """Put `learner` on `course`'s roster, and return their enrollment.

    An invitation-only course needs its current invitation `code`; a learner already on the
    roster keeps their enrollment (and join date). Raise InvitationInvalid for a wrong code,
    or RosterError when an invitation-only course is joined without one.
    """
    if code is not None and not invitation_valid(course=course, code=code):
        raise InvitationInvalid(INVITATION_INVALID)
    existing = Enrollment.objects.filter(course=course, learner=learner).first()
    if existing is not None:
        return existing
    if code is None and course.enrolment != Enrolment.OPEN:
        raise RosterError(INVITATION_NEEDED)
    return _enroll(course, learner)


def enrollment_for_submission(*, course: Course, learner) -> None:
    """Make sure `learner` may submit to `course`'s exercises, joining an open course.

    Raise NotOnRoster when the course is by invitation and they are not on its roster.
    Called by the submission service inside its transaction, so a refused submission
    leaves no enrollment behind.
    """
    if course_role(learner, course) is not None:
        return
    if Enrollment.objects.filter(course=course, learner=learner).exists():
        return
    if course.enrolment != Enrolment.OPEN:
        raise NotOnRoster(NOT_ON_ROSTER)
    _enroll(course, learner)


def _enroll(course: Course, learner) -> Enrollment:
    try:
        with transaction.atomic():
            return Enrollment.objects.create(course=course, learner=learner)
    except IntegrityError:  # joined at the same moment from another tab or request
        return Enrollment.objects.get(course=course, learner=learner)


def enrollment_remove(*, course: Course, learner_id: int) -> bool:
    """Take a learner off `course`'s roster; True if they were on it.

    Their submissions and progress stay: only the roster entry goes, so the gradebook
    no longer lists them. On an open course they join again by submitting.
    """
    deleted, _ = Enrollment.objects.filter(course=course, learner_id=learner_id).delete()
    return bool(deleted)


def course_set_enrolment(*, course: Course, enrolment: str) -> None:
    """Set how learners join `course`: open, or by invitation only."""
    if enrolment not in Enrolment.values:
        raise RosterError("Choose whether the course is open or by invitation.")
    course.enrolment = enrolment
    course.save(update_fields=["enrolment", "updated"])


def course_rotate_invitation(*, course: Course) -> str:
    """Give `course` a new invitation code, so links with the old one stop working."""
    course.rotate_invite_code()
    return course.invite_code


def staff_add(*, course: Course, username: str, role: str) -> CourseStaff:
    """Add the user named `username` to `course`'s staff with `role`, or change their role.

    Raise RosterError when there is no such active user, the role is unknown, or the
    change would leave the course without an instructor.
    """
    if role not in CourseStaff.Role.values:
        raise RosterError("Choose a role: instructor or assistant.")
    username = username.strip()
    if not username:
        raise RosterError("Enter the username of the person to add.")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise RosterError(f"There is no account with the username “{username}”.")
    with transaction.atomic():
        _lock_instructors(course)
        member = CourseStaff.objects.filter(course=course, user=user).first()
        if member is None:
            return CourseStaff.objects.create(course=course, user=user, role=role)
        if member.role == CourseStaff.Role.INSTRUCTOR and role != member.role:
            _refuse_last_instructor(course, member)
        member.role = role
        member.save(update_fields=["role"])
        return member


def staff_remove(*, course: Course, member_id: int) -> CourseStaff:
    """Remove a member from `course`'s staff and return them; refuse the last instructor."""
    with transaction.atomic():
        _lock_instructors(course)
        member = (
            CourseStaff.objects.select_related("user").filter(course=course, pk=member_id).first()
        )
        if member is None:
            raise RosterError("This person is not on the course's staff any more.")
        if member.role == CourseStaff.Role.INSTRUCTOR:
            _refuse_last_instructor(course, member)
        member.delete()
        return member


def _lock_instructors(course: Course) -> None:
    # Two instructors removing each other at once must not both succeed.
    list(
        CourseStaff.objects.select_for_update()
        .filter(course=course, role=CourseStaff.Role.INSTRUCTOR)
        .values_list("pk")
    )


def _refuse_last_instructor(course: Course, member: CourseStaff) -> None:
    others = CourseStaff.objects.filter(course=course, role=CourseStaff.Role.INSTRUCTOR).exclude(
        pk=member.pk
    )
    if not others.exists():
        raise RosterError(
            f"{member.user.get_username()} is the course's only instructor: add another "
            "instructor first."
        )
