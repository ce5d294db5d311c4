"""Quiz questions written in lesson Markdown: parsing, validation and checking answers.

An author writes one question per fenced block whose info string is `quiz`, holding YAML:

    ```quiz
    id: wsgi-callable
    question: What does a WSGI server call for each request?
    options:
      - text: The application, with `environ` and `start_response`
        correct: true
        explain: The whole contract is that one call.
      - text: A method named `handle` on a class it finds
        explain: WSGI names no method; any callable will do.
    ```

A fence rather than a pymdown `/// quiz` block because GitHub (and any other Markdown viewer)
shows a fence as a tidy code block, so the lesson file stays readable there, while `///`
lines and a YAML body would run together into one paragraph. YAML gives the nesting
(options, each with its explanation) without a syntax of our own.

`type` is `single` (one right option, radio buttons; the default when there are options),
`multiple` (every right option must be chosen, checkboxes) or `text` (a short answer matched
against `answers` after trimming, collapsing inner spaces and ignoring case; the default when
there are `answers`). A text question shows `explain` once answered right and `hint`, if any,
after a wrong answer.

Each question has an id, unique in its lesson, under which learners' answers are recorded.
An explicit `id:` keeps those answers when the question is reworded; without one the id is
made from the question's words, so rewording it starts the question afresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from django.utils.html import strip_tags
from django.utils.text import slugify

QUIZ_FENCE = "quiz"
KINDS = ("single", "multiple", "text")
QUESTION_KEYS = ("id", "type", "question", "options", "answers", "explain", "hint")
OPTION_KEYS = ("text", "correct", "explain")
ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
MAX_DERIVED_ID = 60

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")


class QuizError(ValueError):
    """A question cannot be used; `line` counts from 1 at the start of the Markdown text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    explain: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    options: tuple[Option, ...] = ()
    answers: tuple[str, ...] = ()
    explain: str = ""
    hint: str = ""
    line: int = 1


@dataclass(frozen=True)
class QuizBlock:
    """The YAML of one quiz fence and the line of the text it starts on."""

    source: str
    line: int


@dataclass(frozen=True)
class Feedback:
    """What a reader is told after answering: right or not, and the explanations to show."""

    correct: bool
    # (the chosen option's text or "", its explanation), in the options' order.
    explanations: tuple[tuple[str, str], ...]
    # A multiple-choice answer whose every choice was right, but not all the right ones.
    missed_some: bool = False


def quiz_blocks(text: str) -> list[QuizBlock]:
    """Return the quiz fences of a Markdown text, in order, with the line their YAML starts on.

    Fences inside other fences (a lesson showing quiz syntax in a longer fence) are skipped.
    """
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if not opening or (opening["fence"][0] == "`" and "`" in opening["info"]):
            i += 1
            continue
        fence = opening["fence"]
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        if opening["info"].strip() == QUIZ_FENCE:
            blocks.append(QuizBlock("\n".join(lines[i + 1 : end]), i + 2))
        i = end + 1
    return blocks


