from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from courses.models import Status
from exercises.models import Submission
from lessons.models import Lesson
from progress.models import LessonProgress
from progress.services import lesson_mark_read
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    ExerciseFactory,
    LessonFactory,
    SubmissionFactory,
    UserFactory,
)

CATALOG = reverse("courses:catalog")


@pytest.fixture
def course(db):
    """A course with two chapters and one draft lesson."""
    course = CourseFactory(
        slug="web", title="Web Frameworks", summary="Flask, Django and FastAPI side by side."
    )
    one = ChapterFactory(course=course, slug="basics", title="Basics", order=1, summary="Start.")
    two = ChapterFactory(course=course, slug="views", title="Views", order=2)
    LessonFactory(chapter=one, slug="intro", title="Introduction", order=1, summary="Why.")
    LessonFactory(chapter=one, slug="wip", title="Unfinished", order=2, status=Status.DRAFT)
    LessonFactory(chapter=two, slug="templates", title="Templates", order=1)
    return course


def course_url(slug: str = "web") -> str:
    return reverse("courses:course", kwargs={"course": slug})


# Catalog


def test_catalog_lists_courses_with_their_published_lesson_count(client, course):
    response = client.get(CATALOG)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{course_url()}">Web Frameworks</a>' in html
    assert "Flask, Django and FastAPI side by side." in html
    assert "2 lessons" in html


def test_catalog_counts_the_published_exercises_of_each_course(client, course):
    for _ in range(3):
        ExerciseFactory(course=course)
    ExerciseFactory(course=course, status=Status.DRAFT)
    single = CourseFactory(title="Single")
    LessonFactory(chapter__course=single)
    ExerciseFactory(course=single)
    LessonFactory(chapter__course=CourseFactory(title="Reading only"))

    html = client.get(CATALOG).content.decode()

    meta = re.findall(r'<p class="card__meta">(.*?)</p>', html)
    texts = [" ".join(re.sub(r"<[^>]+>", "", text).split()) for text in meta]
    assert sorted(texts) == ["1 lesson", "1 lesson · 1 exercise", "2 lessons · 3 exercises"]


def test_catalog_hides_courses_without_published_lessons(client, course):
    hidden = CourseFactory(title="Coming later")
    LessonFactory(chapter__course=hidden, status=Status.DRAFT)

    html = client.get(CATALOG).content.decode()

    assert "Coming later" not in html


def test_catalog_says_so_when_nothing_is_published(client, db):
    html = client.get(CATALOG).content.decode()

    assert "No courses are published yet." in html


