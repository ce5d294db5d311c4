"""The learner's path in a real browser: exercises under their lessons, with status, and
"Next →" after a pass.

Submissions are graded for real (Celery worker, Redis, Docker), as in test_learner_journey.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_learner_journey import (
    ALMOST_RIGHT_APP,
    replace_code,
    sign_up,
    submit_and_wait,
)
from tests.sandbox.conftest import HELLO_DIR

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

COURSE_PATH = "/courses/python-web/"
PHONE = {"width": 360, "height": 740}


def lesson_item(page: Page, title: str):
    """Return a lesson's item on the course page, with the exercises listed under it."""
    link = page.get_by_role("link", name=title, exact=True)
    return page.locator(".lesson-list__item").filter(has=link)


def exercise_item(page: Page, title: str):
    return page.locator(".exercise-item").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide at {PHONE['width']} px"


def test_visitors_see_each_lessons_exercises_with_their_points(live_server, course, new_page):
    base = live_server.url
    page = new_page(viewport=PHONE)

    page.goto(f"{base}/")
    expect(page.locator(".card--course .card__meta")).to_have_text("11 lessons · 8 exercises")
    assert_no_sideways_scroll(page)

    page.goto(f"{base}{COURSE_PATH}")
    expect(page.locator(".exercise-item")).to_have_count(8)
    first = lesson_item(page, "What a web framework does").locator(".exercise-item")
    expect(first).to_have_count(1)
    expect(first).to_contain_text("Hello, web")
    expect(first).to_contain_text("6 points")
    orms = lesson_item(page, "Data: ORMs and migrations").locator(".exercise-item")
    expect(orms).to_contain_text("A bookshelf in a database")
    expect(page.locator(".exercise-status")).to_have_count(0)  # no status for visitors
    assert_no_sideways_scroll(page)


def test_a_learner_sees_their_status_and_goes_on_with_next_after_a_pass(
    live_server, course, celery_worker_proc, new_page
):
    base = live_server.url
    page = new_page()
    sign_up(page, base, "lin", next_path="/exercises/hello/")
    page.get_by_role("radio", name="Flask").check()

    # A first try fails one test: no way on yet, and the course page says how far it got.
    replace_code(page, "app.py", ALMOST_RIGHT_APP)
    submit_and_wait(page)
    expect(page.locator("#latest .verdict-badge")).to_have_text("✗ Failed")
    expect(page.get_by_role("link", name=re.compile(r"^Next"))).to_have_count(0)

    page.goto(f"{base}{COURSE_PATH}")
    expect(exercise_item(page, "Hello, web").locator(".exercise-status")).to_have_text(
        "Attempted · best 5/6"
    )
    expect(exercise_item(page, "A bookshelf with Jinja templates")).to_contain_text("Not started")

    # The reference solution passes, and "Next →" leads to the lesson after hello's.
    page.goto(f"{base}/exercises/hello/")
    solution = (HELLO_DIR / "solution" / "flask" / "app.py").read_text(encoding="utf-8")
    replace_code(page, "app.py", solution)
    submit_and_wait(page)
    expect(page.locator("#latest .verdict-badge")).to_have_text("✓ Passed")
    next_link = page.locator("#latest").get_by_role("link", name=re.compile(r"^Next"))
    expect(next_link).to_have_text("Next → Lesson: Flask, the microframework")
    next_link.click()

    expect(page).to_have_url(f"{base}/courses/python-web/web-frameworks/flask/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Flask, the microframework")
    menu = page.get_by_role("navigation", name="Course contents")
    menu.locator("summary", has_text="Foundations").click()  # only the current chapter is open
    read_first = menu.locator(".course-nav__lessons > li").filter(
        has=page.get_by_role("link", name="What a web framework does", exact=True)
    )
    expect(read_first.locator(".course-nav__exercise")).to_have_text(
        "Hello, web Exercise · 6 pts · ✓ Passed"
    )
    flask = menu.locator(".course-nav__lessons > li").filter(
        has=page.get_by_role("link", name="Flask, the microframework", exact=True)
    )
    expect(flask.locator(".course-nav__exercise")).to_have_text(
        "A bookshelf with Jinja templates Exercise · 16 pts"
    )

    # On a phone the menu opens over the lesson without making the page wider.
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Course contents").click()
    expect(flask.locator(".course-nav__exercise")).to_be_visible()
    assert_no_sideways_scroll(page)

    page.goto(f"{base}{COURSE_PATH}")
    expect(exercise_item(page, "Hello, web").locator(".exercise-status")).to_have_text(
        "✓ Passed · 6/6"
    )
    expect(page.get_by_role("region", name="Your progress")).to_contain_text(
        "1 of 8 exercises done"
    )
    assert_no_sideways_scroll(page)
