"""Relabel the content types of the moved models, so their permissions move with them.

Submission, SubmissionArchive and Draft were in the sandbox app, Exercise in lessons. Their
content type rows (and with them every permission, so the Instructors group's, and the
admin's history) now say "exercises". Where a `migrate` already made an "exercises" row for
a model, the old row is merged into it: its permissions go to the same-named ones there.
"""

from django.db import migrations

MOVED = [
    ("sandbox", "submission"),
    ("sandbox", "submissionarchive"),
    ("sandbox", "draft"),
    ("lessons", "exercise"),
]


def _relabel(apps, schema_editor, *, backwards):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    try:
        LogEntry = apps.get_model("admin", "LogEntry")
    except LookupError:
        LogEntry = None
    db = schema_editor.connection.alias
    types = ContentType.objects.using(db)
    for old_label, model in MOVED:
        source, target = ("exercises", old_label) if backwards else (old_label, "exercises")
        old = types.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = types.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.using(db).filter(content_type=old):
            twin = Permission.objects.using(db).filter(
                content_type=new, codename=permission.codename
            ).first()
            if twin is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            for group in permission.group_set.all():
                group.permissions.add(twin)
            for user in permission.user_set.all():
                user.user_permissions.add(twin)
            permission.delete()
        if LogEntry is not None:
            LogEntry.objects.using(db).filter(content_type=old).update(content_type=new)
        old.delete()
    # The process's cache of content types may hold the rows as they were.
    from django.contrib.contenttypes.models import ContentType as CurrentContentType

    CurrentContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _relabel(apps, schema_editor, backwards=False)


def backwards(apps, schema_editor):
    _relabel(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0002_submission_verdict"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
