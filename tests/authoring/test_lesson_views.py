from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from authoring.lesson_forms import MAX_BODY_CHARS, MAX_PREVIEW_REQUEST_BYTES
from courses.models import CourseStaff, Status
from lessons.models import Lesson
from search.index import search
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    CourseStaffFactory,
    LessonFactory,
    UserFactory,
)

LIVE_BODY = "## Routes\n\nA route maps a URL to a function.\n"
TABS = '=== "Flask"\n\n    Flask text\n\n=== "Django"\n\n    Django text\n'


@pytest.fixture
def lesson(db) -> Lesson:
    course = CourseFactory(slug="web", title="Web")
    chapter = ChapterFactory(course=course, slug="basics")
    return LessonFactory(
        chapter=chapter, slug="routes", title="Routes", summary="Paths.", body=LIVE_BODY
    )


@pytest.fixture
def instructor(lesson):
    # Instructors have staff accounts, as the demo's teacher does (for the admin).
    return CourseStaffFactory(course=lesson.chapter.course, user__is_staff=True).user


@pytest.fixture
def instructor_client(client: Client, instructor) -> Client:
    client.force_login(instructor)
    return client


def edit_url(lesson: Lesson) -> str:
    return reverse("teach:lesson_edit", kwargs={"course": "web", "lesson": lesson.id})


def preview_url(lesson: Lesson) -> str:
    return reverse("teach:lesson_preview", kwargs={"course": "web", "lesson": lesson.id})


def learner_preview_url(lesson: Lesson) -> str:
    return reverse("teach:lesson_learner_preview", kwargs={"course": "web", "lesson": lesson.id})


def form_data(lesson: Lesson, action: str, **changes: str) -> dict[str, str]:
    lesson.refresh_from_db()
    data = {
        "title": lesson.title,
        "summary": lesson.summary,
        "body": lesson.body,
        "loaded": lesson.updated.isoformat(),
        "action": action,
    }
    return {**data, **changes}


# Who may get in --------------------------------------------------------------------------

URLS = [
    ("get", edit_url),
    ("post", edit_url),
    ("post", preview_url),
    ("post", learner_preview_url),
]


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, lesson, method, url):
    response = getattr(client, method)(url(lesson), {"body": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("method", "url"), URLS)
def test_learners_get_404(client, lesson, method, url):
    client.force_login(UserFactory())
    assert getattr(client, method)(url(lesson), {"body": "x"}).status_code == 404


@pytest.mark.parametrize(("method", "url"), URLS)
def test_instructors_of_another_course_get_404(client, lesson, method, url):
    client.force_login(CourseStaffFactory(user__is_staff=True).user)
    assert getattr(client, method)(url(lesson), {"body": "x"}).status_code == 404


@pytest.mark.parametrize(("method", "url"), URLS)
def test_assistants_get_403(client, lesson, method, url):
    assistant = CourseStaffFactory(course=lesson.chapter.course, role=CourseStaff.Role.ASSISTANT)
    client.force_login(assistant.user)
    assert getattr(client, method)(url(lesson), {"body": "x"}).status_code == 403


def test_a_lesson_of_another_course_is_not_found_through_this_one(instructor_client, lesson):
    other = LessonFactory()
    url = reverse("teach:lesson_edit", kwargs={"course": "web", "lesson": other.id})
    assert instructor_client.get(url).status_code == 404


def test_an_assistant_changes_nothing(client, lesson):
    assistant = CourseStaffFactory(course=lesson.chapter.course, role=CourseStaff.Role.ASSISTANT)
    client.force_login(assistant.user)
    client.post(edit_url(lesson), form_data(lesson, "publish", body="Defaced."))
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY
    assert not lesson.has_draft


# The editor page -----------------------------------------------------------------------


def test_the_editor_shows_the_text_beside_its_rendered_preview(instructor_client, lesson):
    response = instructor_client.get(edit_url(lesson))
    page = response.content.decode()
    assert response.status_code == 200
    assert "A route maps a URL to a function." in page  # in the textarea
    assert '<h2 id="routes">Routes<a class="headerlink"' in page  # in the preview
    assert 'value="save_draft"' in page
    assert 'value="discard"' not in page
    assert "no-store" in response["Cache-Control"]


def test_an_unpublished_lesson_offers_save_and_publish(instructor_client, lesson):
    Lesson.objects.filter(id=lesson.id).update(status=Status.DRAFT)
    page = instructor_client.get(edit_url(lesson)).content.decode()
    assert 'value="save"' in page
    assert 'value="publish"' in page
    assert 'value="save_draft"' not in page


# Drafts of a published lesson ------------------------------------------------------------


def test_save_draft_keeps_what_learners_read(instructor_client, lesson, client):
    response = instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", body="## New\n\nDraft text.\n")
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.draft_body == "## New\n\nDraft text.\n"
    assert lesson.body == LIVE_BODY
    assert "Draft text" not in lesson.body_html

    learner = Client()
    learner.force_login(UserFactory())
    page = learner.get(lesson.get_absolute_url()).content.decode()
    assert "A route maps a URL to a function." in page
    assert "Draft text" not in page


def test_the_editor_loads_the_draft_and_says_so(instructor_client, lesson):
    instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", title="Routing", body="Draft text.")
    )
    page = instructor_client.get(edit_url(lesson)).content.decode()
    assert "You are editing a draft." in page
    assert "Draft text." in page
    assert 'value="Routing"' in page
    assert 'value="discard"' in page


