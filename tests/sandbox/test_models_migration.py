"""Migration 0003 moves each submission's zip into a shared SubmissionArchive, and back."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("sandbox", "0002_draft")]
AFTER = [("sandbox", "0003_submissionarchive")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_zips_are_hashed_stored_once_and_can_go_back():
    old_apps = migrate(BEFORE)
    try:
        User = old_apps.get_model("auth", "User")
        Course = old_apps.get_model("courses", "Course")
        Exercise = old_apps.get_model("lessons", "Exercise")
        Submission = old_apps.get_model("sandbox", "Submission")
        learner = User.objects.create(username="ada")
        exercise = Exercise.objects.create(
            course=Course.objects.create(slug="c", title="C"), slug="e", title="E"
        )
        now = timezone.now()
        zips = [b"zip one", b"zip one", b"zip two"]
        ids = [
            Submission.objects.create(
                learner=learner, exercise=exercise, framework="flask", archive=data,
                created=now, queued_at=now,
            ).pk
            for data in zips
        ]  # fmt: skip

        new_apps = migrate(AFTER)

        Archive = new_apps.get_model("sandbox", "SubmissionArchive")
        rows = new_apps.get_model("sandbox", "Submission").objects.select_related("archive")
        stored = {row.pk: row.archive for row in rows}
        assert [bytes(stored[pk].data) for pk in ids] == zips
        assert stored[ids[0]].pk == stored[ids[1]].pk != stored[ids[2]].pk
        assert Archive.objects.count() == 2
        assert stored[ids[2]].sha256 == hashlib.sha256(b"zip two").hexdigest()

        back = migrate(BEFORE).get_model("sandbox", "Submission")
        assert [bytes(back.objects.get(pk=pk).archive) for pk in ids] == zips
    finally:
        migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
