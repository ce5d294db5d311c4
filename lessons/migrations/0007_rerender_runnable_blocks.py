"""Render lessons again, so their runnable blocks carry the settings the page runs them with.

Lessons saved before runnable blocks could run show them as plain code; rendering them again
gives each the data attributes of lessons.markdown.run_attributes (and shows the problems of
a block that cannot run), as saving them today would.
"""

from django.db import migrations
from django.utils import timezone


def rerender(apps, schema_editor):
    from lessons.markdown import render_lesson
    from lessons.runnable import code_blocks

    Lesson = apps.get_model("lessons", "Lesson")
    Course = apps.get_model("courses", "Course")
    changed = False
    for lesson in Lesson.objects.filter(body__contains="{").only("id", "body"):
        if not code_blocks(lesson.body):
            continue
        body_html, toc_html = render_lesson(lesson.body)
        Lesson.objects.filter(id=lesson.id).update(body_html=body_html, toc_html=toc_html)
        changed = True
    if changed:
        # Cached pages and menus are versioned by this stamp.
        Course.objects.update(updated=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("lessons", "0006_lesson_quiz_ids"),
    ]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
