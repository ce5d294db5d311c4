"""Quiz fences: what authors may write, how a question renders, and how answers are checked."""

from __future__ import annotations

import pytest

from lessons.markdown import render_lesson, render_markdown
from lessons.quizzes import (
    check_answer,
    derived_id,
    lesson_questions,
    normalise,
    parse_question,
    quiz_blocks,
    quiz_problems,
)
from tests.factories import LessonFactory

SINGLE = """\
id: wsgi-call
question: What does a WSGI server call for each request?
options:
  - text: The application, with `environ` and `start_response`
    correct: true
    explain: SECRET-RIGHT the whole contract is that one call.
  - text: A method named `handle`
    explain: SECRET-WRONG WSGI names no method.
"""

MULTIPLE = """\
id: async-servers
type: multiple
question: Which servers speak ASGI?
options:
  - text: Uvicorn
    correct: true
    explain: Yes.
  - text: Hypercorn
    correct: true
    explain: Yes, too.
  - text: mod_wsgi
    explain: WSGI only.
"""

TEXT = """\
id: status-created
question: Which status code means "created"?
answers: ["201", "201 Created"]
explain: A new resource was made.
hint: It is in the 2xx family.
"""


def fence(source: str) -> str:
    return f"```quiz\n{source}```\n"


def lesson(*sources: str) -> str:
    return "Intro.\n\n" + "\n".join(fence(s) for s in sources)


# Finding and parsing


def test_it_finds_quiz_fences_with_the_line_their_yaml_starts_on():
    text = "# Title\n\n```python\nx = 1\n```\n\n" + fence(TEXT)
    (block,) = quiz_blocks(text)
    assert block.line == 8
    assert block.source.startswith("id: status-created")


def test_a_quiz_fence_shown_inside_a_longer_fence_is_not_a_question():
    text = "````markdown\n" + fence(TEXT) + "````\n"
    assert quiz_blocks(text) == []


def test_the_kind_follows_options_or_answers():
    assert parse_question(SINGLE).kind == "single"
    assert parse_question(MULTIPLE).kind == "multiple"
    assert parse_question(TEXT).kind == "text"
    assert parse_question(TEXT).answers == ("201", "201 Created")


def test_without_an_id_the_id_is_made_from_the_question():
    question = parse_question(SINGLE.replace("id: wsgi-call\n", ""))
    assert question.id == "what-does-a-wsgi-server-call-for-each-request"
    assert derived_id("x" * 100 + " more words") == "x" * 60


@pytest.mark.parametrize(
    ("source", "message", "line"),
    [
        ("question: [unclosed\n", "not valid YAML", 1),
        ("- a list\n", "key: value", 1),
        ("question: Q\nanswer: [x]\n", 'unknown key "answer"', 2),
        ("options: [a, b]\n", "question is missing", 1),
        ("id: Bad Id\nquestion: Q\nanswers: [x]\n", "id must be lower-case", 1),
        ("question: Q\ntype: essay\nanswers: [x]\n", "type must be one of", 2),
        ("question: Q\noptions:\n  - text: a\n  - text: b\n", "exactly one option", 2),
        (
            "question: Q\noptions:\n  - text: a\n    correct: true\n"
            "  - text: b\n    correct: true\n",
            "use type: multiple",
            2,
        ),
        ("question: Q\ntype: multiple\noptions: [a, b]\n", "at least one correct", 3),
        ("question: Q\noptions:\n  - text: a\n    correct: true\n", "at least two", 2),
        (
            "question: Q\noptions:\n  - text: a\n    correct: yes please\n  - b\n",
            "true or false",
            2,
        ),
        (
            "question: Q\noptions:\n  - text: a\n    correct: true\n    explain: no\n  - b\n",
            "explain must be text",
            2,
        ),
        ("question: Q\noptions:\n  - text: a\n    correct: true\n  - text: A\n", "same text", 2),
        ("question: Q\nanswers: []\n", "needs answers", 2),
        ("question: Q\nanswers: [x]\noptions: [a, b]\n", "answers, not options", 3),
        (
            "question: Q\nhint: h\noptions:\n  - text: a\n    correct: true\n  - b\n",
            "hint is for",
            2,
        ),
    ],
)
def test_a_malformed_question_is_refused_with_its_line(source, message, line):
    problems = quiz_problems("Some text.\n\n" + fence(source))
    assert len(problems) == 1
    assert message in problems[0].message
    # The fence opens on line 3 of the text, its YAML starts on line 4.
    assert problems[0].line == 3 + line


def test_two_questions_with_one_id_are_refused():
    (problem,) = quiz_problems(lesson(TEXT, TEXT))
    assert 'two questions have the id "status-created"' in problem.message
    assert [q.id for q in lesson_questions(lesson(TEXT, TEXT))] == ["status-created"]


