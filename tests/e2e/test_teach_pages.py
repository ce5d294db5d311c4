"""The gradebook and an exercise's analytics in Chromium, with a class of a dozen learners.

Each page is checked with axe (no serious violation, under the site's strict CSP: nothing
inline is blocked) and photographed. The screenshots go to a temporary folder; with
SAVE_SCREENSHOTS=1 they replace docs/screenshots/teach-gradebook.png and
teach-exercise-analytics.png:

    SAVE_SCREENSHOTS=1 TEST_DATABASES=sqlite ./scripts/test tests/e2e/test_teach_pages.py
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from courses.models import Enrollment
from exercises.models import LatePolicy, Submission, Verdict
from tests.e2e.test_accessibility import AXE_PATH, AXE_SCRIPT, RUN_AXE, report, sign_in
from tests.factories import (
    ChapterFactory,
    CourseFactory,
    CourseStaffFactory,
    ExerciseFactory,
    LessonFactory,
    SubmissionFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
NAMES = [
    ("ada", "Ada", "Lovelace"), ("grace", "Grace", "Hopper"), ("alan", "Alan", "Turing"),
    ("zoe", "Zoë", "Ångström"), ("minh", "Nguyễn", "Thị Minh"), ("edsger", "Edsger", "Dijkstra"),
    ("barbara", "Barbara", "Liskov"), ("ken", "Ken", "Thompson"),
    ("margaret", "Margaret", "Hamilton"), ("linus", "Linus", "Torvalds"),
    ("guido", "Guido", "van Rossum"), ("frances", "Frances", "Allen"),
]  # fmt: skip
TESTS = [  # (name, hidden, the message when it fails, the app's output then)
    ("the index answers 200", False, "GET /: expected status 200, got 404.", ""),
    ("creating a note answers 201", False,
     "POST /notes: expected status 201, got 500. Body: Internal Server Error",
     "Traceback (most recent call last):\n  File \"app.py\", line 12\nKeyError: 'title'"),
    ("a note reads back", False, "GET /notes/3: expected the JSON {'id': 3}, got {'id': '3'}.", ""),
    ("unknown notes answer 404", True, "GET /notes/9999: expected status 404, got 200.", ""),
    ("titles are validated", True, "POST /notes: expected status 422, got 201.", ""),
]  # fmt: skip


def _result(passing: int, verdict: str) -> dict:
    tests = [
        {"name": name, "status": "passed" if i < passing else "failed", "hidden": hidden,
         "points": 1 if i < passing else 0, "max_points": 1,
         "message": "" if i < passing else message, "output": "" if i < passing else output}
        for i, (name, hidden, message, output) in enumerate(TESTS)
    ]  # fmt: skip
    return {"status": verdict, "score": passing, "max_score": len(TESTS), "message": "",
            "tests": tests, "log": ""}  # fmt: skip


@pytest.fixture
def classroom(transactional_db):
    """A course of four exercises and twelve learners at every stage, a walk-in among them."""
    course = CourseFactory(slug="python-web-2026", title="Python Web Frameworks")
    instructor = CourseStaffFactory(course=course).user
    chapter = ChapterFactory(course=course, order=1)
    exercises = [
        ExerciseFactory(course=course, slug=slug, title=title, points=points, order=order,
                        lesson=LessonFactory(chapter=chapter, order=order), **policy)
        for order, (slug, title, points, policy) in enumerate([
            ("hello", "Hello, web", 6, {}),
            ("flask-templates", "Flask templates", 16, {}),
            ("notes-api", "A notes API", 22,
             {"late_policy": LatePolicy.PENALTY, "late_penalty": 20,
              "deadline": timezone.now() - timedelta(days=1)}),
            ("request-ids", "Request ids", 17, {"late_policy": LatePolicy.IGNORE}),
        ])
    ]  # fmt: skip
    learners = [
        UserFactory.build(
            username=name, first_name=first, last_name=last, email=f"{name}@example.org"
        )
        for name, first, last in NAMES
    ]
    for learner in learners:
        learner.set_unusable_password()
        learner.save()
    for learner in learners[:-1]:  # the last one never pressed Join
        Enrollment.objects.create(course=course, learner=learner)
    now = timezone.now()
    for i, learner in enumerate(learners):
        for j, exercise in enumerate(exercises):
            if i >= 9 and j == 3:
                continue  # not started yet
            # Earlier learners got further; each improves over a few tries.
            best = min(max(7 - i // 2 - j // 2, 0), len(TESTS))
            for attempt, passing in enumerate(sorted({max(best - k, 0) for k in (2, 1, 0)})):
                verdict = Verdict.PASSED if passing == len(TESTS) else Verdict.FAILED
                late = exercise.late_policy != LatePolicy.COUNT and i % 4 == 1 and attempt > 0
                submission = SubmissionFactory(
                    learner=learner, exercise=exercise, verdict=verdict, score=passing,
                    max_score=len(TESTS), result=_result(passing, verdict), late=late,
                )  # fmt: skip
                moment = now - timedelta(days=6 - j, hours=20 - i, minutes=-37 * attempt)
                Submission.objects.filter(pk=submission.pk).update(created=moment, queued_at=moment)
    return course, instructor


def _check_and_save(page, base: str, path: str, name: str, folder: Path) -> None:
    page.goto(base + path, wait_until="load")
    page.add_script_tag(url=base + AXE_PATH)
    violations = [
        v for v in page.evaluate(RUN_AXE, {"exclude": []}) if v["impact"] in ("serious", "critical")
    ]
    assert not violations, "\n".join(report(name, violations))
    save_screenshot(page, folder / f"{name}.png")


def save_screenshot(page, shot: Path) -> None:
    """Photograph the whole page, in at most 256 colours (a small PNG for the docs)."""
    page.screenshot(path=shot, full_page=True, animations="disabled", caret="hide")
    with Image.open(shot) as image:
        small = image.quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(shot, optimize=True)
    with Image.open(shot) as image:
        assert image.width == 1280 and image.height > 400


def test_gradebook_and_analytics_in_a_browser(live_server, classroom, new_page, tmp_path):
    course, instructor = classroom
    folder = SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    base = live_server.url
    page = new_page(viewport={"width": 1280, "height": 800}, color_scheme="light")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.route(
        f"{base}{AXE_PATH}",
        lambda route: route.fulfill(path=AXE_SCRIPT, content_type="text/javascript"),
    )
    sign_in(page, base, instructor)

    _check_and_save(page, base, f"/teach/{course.slug}/gradebook/", "teach-gradebook", folder)
    assert page.locator("table.gradebook tbody tr").count() == len(NAMES)
    assert page.get_by_text("Not on roster").count() == 1

    path = f"/teach/{course.slug}/exercises/notes-api/"
    _check_and_save(page, base, path, "teach-exercise-analytics", folder)
    assert page.locator("svg[role=img] rect.score-chart__bar").count() == 6
    assert page.get_by_text("POST /notes: expected status 201, got 500 — KeyError").count() == 1
    assert not blocked, blocked
