"""Every address of the instructor area refuses whoever is not on the course's staff.

The test walks every URL pattern of authoring.urls, so an address added later is checked
without a line here, as long as its parameters are in PARAMETERS. The rules, for GET and
POST alike (a method an address answers for nobody gets 405 from everyone): anonymous
visitors are sent to log in; learners (even on the roster) and
instructors of another course get 404, as if the course did not exist; an assistant asking
to change something gets 403. Addresses that only show something answer an assistant's
POST with 405; a POST an assistant may make goes in ASSISTANT_MAY_POST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, reverse
from django.urls.converters import IntConverter

from authoring import urls as teach_urls
from courses.models import CourseStaff
from tests.factories import (
    ChapterFactory,
    CourseStaffFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonFactory,
    SubmissionFactory,
    UserFactory,
)

NAMESPACE = teach_urls.app_name
# Addresses that belong to no course: the user's own courses, and the operations page.
NOT_OF_A_COURSE = {"home", "ops"}
# POSTs an assistant may make: they change nothing (a Markdown preview).
ASSISTANT_MAY_POST: set[str] = {"exercise_preview"}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """A course with one of everything, its staff and a learner on its roster; another course."""

    course: object
    chapter: object
    lesson: object
    exercise: object
    submission: object
    learner: object
    instructor: object
    assistant: object
    assistant_member: object
    other_instructor: object


# How each URL parameter is filled, by name. A value is a function of the world and the
# pattern's converter (an int converter wants a primary key, others a slug or a username).
# Objects that other parts of the site add (a regrade) get the submission's primary key: every
# refusal checked here must come before the view looks the object up.
PARAMETERS: dict[str, Callable[[World, object], object]] = {
    "course": lambda w, _: w.course.slug,
    "chapter": lambda w, _: w.chapter.pk,
    "lesson": lambda w, _: w.lesson.pk,
    "exercise": lambda w, _: w.exercise.slug,
    "submission": lambda w, _: w.submission.pk,
    "regrade": lambda w, _: w.submission.pk,
    "pk": lambda w, _: w.submission.pk,  # a regrade's or an extension's
    "learner": lambda w, conv: (
        w.learner.pk if isinstance(conv, IntConverter) else w.learner.username
    ),
    "member": lambda w, _: w.assistant_member.pk,
    "username": lambda w, _: w.learner.username,
}


def teach_patterns(
    patterns=teach_urls.urlpatterns, namespace: str = NAMESPACE
) -> Iterator[tuple[str, URLPattern]]:
    """Yield (name to reverse, pattern) for every pattern of authoring.urls, includes too."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            yield from teach_patterns(entry.url_patterns, inner)
        else:
            assert entry.name, f"/teach/ pattern {entry.pattern} needs a name to be tested"
            yield f"{namespace}:{entry.name}", entry


PATTERNS = sorted(teach_patterns(), key=lambda item: item[0])


def url_of(world: World, name: str, pattern: URLPattern) -> str:
    converters = getattr(pattern.pattern, "converters", {})
    names = list(pattern.pattern.regex.groupindex)
    unknown = [param for param in names if param not in PARAMETERS]
    assert not unknown, (
        f"{name} has the URL parameter(s) {unknown}, which PARAMETERS in {__file__} does not "
        "know: add how to fill them."
    )
    kwargs = {param: PARAMETERS[param](world, converters.get(param)) for param in names}
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def world(db) -> World:
    instructor = CourseStaffFactory()
    course = instructor.course
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT)
    chapter = ChapterFactory(course=course)
    exercise = ExerciseFactory(course=course)
    learner = UserFactory()
    EnrollmentFactory(course=course, learner=learner)
    return World(
        course=course,
        chapter=chapter,
        lesson=LessonFactory(chapter=chapter),
        exercise=exercise,
        submission=SubmissionFactory(learner=learner, exercise=exercise),
        learner=learner,
        instructor=instructor.user,
        assistant=assistant.user,
        assistant_member=assistant,
        other_instructor=CourseStaffFactory().user,
    )


def test_the_walk_finds_the_instructor_area():
    names = {name for name, _ in PATTERNS}
    assert {"teach:home", "teach:course", "teach:lesson_move", "teach:staff_add"} <= names


def test_every_address_but_the_home_page_belongs_to_a_course():
    for name, pattern in PATTERNS:
        if name.split(":")[-1] not in NOT_OF_A_COURSE:
            assert "course" in pattern.pattern.regex.groupindex, (
                f"{name} has no <course> parameter, so staff_course cannot check who asks"
            )


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_outsiders_are_refused(client, world, name, pattern, method):
    url = url_of(world, name, pattern)
    send = getattr(client, method)
    client.force_login(world.instructor)
    if send(url).status_code == 405:
        # The address does not answer this method for anyone, so a 405 tells nothing.
        client.logout()
        anonymous = send(url)
        assert anonymous.status_code == 405 or anonymous["Location"].startswith(
            reverse(settings.LOGIN_URL) + "?next="
        ), f"{method.upper()} {url} by an anonymous visitor"
        for user in (world.learner, world.other_instructor):
            client.force_login(user)
            assert send(url).status_code in (404, 405), f"{method.upper()} {url} by {user}"
        return
    client.logout()

    anonymous = send(url)
    assert anonymous.status_code == 302, f"{method.upper()} {url} by an anonymous visitor"
    assert anonymous["Location"].startswith(reverse(settings.LOGIN_URL) + "?next=")

    client.force_login(world.learner)  # on the course's roster, but a learner
    assert send(url).status_code == 404, f"{method.upper()} {url} by a learner"

    if name.split(":")[-1] in NOT_OF_A_COURSE:
        return
    client.force_login(world.other_instructor)
    assert send(url).status_code == 404, f"{method.upper()} {url} by another course's instructor"


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_assistants_cannot_change_anything(client, world, name, pattern):
    url = url_of(world, name, pattern)
    client.force_login(world.assistant)
    before = _snapshot(world)

    response = client.post(url)

    if name.split(":")[-1] in ASSISTANT_MAY_POST:
        assert response.status_code == 200, f"POST {url} by an assistant"
    else:
        # 403: a change only instructors may make; 405: the address changes nothing by POST.
        assert response.status_code in (403, 405), f"POST {url} by an assistant"
    assert _snapshot(world) == before


def test_assistants_see_the_overview_without_change_controls(client, world):
    client.force_login(world.assistant)

    response = client.get(reverse("teach:course", kwargs={"course": world.course.slug}))

    html = response.content.decode()
    assert response.status_code == 200
    assert world.lesson.title in html and world.learner.username in html
    assert f'action="/teach/{world.course.slug}/' not in html  # no form changes the course
    assert "hx-post" not in html and "Remove" not in html


def _snapshot(world: World) -> tuple:
    """Return what a change of the course would alter: outline, roster, staff, enrolment."""
    course = type(world.course).objects.get(pk=world.course.pk)
    return (
        course.enrolment,
        course.invite_code,
        list(course.chapters.values_list("pk", "order", "title")),
        list(
            type(world.lesson)
            .objects.filter(chapter__course=course)
            .values_list("pk", "order", "status")
        ),
        list(course.enrollments.values_list("learner_id", flat=True)),
        list(course.staff.values_list("user_id", "role")),
        get_user_model().objects.count(),
    )
