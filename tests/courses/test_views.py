from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from lessons.models import Status
from tests.factories import ChapterFactory, CourseFactory, LessonFactory

CATALOG = reverse("courses:catalog")


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


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
