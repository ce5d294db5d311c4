"""Every page type passes axe-core in a real browser, in both themes, on a wide and a narrow screen.

axe-core (tests/e2e/vendor/) is injected into each page once it has loaded and run its
scripts, so it sees what a reader sees: copy buttons, tab sets preselected, the theme chosen
from the (emulated) system setting. A page fails on any serious or critical violation, and on
the moderate ones an audit of the site found before (heading order, landmark names). At 360 px
the page must not scroll sideways either: a header that overflows hides its own buttons. Tab
walks through every page too, stopping only on controls with a name, and each page has a meta
description.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page

from courses.models import Course
from exercises.models import Exercise, Submission
from lessons.models import Lesson
from sandbox import runner
from sandbox.archive import pack_directory
from sandbox.spec import ExerciseSpec
from tests.factories import (
    ApiTokenFactory,
    LessonProgressFactory,
    StaffFactory,
    SubmissionArchiveFactory,
    SubmissionFactory,
    UserFactory,
)
from tests.sandbox.conftest import HELLO_DIR

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
# The site's Content-Security-Policy allows scripts of its own origin only (no inline ones), and
# the check must not switch that off: axe is loaded from this path, answered by the test.
AXE_PATH = "/__test__/axe.min.js"
THEMES = ("light", "dark")
WIDTHS = (1280, 360)
FAILING_IMPACTS = frozenset({"serious", "critical"})
# Moderate in axe's scale, but each was a real barrier here once: keep them fixed.
FAILING_RULES = frozenset({"heading-order", "landmark-unique", "page-has-heading-one"})
# The exercise editor's scroller is CodeMirror's own element; its keyboard access belongs to
# the editor (frontend/), whose rework makes it a named, focusable region.
EXCLUDED = [".cm-scroller"]
# Long enough to wrap a narrow header, as real usernames (emails, full names) do.
LEARNER = "margaret.hamilton-apollo-guidance@example.org"

RUN_AXE = """async ({exclude}) => {
  const results = await axe.run({exclude}, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((node) => node.target.flat().join(" >>> ")),
  }));
}"""


# Where Tab has just put the focus: what the element is, whether the page made it focusable
# (a link, a control, a tabindex) and the name a screen reader would announce. Chromium also
# stops on boxes that scroll and hold nothing focusable; those have no name, and the page never
# asked for them. `done` once the focus is back on an element already seen, or has left the page.
FOCUS_STOP = """() => {
  const el = document.activeElement;
  const seen = (window.focusStopsSeen = window.focusStopsSeen || new Set());
  if (!el || el === document.body || seen.has(el)) return {done: true};
  seen.add(el);
  const text = (value) => (value || "").replace(/\\s+/g, " ").trim();
  const byIds = (ids) =>
    (ids || "").split(/\\s+/).map((id) => document.getElementById(id)?.textContent).join(" ");
  const content = /^(A|BUTTON|SUMMARY)$/.test(el.tagName)
    ? el.textContent + " " + Array.from(el.querySelectorAll("img[alt]"), (img) => img.alt).join(" ")
    : "";
  const name = text(el.getAttribute("aria-label"))
    || text(byIds(el.getAttribute("aria-labelledby")))
    || text(Array.from(el.labels || [], (label) => label.textContent).join(" "))
    || text(content) || text(el.getAttribute("title")) || text(el.getAttribute("placeholder"));
  const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/) : [];
  return {
    done: false,
    typing: el.isContentEditable,
    element: [el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), ...classes].join("."),
    asked: el.matches(
      "a[href], button, input, select, textarea, summary, [tabindex], [contenteditable]"
    ),
    name,
  };
}"""
MAX_TAB_STOPS = 400


@dataclasses.dataclass(frozen=True)
class Site:
    """The rows the pages show: the course, a learner with progress and a graded submission."""

    learner: object
    staff: object
    lesson: Lesson
    submission: Submission


@dataclasses.dataclass(frozen=True)
class PageType:
    name: str
    who: str  # "anonymous", "learner" or "staff"
    path: Callable[[Site], str]


PAGE_TYPES = [
    PageType("catalog", "anonymous", lambda site: "/"),
    PageType("catalog-signed-in", "learner", lambda site: "/"),
    PageType("course", "learner", lambda site: "/courses/python-web/"),
    PageType("lesson", "learner", lambda site: site.lesson.get_absolute_url()),
    PageType("lesson-anonymous", "anonymous", lambda site: site.lesson.get_absolute_url()),
    PageType("lesson-preview", "staff", lambda site: f"{site.lesson.get_absolute_url()}preview/"),
    PageType("exercise", "learner", lambda site: "/exercises/hello/"),
    PageType("exercise-anonymous", "anonymous", lambda site: "/exercises/hello/"),
    PageType("submission", "learner", lambda site: f"/submissions/{site.submission.pk}/"),
    PageType("dashboard", "learner", lambda site: "/dashboard/"),
    PageType("search", "anonymous", lambda site: "/search/"),
    PageType("search-results", "anonymous", lambda site: "/search/?q=flask+route"),
    PageType("login", "anonymous", lambda site: "/accounts/login/"),
    PageType("signup", "anonymous", lambda site: "/accounts/signup/"),
    PageType("api-tokens", "learner", lambda site: "/accounts/tokens/"),
    PageType("logout-confirm", "learner", lambda site: "/accounts/logout/"),
    PageType("not-found", "anonymous", lambda site: "/no-such-page/"),
    PageType("forbidden", "anonymous", lambda site: "/markdownx/upload/"),
]


@pytest.fixture(scope="session")
def graded_result(runner_image) -> dict:
    """Grade the hello exercise's Flask starter for real once: a result with failed tests."""
    spec = ExerciseSpec.from_dir(HELLO_DIR)
    archive = pack_directory(HELLO_DIR / "starter" / "flask")
    result = runner.grade(spec=spec, archive=archive, framework="flask")
    assert result["status"] == "failed", result
    return result


