"""A reader answers a lesson's quiz question in a real browser: wrong first, then right."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from progress.models import QuizAnswer
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

LESSON = "/courses/python-web/web-frameworks/flask/"
PASSWORD = "a-long-Passphrase-2026"


def test_a_learner_answers_wrong_then_right_and_sees_the_explanations(
    live_server, course, new_page
):
    UserFactory(username="grace", password=PASSWORD)
    page = new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"{live_server.url}/accounts/login/?next={LESSON}")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{LESSON}")

    quiz = page.locator("#quiz-int-converter-mismatch")
    question = quiz.get_by_role("group", name="/notes/abc")
    feedback = quiz.get_by_role("status")

    # A wrong answer: its own explanation, and a way to try again.
    question.get_by_label("422 Unprocessable Entity").check()
    quiz.get_by_role("button", name="Check answer").click()
    expect(feedback).to_contain_text("Not quite")
    expect(feedback).to_contain_text("That is what FastAPI does")
    try_again = quiz.get_by_role("button", name="Try again")
    expect(try_again).to_be_visible()

    try_again.click()
    expect(feedback).to_be_empty()
    expect(question.get_by_label("422 Unprocessable Entity")).not_to_be_checked()

    # The right answer.
    question.get_by_label("404 Not Found").check()
    quiz.get_by_role("button", name="Check answer").click()
    expect(feedback).to_contain_text("Right.")
    expect(feedback).to_contain_text("The int converter is part of the URL rule")

    answer = QuizAnswer.objects.get(learner__username="grace")
    assert (answer.question_id, answer.correct, answer.attempts) == (
        "int-converter-mismatch",
        True,
        2,
    )
    # No script or style was refused by the Content-Security-Policy, and nothing failed.
    assert problems == []
