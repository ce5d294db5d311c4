"""Create the SQLite full-text index used by search/index.py (nothing on PostgreSQL)."""

from __future__ import annotations

from django.db import migrations

CREATE_INDEX = """
CREATE VIRTUAL TABLE lessons_search_index USING fts5(
    kind UNINDEXED,
    object_id UNINDEXED,
    title,
    summary,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""
DROP_INDEX = "DROP TABLE lessons_search_index"


def create_index(apps, schema_editor) -> None:
    # PostgreSQL searches the lesson tables directly (see search/index.py).
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE_INDEX)


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("lessons", "0001_initial"),
    ]

    # The index starts empty; `manage.py rebuild_search_index` fills it from existing rows.
    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
