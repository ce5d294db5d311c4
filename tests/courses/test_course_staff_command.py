"""manage.py course_staff: give someone a role on a course's staff from a terminal."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from courses.models import CourseStaff
from tests.factories import CourseFactory, CourseStaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("course_staff", *args, stdout=out)
    return out.getvalue()


def test_it_adds_an_instructor_or_an_assistant_and_lists_them():
    course = CourseFactory(slug="web")
    UserFactory(username="ada")
    UserFactory(username="grace")

    run("web", "ada")
    run("web", "grace", "--role", "assistant")

    roles = dict(course.staff.values_list("user__username", "role"))
    assert roles == {"ada": "instructor", "grace": "assistant"}
    assert run("web").splitlines() == ["web: grace (assistant)", "web: ada (instructor)"]


def test_all_gives_the_role_on_every_course():
    first, second = CourseFactory(), CourseFactory()
    UserFactory(username="teacher")

    run("--all", "teacher")

    assert CourseStaff.objects.filter(user__username="teacher").count() == 2
    assert {first.pk, second.pk} == set(CourseStaff.objects.values_list("course_id", flat=True))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", "ada"), "There is no course “nope”"),
        (("web", "nobody"), "There is no account with the username “nobody”"),
        (("--all",), "With --all, give just the username."),
    ],
)
def test_bad_input_is_explained(args, message):
    CourseFactory(slug="web")
    UserFactory(username="ada")
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_the_last_instructor_cannot_be_demoted():
    member = CourseStaffFactory(course=CourseFactory(slug="web"))
    with pytest.raises(CommandError, match="instructor"):
        run("web", member.user.username, "--role", "assistant")
    member.refresh_from_db()
    assert member.role == "instructor"
