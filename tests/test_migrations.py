"""A database made before the restructure migrates in one `migrate` and keeps every row.

tests/data/before-restructure.sql is an SQLite dump made by the code as it was before the
models moved apps (ApiToken to accounts, LessonProgress to progress, Exercise and the
submissions to exercises), with rows in every table. The moved models kept their tables, so
migrating must change no rows; only content types are relabelled, and the permissions granted
on them follow.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

DUMP = Path(__file__).parent / "data" / "before-restructure.sql"
# Rows that migrating adds to by design: its own record, the sequences SQLite keeps, and the
# content types and permissions of models added since the dump was made.
GROWING_TABLES = {"django_migrations", "sqlite_sequence", "django_content_type", "auth_permission"}
# Tables of models added since the dump was made, with the rows their migrations write:
# every exercise's files become its version 1.
BORN_LATER = {
    "authoring_syncedcontent": 0,
    "courses_courseimage": 0,
    "courses_coursestaff": 0,
    "courses_enrollment": 0,
    "exercises_deadlineextension": 0,
    "exercises_exerciseversion": 1,
    "exercises_exercisevalidation": 0,
    "exercises_regrade": 0,
    "exercises_regradeitem": 0,
    "exercises_gradingresult": 2,  # one per graded submission: their history starts with it
    "progress_quizanswer": 0,
}
# Who may do what in the admin, as the dump's Instructors group had it, by model and not by
# app (the models' apps are what changed).
INSTRUCTORS_PERMISSIONS = {
    ("courses", "add_course"),
    ("courses", "change_course"),
    ("courses", "view_course"),
    ("courses", "add_chapter"),
    ("courses", "change_chapter"),
    ("courses", "delete_chapter"),
    ("courses", "view_chapter"),
    ("lessons", "add_lesson"),
    ("lessons", "change_lesson"),
    ("lessons", "delete_lesson"),
    ("lessons", "view_lesson"),
    ("exercises", "change_exercise"),
    ("exercises", "view_exercise"),
    ("exercises", "change_submission"),
    ("exercises", "view_submission"),
}


def manage(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py against the given SQLite file, with nothing from a .env file."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def row_counts(connection: sqlite3.Connection) -> dict[str, int]:
    """Return the number of rows of every ordinary table."""
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
        if not re.match(r"lessons_search_index_", name)  # the full-text index's own tables
    ]
    return {
        table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        for table in tables
    }


@pytest.fixture(scope="module")
def databases(tmp_path_factory) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    """Return the dump loaded as it was, and the same database after `migrate`."""
    folder = tmp_path_factory.mktemp("before-restructure")
    before_file, after_file = folder / "before.sqlite3", folder / "after.sqlite3"
    for path in (before_file, after_file):
        with sqlite3.connect(path) as connection:
            connection.executescript(DUMP.read_text())
    migrated = manage(after_file, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    before, after = sqlite3.connect(before_file), sqlite3.connect(after_file)
    yield before, after
    before.close()
    after.close()


def test_migrating_keeps_every_row_of_every_table(databases):
    before, after = databases
    old, new = row_counts(before), row_counts(after)

    for table, count in old.items():
        if table in GROWING_TABLES:
            assert new[table] >= count, table
            continue
        assert new.get(table) == count, table
    assert {table: new.get(table) for table in BORN_LATER} == BORN_LATER


def test_every_model_reads_its_rows_from_the_table_it_had(databases):
    before, after = databases
    old, new = row_counts(before), row_counts(after)
    ours = {"accounts", "courses", "lessons", "exercises", "progress", "authoring"}

    models = [model for model in apps.get_models() if model._meta.app_label in ours]
    for model in models:
        table = model._meta.db_table
        assert table in new, f"{model._meta.label} has no table {table}"
        if table in BORN_LATER:
            assert table not in old
            continue
        assert new[table] == old.get(table, 0) > 0, model._meta.label


def test_the_learners_token_still_authenticates_by_its_hash(databases):
    _, after = databases

    row = after.execute(
        "SELECT t.name, t.prefix, t.key_hash, u.username FROM courses_apitoken t "
        "JOIN auth_user u ON u.id = t.user_id"
    ).fetchall()

    assert row == [
        (
            "laptop",
            "wfc_1fcMNb1L",
            "81e2179be2442f18c808de04c50bd72d427ca98355be3eb917a72a56ecf91a7e",
            "learner",
        )
    ]


def test_submissions_keep_their_scores_and_share_their_archive(databases):
    before, after = databases
    query = (
        "SELECT s.id, s.state, s.score, s.max_score, a.sha256 FROM sandbox_submission s "
        "LEFT JOIN sandbox_submissionarchive a ON a.id = s.archive_id ORDER BY s.id"
    )

    rows = after.execute(query).fetchall()

    assert rows == before.execute(query).fetchall()
    assert [(state, score, max_score) for _, state, score, max_score, _ in rows] == [
        ("done", 1, 1),
        ("queued", None, None),
        ("done", 0, 1),
    ]
    # The first two submissions sent the same files: one archive, stored once.
    assert rows[0][4] == rows[1][4] is not None
    assert rows[2][4] != rows[0][4]


def test_the_draft_keeps_its_files(databases):
    _, after = databases

    assert after.execute("SELECT framework, files FROM sandbox_draft").fetchall() == [
        ("flask", '{"app.py": "x = 1"}')
    ]


def test_moved_models_keep_their_content_types_under_their_new_apps(databases):
    before, after = databases
    old = dict(before.execute("SELECT id, app_label || '.' || model FROM django_content_type"))

    new = dict(after.execute("SELECT id, app_label || '.' || model FROM django_content_type"))

    assert new[9] == "accounts.apitoken" and old[9] == "courses.apitoken"
    assert new[10] == "progress.lessonprogress" and old[10] == "courses.lessonprogress"
    labels = list(new.values())
    assert len(labels) == len(set(labels))
    assert not {"courses.apitoken", "courses.lessonprogress"} & set(labels)
    # Each permission kept its row, so every grant of it still holds.
    assert after.execute(
        "SELECT c.app_label FROM auth_permission p JOIN django_content_type c "
        "ON c.id = p.content_type_id WHERE p.id = 33"
    ).fetchone() == ("accounts",)


def test_the_instructors_keep_their_permissions_on_the_moved_models(databases):
    _, after = databases

    granted = set(
        after.execute(
            "SELECT c.app_label, p.codename FROM auth_group g "
            "JOIN auth_group_permissions gp ON gp.group_id = g.id "
            "JOIN auth_permission p ON p.id = gp.permission_id "
            "JOIN django_content_type c ON c.id = p.content_type_id "
            "WHERE g.name = 'Instructors'"
        )
    )

    assert granted == INSTRUCTORS_PERMISSIONS


def test_nothing_is_left_to_migrate(databases):
    _, after = databases
    path = Path(after.execute("PRAGMA database_list").fetchone()[2])

    check = manage(path, "migrate", "--check", "--plan")

    assert check.returncode == 0, check.stdout + check.stderr
    assert "No planned migration operations." in check.stdout


def test_a_migrate_stopped_halfway_still_merges_the_content_types(tmp_path):
    # `migrate accounts` alone makes a content type accounts.apitoken (and its permissions)
    # before courses.0003 has relabelled the old one: the two must become one, keeping grants.
    database = tmp_path / "halfway.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.executescript(DUMP.read_text())
        # The Instructors may see tokens: permission 36 is courses.view_apitoken.
        connection.execute(
            "INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (1, 36)"
        )

    first = manage(database, "migrate", "accounts", "--no-input")
    with sqlite3.connect(database) as connection:
        labels = {
            row[0]
            for row in connection.execute(
                "SELECT app_label FROM django_content_type WHERE model = 'apitoken'"
            )
        }
    rest = manage(database, "migrate", "--no-input")

    assert first.returncode == 0, first.stderr
    assert labels == {"courses", "accounts"}
    assert rest.returncode == 0, rest.stderr
    with sqlite3.connect(database) as connection:
        types = connection.execute(
            "SELECT app_label FROM django_content_type WHERE model = 'apitoken'"
        ).fetchall()
        granted = connection.execute(
            "SELECT c.app_label, p.codename FROM auth_group_permissions gp "
            "JOIN auth_permission p ON p.id = gp.permission_id "
            "JOIN django_content_type c ON c.id = p.content_type_id "
            "WHERE gp.group_id = 1 AND c.model = 'apitoken'"
        ).fetchall()
        permissions = connection.execute(
            "SELECT COUNT(*) FROM auth_permission p JOIN django_content_type c "
            "ON c.id = p.content_type_id WHERE c.model = 'apitoken'"
        ).fetchone()
    assert types == [("accounts",)]
    assert granted == [("accounts", "view_apitoken")]
    assert permissions == (4,)  # add, change, delete, view: no duplicates left
