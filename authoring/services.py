"""The instructor area's changes to a course's outline: chapters and lessons, their order.

Siblings (a course's chapters, a chapter's lessons) are numbered 1, 2, 3… with no gaps or
ties after every change made here, so "move up" always has a clear meaning, and a course
exported afterwards writes the same `nav_order`s back. Rows are renumbered with UPDATEs,
not save(): a lesson's save renders its Markdown again, which a move does not need.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.text import slugify

from courses.models import Chapter, Course, Status
from lessons.models import Lesson

UP, DOWN = "up", "down"
SLUG_MAX_LENGTH = 50
# /courses/<course>/join/<code>/ is the invitation link: a chapter with this slug would
# have its lessons' addresses taken by it.
RESERVED_CHAPTER_SLUGS = frozenset({"join"})


class OutlineError(ValueError):
    """A change to the outline that cannot be made; the message says why, for the user."""


def chapter_create(*, course: Course, title: str) -> Chapter:
    """Add a chapter titled `title` at the end of `course`, its slug made from the title."""
    title, slug = _title_and_slug(title)
    if slug in RESERVED_CHAPTER_SLUGS:
        raise OutlineError(
            f"A chapter cannot have the address “{slug}”: the site uses it. Choose another title."
        )
    with transaction.atomic():
        siblings = Chapter.objects.select_for_update().filter(course=course)
        if siblings.filter(slug=slug).exists():
            raise OutlineError(
                f"This course already has a chapter with the address “{slug}”. "
                "Choose another title."
            )
        _renumber(siblings.order_by("order", "id"))
        return Chapter.objects.create(
            course=course, title=title, slug=slug, order=siblings.count() + 1
        )


def lesson_create(*, chapter: Chapter, title: str) -> Lesson:
    """Add a draft lesson titled `title` at the end of `chapter`."""
    title, slug = _title_and_slug(title)
    with transaction.atomic():
        siblings = Lesson.objects.select_for_update().filter(chapter=chapter)
        if siblings.filter(slug=slug).exists():
            raise OutlineError(
                f"The chapter “{chapter.title}” already has a lesson with the address "
                f"“{slug}”. Choose another title."
            )
        _renumber(siblings.order_by("order", "id"))
        return Lesson.objects.create(
            chapter=chapter,
            title=title,
            slug=slug,
            order=siblings.count() + 1,
            status=Status.DRAFT,
        )


def chapter_move(*, chapter: Chapter, direction: str) -> bool:
    """Move a chapter one place up or down in its course; False if it is already at that end."""
    with transaction.atomic():
        siblings = Chapter.objects.select_for_update().filter(course_id=chapter.course_id)
        moved = _move(siblings.order_by("order", "id"), chapter, direction)
    Course.touch(chapter.course_id)
    return moved


def lesson_move(*, lesson: Lesson, direction: str) -> bool:
    """Move a lesson one place up or down in its chapter; False if it is already at that end."""
    with transaction.atomic():
        siblings = Lesson.objects.select_for_update().filter(chapter_id=lesson.chapter_id)
        moved = _move(siblings.order_by("order", "id"), lesson, direction)
    Course.touch(lesson.chapter.course_id)
    return moved


def lesson_set_status(*, lesson: Lesson, status: str) -> None:
    """Publish a lesson (learners see it) or turn it back into a draft (staff only)."""
    if status not in Status.values:
        raise OutlineError("Choose whether the lesson is a draft or published.")
    lesson.status = status
    lesson.save()


def _title_and_slug(title: str) -> tuple[str, str]:
    title = " ".join(title.split())
    if not title:
        raise OutlineError("Enter a title.")
    slug = slugify(title)[:SLUG_MAX_LENGTH].strip("-")
    if not slug:
        raise OutlineError(
            "The title needs at least one letter or digit (a to z, 0 to 9): "
            "addresses are made of them."
        )
    return title, slug


def _renumber(siblings: QuerySet) -> list[Model]:
    """Number `siblings` 1, 2, 3… in their present order and return them in it."""
    rows = list(siblings)
    for number, row in enumerate(rows, start=1):
        if row.order != number:
            type(row).objects.filter(pk=row.pk).update(order=number)
            row.order = number
    return rows


def _move(siblings: QuerySet, item: Model, direction: str) -> bool:
    if direction not in (UP, DOWN):
        raise OutlineError("Choose to move it up or down.")
    rows = _renumber(siblings)
    index = next(i for i, row in enumerate(rows) if row.pk == item.pk)
    other = index - 1 if direction == UP else index + 1
    if not 0 <= other < len(rows):
        return False
    model = type(item)
    model.objects.filter(pk=rows[index].pk).update(order=rows[other].order)
    model.objects.filter(pk=rows[other].pk).update(order=rows[index].order)
    return True