@pytest.fixture
def site(transactional_db, graded_result) -> Site:
    """Import the course and give a learner progress, an API token and a graded submission."""
    cache.clear()  # cached pages of an earlier test name rows that are gone
    call_command("import_course", str(settings.COURSE_CONTENT_DIR / "python-web"), verbosity=0)
    learner = UserFactory(username=LEARNER)
    # A lesson with framework tabs, code blocks, admonitions and a table of contents.
    lesson = Lesson.objects.get(
        chapter__course__slug="python-web", slug="what-a-web-framework-does"
    )
    LessonProgressFactory(learner=learner, lesson=lesson)
    ApiTokenFactory(user=learner, name="laptop")
    submission = SubmissionFactory(
        learner=learner,
        exercise=Exercise.objects.get(slug="hello"),
        framework="flask",
        archive=SubmissionArchiveFactory(data=pack_directory(HELLO_DIR / "starter" / "flask")),
        verdict=graded_result["status"],
        score=graded_result["score"],
        max_score=graded_result["max_score"],
        result=graded_result,
    )
    assert Course.objects.filter(slug="python-web").exists()
    return Site(learner=learner, staff=StaffFactory(), lesson=lesson, submission=submission)


def sign_in(page: Page, base_url: str, user) -> None:
    """Give the browser a session of `user`, as logging in would."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )


def tab_stop_problems(page: Page, where: str) -> list[str]:
    """Press Tab through the page; return each stop that has no name or was never asked for."""
    problems = []
    typing = False
    for _ in range(MAX_TAB_STOPS):
        if typing:
            # Tab indents in the code editor; Escape first, as its hint tells readers.
            page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUS_STOP)
        if stop["done"]:
            return problems
        typing = stop["typing"]
        if not stop["asked"]:
            problems.append(f"{where}: Tab stops on {stop['element']}, which is not a control")
        elif not stop["name"]:
            problems.append(f"{where}: Tab stops on {stop['element']}, which has no name")
    problems.append(f"{where}: still finding new Tab stops after {MAX_TAB_STOPS}")
    return problems


def report(where: str, violations: list[dict]) -> list[str]:
    """Return one readable block per violation: rule, impact, what it means, where."""
    lines = []
    for violation in violations:
        lines.append(f"{where}: {violation['id']} ({violation['impact']}) — {violation['help']}")
        lines.extend(f"    {target}" for target in violation["targets"])
    return lines


@pytest.mark.parametrize("page_type", PAGE_TYPES, ids=lambda page_type: page_type.name)
def test_page_has_no_serious_accessibility_violation(
    live_server, site, new_page, page_type: PageType
):
    base = live_server.url
    page = new_page()
    page.route(
        f"{base}{AXE_PATH}",
        lambda route: route.fulfill(path=AXE_SCRIPT, content_type="text/javascript"),
    )
    if page_type.who != "anonymous":
        sign_in(page, base, site.learner if page_type.who == "learner" else site.staff)
    url = base + page_type.path(site)

    problems: list[str] = []
    for theme in THEMES:
        for width in WIDTHS:
            where = f"{page_type.name}, {theme}, {width} px"
            page.emulate_media(color_scheme=theme)
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(url, wait_until="load")
            assert page.evaluate("document.documentElement.dataset.theme") == theme, where
            descriptions = page.locator('meta[name="description"]')
            if descriptions.count() != 1 or not descriptions.get_attribute("content").strip():
                problems.append(f"{where}: no meta description, or more than one")
            page.add_script_tag(url=base + AXE_PATH)
            violations = [
                v
                for v in page.evaluate(RUN_AXE, {"exclude": EXCLUDED})
                if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES
            ]
            problems.extend(report(where, violations))
            problems.extend(tab_stop_problems(page, where))
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                problems.append(f"{where}: the page scrolls sideways by {overflow} px")

    assert not problems, "\n" + "\n".join(problems)
