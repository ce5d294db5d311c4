"""The instructor's lesson editor in a real browser: live preview, themes, drafts, publishing.

Headless Chromium drives Django's live server; the preview is posted by htmx and set up by
the lesson page's own script (site.js), so its tabs, notes and copy buttons work as learners'.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import sign_in
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    CourseStaffFactory,
    LessonFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
OLD_BODY = "## Routes\n\nThe old text about routes.\n"
NEW_BODY = """\
## Routes in three frameworks

=== "Flask"

    Flask declares routes with a decorator.

=== "Django"

    Django lists them in urls.py.

!!! note "Mind the trailing slash"
    Django redirects `/hello` to `/hello/`.

=== "Flask"

    ```python
    @app.get("/")
    def index():
        return "hi"
    ```

=== "Django"

    ```python
    path("", views.index)
    ```
"""
# The note's background, --note-bg in site.css, in each theme.
NOTE_BACKGROUND = {"light": "rgb(237, 242, 253)", "dark": "rgb(25, 35, 58)"}


def tab_switching_works(page: Page) -> None:
    """Choose Django in the first tab set: both sets follow; then Flask again."""
    preview = page.locator("#lesson-preview")
    flask_text = preview.get_by_text("Flask declares routes with a decorator.")
    django_text = preview.get_by_text("Django lists them in urls.py.")
    django_code = preview.get_by_text('path("", views.index)')
    preview.locator(".tabbed-labels label", has_text="Django").first.click()
    expect(django_text).to_be_visible()
    expect(flask_text).to_be_hidden()
    # The second set follows the choice: site.js set up the swapped-in preview.
    expect(django_code).to_be_visible()
    preview.locator(".tabbed-labels label", has_text="Flask").first.click()
    expect(flask_text).to_be_visible()
    expect(django_code).to_be_hidden()


def test_an_instructor_previews_live_and_learners_see_changes_once_published(
    live_server, transactional_db, new_page
):
    course = CourseFactory(slug="web", title="Web")
    chapter = ChapterFactory(course=course, slug="basics", title="Basics")
    lesson = LessonFactory(chapter=chapter, slug="routes", title="Routes", body=OLD_BODY)
    instructor = CourseStaffFactory(course=course, user__is_staff=True).user
    base = live_server.url

    page = new_page(viewport=DESKTOP)
    sign_in(page, base, instructor)
    page.goto(f"{base}{lesson.get_absolute_url()}")
    page.get_by_role("link", name="Edit this lesson").click()
    expect(page.get_by_role("heading", name="Edit lesson Routes")).to_be_visible()

    # Side by side on a wide screen.
    source = page.locator(".lesson-editor__source").bounding_box()
    preview_box = page.locator(".lesson-editor__preview").bounding_box()
    assert preview_box["x"] >= source["x"] + source["width"]

    page.get_by_label("Lesson text").fill(NEW_BODY)
    preview = page.locator("#lesson-preview")
    expect(preview.get_by_role("heading", name="Routes in three frameworks")).to_be_visible()
    note = preview.locator(".admonition.note")
    expect(note.locator(".admonition-title")).to_have_text("Mind the trailing slash")
    expect(preview.locator(".copy-button")).to_have_count(2)

    page.evaluate("document.documentElement.setAttribute('data-theme-choice', 'light')")
    page.evaluate("document.documentElement.setAttribute('data-theme', 'light')")
    expect(note).to_have_css("background-color", NOTE_BACKGROUND["light"])
    tab_switching_works(page)

    page.get_by_role("button", name="Dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(note).to_have_css("background-color", NOTE_BACKGROUND["dark"])
    tab_switching_works(page)

    # The unsaved text in the learner's page, in a tab of its own.
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Preview as a learner").click()
    popup = popup_info.value
    expect(popup.get_by_role("status")).to_contain_text("Preview — not saved.")
    expect(popup.get_by_role("navigation", name="Course contents")).to_be_attached()
    expect(popup.get_by_text("Django lists them in urls.py.")).to_be_attached()
    popup.close()

    page.get_by_role("button", name="Save draft").click()
    expect(
        page.get_by_text("Draft saved. Learners still read the published lesson.")
    ).to_be_visible()
    expect(page.get_by_text("You are editing a draft.")).to_be_visible()

    reader = new_page(viewport=DESKTOP)
    sign_in(reader, base, UserFactory())
    reader.goto(f"{base}{lesson.get_absolute_url()}")
    expect(reader.get_by_text("The old text about routes.")).to_be_visible()
    expect(reader.get_by_text("Flask declares routes with a decorator.")).to_have_count(0)
    expect(reader.get_by_role("link", name="Edit this lesson")).to_have_count(0)

    page.get_by_role("button", name="Publish changes").click()
    expect(page.get_by_text("Published: learners now read this text.")).to_be_visible()

    reader.reload()
    expect(reader.get_by_text("The old text about routes.")).to_have_count(0)
    expect(reader.get_by_text("Flask declares routes with a decorator.")).to_be_visible()