def test_a_lesson_without_quizzes_has_no_problems_and_no_questions():
    assert quiz_problems("Just text.\n\n```yaml\nquestion: no\n```\n") == []
    assert lesson_questions(None) == []


# Rendering


def test_a_question_renders_as_a_form_with_labelled_inputs_and_no_answers():
    html, _ = render_lesson(lesson(SINGLE, MULTIPLE, TEXT))
    assert html.count("<form") == 3
    assert html.count("<fieldset") == 3 and html.count("<legend") == 3
    assert 'type="radio" id="quiz-wsgi-call-1" name="answer" value="1"' in html
    assert '<label for="quiz-wsgi-call-1">The application, with <code>environ</code>' in html
    assert html.count('type="checkbox"') == 3
    assert '<label for="quiz-status-created-answer">' in html
    assert 'hx-post="quiz/wsgi-call/"' in html
    # Nothing in the page tells which answer is right.
    for secret in ("SECRET-RIGHT", "SECRET-WRONG", "correct", "201", "2xx", "A new resource"):
        assert secret not in html


def test_a_forged_placeholder_in_the_text_renders_nothing():
    html, _ = render_lesson('<div id="quizslot-0123456789abcdef-0"></div>\n\n' + fence(TEXT))
    assert html.count("<form") == 1
    assert "quizslot" not in html


def test_author_html_in_a_question_is_sanitized():
    source = 'question: "Pick <script>alert(1)</script><b onclick=x>one</b>"\nanswers: [x]\n'
    assert derived_id("Pick <b>one</b>") == "pick-one"
    html, _ = render_lesson(fence(source))
    assert "<script" not in html and "onclick" not in html
    assert "<b>one</b>" in html


def test_a_broken_question_renders_as_a_note_for_the_author():
    html, _ = render_lesson(fence("question: Q\nanswers: []\n"))
    assert "<form" not in html
    assert "This quiz question cannot be shown" in html


def test_texts_other_than_lessons_show_the_quiz_as_its_source():
    html = render_markdown(fence(TEXT))
    assert "<form" not in html
    assert "status-created" in html


# Checking


def test_a_single_choice_is_right_only_with_the_right_option():
    question = parse_question(SINGLE)
    right = check_answer(question, ["1"])
    assert right.correct
    assert right.explanations[0][1].startswith("SECRET-RIGHT")
    wrong = check_answer(question, ["2"])
    assert not wrong.correct
    assert wrong.explanations == (
        ("A method named `handle`", "SECRET-WRONG WSGI names no method."),
    )


def test_a_multiple_choice_needs_every_right_option_and_no_wrong_one():
    question = parse_question(MULTIPLE)
    assert check_answer(question, ["2", "1"]).correct
    partial = check_answer(question, ["1"])
    assert not partial.correct and partial.missed_some
    too_many = check_answer(question, ["1", "2", "3"])
    assert not too_many.correct and not too_many.missed_some
    assert [text for text, _ in too_many.explanations] == ["Uvicorn", "Hypercorn", "mod_wsgi"]


@pytest.mark.parametrize("given", ["abc", "0", "4", "-1", "²", "9" * 5000])
def test_values_that_are_not_options_are_ignored(given):
    assert check_answer(parse_question(MULTIPLE), [given]).correct is False


@pytest.mark.parametrize("typed", ["201", "  201 ", "201 created", "201   CREATED"])
def test_a_short_answer_is_compared_trimmed_and_in_any_case(typed):
    feedback = check_answer(parse_question(TEXT), [typed])
    assert feedback.correct
    assert feedback.explanations == (("", "A new resource was made."),)


def test_a_wrong_short_answer_gets_the_hint_not_the_explanation():
    feedback = check_answer(parse_question(TEXT), ["200"])
    assert not feedback.correct
    assert feedback.explanations == (("", "It is in the 2xx family."),)


def test_normalise_collapses_spaces_and_case():
    assert normalise("  Hello \t WORLD ") == "hello world"


@pytest.mark.django_db
def test_a_preview_shows_quiz_questions_that_cannot_be_answered():
    lesson = LessonFactory(body="Text.\n")
    body = (
        "```quiz\nid: pick\nquestion: Pick one\noptions:\n"
        "  - text: A\n    correct: true\n  - text: B\n```\n"
    )

    html = lesson.with_text(title="T", summary="", body=body).body_html

    assert '<fieldset class="quiz__fieldset" disabled>' in html
    assert "hx-post" not in html
    assert "Check answer</button>" in html and " disabled>Check answer" in html
    assert "checked on the lesson's page once it is published" in html
    # The saved lesson's own page keeps a live question.
    lesson.body = body
    lesson.save()
    lesson.refresh_from_db()
    assert 'hx-post="quiz/pick/"' in lesson.body_html
    assert "disabled" not in lesson.body_html
