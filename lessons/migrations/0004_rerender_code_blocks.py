"""Render the stored Markdown again, so code blocks saved earlier take keyboard focus too.

The HTML of lessons, course descriptions and chapter intros is rendered when they are saved;
rows saved before code blocks got their focus and name would otherwise keep the old HTML until
someone edits them. Uses today's pipeline, which is what the site would render them with.
"""

from django.db import migrations
from django.utils import timezone


def rerender(apps, schema_editor):
    from lessons.markdown import render_lesson, render_markdown

    Lesson = apps.get_model("lessons", "Lesson")
    Course = apps.get_model("courses", "Course")
    Chapter = apps.get_model("courses", "Chapter")
    for lesson in Lesson.objects.only("id", "body"):
        body_html, toc_html = render_lesson(lesson.body)
        Lesson.objects.filter(id=lesson.id).update(body_html=body_html, toc_html=toc_html)
    for course in Course.objects.only("id", "description"):
        Course.objects.filter(id=course.id).update(
            description_html=render_markdown(course.description)
        )
    for chapter in Chapter.objects.only("id", "intro"):
        Chapter.objects.filter(id=chapter.id).update(intro_html=render_markdown(chapter.intro))
    # Cached pages and menus are versioned by this stamp: none of them outlive the change.
    Course.objects.update(updated=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("lessons", "0003_exercise_moved"),
        ("courses", "0003_move_apitoken_lessonprogress"),
    ]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
