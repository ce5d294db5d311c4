"""A learner's whole journey through the site, in a real browser.

Headless Chromium drives Django's live server; submissions are graded by a real Celery
worker, through a private Redis, in Docker, on the same (file) test database.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from exercises.models import Submission
from tests.sandbox.conftest import HELLO_DIR

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

PASSWORD = "a-long-Passphrase-2026"
# Grading takes a few seconds; this only stops a hang (the worker boots the app in Docker).
GRADING_TIMEOUT_MS = 120_000

# The starter's route, written — but the index greets the wrong thing: 5 of 6 points.
ALMOST_RIGHT_APP = """\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello, web!"


@app.get("/hello/<name>")
def hello(name):
    return {"message": f"Hello, {name}!"}
"""

# Records every status text the result panel shows, however briefly (grading can take
# less than a second, so polling the page from the test could miss a phase).
WATCH_STATUS = """() => {
  window.seenStatus = [];
  const panel = document.getElementById("latest");
  const note = () => {
    const text = panel.querySelector(".submission-status__text");
    if (text) window.seenStatus.push(text.textContent.trim());
  };
  new MutationObserver(note).observe(panel, {childList: true, subtree: true, characterData: true});
}"""


def sign_up(page: Page, base_url: str, username: str, *, next_path: str = "/") -> None:
    """Create an account through the sign-up form."""
    page.goto(f"{base_url}/accounts/signup/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(username)


def replace_code(page: Page, path: str, code: str) -> None:
    """Open a file in the editor and replace its whole text, as a learner would."""
    tab = page.locator(f'button.ce-file[data-path="{path}"]')
    tab.click()
    expect(tab).to_have_attribute("aria-current", "true")
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(code)
    # Inserted as one edit, so auto-indent and bracket closing leave it as written.
    expect(page.locator(".cm-content")).to_contain_text(code.strip().splitlines()[-1].strip())


def submit_and_wait(page: Page) -> None:
    """Submit the editor's files and wait until the result panel shows their graded result."""
    submit = page.get_by_role("button", name="Submit for grading")
    expect(submit).to_be_enabled()
    result = page.locator("#latest .result")
    # An earlier result stays on show until the server answers the submit.
    earlier = result.get_attribute("aria-labelledby") if result.count() else None
    submit.click()
    expect(result).to_be_visible(timeout=GRADING_TIMEOUT_MS)
    if earlier is not None:
        expect(result).not_to_have_attribute("aria-labelledby", earlier, timeout=GRADING_TIMEOUT_MS)


def test_a_new_learner_solves_hello_in_the_browser_and_sees_progress(
    live_server, course, celery_worker_proc, new_page
):
    base = live_server.url
    page = new_page()

    # A new learner signs up and lands back on the exercise.
    sign_up(page, base, "ada", next_path="/exercises/hello/")
    expect(page).to_have_url(f"{base}/exercises/hello/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    # They pick Flask; the starter's files open in the editor.
    page.get_by_role("radio", name="Flask").check()
    expect(page.locator('button.ce-file[data-path="app.py"]')).to_be_visible()
    expect(page.locator(".cm-content")).to_contain_text("TODO")

    # A first try that still fails one test.
    replace_code(page, "app.py", ALMOST_RIGHT_APP)
    page.evaluate(WATCH_STATUS)
    submit_and_wait(page)

    seen = page.evaluate("window.seenStatus")
    assert any(
        text.startswith(("Queued", "Starting your app", "Running the tests")) for text in seen
    ), seen
    result = page.locator("#latest .result")
    expect(result.locator(".verdict-badge")).to_have_text("✗ Failed")
    expect(result.locator(".result__score")).to_have_text("5 / 6 points")
    failed = result.locator(".test--failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".test__message")).to_contain_text(
        "GET /: expected the body to contain 'Hello, world!'. Body: Hello, web!"
    )
    expect(result.locator(".test--passed")).to_have_count(3)

    # They fix the code with the reference solution and submit again.
    solution = (HELLO_DIR / "solution" / "flask" / "app.py").read_text(encoding="utf-8")
    replace_code(page, "app.py", solution)
    submit_and_wait(page)

    result = page.locator("#latest .result")
    expect(result.locator(".verdict-badge")).to_have_text("✓ Passed")
    expect(result.locator(".result__score")).to_have_text("6 / 6 points")
    expect(result.locator(".test--failed")).to_have_count(0)
    attempts = Submission.objects.filter(learner__username="ada").order_by("created")
    assert [s.verdict for s in attempts] == ["failed", "passed"]
    assert [s.framework for s in attempts] == ["flask", "flask"]

    # The course page counts the exercise as done.
    page.goto(f"{base}/courses/python-web/")
    progress = page.get_by_role("region", name="Your progress")
    expect(progress).to_contain_text(re.compile(r"\b1 of \d+ exercises done"))
    percent = int(progress.locator(".course-progress__label strong").inner_text().rstrip("%"))
    assert percent > 0

    # Another learner cannot open the first one's submission.
    stranger = new_page()
    sign_up(stranger, base, "grace")
    answer = stranger.goto(f"{base}/submissions/{attempts[0].pk}/")
    assert answer is not None
    assert answer.status in (403, 404)
    expect(stranger.get_by_text("Hello, web!")).to_have_count(0)