def parse_question(source: str, *, line: int = 1) -> Question:
    """Return the question a quiz fence holds, or raise QuizError saying what is wrong."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or "it cannot be read"
        if reason.startswith("mapping values are not allowed"):
            reason += "; put a value that holds a colon in quotes"
        at = line + mark.line if mark is not None else line
        raise QuizError(f"the quiz is not valid YAML: {reason}", at) from None
    if not isinstance(data, dict):
        raise QuizError("a quiz must be `key: value` lines (question, options…)", line)
    key_lines = _key_lines(source, line)

    def fail(message: str, key: str | None = None) -> QuizError:
        return QuizError(message, key_lines.get(key, line) if key else line)

    for key in data:
        if key not in QUESTION_KEYS:
            raise fail(f'unknown key "{key}"; allowed keys: {", ".join(QUESTION_KEYS)}', key)
    prompt = _text(data.get("question"), "question", fail, required=True)
    kind = data.get("type") or ("text" if "answers" in data else "single")
    if kind not in KINDS:
        raise fail(f"type must be one of {', '.join(KINDS)}, not {kind!r}", "type")
    explain = _text(data.get("explain"), "explain", fail)
    hint = _text(data.get("hint"), "hint", fail)
    question_id = data.get("id")
    if question_id is None:
        question_id = derived_id(prompt)
    elif not isinstance(question_id, str) or not ID_RE.match(question_id):
        raise fail(
            "id must be lower-case letters, digits and dashes (at most 64), "
            f"starting with a letter or digit, not {question_id!r}",
            "id",
        )
    if kind == "text":
        if "options" in data:
            raise fail("a text question has answers, not options", "options")
        answers = data.get("answers")
        if isinstance(answers, str | int | float) and not isinstance(answers, bool):
            answers = [answers]
        if not isinstance(answers, list) or not answers:
            raise fail("a text question needs answers: the accepted answers, a list", "answers")
        accepted = tuple(str(answer) for answer in answers if normalise(str(answer)))
        if len(accepted) != len(answers):
            raise fail("an accepted answer is empty", "answers")
        return Question(question_id, kind, prompt, (), accepted, explain, hint, line)
    if "answers" in data:
        raise fail(f"a {kind}-choice question has options, not answers", "answers")
    if hint:
        raise fail("hint is for text questions; give each option its own explanation", "hint")
    options = _options(data.get("options"), fail)
    right = sum(option.correct for option in options)
    if kind == "single" and right != 1:
        raise fail(
            f"a single-choice question needs exactly one option with correct: true, not {right}"
            + ("; use type: multiple for more" if right > 1 else ""),
            "options",
        )
    if kind == "multiple" and right == 0:
        raise fail("a multiple-choice question needs at least one correct option", "options")
    return Question(question_id, kind, prompt, options, (), explain, "", line)


def _key_lines(source: str, line: int) -> dict[str, int]:
    """Return the line of each top-level key, for messages about their values."""
    found = {}
    for number, text in enumerate(source.split("\n")):
        match = re.match(r"([A-Za-z_]+)\s*:", text)
        if match:
            found.setdefault(match[1], line + number)
    return found


def _text(value: Any, key: str, fail: Any, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise fail(f"{key} is missing; it is required")
        return ""
    if not isinstance(value, str):
        raise fail(f"{key} must be text, not {value!r} (put it in quotes)", key)
    return value.strip()


def _options(value: Any, fail: Any) -> tuple[Option, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise fail("a choice question needs options: a list of at least two", "options")
    options = []
    for number, item in enumerate(value, start=1):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            raise fail(f"option {number} must be `text:` with `correct:` and `explain:`", "options")
        for key in item:
            if key not in OPTION_KEYS:
                allowed = ", ".join(OPTION_KEYS)
                message = f'option {number} has an unknown key "{key}"; allowed: {allowed}'
                raise fail(message, "options")
        text = item.get("text")
        plain = isinstance(text, str | int | float) and not isinstance(text, bool)
        if not plain or not str(text).strip():
            raise fail(f"option {number} has no text", "options")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            message = f"option {number}: correct must be true or false, not {correct!r}"
            raise fail(message, "options")
        explain = item.get("explain", "")
        if not isinstance(explain, str):
            raise fail(f"option {number}: explain must be text (put it in quotes)", "options")
        options.append(Option(str(text).strip(), correct, explain.strip()))
    texts = [normalise(option.text) for option in options]
    if len(set(texts)) != len(texts):
        raise fail("two options have the same text", "options")
    return tuple(options)


def derived_id(prompt: str) -> str:
    """Return the id of a question without an explicit one: its first words as a slug."""
    full = slugify(strip_tags(prompt))
    slug = full[:MAX_DERIVED_ID]
    if len(full) > MAX_DERIVED_ID and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return slug.strip("-") or "question"


def quiz_problems(text: str) -> list[QuizError]:
    """Return every problem with the quizzes of a Markdown text (empty when they are fine)."""
    problems = []
    seen: dict[str, int] = {}
    for block in quiz_blocks(text):
        try:
            question = parse_question(block.source, line=block.line)
        except QuizError as exc:
            problems.append(exc)
            continue
        if question.id in seen:
            problems.append(
                QuizError(
                    f'two questions have the id "{question.id}" (the other is on line '
                    f"{seen[question.id]}); give one an id: of its own",
                    block.line,
                )
            )
        seen.setdefault(question.id, block.line)
    return problems


def lesson_questions(text: str | None) -> list[Question]:
    """Return the usable questions of a Markdown text; broken or repeated ones are left out."""
    questions: list[Question] = []
    seen = set()
    for block in quiz_blocks(text or ""):
        try:
            question = parse_question(block.source, line=block.line)
        except QuizError:
            continue
        if question.id not in seen:
            seen.add(question.id)
            questions.append(question)
    return questions


def find_question(text: str | None, question_id: str) -> Question | None:
    """Return the question of a Markdown text with this id, if there is one."""
    return next((q for q in lesson_questions(text) if q.id == question_id), None)


def normalise(answer: str) -> str:
    """Return a short answer as it is compared: trimmed, inner spaces collapsed, any case."""
    return " ".join(answer.split()).casefold()


def check_answer(question: Question, given: Sequence[str]) -> Feedback:
    """Check what a reader answered: option numbers from 1 for choices, the typed text else."""
    if question.kind == "text":
        typed = normalise(given[0]) if given else ""
        correct = bool(typed) and typed in {normalise(a) for a in question.answers}
        explanation = question.explain if correct else question.hint
        return Feedback(correct, (("", explanation),) if explanation else ())
    chosen = _chosen(given, len(question.options))
    if question.kind == "single":
        chosen = chosen[:1]
    right = {i for i, option in enumerate(question.options) if option.correct}
    picked = set(chosen)
    correct = bool(picked) and picked == right
    explanations = tuple(
        (question.options[i].text, question.options[i].explain) for i in sorted(picked)
    )
    if correct and question.explain:
        explanations += (("", question.explain),)
    missed = bool(picked) and picked < right
    return Feedback(correct, explanations, missed_some=missed)


def _chosen(given: Iterable[str], count: int) -> list[int]:
    """Return the 0-based indexes of the options chosen, ignoring anything that is not one."""
    chosen = []
    for value in given:
        # Short ASCII digits only: int() takes "²" and very long numbers badly.
        if not (value.isascii() and value.isdigit() and len(value) <= 4):
            continue
        if 1 <= int(value) <= count and int(value) - 1 not in chosen:
            chosen.append(int(value) - 1)
    return chosen


# What a question looks like in the rendered page (templates/lessons/_quiz.html), and how a
# preview shows it instead: the answer address is the published lesson's, so a preview's
# form would post where the question may not exist yet, or leave the editor for an error page.
_LIVE_FIELDSET = '<fieldset class="quiz__fieldset">'
_LIVE_BUTTON = '<button type="submit" class="button button--small">Check answer</button>'
_PREVIEW_BUTTON = (
    '<button type="submit" class="button button--small" disabled>Check answer</button> '
    '<span class="quiz__preview-note">Answers are checked on the lesson\'s page once it is '
    "published.</span>"
)


def quizzes_for_preview(html: str) -> str:
    """Return rendered lesson HTML whose quiz questions can be seen but not answered."""
    html = html.replace(_LIVE_FIELDSET, '<fieldset class="quiz__fieldset" disabled>')
    html = html.replace(' hx-post="quiz/', ' data-answer-address="quiz/')
    return html.replace(_LIVE_BUTTON, _PREVIEW_BUTTON)
