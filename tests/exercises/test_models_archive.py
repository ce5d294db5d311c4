"""Submitted zips are stored once per distinct content, by SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from config.celery import app as celery_app
from exercises import services
from exercises.models import Submission, SubmissionArchive
from sandbox.archive import pack_files
from tests.factories import ExerciseFactory, UserFactory

ZIP = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
OTHER_ZIP = pack_files({"app.py": "print('something else')\n"})


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(celery_app, "send_task", lambda *args, **kwargs: None)


def create(learner, exercise, archive: bytes = ZIP) -> Submission:
    return services.submission_create(
        learner=learner, exercise=exercise, framework="flask", archive=archive, bucket=None
    )


def test_two_identical_uploads_share_one_stored_zip(db):
    exercise = ExerciseFactory()
    first = create(UserFactory(), exercise)
    second = create(UserFactory(), exercise)

    assert SubmissionArchive.objects.count() == 1
    stored = SubmissionArchive.objects.get()
    assert first.archive_id == second.archive_id == stored.pk
    assert stored.sha256 == hashlib.sha256(ZIP).hexdigest()
    assert stored.size == len(ZIP)
    assert bytes(Submission.objects.get(pk=second.pk).archive) == ZIP


def test_different_uploads_are_stored_apart(db):
    learner, exercise = UserFactory(), ExerciseFactory()
    create(learner, exercise, ZIP)
    create(learner, exercise, OTHER_ZIP)

    assert sorted(bytes(a) for a in SubmissionArchive.objects.all()) == sorted([ZIP, OTHER_ZIP])


def test_storing_known_bytes_again_marks_them_used(db):
    first = SubmissionArchive.objects.store(ZIP)
    SubmissionArchive.objects.filter(pk=first.pk).update(last_used="2020-01-01T00:00:00Z")

    again = SubmissionArchive.objects.store(ZIP)

    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.last_used.year > 2020


def test_a_submission_given_bytes_stores_them(db):
    submission = Submission.objects.create(
        learner=UserFactory(), exercise=ExerciseFactory(), framework="flask", archive=ZIP
    )

    assert submission.files_kept
    assert SubmissionArchive.objects.get().pk == submission.archive_id
    assert bytes(submission.archive) == ZIP
