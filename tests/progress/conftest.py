"""Fixtures of the instructor area's pages: a course with its staff, and the access check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import Course, CourseStaff
from tests.factories import CourseFactory, CourseStaffFactory, EnrollmentFactory


@dataclass
class TeachCourse:
    course: Course
    instructor: object
    assistant: object
    other_instructor: object  # of another course
    learner: object  # on the roster


@pytest.fixture
def teach(db) -> TeachCourse:
    course = CourseFactory(slug="web", title="Web Frameworks")
    return TeachCourse(
        course=course,
        instructor=CourseStaffFactory(course=course).user,
        assistant=CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user,
        other_instructor=CourseStaffFactory().user,
        learner=EnrollmentFactory(course=course).learner,
    )


@pytest.fixture
def assert_course_staff_only(teach):
    """Check a course page: sign in first; 404 to learners and other courses' staff; 200 to
    its own instructors and assistants."""

    def check(url: str) -> None:
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(reverse("login"))
        for outsider in (teach.learner, teach.other_instructor):
            client = Client()
            client.force_login(outsider)
            assert client.get(url).status_code == 404, outsider
        for member in (teach.assistant, teach.instructor):
            client = Client()
            client.force_login(member)
            assert client.get(url).status_code == 200, member

    return check