def test_catalog_costs_one_query(client, course, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get(CATALOG)


# Course page


def test_course_page_lists_chapters_and_published_lessons(client, course):
    response = client.get(course_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chapter-basics"' in html
    assert 'id="chapter-views"' in html
    assert 'href="/courses/web/basics/intro/">Introduction</a>' in html
    assert 'href="/courses/web/views/templates/">Templates</a>' in html
    assert "Unfinished" not in html


def test_course_page_start_button_opens_the_first_lesson(client, course):
    html = client.get(course_url()).content.decode()

    assert re.search(r'<a class="button" href="/courses/web/basics/intro/">Start reading', html)


def test_course_page_shows_drafts_to_staff_labelled_draft(staff_client, course):
    html = staff_client.get(course_url()).content.decode()

    entry = html[html.index('href="/courses/web/basics/wip/"') :]
    assert '<span class="badge badge--draft">Draft</span>' in entry[: entry.index("</li>")]


def test_course_page_shows_the_description(client, course):
    course.description = "Learn **three** frameworks."
    course.save()

    html = client.get(course_url()).content.decode()

    assert "<strong>three</strong>" in html


def test_pages_are_described_for_search_engines_and_link_previews(client, learner_client, course):
    def description(response) -> str:
        match = re.search(r'<meta name="description" content="([^"]*)">', response.content.decode())
        assert match, "no meta description"
        return match.group(1)

    assert description(client.get(course_url())) == "Flask, Django and FastAPI side by side."
    assert description(client.get("/")).startswith("Learn Python web development")
    assert description(learner_client.get("/dashboard/")) == (
        "Your courses, how far you have got in each, and your latest submissions."
    )


def test_course_without_published_lessons_is_not_found_for_learners(learner_client, db):
    LessonFactory(chapter__course__slug="soon", status=Status.DRAFT)

    assert learner_client.get(course_url("soon")).status_code == 404


def test_course_without_published_lessons_is_shown_to_staff(staff_client, db):
    LessonFactory(chapter__course__slug="soon", status=Status.DRAFT)

    assert staff_client.get(course_url("soon")).status_code == 200


def test_unknown_course_is_not_found(client, db):
    response = client.get(course_url("nope"))

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# The page frame: header, landmarks, assets, security


def test_pages_have_landmarks_and_a_skip_link(client, course):
    html = client.get(course_url()).content.decode()

    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<header class="site-header">' in html
    assert '<footer class="site-footer">' in html
    assert 'name="viewport"' in html


def test_pages_load_the_stylesheets_and_scripts(client, course):
    html = client.get(CATALOG).content.decode()

    assert 'href="/static/css/pygments.css"' in html
    assert 'href="/static/css/site.css"' in html
    assert '<script src="/static/js/theme.js"></script>' in html
    assert '<script src="/static/js/site.js" defer></script>' in html
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in html


def test_vendored_htmx_is_version_2():
    text = (Path(settings.BASE_DIR) / "static/vendor/htmx.min.js").read_text()

    assert re.search(r'version:"2\.\d+\.\d+"', text)


def test_header_offers_log_in_and_sign_up_to_visitors(client, course):
    html = client.get(course_url()).content.decode()

    assert 'href="/accounts/login/?next=/courses/web/"' in html
    assert 'href="/accounts/signup/?next=/courses/web/"' in html
    assert "Log out" not in html


def test_header_shows_the_learner_and_a_log_out_form(learner_client, learner, course):
    html = learner_client.get(course_url()).content.decode()

    assert learner.username in html
    assert re.search(r'<form method="post" action="/accounts/logout/">', html)
    assert ">Admin<" not in html


def test_header_links_staff_to_the_admin(staff_client, course):
    html = staff_client.get(course_url()).content.decode()

    assert '<a href="/admin/">Admin</a>' in html


def test_responses_carry_a_content_security_policy(client, course):
    response = client.get(course_url())

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_templates_contain_no_inline_scripts_styles_or_handlers():
    templates = list((Path(settings.BASE_DIR) / "templates").rglob("*.html"))
    assert templates

    for template in templates:
        text = template.read_text()
        assert not INLINE_SCRIPT.search(text), template
        assert not INLINE_STYLE.search(text), template
        assert not INLINE_HANDLER.search(text), template


def test_rendered_pages_contain_no_inline_scripts(staff_client, course):
    urls = [CATALOG, course_url(), "/courses/web/basics/intro/", "/courses/web/basics/wip/"]

    for url in urls:
        html = staff_client.get(url).content.decode()
        assert "<script" in html
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_HANDLER.search(html), url


# Progress on the catalog and the course page


def read(learner, course, *slugs: str) -> None:
    """Mark lessons of the course read, in this order, a minute apart."""
    start = timezone.now() - timedelta(hours=1)
    for i, slug in enumerate(slugs):
        progress = lesson_mark_read(
            learner=learner, lesson=Lesson.objects.get(chapter__course=course, slug=slug)
        )
        LessonProgress.objects.filter(pk=progress.pk).update(read_at=start + timedelta(minutes=i))


def submit(learner, exercise, status: str | None, score: int = 0) -> Submission:
    """Save a submission graded with this verdict and score (None: still queued)."""
    graded = {"verdict": status, "score": score} if status else {}
    return SubmissionFactory(learner=learner, exercise=exercise, **graded)


def test_catalog_shows_a_learner_their_progress_and_where_to_continue(
    learner_client, learner, course
):
    read(learner, course, "intro")
    exercise = ExerciseFactory(course=course)
    ExerciseFactory(course=course)
    submit(learner, exercise, "passed", score=10)

    html = learner_client.get(CATALOG).content.decode()

    assert '<progress class="course-progress__bar" max="100" value="50"' in html
    assert 'aria-labelledby="progress-web"' in html
    assert "1 of 2 lessons read · 1 of 2 exercises done" in html
    assert re.search(
        r'<a href="/courses/web/views/templates/">Continue where you left off.*Templates</a>', html
    )


def test_catalog_shows_no_progress_to_visitors(client, course):
    html = client.get(CATALOG).content.decode()

    assert "<progress" not in html
    assert "progress.css" not in html
    assert "Continue where you left off" not in html


def test_catalog_offers_a_new_learner_the_first_lesson(learner_client, course):
    html = learner_client.get(CATALOG).content.decode()

    assert "0 of 2 lessons read" in html
    assert "Continue where you left off" not in html
    assert re.search(r'<a href="/courses/web/basics/intro/">Start reading.*Introduction</a>', html)


def test_catalog_queries_do_not_grow_with_courses_for_a_learner(
    learner_client, learner, course, django_assert_max_num_queries
):
    for n in range(6):
        other = CourseFactory(slug=f"more-{n}")
        for i in range(20):
            LessonFactory(chapter__course=other, slug=f"l{i}")
        read(learner, other, "l0", "l1")

    # Session, user, courses, outlines (lessons, exercises), lessons read, exercises.
    with django_assert_max_num_queries(7):
        html = learner_client.get(CATALOG).content.decode()

    assert html.count("<progress") == 7


def test_course_page_shows_progress_and_continues_after_the_last_lesson_read(
    learner_client, learner, course
):
    read(learner, course, "intro")

    html = learner_client.get(course_url()).content.decode()

    assert "Your progress" in html
    assert "1 of 2 lessons read" in html
    assert 'value="50"' in html
    assert re.search(
        r'<a class="button" href="/courses/web/views/templates/">Continue where you left off', html
    )
    assert "Next: Templates" in html
    assert 'href="/static/css/progress.css"' in html


def test_course_page_marks_the_lessons_read(learner_client, learner, course):
    read(learner, course, "intro")

    html = learner_client.get(course_url()).content.decode()
    html = html[html.index('class="chapters"') :]

    intro = html[html.index('href="/courses/web/basics/intro/"') :]
    assert '<span class="visually-hidden">(read)</span>' in intro[: intro.index("</li>")]
    templates = html[html.index('href="/courses/web/views/templates/"') :]
    assert "(read)" not in templates[: templates.index("</li>")]


def test_course_page_starts_a_new_learner_at_the_first_lesson(learner_client, course):
    html = learner_client.get(course_url()).content.decode()

    assert re.search(r'<a class="button" href="/courses/web/basics/intro/">Start reading', html)
    assert "Continue where you left off" not in html


def test_course_page_says_when_every_lesson_is_read(learner_client, learner, course):
    read(learner, course, "intro", "templates")

    html = learner_client.get(course_url()).content.decode()

    assert "You have read every lesson of this course." in html
    assert 'value="100"' in html


def test_course_page_shows_no_progress_to_visitors(client, course):
    html = client.get(course_url()).content.decode()

    assert "Your progress" not in html
    assert "(read)" not in html


@pytest.mark.parametrize("lessons", [10, 200])
def test_course_page_queries_do_not_grow_with_the_course(
    learner_client, learner, lessons, django_assert_max_num_queries
):
    course = CourseFactory(slug=f"big-{lessons}")
    chapter = ChapterFactory(course=course, slug="only")
    made = Lesson.objects.bulk_create(
        Lesson(chapter=chapter, slug=f"l{i}", title=f"L{i}", order=i, status=Status.PUBLISHED)
        for i in range(lessons)
    )
    LessonProgress.objects.bulk_create(
        LessonProgress(learner=learner, lesson=lesson) for lesson in made[: lessons // 2]
    )

    # Session, user, course, outline (lessons, exercises), lessons read, exercises.
    with django_assert_max_num_queries(7):
        html = learner_client.get(course_url(course.slug)).content.decode()

    assert f"{lessons // 2} of {lessons} lessons read" in html


# Exercises on the course page


@pytest.fixture
def exercises(course):
    """Two exercises on the introduction, one on templates, one on no lesson."""
    intro = Lesson.objects.get(chapter__course=course, slug="intro")
    templates = Lesson.objects.get(chapter__course=course, slug="templates")
    return {
        "routes": ExerciseFactory(
            course=course, lesson=intro, slug="routes", title="Routes", order=1, points=6
        ),
        "json": ExerciseFactory(
            course=course, lesson=intro, slug="json", title="JSON", order=2, points=4
        ),
        "pages": ExerciseFactory(
            course=course, lesson=templates, slug="pages", title="Pages", order=3, points=1
        ),
        "extra": ExerciseFactory(
            course=course, lesson=None, slug="extra", title="Extra", order=4, points=8
        ),
    }


def lesson_item(html: str, title: str) -> str:
    """Return the course page's list item of a lesson, with what is listed under it."""
    start = html.rindex('<li class="lesson-list__item', 0, html.index(f">{title}</a>"))
    depth, i = 0, start
    while True:  # to the </li> that closes this one, past those of its exercises
        opening, closing = html.find("<li", i), html.find("</li>", i)
        if opening != -1 and opening < closing:
            depth, i = depth + 1, opening + 3
        else:
            depth, i = depth - 1, closing + 5
            if depth == 0:
                return html[start:i]


def exercise_item(html: str, title: str) -> str:
    """Return an exercise's entry on the course page, tags removed and spaces collapsed."""
    end = html.index(f">{title}</a>")
    start = html.rindex('<li class="exercise-item', 0, end)
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : html.index("</li>", end)]).split())


