from __future__ import annotations

import re

import pytest
from django.urls import reverse

from courses.models import Status
from tests.factories import ExerciseFactory, LessonFactory

pytestmark = pytest.mark.django_db

BODY = "Register blueprints when the application factory runs."


def search_url() -> str:
    return reverse("search:search")


def test_it_shows_each_result_with_its_link_course_and_snippet(client):
    lesson = LessonFactory(title="Project layout", body=BODY)

    response = client.get(search_url(), {"q": "blueprints"})

    assert response.status_code == 200
    assert response.templates[0].name == "search/search.html"
    html = response.content.decode()
    assert f'<a href="{lesson.get_absolute_url()}">Project layout</a>' in html
    assert lesson.chapter.course.title in html
    assert "Register <mark>blueprints</mark> when" in html
    assert "1 result for “blueprints”" in html
    assert '<input type="search" id="search-query" name="q" value="blueprints"' in html
    assert '<label for="search-query">' in html


def test_it_labels_exercises_and_hides_drafts(client):
    LessonFactory(title="Draft", body=BODY, status=Status.DRAFT)
    ExerciseFactory(title="Build a blueprint", summary="Split the app into blueprints.")

    html = client.get(search_url(), {"q": "blueprints"}).content.decode()

    assert "Build a blueprint" in html
    assert "Exercise ·" in html
    assert "Draft" not in html


def test_an_htmx_request_gets_only_the_results(client):
    LessonFactory(title="Project layout", body=BODY)

    response = client.get(search_url(), {"q": "blueprints"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert "Project layout" in html
    # The screen-reader status outside the swapped list is updated out of band.
    assert '<p id="search-status" hx-swap-oob="innerHTML">1 result</p>' in html
    assert "HX-Request" in response["Vary"]


def test_restoring_history_gets_the_whole_page(client):
    response = client.get(
        search_url(),
        {"q": "blueprints"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.content.decode()


def test_an_empty_query_shows_the_form_and_a_prompt(client):
    response = client.get(search_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Type a word or two to search" in html
    assert "search-hits" not in html
    assert " autofocus" in html


def test_a_query_without_results_says_so(client):
    LessonFactory(title="Project layout", body=BODY)

    html = client.get(search_url(), {"q": "zeppelin"}).content.decode()

    assert "No results for “zeppelin”" in html


def test_the_query_is_escaped_where_it_is_shown(client):
    html = client.get(search_url(), {"q": '<script>alert("q")</script>'}).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_snippets_escape_lesson_text(client):
    LessonFactory(title="XSS", body="The sanitizer:\n\n```html\n<script>alert(1)</script>\n```\n")

    html = client.get(search_url(), {"q": "sanitizer"}).content.decode()

    assert "<script>alert(1)" not in html


def test_odd_and_overlong_queries_render(client):
    for query in ['"', "*", "AND OR", "-", "x" * 1000, "NEAR(", "\u65e5\u672c"]:
        response = client.get(search_url(), {"q": query})
        assert response.status_code == 200, query

    html = client.get(search_url(), {"q": "y" * 1000}).content.decode()
    [value] = re.findall(r'<input type="search"[^>]* value="([^"]*)"', html)
    assert value == "y" * 200


def test_the_page_has_no_inline_scripts_or_styles(client):
    LessonFactory(title="Project layout", body=BODY)

    html = client.get(search_url(), {"q": "blueprints"}).content.decode()

    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert " style=" not in html


def test_it_makes_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    for n in range(10):
        lesson = LessonFactory(title=f"Part {n}", body=BODY)
        ExerciseFactory(course=lesson.chapter.course, lesson=lesson, summary="Use blueprints.")

    with django_assert_max_num_queries(3):
        response = client.get(search_url(), {"q": "blueprints"})

    assert response.content.decode().count('class="search-hit ') == 20
