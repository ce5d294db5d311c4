"""An instructor's term in a real browser, through the instructor area (/teach/) only.

The instructor edits a lesson with its live preview, writes a new exercise in the exercise
editor, validates and publishes it, sets its deadline, and invites a learner by link; the
learner joins and solves the exercise; the instructor finds the score in the gradebook and in
its CSV. Headless Chromium drives Django's live server with the course imported from
content/; validation and the learner's submission are graded for real (a Celery site worker,
a grading host, Docker).

With SAVE_SCREENSHOTS=1 the exercise editor with its validation results replaces
docs/screenshots/teach-exercise-validation.png, and a regrade's report
teach-regrade-report.png:

    SAVE_SCREENSHOTS=1 TEST_DATABASES=sqlite ./scripts/test tests/e2e/test_teaching.py
"""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from courses.models import Course, CourseStaff
from exercises.services import submission_create
from sandbox.archive import pack_files
from tests.celery_fixtures import hello_archive, wait_until_graded
from tests.e2e.test_learner_journey import (
    ALMOST_RIGHT_APP,
    GRADING_TIMEOUT_MS,
    replace_code,
    submit_and_wait,
)
from tests.e2e.test_teach_pages import SCREENSHOTS, save_screenshot
from tests.factories import CourseStaffFactory, EnrollmentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.celery]

DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
NEW_PARAGRAPH = "Every framework here answers one question: which code runs for this request?"

PING_TESTS = '''\
"""GET /ping answers that the app is alive."""

import pytest
from grader import expect


def test_ping_answers(client):
    """GET /ping answers 200."""
    expect(client.get("/ping"), status=200)


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_ping_says_pong(client):
    """GET /ping answers {"pong": true}."""
    expect(client.get("/ping"), status=200, json={"pong": True})
'''
PING_STARTER = """\
from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"pong": False}  # TODO: answer that the app is alive
"""
PING_SOLUTION = """\
from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"pong": True}
"""
PING_INSTRUCTIONS = """\
Write a Flask app whose `GET /ping` answers the JSON `{"pong": true}`.

A monitoring system calls it every minute to see that the app is alive.
"""


def log_in(page: Page, base: str, username: str, *, next_path: str = "/") -> None:
    """Log in through the log-in form."""
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(username)


def add_file(page: Page, path: str, text: str) -> None:
    """Create a file in the exercise editor's file list and type its text."""
    page.get_by_role("button", name="New file", exact=True).click()
    dialog = page.get_by_role("dialog", name="New file")
    dialog.get_by_label("File path").fill(path)
    dialog.get_by_role("button", name="Create file").click()
    expect(page.locator(".ce-pathbar .ce-path")).to_have_text(path)
    page.locator(".cm-content").click()
    page.keyboard.insert_text(text)
    expect(page.locator(".cm-content")).to_contain_text(text.strip().splitlines()[-1].strip())


