# ApiToken now belongs to the accounts app and LessonProgress to the progress app; their
# tables keep their names (see accounts.0001 and progress.0001), so this only drops them
# from the courses app's state, then moves their content types, and so the permissions
# granted on them, to the new apps.

from django.db import migrations

MOVED = [
    # (old app label, model, new app label)
    ('courses', 'apitoken', 'accounts'),
    ('courses', 'lessonprogress', 'progress'),
]


def relabel_content_types(apps, schema_editor):
    _move(apps, schema_editor, [(old, model, new) for old, model, new in MOVED])


def restore_content_types(apps, schema_editor):
    _move(apps, schema_editor, [(new, model, old) for old, model, new in MOVED])


def _move(apps, schema_editor, moves):
    """Give each model's content type its new app label.

    A content type under the new label may exist already (post_migrate makes one when a
    `migrate` stops between the apps' migrations and this one): then the old one's
    permissions, grants and admin log entries are merged into it, and the old one goes.
    """
    ContentType = apps.get_model('contenttypes', 'ContentType')
    Permission = apps.get_model('auth', 'Permission')
    LogEntry = apps.get_model('admin', 'LogEntry')
    db = schema_editor.connection.alias
    for old_label, model, new_label in moves:
        old = ContentType.objects.using(db).filter(app_label=old_label, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.using(db).filter(app_label=new_label, model=model).first()
        if new is None:
            old.app_label = new_label
            old.save(using=db, update_fields=['app_label'])
            continue
        for permission in Permission.objects.using(db).filter(content_type=old):
            twin = Permission.objects.using(db).filter(
                content_type=new, codename=permission.codename
            ).first()
            if twin is None:
                permission.content_type = new
                permission.save(using=db, update_fields=['content_type'])
                continue
            for group in permission.group_set.all():
                group.permissions.add(twin)
            for user in permission.user_set.all():
                user.user_permissions.add(twin)
            permission.delete()
        LogEntry.objects.using(db).filter(content_type=old).update(content_type=new)
        old.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('courses', '0002_apitoken_lessonprogress'),
        ('accounts', '0001_initial'),
        ('progress', '0001_initial'),
        ('admin', '0003_logentry_add_action_flag_choices'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ApiToken'),
                migrations.DeleteModel(name='LessonProgress'),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, restore_content_types),
    ]
