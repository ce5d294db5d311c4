"""Course and chapter texts go through the lessons' Markdown pipeline when they are saved.

Course and Chapter live in courses/, a layer below the pipeline (lessons/markdown.py), so
they cannot render their own Markdown; these receivers fill in their HTML instead, on every
save, as Lesson.save() does for lessons. Connected by LessonsConfig.ready().
"""

from __future__ import annotations

from django.db.models.signals import pre_save
from django.dispatch import receiver

from courses.models import Chapter, Course


@receiver(pre_save, sender=Course)
def _render_course_description(sender, instance: Course, raw: bool = False, **kwargs) -> None:
    if raw:  # loading a fixture: the stored HTML is kept as it is
        return
    from lessons.markdown import render_markdown

    instance.description_html = render_markdown(instance.description)


@receiver(pre_save, sender=Chapter)
def _render_chapter_intro(sender, instance: Chapter, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from lessons.markdown import render_markdown

    instance.intro_html = render_markdown(instance.intro)
