"""The lessons app's migrations keep every row they touch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_DRAFTS = ("lessons", "0004_rerender_code_blocks")
DRAFTS = ("lessons", "0005_lesson_drafts")


def every_app_at_latest_but(target: tuple[str, str]) -> list[tuple[str, str]]:
    """Return migration targets: `target` for its app, the latest migration for the others."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [target, *(leaf for leaf in leaves if leaf[0] != target[0])]


def migrate(targets: list[tuple[str, str]]):
    """Migrate the test database to `targets`; return the apps as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest(transactional_db) -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def test_adding_drafts_keeps_lessons_and_starts_without_drafts(back_to_latest):
    old = migrate(every_app_at_latest_but(BEFORE_DRAFTS))
    course = old.get_model("courses", "Course").objects.create(slug="web", title="Web")
    chapter = old.get_model("courses", "Chapter").objects.create(
        course=course, slug="basics", title="Basics"
    )
    old.get_model("lessons", "Lesson").objects.create(
        chapter=chapter,
        slug="routes",
        title="Routes",
        summary="Paths.",
        body="## Routes\n",
        body_html="<h2>Routes</h2>",
        status="published",
    )

    new = migrate(every_app_at_latest_but(DRAFTS))

    lesson = new.get_model("lessons", "Lesson").objects.get(slug="routes")
    assert (lesson.title, lesson.summary, lesson.body, lesson.body_html, lesson.status) == (
        "Routes",
        "Paths.",
        "## Routes\n",
        "<h2>Routes</h2>",
        "published",
    )
    assert (lesson.draft_title, lesson.draft_summary, lesson.draft_body) == (None, None, None)


QUIZ_IDS = ("lessons", "0006_lesson_quiz_ids")

QUIZ_BODY = """Text.

```quiz
id: status-line
question: What comes first in an HTTP response?
options:
  - text: The status line
    correct: true
  - text: The body
```
"""


def test_quiz_ids_are_filled_in_and_old_quiz_fences_rendered(back_to_latest):
    old = migrate(every_app_at_latest_but(DRAFTS))
    Course = old.get_model("courses", "Course")
    Chapter = old.get_model("courses", "Chapter")
    Lesson = old.get_model("lessons", "Lesson")
    course = Course.objects.create(slug="c", title="C")
    chapter = Chapter.objects.create(course=course, slug="ch", title="Ch")
    # Saved through the historical model: its HTML shows the fence as a code block.
    quiz = Lesson.objects.create(chapter=chapter, slug="q", title="Q", body=QUIZ_BODY)
    plain = Lesson.objects.create(chapter=chapter, slug="p", title="P", body="No quiz.")

    new = migrate(every_app_at_latest_but(QUIZ_IDS))
    Lesson = new.get_model("lessons", "Lesson")
    quiz = Lesson.objects.get(id=quiz.id)
    assert quiz.quiz_ids == ["status-line"]
    assert 'id="quiz-status-line"' in quiz.body_html
    assert Lesson.objects.get(id=plain.id).quiz_ids == []
