"""Keep each lesson's quiz question ids, and render bodies that already hold quiz fences.

A body saved before quizzes existed shows a `quiz` fence as a code block; rendering it again
turns it into the question, as saving it today would.
"""

from django.db import migrations, models
from django.utils import timezone


def fill_quiz_ids(apps, schema_editor):
    from lessons.markdown import render_lesson
    from lessons.quizzes import lesson_questions, quiz_blocks

    Lesson = apps.get_model("lessons", "Lesson")
    Course = apps.get_model("courses", "Course")
    changed = False
    for lesson in Lesson.objects.filter(body__contains="quiz").only("id", "body"):
        if not quiz_blocks(lesson.body):
            continue
        body_html, toc_html = render_lesson(lesson.body)
        Lesson.objects.filter(id=lesson.id).update(
            body_html=body_html,
            toc_html=toc_html,
            quiz_ids=[question.id for question in lesson_questions(lesson.body)],
        )
        changed = True
    if changed:
        # Cached pages and menus are versioned by this stamp.
        Course.objects.update(updated=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("lessons", "0005_lesson_drafts"),
    ]

    operations = [
        migrations.AddField(
            model_name="lesson",
            name="quiz_ids",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(fill_quiz_ids, migrations.RunPython.noop),
    ]
