from __future__ import annotations

import pytest

from lessons import reading
from lessons.reading import ReadingProgress, reading_progress
from tests.factories import LessonFactory, LessonProgressFactory


@pytest.fixture
def provider(monkeypatch):
    """Stand in for the registered provider for one test; return the calls it gets."""
    calls = []

    def read_lesson_ids(*, learner, course_id):
        calls.append((learner, course_id))
        return frozenset()

    monkeypatch.setattr(
        reading,
        "_registered",
        [ReadingProgress(read_lesson_ids, control_template="progress/read_status.html")],
    )
    return calls


def test_the_progress_app_registers_its_provider_at_start_up():
    provider = reading_progress()

    assert provider is not None
    assert provider.read_lesson_ids.__module__ == "progress.services"
    assert provider.control_template == "progress/read_status.html"


def test_the_lesson_page_asks_the_provider_for_the_course_of_the_page(
    learner_client, learner, provider
):
    lesson = LessonFactory()

    learner_client.get(lesson.get_absolute_url())

    assert provider == [(learner, lesson.chapter.course_id)]


def test_without_a_provider_a_signed_in_reader_sees_no_progress(
    learner_client, learner, monkeypatch
):
    lesson = LessonFactory()
    LessonProgressFactory(learner=learner, lesson=lesson)
    monkeypatch.setattr(reading, "_registered", [])

    response = learner_client.get(lesson.get_absolute_url())

    assert response.status_code == 200
    assert "read-status" not in response.content.decode()
    assert "read-mark" not in response.content.decode()