def test_course_page_lists_exercises_under_their_lesson_with_points(client, course, exercises):
    html = client.get(course_url()).content.decode()

    intro = lesson_item(html, "Introduction")
    assert intro.index(">Routes</a>") < intro.index(">JSON</a>")
    assert 'href="/exercises/routes/"' in intro
    assert ">Pages</a>" not in intro
    assert ">Pages</a>" in lesson_item(html, "Templates")
    assert exercise_item(html, "Routes") == "Exercise Routes 6 points"
    assert exercise_item(html, "Pages") == "Exercise Pages 1 point"
    more = html[html.index("More exercises") :]
    assert exercise_item(more, "Extra") == "Exercise Extra 8 points"


def test_course_page_shows_visitors_no_exercise_status(client, course, exercises):
    html = client.get(course_url()).content.decode()

    assert "exercise-status" not in html
    assert "Not started" not in html


def test_course_page_shows_a_learner_their_status_and_best_score(
    learner_client, learner, course, exercises
):
    SubmissionFactory(
        learner=learner, exercise=exercises["routes"], verdict="failed", score=4, max_score=6
    )
    submit(learner, exercises["json"], "failed", score=1)
    submit(learner, exercises["json"], "passed", score=10)
    submit(UserFactory(), exercises["pages"], "passed", score=10)  # someone else

    html = learner_client.get(course_url()).content.decode()

    assert exercise_item(html, "Routes") == "Exercise Routes 6 points Attempted · best 4/6"
    assert exercise_item(html, "JSON") == "Exercise JSON 4 points ✓ Passed · 10/10"
    assert exercise_item(html, "Pages") == "Exercise Pages 1 point Not started"
    assert exercise_item(html, "Extra") == "Exercise Extra 8 points Not started"
    assert '<span class="exercise-status exercise-status--passed"><span aria-hidden="true">✓' in (
        html
    )
    assert "1 of 4 exercises done" in html