def test_publish_changes_makes_the_draft_live_and_searchable(instructor_client, lesson):
    instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", body="Draft about zeppelins.")
    )
    assert list(search("zeppelins")) == []
    response = instructor_client.post(
        edit_url(lesson),
        form_data(lesson, "publish", title="Airships", body="Draft about zeppelins."),
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert (lesson.title, lesson.body) == ("Airships", "Draft about zeppelins.")
    assert "zeppelins" in lesson.body_html
    assert not lesson.has_draft
    assert [hit.title for hit in search("zeppelins")] == ["Airships"]


def test_saving_the_live_text_again_leaves_no_draft(instructor_client, lesson):
    instructor_client.post(edit_url(lesson), form_data(lesson, "save_draft", body="Changed."))
    response = instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", body=LIVE_BODY), follow=True
    )
    lesson.refresh_from_db()
    assert not lesson.has_draft
    assert "there is no draft" in response.content.decode()


def test_discard_draft_drops_it_and_leaves_the_lesson(instructor_client, lesson):
    instructor_client.post(edit_url(lesson), form_data(lesson, "save_draft", body="Changed."))
    # The text posted with Discard is thrown away, even if it would not validate.
    response = instructor_client.post(edit_url(lesson), form_data(lesson, "discard", title=""))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.draft_body is None and lesson.draft_title is None
    assert lesson.body == LIVE_BODY


def test_crlf_from_the_browser_is_stored_as_lf(instructor_client, lesson):
    instructor_client.post(edit_url(lesson), form_data(lesson, "save_draft", body="a\r\nb\r\n"))
    lesson.refresh_from_db()
    assert lesson.draft_body == "a\nb\n"


# An unpublished lesson -------------------------------------------------------------------


def test_save_writes_an_unpublished_lesson_directly(instructor_client, lesson):
    Lesson.objects.filter(id=lesson.id).update(status=Status.DRAFT)
    instructor_client.post(edit_url(lesson), form_data(lesson, "save", body="Straight in."))
    lesson.refresh_from_db()
    assert lesson.body == "Straight in."
    assert "Straight in." in lesson.body_html
    assert not lesson.has_draft
    assert lesson.status == Status.DRAFT


def test_publish_publishes_an_unpublished_lesson(instructor_client, lesson):
    Lesson.objects.filter(id=lesson.id).update(status=Status.DRAFT)
    instructor_client.post(edit_url(lesson), form_data(lesson, "publish", body="Now live."))
    lesson.refresh_from_db()
    assert lesson.status == Status.PUBLISHED
    assert lesson.body == "Now live."


# Bad input and concurrent edits ----------------------------------------------------------


def test_a_missing_title_is_refused_with_the_text_kept(instructor_client, lesson):
    body = "A long text I spent an hour on.\n\n" * 10
    response = instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", title="  ", body=body)
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "A lesson needs a title." in page
    assert "A long text I spent an hour on." in page
    lesson.refresh_from_db()
    assert not lesson.has_draft


def test_a_body_too_long_is_refused_in_plain_words(instructor_client, lesson):
    body = "x" * (MAX_BODY_CHARS + 1)
    response = instructor_client.post(edit_url(lesson), form_data(lesson, "save_draft", body=body))
    assert response.status_code == 400
    assert "The lesson is too long to save: at most 200,000 characters" in response.content.decode()
    lesson.refresh_from_db()
    assert not lesson.has_draft


def test_an_unknown_action_saves_nothing(instructor_client, lesson):
    response = instructor_client.post(edit_url(lesson), form_data(lesson, "delete", body="Gone?"))
    assert response.status_code == 400
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY and not lesson.has_draft


