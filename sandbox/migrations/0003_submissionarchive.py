"""Store each distinct submitted zip once, in SubmissionArchive, keyed by its SHA-256.

Existing submissions keep their files: each zip is hashed, stored once, and the submission
points at it. Going back copies the bytes into each submission again.
"""

import hashlib

import django.db.models.deletion
from django.db import migrations, models


def share_archives(apps, schema_editor):
    Submission = apps.get_model("sandbox", "Submission")
    SubmissionArchive = apps.get_model("sandbox", "SubmissionArchive")
    ids = Submission.objects.values_list("pk", flat=True).order_by("pk")
    for pk in ids.iterator(chunk_size=200):
        # One zip in memory at a time: the table can hold thousands of them.
        data = bytes(Submission.objects.filter(pk=pk).values_list("archive", flat=True).get())
        digest = hashlib.sha256(data).hexdigest()
        archive, _ = SubmissionArchive.objects.get_or_create(
            sha256=digest, defaults={"data": data, "size": len(data)}
        )
        Submission.objects.filter(pk=pk).update(stored_archive=archive)


def copy_archives_back(apps, schema_editor):
    Submission = apps.get_model("sandbox", "Submission")
    rows = Submission.objects.exclude(stored_archive=None).select_related("stored_archive")
    for submission in rows.iterator(chunk_size=50):
        submission.archive = bytes(submission.stored_archive.data)
        submission.save(update_fields=["archive"])


class Migration(migrations.Migration):

    dependencies = [
        ("sandbox", "0002_draft"),
    ]

    operations = [
        migrations.CreateModel(
            name="SubmissionArchive",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(help_text="Hex SHA-256 of the zip.", max_length=64, unique=True)),
                ("data", models.BinaryField(help_text="The submitted files as a zip archive.")),
                ("size", models.PositiveIntegerField(help_text="Bytes.")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("last_used", models.DateTimeField(auto_now_add=True, help_text="When a submission last stored these bytes.")),
            ],
        ),
        migrations.AlterField(
            model_name="submission",
            name="archive",
            field=models.BinaryField(default=b"", help_text="The submitted files as a zip archive."),
        ),
        migrations.AddField(
            model_name="submission",
            name="stored_archive",
            field=models.ForeignKey(
                null=True,
                blank=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="submissions",
                to="sandbox.submissionarchive",
                help_text="The submitted files; empty once they are no longer kept.",
            ),
        ),
        migrations.RunPython(share_archives, copy_archives_back, elidable=False),
        migrations.RemoveField(model_name="submission", name="archive"),
        migrations.RenameField(model_name="submission", old_name="stored_archive", new_name="archive"),
    ]