def test_course_page_shows_draft_exercises_only_to_staff(staff_client, course, exercises):
    ExerciseFactory(course=course, slug="later", title="Later", status=Status.DRAFT)

    assert ">Later</a>" not in Client().get(course_url()).content.decode()
    staff_html = staff_client.get(course_url()).content.decode()
    assert re.search(r">Later</a> <span class=\"badge badge--draft\">Draft</span>", staff_html)


@pytest.mark.parametrize("size", [2, 60])
def test_course_page_queries_do_not_grow_with_exercises(
    learner_client, learner, size, django_assert_num_queries
):
    course = CourseFactory(slug=f"many-{size}")
    chapter = ChapterFactory(course=course, slug="only")
    lessons = Lesson.objects.bulk_create(
        Lesson(chapter=chapter, slug=f"l{i}", title=f"L{i}", order=i, status=Status.PUBLISHED)
        for i in range(size)
    )
    for i, lesson in enumerate(lessons):
        for n in range(2):
            exercise = ExerciseFactory(course=course, lesson=lesson, order=2 * i + n, points=3)
            if n:
                submit(learner, exercise, "failed", score=1)

    # Session, user, course, outline (lessons, exercises), lessons read, exercise statuses.
    with django_assert_num_queries(7):
        html = learner_client.get(course_url(course.slug)).content.decode()

    assert html.count('class="exercise-item"') == 2 * size
    assert html.count("Attempted · best 1/10") == size
    assert html.count("Not started") == size


