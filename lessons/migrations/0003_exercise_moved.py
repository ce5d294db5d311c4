"""Exercise now belongs to the exercises app (exercises.0001_initial), table and rows alike."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lessons", "0002_search_index"),
        ("exercises", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel("Exercise")],
            database_operations=[],
        ),
    ]
