"""What a learner sees of a failing notes API, in a real browser.

The app is graded for real (Celery worker, Docker) like in test_learner_journey.py; here the
result itself is the point: the tests that could not run for one cause are shown once under
it, an HTML error page reads as text, and a failing hidden test shows its hint and no more.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.test_learner_journey import replace_code, sign_up, submit_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

NOTES_DIR = settings.COURSE_CONTENT_DIR / "python-web" / "exercises" / "notes-api"


def solution_that_cannot_create_notes() -> str:
    """Return the Flask solution, with POST /notes answering Flask's HTML 501 page."""
    code = (NOTES_DIR / "solution" / "flask" / "app.py").read_text(encoding="utf-8")
    assert "def create_note():\n" in code
    return code.replace("def create_note():\n", "def create_note():\n    abort(501)\n")


def test_failures_of_one_cause_are_grouped_and_a_hidden_test_gives_its_hint(
    live_server, course, celery_worker_proc, new_page
):
    base = live_server.url
    page = new_page()
    sign_up(page, base, "grace", next_path="/exercises/notes-api/")
    # The instructions have Flask tabs of their own: the editor's choice is the Framework group.
    page.get_by_role("group", name="Framework").get_by_role("radio", name="Flask").check()
    expect(page.locator('button.ce-file[data-path="app.py"]')).to_be_attached()

    replace_code(page, "app.py", solution_that_cannot_create_notes())
    submit_and_wait(page)

    result = page.locator("#latest .result")
    expect(result.locator(".verdict-badge")).to_have_text("✗ Failed")

    # Ten tests needed a note first: one entry says why, once, and lists them.
    group = result.locator(".test-group")
    expect(group).to_have_count(1)
    expect(group.locator(".test__name").first).to_have_text(
        "10 tests could not run: POST /notes answered 501"
    )
    expect(group.locator(".test-group__tests > li")).to_have_count(10)
    expect(group.locator(".test-group__tests")).to_contain_text("GET /notes/<id> answers 200")
    expect(group.locator(".test-group__tests")).to_contain_text("Hidden test 1")
    message = group.locator(".test__message")
    expect(message).to_have_text(
        re.compile(
            r"^Could not create a note to test with\. POST /notes: expected a 2xx status, got "
            r"501\. Body: Not Implemented\nThe server does not support the action requested"
        )
    )
    expect(message).not_to_contain_text("<")
    expect(result.get_by_text("Could not create a note to test with")).to_have_count(1)

    # A hidden test that failed on its own shows its hint, and nothing of what it checks.
    hidden = result.locator("li.test--failed", has_text="Hidden test 2")
    expect(hidden.locator(".test__hint")).to_have_text(
        "Hint: 100 characters is the longest title allowed"
    )
    expect(hidden.locator(".test__message")).to_have_count(0)
    expect(result.locator(".test__hint")).to_have_count(3)
    text = result.inner_text()
    assert "101" not in text and "ids_are_never_reused" not in text