# Dashboard

DASHBOARD = reverse("courses:dashboard")


def test_dashboard_asks_visitors_to_log_in(client, db):
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={DASHBOARD}"


def test_dashboard_shows_a_new_learner_every_course_to_start_with(learner_client, course):
    other = CourseFactory(slug="other", title="Another course")
    LessonFactory(chapter__course=other)

    html = learner_client.get(DASHBOARD).content.decode()

    assert "You have not started a course yet." in html
    assert "Web Frameworks" in html
    assert "Another course" in html
    assert "No submissions yet." in html


def test_dashboard_lists_only_the_courses_the_learner_started(learner_client, learner, course):
    other = CourseFactory(slug="other", title="Another course")
    LessonFactory(chapter__course=other)
    submitted = CourseFactory(slug="third", title="Third course")
    LessonFactory(chapter__course=submitted)
    submit(learner, ExerciseFactory(course=submitted), "failed")
    read(learner, course, "intro")

    html = learner_client.get(DASHBOARD).content.decode()

    assert "Your courses" in html
    assert "Web Frameworks" in html
    assert "1 of 2 lessons read" in html
    assert "Third course" in html
    assert "Another course" not in html


def test_dashboard_lists_the_last_ten_submissions_newest_first(learner_client, learner, course):
    exercise = ExerciseFactory(course=course, title="Hello route")
    old = submit(learner, exercise, "failed", score=3)
    for _ in range(9):
        submit(learner, exercise, "failed", score=5)
    newest = submit(learner, exercise, "passed", score=10)
    submit(UserFactory(), ExerciseFactory(course=course, title="Someone else's"), "passed")
    Submission.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=3))

    html = learner_client.get(DASHBOARD).content.decode()

    rows = re.findall(r"<tr>.*?</tr>", html[html.index("<tbody>") :], re.DOTALL)
    assert len(rows) == 10
    assert "Passed" in rows[0]
    assert "10/10" in rows[0]
    assert "Hello route" in rows[0]
    assert "Flask" in rows[0]
    assert f'<time datetime="{newest.created.isoformat()}"' in rows[0]
    assert "just now" in rows[0]
    assert "3/10" not in html  # the oldest is the eleventh
    assert "Someone else" not in html


@pytest.mark.parametrize(
    ("state", "status", "label"),
    [
        ("queued", None, "Queued"),
        ("running", None, "Running"),
        ("done", "failed", "Failed"),
        ("done", "timeout", "Timed out"),
        ("done", "error", "Error"),
    ],
)
def test_dashboard_says_how_each_submission_went(
    learner_client, learner, course, state, status, label
):
    SubmissionFactory(
        learner=learner,
        exercise=ExerciseFactory(course=course),
        framework="django",
        state=state,
        verdict=status or "",
        score=None,
    )

    html = learner_client.get(DASHBOARD).content.decode()

    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert f"{label}</span>" in row
    assert "no score" in row


def test_dashboard_queries_do_not_grow_with_progress(
    learner_client, learner, course, django_assert_max_num_queries
):
    for n in range(5):
        other = CourseFactory(slug=f"more-{n}")
        for i in range(10):
            LessonFactory(chapter__course=other, slug=f"l{i}")
        read(learner, other, "l0", "l3")
        for _ in range(5):
            submit(learner, ExerciseFactory(course=other), "passed", score=10)

    # Session, user, started courses, outlines (lessons, exercises), lessons read,
    # exercises, submissions.
    with django_assert_max_num_queries(8):
        learner_client.get(DASHBOARD)


