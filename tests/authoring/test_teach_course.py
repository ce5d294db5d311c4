"""The instructor area's home and course overview: outline, exercises, roster, staff."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authoring import services as outline
from courses import services as roster
from courses.models import Chapter, CourseStaff, Enrollment, Enrolment, Status
from lessons.models import Lesson
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    CourseStaffFactory,
    EnrollmentFactory,
    ExerciseFactory,
    LessonFactory,
    StaffFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def course(db):
    course = CourseFactory(slug="web", title="Web Frameworks")
    basics = ChapterFactory(course=course, slug="basics", title="Basics", order=5)
    ChapterFactory(course=course, slug="views", title="Views", order=9)
    for order, slug in [(2, "intro"), (2, "setup"), (7, "routes")]:  # a tie and a gap
        LessonFactory(chapter=basics, slug=slug, title=slug.title(), order=order)
    return course


@pytest.fixture
def instructor(course):
    return CourseStaffFactory(course=course, user=UserFactory(username="ada")).user


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


def lessons_in_order(chapter_slug: str = "basics") -> list[tuple[str, int]]:
    rows = Lesson.objects.filter(chapter__slug=chapter_slug).order_by("order", "id")
    return list(rows.values_list("slug", "order"))


def teach_url(name: str = "course", **kwargs) -> str:
    return reverse(f"teach:{name}", kwargs={"course": "web", **kwargs})


# Outline services


def test_moving_a_lesson_numbers_its_chapter_one_to_n(course):
    routes = Lesson.objects.get(slug="routes")

    assert outline.lesson_move(lesson=routes, direction=outline.UP)

    assert lessons_in_order() == [("intro", 1), ("routes", 2), ("setup", 3)]


def test_moving_past_either_end_changes_nothing(course):
    intro = Lesson.objects.get(slug="intro")

    assert not outline.lesson_move(lesson=intro, direction=outline.UP)
    assert outline.lesson_move(lesson=intro, direction=outline.DOWN)
    assert lessons_in_order() == [("setup", 1), ("intro", 2), ("routes", 3)]


def test_moving_a_chapter_and_moving_it_back(course):
    views = Chapter.objects.get(slug="views")

    outline.chapter_move(chapter=views, direction=outline.UP)
    first = list(course.chapters.order_by("order").values_list("slug", "order"))
    outline.chapter_move(chapter=views, direction=outline.DOWN)
    second = list(course.chapters.order_by("order").values_list("slug", "order"))

    assert first == [("views", 1), ("basics", 2)]
    assert second == [("basics", 1), ("views", 2)]


def test_a_move_bumps_the_course_version_so_menus_follow(course):
    before = type(course).objects.get(pk=course.pk).updated

    outline.lesson_move(lesson=Lesson.objects.get(slug="setup"), direction=outline.DOWN)

    assert type(course).objects.get(pk=course.pk).updated > before


def test_new_chapters_and_lessons_go_last_with_a_slug_from_their_title(course):
    chapter = outline.chapter_create(course=course, title="  Forms   and validation ")
    lesson = outline.lesson_create(chapter=chapter, title="Django's forms!")
    basics_lesson = outline.lesson_create(chapter=Chapter.objects.get(slug="basics"), title="Q&A")

    assert (chapter.slug, chapter.title, chapter.order) == (
        "forms-and-validation",
        "Forms and validation",
        3,
    )
    assert (lesson.slug, lesson.order, lesson.status) == ("djangos-forms", 1, Status.DRAFT)
    assert lessons_in_order()[-1] == (basics_lesson.slug, 4) == ("qa", 4)


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Basics", "already has a chapter with the address “basics”"),
        ("   ", "Enter a title"),
        ("!!!", "at least one letter or digit"),
        ("Join", "the site uses it"),
    ],
)
def test_chapter_titles_that_cannot_be_used_are_refused_plainly(course, title, message):
    with pytest.raises(outline.OutlineError, match=message):
        outline.chapter_create(course=course, title=title)
    assert course.chapters.count() == 2


def test_a_lesson_title_taken_in_its_chapter_is_refused_but_free_in_another(course):
    basics, views = Chapter.objects.get(slug="basics"), Chapter.objects.get(slug="views")

    with pytest.raises(outline.OutlineError, match=r"“Basics” already has a lesson .*“intro”"):
        outline.lesson_create(chapter=basics, title="Intro")
    assert outline.lesson_create(chapter=views, title="Intro").slug == "intro"


def test_publishing_and_unpublishing_a_lesson(course):
    lesson = LessonFactory(chapter=Chapter.objects.get(slug="views"), status=Status.DRAFT)

    outline.lesson_set_status(lesson=lesson, status=Status.PUBLISHED)
    published = Lesson.objects.get(pk=lesson.pk).status
    outline.lesson_set_status(lesson=lesson, status=Status.DRAFT)

    assert (published, Lesson.objects.get(pk=lesson.pk).status) == ("published", "draft")


# Roster and staff services


def test_the_last_instructor_cannot_be_removed_or_demoted(course, instructor):
    only = CourseStaff.objects.get(user=instructor)

    with pytest.raises(roster.RosterError, match="only instructor"):
        roster.staff_remove(course=course, member_id=only.pk)
    with pytest.raises(roster.RosterError, match="only instructor"):
        roster.staff_add(course=course, username="ada", role=CourseStaff.Role.ASSISTANT)
    second = roster.staff_add(
        course=course, username=UserFactory(username="grace").username, role="instructor"
    )
    roster.staff_remove(course=course, member_id=only.pk)

    assert list(course.staff.values_list("user__username", "role")) == [("grace", "instructor")]
    assert second.role == "instructor"


def test_adding_staff_names_an_unknown_username(course, instructor):
    with pytest.raises(roster.RosterError, match="no account with the username “nobody”"):
        roster.staff_add(course=course, username="nobody", role="assistant")


def test_adding_someone_already_on_the_staff_changes_their_role(course, instructor):
    grace = UserFactory(username="grace")
    roster.staff_add(course=course, username="grace", role="assistant")
    roster.staff_add(course=course, username="grace", role="instructor")

    assert CourseStaff.objects.get(user=grace).role == "instructor"
    assert course.staff.count() == 2


# Views


def test_home_lists_the_courses_taught_with_their_counts(instructor_client, course):
    CourseFactory(title="Not mine")
    EnrollmentFactory(course=course)
    ExerciseFactory(course=course)

    html = instructor_client.get(reverse("teach:home")).content.decode()

    assert "Web Frameworks" in html and "Not mine" not in html
    assert "<dt>Learners</dt><dd>1</dd>" in html
    assert "<dt>Lessons</dt><dd>3</dd>" in html
    assert "<dt>Exercises</dt><dd>1</dd>" in html


def test_superusers_see_every_course(client, course):
    CourseFactory(title="Another course")
    client.force_login(StaffFactory())

    html = client.get(reverse("teach:home")).content.decode()

    assert "Web Frameworks" in html and "Another course" in html
    assert client.get(teach_url()).status_code == 200


def test_the_overview_shows_outline_exercises_roster_and_staff(instructor_client, course):
    ExerciseFactory(course=course, slug="hello", title="Hello", points=6, order=2)
    ExerciseFactory(course=course, slug="notes", title="Notes", order=1, status=Status.DRAFT)
    EnrollmentFactory(course=course, learner=UserFactory(username="lin"))

    response = instructor_client.get(teach_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert html.index("Intro") < html.index("Setup") < html.index("Routes") < html.index("Views")
    assert html.index('href="/teach/web/exercises/notes/"') < html.index(
        'href="/teach/web/exercises/hello/"'
    )
    assert 'href="/teach/web/exercises/hello/edit/"' in html
    assert "<td>6</td>" in html
    assert "lin" in html and "ada" in html
    assert f"http://testserver/courses/web/join/{course.invite_code}/" in html


def test_the_overview_links_to_every_page_an_instructor_needs(instructor_client, course):
    intro = Lesson.objects.get(slug="intro")

    html = instructor_client.get(teach_url()).content.decode()

    assert f'href="{teach_url("lesson_edit", lesson=intro.pk)}">Edit' in html
    assert f'href="{teach_url("exercise_new")}">New exercise</a>' in html
    assert f'href="{teach_url("exercise_list")}">All exercises</a>' in html
    assert f'href="{teach_url("gradebook")}">Gradebook</a>' in html


def test_assistants_are_not_offered_the_editors(client, course):
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user
    client.force_login(assistant)

    html = client.get(teach_url()).content.decode()

    assert "/edit/" not in html and "New exercise" not in html
    assert f'href="{teach_url("gradebook")}">Gradebook</a>' in html


def test_the_site_header_links_to_teach_only_for_staff(client, course, instructor):
    learner = UserFactory()
    client.force_login(learner)
    learner_page = client.get(reverse("courses:catalog")).content.decode()
    client.force_login(instructor)
    instructor_page = client.get(reverse("courses:catalog")).content.decode()

    assert 'href="/teach/"' not in learner_page
    assert 'href="/teach/">Teach</a>' in instructor_page


def test_the_teach_link_appears_once_someone_is_added_to_a_staff(client, course, instructor):
    grace = UserFactory(username="grace")
    client.force_login(grace)
    before = client.get(reverse("courses:catalog")).content.decode()

    roster.staff_add(course=course, username="grace", role="assistant")
    after = client.get(reverse("courses:catalog")).content.decode()

    assert 'href="/teach/"' not in before and 'href="/teach/"' in after


def test_moving_a_lesson_with_htmx_answers_the_outline(instructor_client, course):
    setup = Lesson.objects.get(slug="setup")

    response = instructor_client.post(
        teach_url("lesson_move", lesson=setup.pk), {"direction": "down"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert f'data-changed="lesson-{setup.pk}"' in html and 'data-direction="down"' in html
    assert "moved down" in html
    assert html.index(">Routes</a>") < html.index(">Setup</a>")
    assert lessons_in_order() == [("intro", 1), ("routes", 2), ("setup", 3)]


def test_moving_without_javascript_redirects_to_the_item(instructor_client, course):
    routes = Lesson.objects.get(slug="routes")

    response = instructor_client.post(
        teach_url("lesson_move", lesson=routes.pk), {"direction": "up"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/teach/web/#lesson-{routes.pk}"
    assert lessons_in_order()[1] == ("routes", 2)


def test_a_lesson_of_another_course_cannot_be_moved_from_this_one(instructor_client, course):
    elsewhere = LessonFactory()

    response = instructor_client.post(
        teach_url("lesson_move", lesson=elsewhere.pk), {"direction": "up"}
    )

    assert response.status_code == 404


def test_publishing_a_lesson_from_the_overview(instructor_client, course):
    draft = LessonFactory(chapter=Chapter.objects.get(slug="views"), status=Status.DRAFT)

    instructor_client.post(teach_url("lesson_status", lesson=draft.pk), {"status": "published"})

    assert Lesson.objects.get(pk=draft.pk).status == Status.PUBLISHED


def test_a_duplicate_chapter_title_keeps_what_was_typed_and_says_why(instructor_client, course):
    response = instructor_client.post(teach_url("chapter_create"), {"title": "Basics"})
    html = response.content.decode()

    assert response.status_code == 400
    assert "already has a chapter with the address “basics”" in html
    assert 'value="Basics"' in html
    assert course.chapters.count() == 2


def test_adding_a_lesson_from_the_overview(instructor_client, course):
    views = Chapter.objects.get(slug="views")

    response = instructor_client.post(
        teach_url("lesson_create"), {"chapter": views.pk, "title": "Class-based views"}
    )

    lesson = Lesson.objects.get(chapter=views)
    assert response["Location"] == f"/teach/web/#lesson-{lesson.pk}"
    assert (lesson.slug, lesson.status) == ("class-based-views", Status.DRAFT)


def test_a_chapter_of_another_course_is_not_a_choice_for_a_new_lesson(instructor_client, course):
    elsewhere = ChapterFactory()

    response = instructor_client.post(
        teach_url("lesson_create"), {"chapter": elsewhere.pk, "title": "X"}
    )

    assert response.status_code == 400
    assert "Choose one of the course&#x27;s chapters." in response.content.decode()
    assert not Lesson.objects.filter(chapter=elsewhere).exists()


def test_switching_to_invitation_only_and_rotating_the_link(instructor_client, course):
    old = course.invite_code

    instructor_client.post(teach_url("enrolment"), {"enrolment": "invite"})
    instructor_client.post(teach_url("invitation_rotate"))

    course.refresh_from_db()
    assert course.enrolment == Enrolment.INVITE
    assert course.invite_code != old


def test_removing_a_learner_asks_first_then_removes(instructor_client, course):
    lin = EnrollmentFactory(course=course, learner=UserFactory(username="lin")).learner
    url = teach_url("roster_remove", learner=lin.pk)

    confirm = instructor_client.get(url)
    still_there = Enrollment.objects.filter(course=course, learner=lin).exists()
    done = instructor_client.post(url)

    assert confirm.status_code == 200 and "Remove lin from the roster?" in confirm.content.decode()
    assert still_there
    assert done["Location"] == "/teach/web/#roster"
    assert not Enrollment.objects.filter(course=course, learner=lin).exists()


def test_staff_added_by_username_and_errors_shown_next_to_the_field(instructor_client, course):
    UserFactory(username="grace")

    added = instructor_client.post(
        teach_url("staff_add"), {"username": "grace", "role": "assistant"}
    )
    unknown = instructor_client.post(
        teach_url("staff_add"), {"username": "grcae", "role": "assistant"}
    )

    assert added.status_code == 302
    assert course.staff.filter(user__username="grace", role="assistant").exists()
    assert unknown.status_code == 400
    assert "There is no account with the username “grcae”." in unknown.content.decode()
    assert 'value="grcae"' in unknown.content.decode()


def test_removing_the_last_instructor_from_the_overview_is_refused(
    instructor_client, course, instructor
):
    member = CourseStaff.objects.get(user=instructor)

    response = instructor_client.post(teach_url("staff_remove", member=member.pk), follow=True)

    assert "ada is the course&#x27;s only instructor: add another instructor first." in (
        response.content.decode()
    )
    assert CourseStaff.objects.filter(pk=member.pk).exists()


def test_pages_after_logging_in_ask_no_query_for_the_teach_link(client, course, instructor):
    client.force_login(instructor)  # logging in asks once, and caches the answer

    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("courses:catalog")).content.decode()

    assert 'href="/teach/">Teach</a>' in html
    assert not [q["sql"] for q in queries if "courses_coursestaff" in q["sql"]]
