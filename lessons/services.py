"""Lesson editing workflows: save, publish, discard a draft.

A published lesson keeps unpublished changes in its draft fields, so learners read the live
text until an instructor publishes them; an unpublished lesson is written directly. Every
workflow takes the `updated` stamp the editor loaded and refuses, with EditConflict, when the
lesson was saved since (in another tab, by a colleague, by an import), instead of silently
overwriting that newer text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from courses.models import Status
from lessons.models import Lesson

DRAFT_FIELDS = ["draft_title", "draft_summary", "draft_body", "updated"]


class EditConflict(Exception):
    """The lesson was saved by someone else since the editor loaded it."""

    def __init__(self, saved_at: datetime) -> None:
        super().__init__(f"The lesson was saved at {saved_at.isoformat()}.")
        self.saved_at = saved_at


@dataclass(frozen=True)
class LessonText:
    """What an author edits: the title, the summary and the Markdown body."""

    title: str
    summary: str
    body: str


def lesson_text(lesson: Lesson) -> LessonText:
    """Return the text the editor starts from: the draft if there is one, else the live text."""
    if lesson.has_draft:
        return LessonText(lesson.draft_title or "", lesson.draft_summary or "", lesson.draft_body)
    return LessonText(lesson.title, lesson.summary, lesson.body)


def _lock_unchanged(lesson_id: int, loaded: datetime) -> Lesson:
    """Fetch and lock the lesson, refusing if it was saved after `loaded`."""
    lesson = Lesson.objects.select_for_update().get(id=lesson_id)
    if lesson.updated != loaded:
        raise EditConflict(lesson.updated)
    return lesson


def _clear_draft(lesson: Lesson) -> None:
    lesson.draft_title = lesson.draft_summary = lesson.draft_body = None


@transaction.atomic
def lesson_save(*, lesson_id: int, loaded: datetime, text: LessonText) -> Lesson:
    """Save the text: as a draft of a published lesson, straight into an unpublished one."""
    lesson = _lock_unchanged(lesson_id, loaded)
    if not lesson.is_published:
        lesson.title, lesson.summary, lesson.body = text.title, text.summary, text.body
        lesson.save()
        return lesson
    if text == LessonText(lesson.title, lesson.summary, lesson.body):
        # Back to what learners read: nothing is left to publish.
        _clear_draft(lesson)
    else:
        lesson.draft_title, lesson.draft_summary, lesson.draft_body = (
            text.title,
            text.summary,
            text.body,
        )
    # The live fields, their HTML and the search index stay as they are.
    lesson.save(update_fields=DRAFT_FIELDS)
    return lesson


@transaction.atomic
def lesson_publish(*, lesson_id: int, loaded: datetime, text: LessonText) -> Lesson:
    """Make the editor's text what learners read, publishing the lesson, and drop any draft."""
    lesson = _lock_unchanged(lesson_id, loaded)
    lesson.title, lesson.summary, lesson.body = text.title, text.summary, text.body
    lesson.status = Status.PUBLISHED
    _clear_draft(lesson)
    # A full save: the body is rendered again and the search index follows (search.index).
    lesson.save()
    return lesson


@transaction.atomic
def lesson_discard_draft(*, lesson_id: int, loaded: datetime) -> Lesson:
    """Throw away a published lesson's draft; learners' text is untouched."""
    lesson = _lock_unchanged(lesson_id, loaded)
    _clear_draft(lesson)
    lesson.save(update_fields=DRAFT_FIELDS)
    return lesson