def test_a_save_from_a_stale_tab_is_refused_and_keeps_its_text(instructor_client, lesson):
    stale = form_data(lesson, "save_draft", body="Text from the first tab.")
    instructor_client.post(
        edit_url(lesson), form_data(lesson, "save_draft", body="Text from the second tab.")
    )
    response = instructor_client.post(edit_url(lesson), stale)
    page = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: this lesson was changed elsewhere" in page
    assert "Text from the first tab." in page
    lesson.refresh_from_db()
    assert lesson.draft_body == "Text from the second tab."


def test_publishing_from_a_stale_tab_is_refused(instructor_client, lesson):
    stale = form_data(lesson, "publish", body="Old tab.")
    Lesson.objects.filter(id=lesson.id).update(updated=lesson.updated + timedelta(seconds=1))
    assert instructor_client.post(edit_url(lesson), stale).status_code == 409
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY


def test_a_tampered_version_stamp_is_refused(instructor_client, lesson):
    data = form_data(lesson, "publish", body="Whatever.", loaded="yesterday")
    response = instructor_client.post(edit_url(lesson), data)
    assert response.status_code == 400
    assert "lost track of which version it opened" in response.content.decode()
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY


# Live preview ----------------------------------------------------------------------------


def test_the_preview_renders_like_the_lesson_page(instructor_client, lesson):
    body = f"## Setup\n\n{TABS}\n!!! note\n    Mind the gap.\n\n```python\nprint(1)\n```\n"
    response = instructor_client.post(
        preview_url(lesson), {"title": "Routing", "summary": "Short.", "body": body}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<article class="lesson">' in html
    assert "<h1>Routing</h1>" in html
    assert '<p class="lede">Short.</p>' in html
    assert '<div class="tabbed-set tabbed-alternate"' in html
    assert '<div class="admonition note">' in html
    assert '<span class="k">print</span>' not in html  # print is a builtin, not a keyword
    assert '<span class="nb">print</span>' in html
    assert 'class="headerlink"' in html
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY and not lesson.has_draft


def test_a_preview_too_long_is_refused_with_a_message(instructor_client, lesson):
    response = instructor_client.post(preview_url(lesson), {"body": "x" * (MAX_BODY_CHARS + 1)})
    assert response.status_code == 413
    assert "too long to preview" in response.content.decode()


def test_a_preview_request_too_large_is_refused_before_parsing(instructor_client, lesson):
    response = instructor_client.post(
        preview_url(lesson),
        data=b"body=" + b"x" * MAX_PREVIEW_REQUEST_BYTES,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "too large to preview" in response.content.decode()


def test_the_preview_answers_only_posts(instructor_client, lesson):
    assert instructor_client.get(preview_url(lesson)).status_code == 405


# Preview as a learner --------------------------------------------------------------------


def test_learner_preview_shows_unsaved_text_in_the_lesson_page(instructor_client, lesson):
    response = instructor_client.post(
        learner_preview_url(lesson),
        {"title": "Routing", "summary": "", "body": "Unsaved words.", "loaded": "x"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview — not saved." in page
    assert "Unsaved words." in page
    assert 'class="course-nav"' in page  # the course menu, as on the lesson page
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in page
    lesson.refresh_from_db()
    assert lesson.body == LIVE_BODY and not lesson.has_draft


def test_learner_preview_of_a_text_too_long_says_so(instructor_client, lesson):
    response = instructor_client.post(
        learner_preview_url(lesson), {"body": "x" * (MAX_BODY_CHARS + 1)}
    )
    assert response.status_code == 413
    assert "too long to preview" in response.content.decode()


# The link from the lesson page -----------------------------------------------------------


def test_the_lesson_page_links_its_instructors_to_the_editor(instructor_client, lesson):
    page = instructor_client.get(lesson.get_absolute_url()).content.decode()
    assert f'href="{edit_url(lesson)}">Edit this lesson</a>' in page


def test_an_instructor_without_a_staff_account_gets_the_link_too(client, lesson):
    # As someone added on the course overview's staff form is.
    instructor = CourseStaffFactory(course=lesson.chapter.course).user
    assert not instructor.is_staff
    client.force_login(instructor)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert f'href="{edit_url(lesson)}">Edit this lesson</a>' in page


@pytest.mark.parametrize("role", ["learner", "assistant", "other instructor"])
def test_the_lesson_page_has_no_edit_link_for_others(client, lesson, role):
    user = {
        "learner": lambda: UserFactory(),
        "assistant": lambda: (
            CourseStaffFactory(course=lesson.chapter.course, role=CourseStaff.Role.ASSISTANT).user
        ),
        "other instructor": lambda: CourseStaffFactory().user,
    }[role]()
    client.force_login(user)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert "A route maps a URL to a function." in page
    assert "Edit this lesson" not in page
