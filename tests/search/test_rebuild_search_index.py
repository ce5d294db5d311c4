from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from courses.models import Status
from lessons.models import Lesson
from search import index as search
from tests.factories import ChapterFactory, ExerciseFactory

pytestmark = pytest.mark.django_db


def test_it_indexes_what_bulk_writes_left_out_and_reports_counts():
    Lesson.objects.bulk_create(
        [
            Lesson(
                chapter=ChapterFactory(),
                slug="imported",
                title="Imported",
                body_html="<p>Background jobs with Celery.</p>",
                status=Status.PUBLISHED,
            )
        ]
    )
    ExerciseFactory(title="Queue", instructions="Send a Celery task.")
    ExerciseFactory(title="Hidden", instructions="Celery again.", status=Status.DRAFT)
    out = StringIO()

    call_command("rebuild_search_index", stdout=out)

    assert "1 lesson and 1 exercise" in out.getvalue()
    assert sorted(hit.title for hit in search.search("celery")) == ["Imported", "Queue"]


def test_running_it_twice_does_not_duplicate_results():
    ExerciseFactory(title="Queue", instructions="Send a Celery task.")

    call_command("rebuild_search_index", stdout=StringIO())
    call_command("rebuild_search_index", stdout=StringIO())

    assert [hit.title for hit in search.search("celery")] == ["Queue"]
