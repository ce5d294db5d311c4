"""Answering quiz questions: feedback for everyone, a record for learners, and progress."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from courses.models import Status
from progress.models import QuizAnswer
from progress.quiz_views import ANSWER_THROTTLE
from progress.services import course_progress, quiz_answer_record
from tests.factories import ChapterFactory, CourseFactory, LessonFactory

BODY = """\
## Requests

Some text.

```quiz
id: status-line
question: What comes first in an HTTP response?
options:
  - text: The status line
    correct: true
    explain: RIGHT-EXPLANATION It names the protocol and the status.
  - text: The body
    explain: WRONG-EXPLANATION The body comes after the headers and a blank line.
```

```quiz
id: created
question: Which status code means "created"?
answers: ["201"]
explain: A new resource was made.
hint: It is in the 2xx family.
```

```quiz
id: safe-methods
type: multiple
question: Which methods are safe?
options:
  - text: GET
    correct: true
    explain: Reading only.
  - text: HEAD
    correct: true
    explain: GET without a body.
  - text: POST
    explain: POST changes things.
```
"""


@pytest.fixture
def lesson(db):
    course = CourseFactory(slug="web")
    return LessonFactory(chapter=ChapterFactory(course=course, slug="http"), slug="req", body=BODY)


def answer_url(lesson, question: str) -> str:
    return reverse(
        "courses:quiz_answer",
        kwargs={
            "course": lesson.chapter.course.slug,
            "chapter": lesson.chapter.slug,
            "lesson": lesson.slug,
            "question": question,
        },
    )


def post(client, lesson, question, *answers, **extra):
    return client.post(
        answer_url(lesson, question), {"answer": list(answers)}, HTTP_HX_REQUEST="true", **extra
    )


def test_saving_a_lesson_keeps_its_question_ids(lesson):
    assert lesson.quiz_ids == ["status-line", "created", "safe-methods"]


def test_an_anonymous_reader_gets_feedback_and_nothing_is_recorded(client, lesson):
    wrong = post(client, lesson, "status-line", "2").content.decode()
    assert 'data-quiz-result="wrong"' in wrong
    assert "WRONG-EXPLANATION" in wrong and "RIGHT-EXPLANATION" not in wrong
    assert "Sign in to keep" in wrong

    right = post(client, lesson, "status-line", "1").content.decode()
    assert 'data-quiz-result="right"' in right and "RIGHT-EXPLANATION" in right

    assert not QuizAnswer.objects.exists()


def test_a_learners_answers_are_recorded_and_right_stays_right(learner_client, learner, lesson):
    post(learner_client, lesson, "created", "200")
    row = QuizAnswer.objects.get()
    assert (row.learner, row.lesson, row.question_id) == (learner, lesson, "created")
    assert (row.correct, row.attempts) == (False, 1)

    html = post(learner_client, lesson, "created", "  201 ").content.decode()
    assert "A new resource was made." in html and "Sign in" not in html
    post(learner_client, lesson, "created", "nope")

    row.refresh_from_db()
    assert (row.correct, row.attempts) == (True, 3)


def test_a_wrong_short_answer_shows_the_hint(client, lesson):
    html = post(client, lesson, "created", "404").content.decode()
    assert "2xx family" in html and "A new resource" not in html


def test_multiple_choice_says_when_some_right_options_are_missing(client, lesson):
    assert (
        'data-quiz-result="right"'
        in post(client, lesson, "safe-methods", "1", "2").content.decode()
    )
    partial = post(client, lesson, "safe-methods", "1").content.decode()
    assert "there is more" in partial


def test_an_empty_answer_is_neither_checked_nor_recorded(learner_client, lesson):
    html = post(learner_client, lesson, "created", "   ").content.decode()
    assert 'data-quiz-result="empty"' in html
    assert not QuizAnswer.objects.exists()


def test_an_unknown_question_or_a_draft_lesson_is_not_found(client, lesson):
    assert post(client, lesson, "no-such-question", "1").status_code == 404
    lesson.status = Status.DRAFT
    lesson.save()
    assert post(client, lesson, "status-line", "1").status_code == 404


def test_only_post_is_allowed(client, lesson):
    assert client.get(answer_url(lesson, "status-line")).status_code == 405


def test_a_learners_answer_needs_the_csrf_token(learner, lesson):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    assert post(client, lesson, "status-line", "1").status_code == 403
    assert not QuizAnswer.objects.exists()

    client.get(lesson.get_absolute_url())  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post(client, lesson, "status-line", "1", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert QuizAnswer.objects.get().correct


def test_an_anonymous_answer_needs_no_csrf_token(lesson):
    response = post(Client(enforce_csrf_checks=True), lesson, "status-line", "1")
    assert response.status_code == 200


def test_without_htmx_the_reader_goes_back_to_the_question(client, lesson):
    response = client.post(answer_url(lesson, "status-line"), {"answer": "1"})
    assert response.status_code == 302
    assert response["Location"].endswith("/courses/web/http/req/#quiz-status-line")


# Progress


def test_course_progress_counts_quiz_questions_answered_right(learner, lesson):
    other = LessonFactory(chapter=lesson.chapter)  # no quiz
    quiz_answer_record(learner=learner, lesson=lesson, question_id="status-line", correct=True)
    quiz_answer_record(learner=learner, lesson=lesson, question_id="created", correct=False)
    # An answer to a question the lesson no longer asks does not count.
    quiz_answer_record(learner=learner, lesson=lesson, question_id="removed", correct=True)

    progress = course_progress(learner=learner, course=lesson.chapter.course)

    assert (progress.quiz_total, progress.quiz_right) == (3, 1)
    assert str(progress.quiz_score(lesson.id)) == "1/3"
    assert progress.quiz_score(other.id) is None
    # 2 lessons + 3 questions; 1 question right.
    assert progress.percent == 20
    assert "1 of 3 quiz questions right" in progress.summary
    assert progress.started and not progress.complete


def test_the_course_page_shows_each_lessons_quiz_score(learner_client, learner, lesson):
    quiz_answer_record(learner=learner, lesson=lesson, question_id="created", correct=True)
    html = learner_client.get(lesson.chapter.course.get_absolute_url()).content.decode()
    assert "Quiz 1/3" in html


def test_the_lesson_menu_marks_a_quiz_once_answered(learner_client, learner, lesson):
    html = learner_client.get(lesson.get_absolute_url()).content.decode()
    assert "quiz-mark" not in html
    quiz_answer_record(learner=learner, lesson=lesson, question_id="created", correct=True)
    html = learner_client.get(lesson.get_absolute_url()).content.decode()
    assert '<span aria-hidden="true">Quiz 1/3</span>' in html
    assert "js/quiz.js" in html and "css/quiz.css" in html


def test_quiz_scores_cost_one_query_however_many_lessons_ask_questions(
    learner_client, learner, lesson, django_assert_num_queries
):
    for n in range(5):
        LessonFactory(chapter=lesson.chapter, body=BODY, slug=f"more-{n}")
    learner_client.get(lesson.get_absolute_url())

    # Session, user, the course's version, the lessons read, the quiz scores.
    with django_assert_num_queries(5):
        learner_client.get(lesson.get_absolute_url())


def test_answers_sent_faster_than_anyone_reads_are_refused_for_a_while(learner_client, lesson):
    limit = ANSWER_THROTTLE.limit
    for _ in range(limit):
        assert post(learner_client, lesson, "status-line", "2").status_code == 200

    refused = post(learner_client, lesson, "status-line", "1")

    assert refused.status_code == 429
    assert "answering very fast" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Another reader is not held up.
    assert post(Client(), lesson, "status-line", "1").status_code == 200
