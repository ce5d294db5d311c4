"""Take over Exercise (from lessons) and Submission, SubmissionArchive, Draft (from sandbox).

The models keep their tables (`db_table`), so a database made before the move keeps every
row and needs no copy: the state operations describe the models as they were, and the
database operations create only the tables that do not exist yet. On a fresh database
that is the three sandbox_* tables (sandbox has no migrations any more); lessons_exercise
is always there already, made by lessons' own 0001_initial, which this migration follows.
lessons.0003_exercise_moved then drops Exercise from lessons' state.
"""

import django.db.models.deletion
import markdownx.models
from django.conf import settings
from django.db import migrations, models


class CreateModelIfMissing(migrations.CreateModel):
    """CreateModel, except that a table already there is left as it is, rows and all.

    `owned=False` marks a table another app's migrations made (lessons_exercise): going
    backwards leaves it for them to drop.
    """

    def __init__(self, *args, owned=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.owned = owned

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if model._meta.db_table not in schema_editor.connection.introspection.table_names():
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.name)
        tables = schema_editor.connection.introspection.table_names()
        if self.owned and model._meta.db_table in tables:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create model {self.name} unless its table exists"


FRAMEWORK_CHOICES = [("flask", "Flask"), ("django", "Django"), ("fastapi", "FastAPI")]


def moved_models(operation, **extra):
    """Return the four models as they were before the move, each made by `operation`."""
    return [
        operation(
            name="Exercise",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True)),
                ("title", models.CharField(max_length=200)),
                ("summary", models.TextField(blank=True)),
                ("order", models.PositiveIntegerField(default=0)),
                ("frameworks", models.JSONField(default=list)),
                ("points", models.PositiveIntegerField(default=0)),
                ("limits", models.JSONField(blank=True, default=dict)),
                ("instructions", markdownx.models.MarkdownxField(blank=True)),
                ("instructions_html", models.TextField(blank=True, editable=False)),
                ("files", models.JSONField(blank=True, default=dict)),
                ("status", models.CharField(choices=[("draft", "Draft"), ("published", "Published")], default="published", max_length=10)),
                ("updated", models.DateTimeField(auto_now=True)),
                ("course", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="exercises", to="courses.course")),
                ("lesson", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="exercises", to="lessons.lesson")),
            ],
            options={
                "db_table": "lessons_exercise",
                "ordering": ["course", "order", "slug"],
            },
            **extra.get("Exercise", {}),
        ),
        operation(
            name="SubmissionArchive",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(help_text="Hex SHA-256 of the zip.", max_length=64, unique=True)),
                ("data", models.BinaryField(help_text="The submitted files as a zip archive.")),
                ("size", models.PositiveIntegerField(help_text="Bytes.")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("last_used", models.DateTimeField(auto_now_add=True, help_text="When a submission last stored these bytes.")),
            ],
            options={
                "db_table": "sandbox_submissionarchive",
            },
        ),
        operation(
            name="Submission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("framework", models.CharField(choices=FRAMEWORK_CHOICES, max_length=10)),
                ("state", models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done")], default="queued", max_length=10)),
                ("phase", models.CharField(blank=True, help_text="booting, testing… while running", max_length=20)),
                ("result", models.JSONField(blank=True, null=True)),
                ("score", models.IntegerField(blank=True, null=True)),
                ("max_score", models.IntegerField(blank=True, null=True)),
                ("attempt", models.PositiveIntegerField(default=1)),
                ("grading_attempts", models.PositiveIntegerField(default=0, help_text="How many times a worker has claimed this submission.")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("queued_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("exercise", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="submissions", to="exercises.exercise")),
                ("learner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="submissions", to=settings.AUTH_USER_MODEL)),
                ("archive", models.ForeignKey(blank=True, help_text="The submitted files; empty once they are no longer kept.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="submissions", to="exercises.submissionarchive")),
            ],
            options={
                "db_table": "sandbox_submission",
                "ordering": ["-created"],
                "indexes": [models.Index(fields=["state", "queued_at"], name="sandbox_sub_state_c127c7_idx")],
            },
        ),
        operation(
            name="Draft",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("framework", models.CharField(choices=FRAMEWORK_CHOICES, max_length=10)),
                ("files", models.JSONField(default=dict, help_text="Relative path → text.")),
                ("updated", models.DateTimeField(auto_now=True)),
                ("exercise", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="drafts", to="exercises.exercise")),
                ("learner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="drafts", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "db_table": "sandbox_draft",
                "constraints": [models.UniqueConstraint(fields=("learner", "exercise", "framework"), name="unique_draft")],
            },
        ),
    ]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("courses", "0001_initial"),
        ("lessons", "0002_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=moved_models(migrations.CreateModel),
            # Not owned: lessons_exercise exists already (lessons.0001), and is lessons' to drop.
            database_operations=moved_models(CreateModelIfMissing, Exercise={"owned": False}),
        ),
    ]
