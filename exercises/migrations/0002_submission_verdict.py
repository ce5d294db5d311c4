"""Give each submission a verdict column, filled from its stored result's status."""

from django.db import migrations, models

VERDICTS = ("passed", "failed", "error", "timeout")


def fill_verdicts(apps, schema_editor):
    Submission = apps.get_model("exercises", "Submission")
    done = Submission.objects.filter(state="done")
    for verdict in VERDICTS:
        done.filter(result__status=verdict).update(verdict=verdict)
    # A done row whose result says nothing usable was not graded: "error", as the site shows it.
    done.filter(verdict="").update(verdict="error")


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="verdict",
            field=models.CharField(
                blank=True,
                choices=[("passed", "Passed"), ("failed", "Failed"), ("error", "Not gradable"), ("timeout", "Timed out")],
                db_index=True,
                help_text="How grading ended; empty until it has.",
                max_length=10,
            ),
        ),
        migrations.RunPython(fill_verdicts, migrations.RunPython.noop, elidable=False),
    ]