def test_an_instructor_runs_a_course_from_lesson_to_gradebook(
    live_server, course, celery_worker_proc, new_page, tmp_path
):
    base = live_server.url
    python_web = Course.objects.get(slug="python-web")
    CourseStaffFactory(course=python_web, user__username="hopper", role=CourseStaff.Role.INSTRUCTOR)
    UserFactory(username="ada")
    saving = os.environ.get("SAVE_SCREENSHOTS") == "1"

    teacher = new_page(viewport=DESKTOP, color_scheme="light")
    teacher.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(teacher, base, "hopper")

    # /teach/ lists the course; its overview has the outline.
    teacher.get_by_role("navigation", name="Account").get_by_role("link", name="Teach").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Teach")
    teacher.get_by_role("link", name=python_web.title).click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(python_web.title)
    expect(teacher.get_by_text("You are an instructor of this course.")).to_be_visible()

    # A lesson, edited with its live preview, then published.
    outline = teacher.locator("#outline")
    first_lesson = outline.locator(".teach-lessons li").first
    lesson_title = first_lesson.locator(".teach-row__title a").inner_text()
    first_lesson.get_by_role("link", name=f"Edit “{lesson_title}”").click()
    expect(teacher.get_by_role("heading", name=f"Edit lesson {lesson_title}")).to_be_visible()
    text = teacher.get_by_label("Lesson text")
    text.fill(text.input_value() + f"\n\n{NEW_PARAGRAPH}\n")
    expect(teacher.locator("#lesson-preview").get_by_text(NEW_PARAGRAPH)).to_be_visible()
    teacher.get_by_role("button", name="Publish changes").click()
    expect(teacher.get_by_text("Published: learners now read this text.")).to_be_visible()
    lesson_url = teacher.get_by_role("link", name="View on the site").get_attribute("href")

    # A new exercise, written in the exercise editor.
    teacher.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=python_web.title
    ).click()
    teacher.get_by_role("link", name="New exercise").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("New exercise")
    teacher.get_by_label("Title").fill("Ping")
    teacher.get_by_label("Slug").fill("ping")
    teacher.get_by_label("Instructions").fill(PING_INSTRUCTIONS)
    preview = teacher.locator("#instructions-preview")
    expect(preview.locator("code", has_text='{"pong": true}')).to_be_visible()
    teacher.get_by_role("checkbox", name="Flask").check()
    add_file(teacher, "tests/test_ping.py", PING_TESTS)
    add_file(teacher, "starter/flask/app.py", PING_STARTER)
    add_file(teacher, "solution/flask/app.py", PING_SOLUTION)
    teacher.get_by_role("button", name="Save").click()
    expect(
        teacher.get_by_text("Saved. Version 1 is new: validate it before publishing.")
    ).to_be_visible()
    expect(teacher.get_by_role("heading", level=1)).to_contain_text("Ping")
    expect(teacher.get_by_text("Not ready to publish: Validate this version first")).to_be_visible()

    # Validation grades the solution and the starter in the sandbox.
    teacher.get_by_role("button", name="Validate version 1").click()
    validation = teacher.locator("#validation")
    solution = validation.locator(".teach-run", has=teacher.get_by_role("heading", name="Solution"))
    starter = validation.locator(".teach-run", has=teacher.get_by_role("heading", name="Starter"))
    expect(solution.locator(".teach-run__score")).to_contain_text(
        "Passed · 3/3 points as expected", timeout=GRADING_TIMEOUT_MS
    )
    expect(starter.locator(".teach-run__score")).to_contain_text(
        "Failed · 1/3 points as expected", timeout=GRADING_TIMEOUT_MS
    )
    expect(validation.get_by_text("Version 1 passed validation.")).to_be_visible()
    if saving:
        save_screenshot(teacher, SCREENSHOTS / "teach-exercise-validation.png")
    validation.get_by_role("button", name="Publish").click()
    expect(teacher.get_by_text("Published: learners can see this exercise now.")).to_be_visible()

    # Its deadline, a week from now.
    teacher.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=python_web.title
    ).click()
    teacher.locator("#exercises").get_by_role("link", name="Ping", exact=True).click()
    teacher.get_by_role("link", name="Deadline").click()
    due = timezone.localtime(timezone.now() + timedelta(days=7)).replace(
        hour=23, minute=59, second=0, microsecond=0
    )
    teacher.get_by_label("Deadline:", exact=True).fill(due.strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Save the deadline").click()
    expect(teacher.locator(".lede")).to_contain_text(due.strftime("Due %A, %b %-d, %Y, 23:59"))

    # Joining by invitation only; the link copied from the overview.
    teacher.get_by_role("link", name="Back to the course").click()
    teacher.get_by_role("radio", name="By invitation").check()
    teacher.locator("#enrolment").get_by_role("button", name="Save").click()
    expect(teacher.get_by_text("Enrolment: By invitation")).to_be_visible()
    expect(teacher.get_by_role("radio", name="By invitation")).to_be_checked()
    teacher.get_by_role("button", name="Copy").click()
    expect(teacher.get_by_role("button", name="Copied!")).to_be_visible()
    invitation = teacher.evaluate("navigator.clipboard.readText()")
    assert invitation == teacher.get_by_role("textbox", name="Invitation link").input_value()
    assert invitation.startswith(f"{base}/courses/python-web/join/")

    # The learner joins with the link, reads the changed lesson and solves the exercise.
    learner = new_page(viewport=DESKTOP, timezone_id=settings.TIME_ZONE)
    log_in(learner, base, "ada")
    learner.goto(invitation)
    expect(learner.get_by_role("heading", level=1)).to_have_text(f"Join {python_web.title}?")
    learner.get_by_role("button", name="Join this course").click()
    expect(learner.get_by_text(f"You have joined {python_web.title}.")).to_be_visible()
    learner.goto(base + lesson_url)
    expect(learner.get_by_text(NEW_PARAGRAPH)).to_be_visible()
    learner.goto(f"{base}/courses/python-web/")
    learner.get_by_role("link", name="Ping", exact=True).click()
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Ping")
    expect(learner.get_by_text("A monitoring system calls it every minute")).to_be_visible()
    expect(learner.get_by_text("Worth 3 points.")).to_be_visible()
    expect(learner.locator("#deadline")).to_contain_text(due.strftime("Due %b %-d, 11:59 PM"))
    replace_code(learner, "app.py", PING_SOLUTION)
    submit_and_wait(learner)
    result = learner.locator("#latest .result")
    expect(result.locator(".verdict-badge")).to_have_text("✓ Passed")
    expect(result.locator(".result__score")).to_have_text("3 / 3 points")

    # The gradebook has the learner's score, on the page and in its CSV.
    teacher.get_by_role("link", name="Gradebook").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Gradebook")
    ping_column = teacher.locator("table.gradebook thead th").filter(has_text="Ping")
    expect(ping_column).to_contain_text("3 pts")
    row = teacher.locator("table.gradebook tbody tr", has=teacher.get_by_role("link", name="ada"))
    headers = teacher.locator("table.gradebook thead th").all_inner_texts()
    column = next(i for i, h in enumerate(headers) if h.startswith("Ping"))
    expect(row.locator("th, td").nth(column)).to_contain_text("3/3")
    with teacher.expect_download() as download_info:
        teacher.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("python-web-gradebook-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    (ada,) = [r for r in rows if r["username"] == "ada"]
    assert (ada["ping"], ada["on_roster"]) == ("3", "yes")


# The index test as first written: it asks for "Hello, World!", but the instructions say
# "Hello, world!", so the learners who followed them lost a point.
TOO_STRICT = ('contains="Hello, world!"', 'contains="Hello, World!"')
# (learner, what they submitted, in order): the solution, the starter, or a greeting that
# is wrong whatever the test asks ("Hello, web!").
ATTEMPTS = [
    ("ada", ("starter", "solution")),
    ("grace", ("solution", "starter")),
    ("alan", ("solution",)),
    ("barbara", ("starter",)),
    ("edsger", ("wrong", "solution")),
    ("ken", ("wrong",)),
]


def _archive(kind: str) -> bytes:
    if kind == "wrong":
        return pack_files({"app.py": ALMOST_RIGHT_APP.encode()})
    return hello_archive(kind, "flask")


def test_a_regrade_after_a_test_is_fixed_reports_who_went_up(
    live_server, celery_worker_proc, hello_exercise, new_page, tmp_path
):
    exercise = hello_exercise
    course = exercise.course
    course.title = "Python Web Frameworks"
    course.save()
    CourseStaffFactory(course=course, user__username="hopper")
    right_tests = dict(exercise.files)
    (test_path,) = [p for p in right_tests if p.startswith("tests/") and p.endswith(".py")]
    exercise.files = {**right_tests, test_path: right_tests[test_path].replace(*TOO_STRICT)}
    exercise.save()

    submitted = []
    for username, kinds in ATTEMPTS:
        learner = UserFactory(username=username)
        EnrollmentFactory(course=course, learner=learner)
        for kind in kinds:
            submitted.append(
                submission_create(
                    learner=learner,
                    exercise=exercise,
                    framework="flask",
                    archive=_archive(kind),
                    bucket=None,
                ).pk
            )
    wait_until_graded(submitted, timeout=600, workers=[celery_worker_proc])
    exercise.files = right_tests  # the instructor fixes the test
    exercise.save()

    base = live_server.url
    teacher = new_page(viewport=DESKTOP, color_scheme="light")
    log_in(teacher, base, "hopper")
    teacher.goto(f"{base}/teach/{course.slug}/exercises/{exercise.slug}/")
    teacher.get_by_role("link", name="Regrade").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text(f"Regrade “{exercise.title}”")
    expect(teacher.get_by_text("8 submissions of 6 learners will be regraded.")).to_be_visible()
    teacher.get_by_role("button", name="Regrade 8 submissions").click()

    body = teacher.locator("#regrade-body")
    expect(body.get_by_role("status")).to_have_text(
        "Done: 8 submissions regraded.", timeout=GRADING_TIMEOUT_MS * 2
    )
    summary = body.locator(".teach-regrade__summary")
    expect(summary).to_contain_text("5 learners' best went up")
    expect(summary).to_contain_text("0 went down")
    expect(summary).to_contain_text("1 stayed the same")
    ada = body.locator("tr", has=teacher.get_by_role("rowheader", name="ada"))
    expect(ada.locator("td").nth(0)).to_have_text("5/6")
    expect(ada.locator("td").nth(1)).to_have_text("6/6")
    folder = SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    save_screenshot(teacher, folder / "teach-regrade-report.png")
