"""A signed-in reader's progress on the lesson page, supplied by the app that records it.

Reading progress lives in progress/, a layer above lessons/, so the lesson page cannot import
it. Instead progress's AppConfig.ready() registers a `ReadingProgress` here, and the page asks
it for the lessons read (one query, for the course menu's ticks and the page's own state), for
the reader's status on the course's exercises when the menu lists any (one more query), and
includes its template for the "Mark as read" control. With none registered the page shows no
progress, as it does to anonymous readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple


class ReadState(NamedTuple):
    """What the "Mark as read" control of a lesson page shows, and where it posts."""

    course: str
    chapter: str
    lesson: str
    is_read: bool


@dataclass(frozen=True)
class ReadingProgress:
    """How the lesson page learns what a reader has read, and shows it."""

    # read_lesson_ids(learner=, course_id=): the ids of the course's lessons read, in one query.
    read_lesson_ids: Callable[..., frozenset[int]]
    # Rendered at the end of the lesson with `reading`, a ReadState.
    control_template: str
    # exercise_marks(learner=, course_id=): exercise id -> HTML of the reader's status there,
    # written at the end of the exercise's entry in the course menu; in one query.
    exercise_marks: Callable[..., Mapping[int, str]] | None = None
    # quiz_marks(learner=, quiz_ids=): lesson id -> HTML of the reader's quiz score there,
    # written after the lesson's entry in the course menu; `quiz_ids` maps each lesson with
    # questions to their ids. One query.
    quiz_marks: Callable[..., Mapping[int, str]] | None = None


_registered: list[ReadingProgress] = []


def register_reading_progress(provider: ReadingProgress) -> None:
    """Make the lesson page show reading progress through this provider (one at a time)."""
    _registered[:] = [provider]


def reading_progress() -> ReadingProgress | None:
    """Return the registered provider of reading progress, if any."""
    return _registered[0] if _registered else None
