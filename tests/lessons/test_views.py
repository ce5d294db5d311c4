from __future__ import annotations

import re
from unittest import mock

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from courses.models import Status
from lessons.models import Lesson
from lessons.views import lesson_detail
from progress.models import LessonProgress
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    ExerciseFactory,
    LessonFactory,
    LessonProgressFactory,
    SubmissionFactory,
    UserFactory,
)


def preview_url(lesson) -> str:
    return reverse(
        "lessons:lesson_preview",
        kwargs={
            "course": lesson.chapter.course.slug,
            "chapter": lesson.chapter.slug,
            "lesson": lesson.slug,
        },
    )


def nav_link(html: str, lesson) -> str:
    """Return the opening <a> tag of a lesson's entry in the course menu."""
    match = re.search(rf'<a href="{re.escape(lesson.get_absolute_url())}"[^>]*>', html)
    assert match, f"no link to {lesson.slug}"
    return match.group(0)


def pager(html: str) -> str:
    return html[html.index('class="pager"') :]


@pytest.fixture
def course(db):
    """Chapter one: intro, routes, a draft; chapter two: templates."""
    course = CourseFactory(slug="web", title="Web Frameworks")
    one = ChapterFactory(course=course, slug="basics", title="Basics", order=1)
    two = ChapterFactory(course=course, slug="views", title="Views", order=2)
    LessonFactory(chapter=one, slug="intro", title="Introduction", order=1)
    LessonFactory(chapter=one, slug="routes", title="Routes", order=2)
    LessonFactory(chapter=one, slug="wip", title="Work in progress", order=3, status=Status.DRAFT)
    LessonFactory(chapter=two, slug="templates", title="Templates", order=1)
    return course


def lesson(course, slug):
    return LessonFactory._meta.model.objects.get(chapter__course=course, slug=slug)


