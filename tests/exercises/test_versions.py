"""Exercise versions, and what a submission records of the exercise it was made to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exercises.models import DeadlineExtension
from exercises.services import submission_create
from sandbox.archive import pack_files
from tests.factories import ExerciseFactory, UserFactory

pytestmark = pytest.mark.django_db

ZIP = pack_files({"app.py": "from flask import Flask\napp = Flask(__name__)\n"})


def test_a_change_of_files_makes_a_new_version_and_other_saves_do_not():
    exercise = ExerciseFactory(files={"tests/test_app.py": "def test_a(): pass\n"})
    assert [v.number for v in exercise.versions.all()] == [1]

    exercise.title = "Renamed"
    exercise.save()
    assert exercise.versions.count() == 1

    exercise.files = {**exercise.files, "solution/flask/app.py": "app = None\n"}
    exercise.save()
    latest = exercise.current_version()
    assert latest.number == 2
    assert latest.files == exercise.files
    assert exercise.versions.get(number=1).files == {"tests/test_app.py": "def test_a(): pass\n"}


def test_a_submission_records_the_version_and_whether_it_was_late(
    django_capture_on_commit_callbacks,
):
    exercise = ExerciseFactory(frameworks=["flask"], deadline=timezone.now() - timedelta(hours=1))
    learner, extended = UserFactory(), UserFactory()
    DeadlineExtension.objects.create(
        exercise=exercise, learner=extended, until=timezone.now() + timedelta(days=1)
    )

    late = submission_create(
        learner=learner, exercise=exercise, framework="flask", archive=ZIP, bucket=None
    )
    on_time = submission_create(
        learner=extended, exercise=exercise, framework="flask", archive=ZIP, bucket=None
    )

    assert late.late is True
    assert on_time.late is False
    assert late.version == exercise.current_version()


def test_without_a_deadline_nothing_is_late():
    exercise = ExerciseFactory(frameworks=["flask"])
    submission = submission_create(
        learner=UserFactory(), exercise=exercise, framework="flask", archive=ZIP, bucket=None
    )
    assert submission.late is False
    assert exercise.deadline_for(submission.learner) is None
