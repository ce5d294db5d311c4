from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, reverse

from tests.factories import ChapterFactory, CourseFactory, LessonFactory


def _stub_page(request, **kwargs):
    return HttpResponse("lesson page")


# The lesson pages belong to the site's own URLconf; these stand-ins let the
# admin's links be tested on their own.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("markdownx/", include("lessons.markdownx_urls")),
    path(
        "",
        include(
            (
                [
                    path("<course>/<chapter>/<lesson>/", _stub_page, name="lesson"),
                    path("<course>/<chapter>/<lesson>/preview/", _stub_page, name="lesson_preview"),
                ],
                "lessons",
            )
        ),
    ),
]

pytestmark = pytest.mark.urls(__name__)


class _Scripts(HTMLParser):
    """Collect the attributes of every <script> and every inline event handler."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))


@pytest.fixture
def lesson(db):
    return LessonFactory(
        chapter__course__slug="web", chapter__slug="basics", slug="routes", title="Routes"
    )


def test_staff_can_open_the_lesson_list(staff_client, lesson):
    response = staff_client.get(reverse("admin:lessons_lesson_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Routes" in page
    assert 'href="/web/basics/routes/preview/"' in page


def test_staff_can_search_and_filter_lessons(staff_client, lesson):
    LessonFactory(title="Templates")
    url = reverse("admin:lessons_lesson_changelist")
    page = staff_client.get(url, {"q": "Routes", "status": "published"}).content.decode()
    assert "Routes" in page
    assert "Templates" not in page


def test_the_lesson_form_has_the_markdown_editor_with_live_preview(staff_client, lesson):
    response = staff_client.get(reverse("admin:lessons_lesson_change", args=[lesson.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="markdownx">' in page
    assert 'class="vLargeTextField markdownx-editor"' in page
    assert 'data-markdownx-urls-path="/markdownx/markdownify/"' in page
    assert "markdownx/js/markdownx" in page
    assert "css/pygments.css" in page


def test_the_lesson_form_links_to_the_learner_preview_and_the_site(staff_client, lesson):
    page = staff_client.get(
        reverse("admin:lessons_lesson_change", args=[lesson.pk])
    ).content.decode()
    assert 'href="/web/basics/routes/preview/"' in page
    assert "Preview as learner" in page
    assert "View on site" in page


def test_the_lesson_form_names_the_course_of_each_chapter(staff_client, lesson):
    page = staff_client.get(reverse("admin:lessons_lesson_add")).content.decode()
    assert f"{lesson.chapter.course} / {lesson.chapter}" in page


def test_the_lesson_form_runs_under_the_content_security_policy(staff_client, lesson):
    response = staff_client.get(reverse("admin:lessons_lesson_change", args=[lesson.pk]))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    scripts = _Scripts(response.content.decode())
    # Every script is a file, or data that the browser never runs.
    assert all(s.get("src") or s.get("type") == "application/json" for s in scripts.scripts)
    assert any("markdownx" in (s.get("src") or "") for s in scripts.scripts)
    assert scripts.handlers == []


def test_staff_can_save_a_lesson_and_its_html_is_rendered(staff_client, lesson):
    url = reverse("admin:lessons_lesson_change", args=[lesson.pk])
    response = staff_client.post(
        url,
        {
            "chapter": lesson.chapter.pk,
            "title": "Routes",
            "slug": "routes",
            "summary": "",
            "order": 1,
            "status": "draft",
            "body": "## Path converters\n\n<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert '<h2 id="path-converters">' in lesson.body_html
    assert "script" not in lesson.body_html
    assert 'href="#path-converters"' in lesson.toc_html


def test_learners_cannot_open_the_lesson_admin(learner_client, lesson):
    for url in (
        reverse("admin:lessons_lesson_changelist"),
        reverse("admin:lessons_lesson_change", args=[lesson.pk]),
    ):
        response = learner_client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_the_course_form_edits_chapters_inline_with_a_markdown_description(staff_client, db):
    course = CourseFactory(title="Python on the web")
    ChapterFactory(course=course, title="Foundations")
    response = staff_client.get(reverse("admin:courses_course_change", args=[course.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Foundations"' in page
    assert 'name="description"' in page
    assert '<div class="markdownx">' in page


def test_the_course_list_counts_chapters_and_lessons(staff_client, lesson):
    LessonFactory(chapter=lesson.chapter)
    response = staff_client.get(reverse("admin:courses_course_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<td class="field-chapter_count">1</td>' in page
    assert '<td class="field-lesson_count">2</td>' in page


def test_the_chapter_form_lists_its_lessons_with_links(staff_client, lesson):
    url = reverse("admin:courses_chapter_change", args=[lesson.chapter.pk])
    page = staff_client.get(url).content.decode()
    assert 'value="Routes"' in page
    assert 'href="/web/basics/routes/preview/"' in page
    assert reverse("admin:lessons_lesson_change", args=[lesson.pk]) in page


def test_learners_cannot_open_the_course_admin(learner_client, db):
    response = learner_client.get(reverse("admin:courses_course_changelist"))
    assert response.status_code == 302