def test_lesson_page_renders_for_anonymous_readers(client, course):
    routes = lesson(course, "routes")

    response = client.get(routes.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Routes" in html
    assert routes.body_html in html
    assert '<main id="main"' in html


def meta_description(html: str) -> str:
    match = re.search(r'<meta name="description" content="([^"]*)">', html)
    assert match, "no meta description"
    return match.group(1)


def test_lesson_page_is_described_by_the_lesson_summary(client, learner_client, course):
    routes = lesson(course, "routes")
    routes.summary = "Map URLs to Python functions & read their parameters."
    routes.save()

    first = client.get(routes.get_absolute_url()).content.decode()
    cached = client.get(routes.get_absolute_url()).content.decode()
    personal = learner_client.get(routes.get_absolute_url()).content.decode()

    expected = "Map URLs to Python functions &amp; read their parameters."
    assert meta_description(first) == meta_description(cached) == expected
    assert meta_description(personal) == expected


def test_lesson_without_summary_is_described_by_the_site(client, course):
    html = client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    assert meta_description(html).startswith("Learn Python web development")


def test_lesson_page_marks_the_current_lesson_in_the_menu(client, course):
    routes = lesson(course, "routes")

    html = client.get(routes.get_absolute_url()).content.decode()

    assert 'aria-current="page"' in nav_link(html, routes)
    assert 'aria-current="page"' not in nav_link(html, lesson(course, "intro"))


def test_lesson_page_has_breadcrumbs_to_catalog_course_and_chapter(client, course):
    html = client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    crumbs = html[html.index('aria-label="Breadcrumb"') :]
    crumbs = crumbs[: crumbs.index("</nav>")]
    assert 'href="/"' in crumbs
    assert 'href="/courses/web/"' in crumbs
    assert 'href="/courses/web/#chapter-basics"' in crumbs
    assert "Routes" in crumbs


def test_lesson_page_menu_lists_every_chapter_of_the_course(client, course):
    html = client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    assert "<summary>Basics</summary>" in html
    assert "<summary>Views</summary>" in html
    assert 'href="/courses/web/views/templates/"' in html


def test_next_link_crosses_into_the_next_chapter_skipping_drafts(client, course):
    html = client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    assert 'href="/courses/web/basics/intro/" rel="prev"' in pager(html)
    assert 'href="/courses/web/views/templates/" rel="next"' in pager(html)


def test_previous_link_crosses_back_into_the_previous_chapter(client, course):
    html = client.get(lesson(course, "templates").get_absolute_url()).content.decode()

    assert 'href="/courses/web/basics/routes/" rel="prev"' in pager(html)
    assert 'rel="next"' not in pager(html)
    assert "Back to Web Frameworks" in pager(html)


def test_first_lesson_has_no_previous_link(client, course):
    html = client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    assert 'rel="prev"' not in pager(html)
    assert 'href="/courses/web/basics/routes/" rel="next"' in pager(html)


def test_staff_navigation_includes_drafts_in_reading_order(staff_client, course):
    html = staff_client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    assert 'href="/courses/web/basics/wip/" rel="next"' in pager(html)


def test_draft_lesson_is_not_found_for_anonymous_readers(client, course):
    response = client.get(lesson(course, "wip").get_absolute_url())

    assert response.status_code == 404


def test_draft_lesson_is_not_found_for_learners(learner_client, course):
    response = learner_client.get(lesson(course, "wip").get_absolute_url())

    assert response.status_code == 404


def test_drafts_are_missing_from_the_learners_menu(client, course):
    html = client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    assert "/courses/web/basics/wip/" not in html
    assert "Draft" not in html


def test_staff_see_a_draft_with_badge_and_preview_link(staff_client, course):
    wip = lesson(course, "wip")

    response = staff_client.get(wip.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="badge badge--draft">Draft</span>' in html
    assert f'href="{preview_url(wip)}">Preview as learner</a>' in html


def test_staff_see_drafts_labelled_in_the_menu(staff_client, course):
    html = staff_client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    wip_entry = html[html.index('href="/courses/web/basics/wip/"') :]
    assert '<span class="badge badge--draft">Draft</span>' in wip_entry[: wip_entry.index("</li>")]
    intro_entry = html[html.index('href="/courses/web/basics/intro/"') :]
    assert "Draft" not in intro_entry[: intro_entry.index("</li>")]


def test_preview_is_not_found_for_anonymous_readers(client, course):
    assert client.get(preview_url(lesson(course, "wip"))).status_code == 404


def test_preview_is_not_found_for_learners(learner_client, course):
    assert learner_client.get(preview_url(lesson(course, "wip"))).status_code == 404


def test_preview_shows_the_draft_as_learners_would_see_it(staff_client, course):
    wip = lesson(course, "wip")
    LessonFactory(chapter=wip.chapter, slug="other-draft", order=4, status=Status.DRAFT)

    response = staff_client.get(preview_url(wip))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview</strong> — draft, not visible to learners" in html
    assert wip.body_html in html
    assert "Preview as learner" not in html
    assert 'class="badge badge--draft"' not in html
    assert "/courses/web/basics/other-draft/" not in html
    assert 'aria-current="page"' in nav_link(html, wip)
    assert "/admin/" not in html


def test_preview_places_the_draft_in_reading_order(staff_client, course):
    html = staff_client.get(preview_url(lesson(course, "wip"))).content.decode()

    assert 'href="/courses/web/basics/routes/" rel="prev"' in pager(html)
    assert 'href="/courses/web/views/templates/" rel="next"' in pager(html)


def test_unknown_lesson_is_not_found(client, course):
    url = reverse("lessons:lesson", kwargs={"course": "web", "chapter": "basics", "lesson": "nope"})

    assert client.get(url).status_code == 404


def test_lesson_is_not_found_under_another_course(client, course):
    CourseFactory(slug="other")
    url = reverse(
        "lessons:lesson", kwargs={"course": "other", "chapter": "basics", "lesson": "intro"}
    )

    assert client.get(url).status_code == 404


def test_table_of_contents_is_shown_when_the_lesson_has_sections(client, course):
    html = client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    assert "On this page" in html
    assert 'href="#introduction"' in html


def test_lesson_without_sections_has_no_table_of_contents(client, course):
    plain = LessonFactory(chapter=lesson(course, "intro").chapter, slug="plain", body="Just text.")

    html = client.get(plain.get_absolute_url()).content.decode()

    assert "On this page" not in html


def test_published_exercises_are_listed_as_practice(client, course):
    routes = lesson(course, "routes")
    ExerciseFactory(course=course, lesson=routes, title="Add a route", summary="Greet by name.")
    ExerciseFactory(course=course, lesson=routes, title="Hidden one", status=Status.DRAFT)

    html = client.get(routes.get_absolute_url()).content.decode()

    practice = html[html.index('id="lesson-practice"') : html.index('class="pager"')]
    assert "Add a route" in practice
    assert "Greet by name." in practice
    assert "Hidden one" not in practice


def test_lesson_without_exercises_has_no_practice_section(client, course):
    html = client.get(lesson(course, "intro").get_absolute_url()).content.decode()

    assert "Practice" not in html


def test_lesson_pages_never_render_markdown(client, staff, course):
    routes, wip = lesson(course, "routes"), lesson(course, "wip")
    boom = mock.Mock(side_effect=AssertionError("Markdown rendered during a request"))

    with (
        mock.patch("lessons.markdown.render_lesson", boom),
        mock.patch("lessons.markdown.render_markdown", boom),
    ):
        statuses = [client.get(routes.get_absolute_url()).status_code]
        client.force_login(staff)
        statuses.append(client.get(wip.get_absolute_url()).status_code)
        statuses.append(client.get(preview_url(wip)).status_code)
        statuses.append(client.get(reverse("courses:course", kwargs={"course": "web"})).status_code)
        client.force_login(UserFactory())
        statuses.append(client.get(routes.get_absolute_url()).status_code)

    assert statuses == [200, 200, 200, 200, 200]
    boom.assert_not_called()


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("reader", ["client", "staff_client", "learner_client"])
def test_lesson_page_query_count_does_not_grow_with_the_course(request, make_course, reader):
    client = request.getfixturevalue(reader)
    user = client.session.get("_auth_user_id")
    small = make_course(chapters=2, lessons_per_chapter=5)
    large = make_course(chapters=10, lessons_per_chapter=100)
    if user:  # a reader who has read half of each course
        for course in (small, large):
            lessons = Lesson.objects.filter(chapter__course=course)
            LessonProgress.objects.bulk_create(
                LessonProgress(learner_id=user, lesson=lesson) for lesson in lessons[::2]
            )
    small_url = reverse(
        "lessons:lesson", kwargs={"course": small.slug, "chapter": "ch-1", "lesson": "lesson-1-3"}
    )
    large_url = reverse(
        "lessons:lesson", kwargs={"course": large.slug, "chapter": "ch-9", "lesson": "lesson-9-50"}
    )

    small_queries = count_queries(client, small_url)
    large_queries = count_queries(client, large_url)

    assert small_queries == large_queries
    # Session and user; course version, outline, lesson, exercises; lessons read.
    assert large_queries <= 7


def test_warm_lesson_page_costs_one_query(client, make_course, django_assert_num_queries):
    course = make_course()
    url = reverse(
        "lessons:lesson", kwargs={"course": course.slug, "chapter": "ch-0", "lesson": "lesson-0-1"}
    )
    cold = count_queries(client, url)

    with django_assert_num_queries(1):  # the course's version stamp
        html = client.get(url).content.decode()

    assert cold == 4
    assert "Lesson 0.1" in html


def test_warm_lesson_page_for_a_learner_adds_only_their_progress(
    learner_client, make_course, django_assert_num_queries
):
    course = make_course()
    url = reverse(
        "lessons:lesson", kwargs={"course": course.slug, "chapter": "ch-0", "lesson": "lesson-0-1"}
    )
    learner_client.get(url)

    # Session, user, the course's version, the lessons read.
    with django_assert_num_queries(4):
        learner_client.get(url)


def test_saving_a_lesson_updates_the_menu_of_other_lessons(client, course):
    intro_url = lesson(course, "intro").get_absolute_url()
    client.get(intro_url)
    templates = lesson(course, "templates")
    templates.title = "Templates and inheritance"
    templates.save()

    html = client.get(intro_url).content.decode()

    assert "Templates and inheritance" in html


def test_pages_cached_for_staff_never_reach_learners(client, staff, course):
    routes, wip = lesson(course, "routes"), lesson(course, "wip")
    client.force_login(staff)
    client.get(routes.get_absolute_url())
    client.get(wip.get_absolute_url())
    client.logout()

    html = client.get(routes.get_absolute_url()).content.decode()

    assert "Preview as learner" not in html
    assert "/courses/web/basics/wip/" not in html
    assert client.get(wip.get_absolute_url()).status_code == 404


def test_cached_page_still_shows_each_reader_their_own_header(client, course):
    url = lesson(course, "routes").get_absolute_url()
    first, second = UserFactory(username="ada"), UserFactory(username="grace")

    client.force_login(first)
    ada_html = client.get(url).content.decode()
    client.force_login(second)
    grace_html = client.get(url).content.decode()

    assert 'class="account-nav__user">ada<' in ada_html
    assert 'class="account-nav__user">grace<' in grace_html
    assert ">ada<" not in grace_html


# The shared copy of a page for anonymous readers


def test_anonymous_readers_get_the_page_without_rendering_it_again(client, course):
    url = lesson(course, "routes").get_absolute_url()
    first = client.get(url)

    second = client.get(url)

    assert first.templates
    assert not second.templates
    assert second.content == first.content
    assert second["Vary"] == "Cookie"
    assert first["Vary"] == "Cookie"


def test_an_edited_lesson_is_shown_at_once_to_anonymous_readers(client, course):
    routes = lesson(course, "routes")
    client.get(routes.get_absolute_url())
    routes.body = "Routes, **rewritten**."
    routes.save()

    html = client.get(routes.get_absolute_url()).content.decode()

    assert "<strong>rewritten</strong>" in html


def test_an_edit_elsewhere_in_the_course_reaches_the_anonymous_copy(client, course):
    url = lesson(course, "intro").get_absolute_url()
    client.get(url)
    chapter = lesson(course, "templates").chapter
    chapter.title = "Views and templates"
    chapter.save()

    html = client.get(url).content.decode()

    assert "<summary>Views and templates</summary>" in html


def test_a_lesson_published_later_is_no_longer_not_found(client, course):
    wip = lesson(course, "wip")
    assert client.get(wip.get_absolute_url()).status_code == 404
    wip.status = Status.PUBLISHED
    wip.save()

    assert client.get(wip.get_absolute_url()).status_code == 200


def test_a_lesson_made_draft_disappears_for_anonymous_readers(client, course):
    routes = lesson(course, "routes")
    client.get(routes.get_absolute_url())
    routes.status = Status.DRAFT
    routes.save()

    assert client.get(routes.get_absolute_url()).status_code == 404


def test_signed_in_readers_never_get_the_anonymous_copy(client, course, learner):
    url = lesson(course, "routes").get_absolute_url()
    client.get(url)
    client.force_login(learner)

    response = client.get(url)

    assert response.templates
    assert f'class="account-nav__user">{learner.username}<' in response.content.decode()


def test_a_query_string_or_a_pending_message_skips_the_shared_copy(client, course):
    url = lesson(course, "routes").get_absolute_url()
    client.get(url)

    with_query = client.get(f"{url}?from=search")
    client.cookies["messages"] = "pending"
    with_message = client.get(url)

    assert with_query.templates
    assert 'href="/accounts/login/?next=/courses/web/basics/routes/%3Ffrom%3Dsearch"' in (
        with_query.content.decode()
    )
    assert with_message.templates


# Reading progress on the lesson page


def read_status(html: str) -> str:
    start = html.index('<section class="read-status')
    return html[start : html.index("</section>", start)]


def test_anonymous_readers_see_no_progress_controls(client, course):
    html = client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    assert "read-status" not in html
    assert "progress.js" not in html
    assert "read-mark" not in html


def test_a_learner_can_mark_an_unread_lesson_read_at_its_end(learner_client, course):
    html = learner_client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    control = read_status(html)
    assert 'data-read="false"' in control
    assert 'action="/courses/web/basics/routes/read/"' in control
    assert 'hx-post="/courses/web/basics/routes/read/"' in control
    assert 'name="csrfmiddlewaretoken"' in control
    assert "Mark as read</button>" in control
    assert html.index("</article>") < html.index("read-status") < html.index('class="pager"')
    assert '<script src="/static/js/progress.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/css/progress.css">' in html


def test_a_read_lesson_says_so_and_offers_mark_as_unread(learner_client, learner, course):
    routes = lesson(course, "routes")
    LessonProgressFactory(learner=learner, lesson=routes)

    html = learner_client.get(routes.get_absolute_url()).content.decode()

    control = read_status(html)
    assert 'data-read="true"' in control
    assert "Read</p>" in control
    assert 'action="/courses/web/basics/routes/unread/"' in control
    assert "Mark as unread</button>" in control


def test_the_menu_ticks_the_lessons_the_learner_has_read(learner_client, learner, course):
    LessonProgressFactory(learner=learner, lesson=lesson(course, "intro"))

    html = learner_client.get(lesson(course, "routes").get_absolute_url()).content.decode()

    menu = html[html.index('id="course-nav"') : html.index("</nav>", html.index('id="course-nav"'))]
    intro = menu[menu.index('href="/courses/web/basics/intro/"') :]
    assert '<span class="visually-hidden"> (read)</span>' in intro[: intro.index("</a>")]
    routes = menu[menu.index('href="/courses/web/basics/routes/"') :]
    assert "read-mark" not in routes[: routes.index("</a>")]


def test_progress_marks_are_not_shared_between_learners(client, course):
    first, second = UserFactory(), UserFactory()
    LessonProgressFactory(learner=first, lesson=lesson(course, "routes"))
    url = lesson(course, "routes").get_absolute_url()

    client.force_login(first)
    first_html = client.get(url).content.decode()
    client.force_login(second)
    second_html = client.get(url).content.decode()

    assert 'data-read="true"' in first_html
    assert 'data-read="false"' in second_html
    assert "read-mark" not in second_html


def test_the_preview_shows_no_progress_controls(staff_client, course):
    html = staff_client.get(preview_url(lesson(course, "wip"))).content.decode()

    assert "read-status" not in html


# Exercises in the menu


def menu_of(html: str) -> str:
    start = html.index('id="course-nav"')
    return html[start : html.index("</nav>", start)]


def menu_exercise(menu: str, slug: str) -> str:
    """Return an exercise's entry in the menu, tags removed and spaces collapsed."""
    start = menu.rindex("<a ", 0, menu.index(f'href="/exercises/{slug}/"'))
    return " ".join(re.sub(r"<[^>]+>", " ", menu[start : menu.index("</a>", start)]).split())


@pytest.fixture
def exercises(course):
    intro, routes = lesson(course, "intro"), lesson(course, "routes")
    return {
        "hello": ExerciseFactory(
            course=course, lesson=intro, slug="hello", title="Hello", points=6, order=1
        ),
        "greet": ExerciseFactory(
            course=course, lesson=routes, slug="greet", title="Greet", points=4, order=2
        ),
        "echo": ExerciseFactory(
            course=course, lesson=routes, slug="echo", title="Echo", points=1, order=3
        ),
    }


def test_the_menu_lists_exercises_under_their_lesson_for_visitors(client, course, exercises):
    html = client.get(lesson(course, "templates").get_absolute_url()).content.decode()

    menu = menu_of(html)
    intro, routes = menu.index(">Introduction<"), menu.index(">Routes<")
    assert intro < menu.index("/exercises/hello/") < routes
    assert routes < menu.index("/exercises/greet/") < menu.index("/exercises/echo/")
    assert menu_exercise(menu, "hello") == "Hello Exercise · 6 pts"
    assert menu_exercise(menu, "echo") == "Echo Exercise · 1 pt"
    assert "exercise-mark" not in menu


def test_the_menu_shows_a_learner_their_status_on_each_exercise(
    learner_client, learner, course, exercises
):
    SubmissionFactory(learner=learner, exercise=exercises["hello"], verdict="passed")
    SubmissionFactory(
        learner=learner, exercise=exercises["greet"], verdict="failed", score=2, max_score=4
    )
    SubmissionFactory(exercise=exercises["echo"], verdict="passed")  # another learner's

    html = learner_client.get(lesson(course, "templates").get_absolute_url()).content.decode()

    menu = menu_of(html)
    assert menu_exercise(menu, "hello") == "Hello Exercise · 6 pts · ✓ Passed"
    assert menu_exercise(menu, "greet") == "Greet Exercise · 4 pts · Attempted 2/4"
    assert menu_exercise(menu, "echo") == "Echo Exercise · 1 pt"


@pytest.mark.parametrize("size", [1, 40])
def test_lesson_page_query_count_does_not_grow_with_exercises(
    learner_client, learner, make_course, size
):
    course = make_course(chapters=2, lessons_per_chapter=20)
    for i, each in enumerate(Lesson.objects.filter(chapter__course=course)[:size]):
        exercise = ExerciseFactory(course=course, lesson=each, order=i)
        SubmissionFactory(learner=learner, exercise=exercise, verdict="failed", score=1)
    url = reverse(
        "lessons:lesson", kwargs={"course": course.slug, "chapter": "ch-1", "lesson": "lesson-1-3"}
    )

    # Session and user; course version, outline (lessons, exercises), lesson; lessons read,
    # whether they submitted anything in the course, exercise statuses.
    assert count_queries(learner_client, url) == 9
    html = learner_client.get(url).content.decode()
    assert menu_of(html).count("Attempted 1/10") == size


def test_a_reader_who_never_submitted_pays_no_query_for_exercise_statuses(
    learner_client, make_course
):
    course = make_course(chapters=2, lessons_per_chapter=20)
    for i, each in enumerate(Lesson.objects.filter(chapter__course=course)[:10]):
        ExerciseFactory(course=course, lesson=each, order=i)
    url = reverse(
        "lessons:lesson", kwargs={"course": course.slug, "chapter": "ch-1", "lesson": "lesson-1-3"}
    )

    # As above, with one cheap look at their submissions instead of the statuses.
    assert count_queries(learner_client, url) == 8
    html = learner_client.get(url).content.decode()
    assert "Attempted" not in menu_of(html) and "Passed" not in menu_of(html)


# Links to the exercise page, once it exists


def _stub(request, **kwargs):
    return HttpResponse("stub")


urlpatterns = [
    path("", include("config.urls")),
    path(
        "",
        include(([path("stub/exercises/<slug:exercise>/", _stub, name="exercise")], "sandbox")),
    ),
]


@pytest.mark.urls(__name__)
def test_practice_links_each_exercise_to_its_page(client, course):
    routes = lesson(course, "routes")
    ExerciseFactory(course=course, lesson=routes, slug="add-route", title="Add a route")

    html = client.get(routes.get_absolute_url()).content.decode()

    url = reverse("exercises:exercise", kwargs={"exercise": "add-route"})
    assert f'<a href="{url}">Add a route</a>' in html


def test_a_page_made_for_someone_is_never_shared(rf, course, learner):
    url = lesson(course, "routes").get_absolute_url()
    # Signed in without a session cookie, as another authentication scheme would do.
    request = rf.get(url)
    request.user = learner
    request.session = {}
    lesson_detail(request, course="web", chapter="basics", lesson="routes")

    response = Client().get(url)

    assert response.templates
    assert learner.username not in response.content.decode()


def test_an_authorization_header_skips_the_shared_copy(client, course):
    url = lesson(course, "routes").get_absolute_url()
    client.get(url)

    response = client.get(url, headers={"Authorization": "Bearer abc"})

    assert response.templates