# Marking lessons read


def read_url(name: str = "courses:lesson_read", lesson: str = "intro") -> str:
    chapter = {"intro": "basics", "wip": "basics", "templates": "views"}[lesson]
    return reverse(name, kwargs={"course": "web", "chapter": chapter, "lesson": lesson})


def test_mark_as_read_records_it_and_returns_to_the_end_of_the_lesson(
    learner_client, learner, course
):
    response = learner_client.post(read_url())

    assert response.status_code == 302
    assert response.url == "/courses/web/basics/intro/#lesson-progress"
    assert LessonProgress.objects.filter(learner=learner, lesson__slug="intro").count() == 1


def test_mark_as_read_twice_keeps_one_record(learner_client, learner, course):
    learner_client.post(read_url())
    learner_client.post(read_url())

    assert LessonProgress.objects.filter(learner=learner).count() == 1


def test_mark_as_unread_removes_the_record(learner_client, learner, course):
    learner_client.post(read_url())

    response = learner_client.post(read_url("courses:lesson_unread"))

    assert response.status_code == 302
    assert not LessonProgress.objects.filter(learner=learner).exists()


def test_htmx_mark_as_read_returns_the_control_in_its_new_state(learner_client, course):
    response = learner_client.post(read_url(), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="read-status read-status--read"')
    assert 'data-read="true"' in html
    assert f'hx-post="{read_url("courses:lesson_unread")}"' in html
    assert "Mark as unread" in html
    assert "<html" not in html


def test_htmx_mark_as_unread_returns_the_mark_as_read_button(learner_client, course):
    response = learner_client.post(
        read_url("courses:lesson_unread"), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert 'data-read="false"' in html
    assert f'action="{read_url()}"' in html
    assert "Mark as read" in html


def test_visitors_are_sent_to_log_in_and_nothing_is_recorded(client, course):
    response = client.post(read_url())

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/courses/web/basics/intro/")
    assert not LessonProgress.objects.exists()


def test_opening_the_mark_url_changes_nothing_and_shows_the_lesson(learner_client, course):
    response = learner_client.get(read_url())

    assert response.status_code == 302
    assert response.url == "/courses/web/basics/intro/"
    assert not LessonProgress.objects.exists()


def test_learners_cannot_mark_a_draft_read(learner_client, course):
    assert learner_client.post(read_url(lesson="wip")).status_code == 404
    assert not LessonProgress.objects.exists()


def test_staff_can_mark_a_draft_read(staff_client, course):
    assert staff_client.post(read_url(lesson="wip")).status_code == 302
    assert LessonProgress.objects.filter(lesson__slug="wip").exists()


def test_marking_an_unknown_lesson_is_not_found(learner_client, course):
    url = reverse(
        "courses:lesson_read", kwargs={"course": "web", "chapter": "views", "lesson": "intro"}
    )

    assert learner_client.post(url).status_code == 404


def test_marking_read_needs_the_csrf_token(learner, course):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    assert client.post(read_url()).status_code == 403
    assert not LessonProgress.objects.exists()


# Links to the exercise and submission pages, once they exist


def _stub(request, **kwargs):
    return HttpResponse("stub")


urlpatterns = [
    path("", include("config.urls")),
    path(
        "",
        include(
            (
                [
                    path("stub/exercises/<slug:exercise>/", _stub, name="exercise"),
                    path("stub/submissions/<int:pk>/", _stub, name="submission"),
                ],
                "sandbox",
            )
        ),
    ),
]


@pytest.mark.urls(__name__)
def test_dashboard_links_each_submission_to_its_page(learner_client, learner, course):
    submission = submit(learner, ExerciseFactory(course=course, title="Hello route"), "passed")

    html = learner_client.get(DASHBOARD).content.decode()

    url = reverse("exercises:submission", kwargs={"pk": submission.pk})
    assert f'<a href="{url}">Hello route</a>' in html
