"""The exercises of course outlines, listed for lessons.navigation (a layer below)."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from exercises.models import Exercise
from lessons.models import Status
from lessons.navigation import OutlineExercise


def outline_exercises(*, course_ids: Iterable[int], include_drafts: bool) -> list[OutlineExercise]:
    """Return the exercises of some courses in their order (one query), drafts if asked."""
    exercises = Exercise.objects.filter(course__in=list(course_ids))
    if not include_drafts:
        exercises = exercises.published()
    rows = exercises.order_by("course_id", "order", "slug").values_list(
        "id", "slug", "title", "summary", "points", "course_id", "lesson_id", "status"
    )
    return [
        OutlineExercise(
            id=id_,
            slug=slug,
            title=title,
            summary=summary,
            url=reverse("exercises:exercise", kwargs={"exercise": slug}),
            points=points,
            course_id=course_id,
            lesson_id=lesson_id,
            is_draft=status != Status.PUBLISHED,
        )
        for id_, slug, title, summary, points, course_id, lesson_id, status in rows
    ]
