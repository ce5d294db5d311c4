"""Who counts as a course's staff, and what each role may do."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courses.access import course_role, may_edit, staff_course
from courses.models import Course, CourseStaff
from tests.factories import CourseFactory, CourseStaffFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roles_on_a_course():
    course, other = CourseFactory(), CourseFactory()
    instructor = CourseStaffFactory(course=course).user
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user
    learner = UserFactory()

    assert course_role(instructor, course) == "instructor"
    assert course_role(assistant, course) == "assistant"
    assert course_role(learner, course) is None
    assert course_role(instructor, other) is None
    assert course_role(StaffFactory(), other) == "instructor"  # a superuser
    assert [may_edit(u, course) for u in (instructor, assistant, learner)] == [True, False, False]


def test_staff_course_refuses_outsiders_and_read_only_assistants():
    course = CourseFactory()
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user
    instructor_elsewhere = CourseStaffFactory().user

    assert staff_course(assistant, course.slug) == (course, "assistant")
    with pytest.raises(PermissionDenied):
        staff_course(assistant, course.slug, edit=True)
    with pytest.raises(Http404):
        staff_course(instructor_elsewhere, course.slug)
    with pytest.raises(Http404):
        staff_course(assistant, "no-such-course")


def test_taught_by_lists_only_the_users_courses():
    taught, _ = CourseFactory(), CourseFactory()
    instructor = CourseStaffFactory(course=taught).user

    assert list(Course.objects.taught_by(instructor)) == [taught]
    assert Course.objects.taught_by(UserFactory()).count() == 0
    assert Course.objects.taught_by(StaffFactory()).count() == 2


def test_each_course_has_its_own_invitation_code_and_rotating_changes_it():
    first, second = CourseFactory(), CourseFactory()
    assert first.invite_code != second.invite_code
    old = first.invite_code
    first.rotate_invite_code()
    first.refresh_from_db()
    assert first.invite_code != old and len(first.invite_code) >= 16
