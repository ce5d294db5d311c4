"""Render exercise instructions again, so code blocks saved earlier take keyboard focus too."""

from django.db import migrations


def rerender(apps, schema_editor):
    from lessons.markdown import render_markdown

    Exercise = apps.get_model("exercises", "Exercise")
    for exercise in Exercise.objects.only("id", "instructions"):
        Exercise.objects.filter(id=exercise.id).update(
            instructions_html=render_markdown(exercise.instructions)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0005_more_frameworks"),
        ("lessons", "0004_rerender_code_blocks"),
    ]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
