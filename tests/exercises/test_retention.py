"""Old, superseded submissions stop keeping their zips; results, scores and the rest stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.celery import app as celery_app
from exercises import services, tasks
from exercises.models import Submission, SubmissionArchive, Verdict
from sandbox.archive import pack_files
from tests.factories import ExerciseFactory, SubmissionFactory, UserFactory

RETENTION = timedelta(days=90)
OLD = 100  # days: past the retention
YOUNG = 10


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(celery_app, "send_task", lambda *args, **kwargs: None)


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def exercise(db):
    return ExerciseFactory()


def submit(
    learner, exercise, *, days_ago: int, score: int | None = 0, files: str = ""
) -> Submission:
    """Return a graded submission made `days_ago` days ago; its files differ with `files`."""
    submission = SubmissionFactory(
        learner=learner,
        exercise=exercise,
        archive=pack_files({"app.py": f"# {files or (days_ago, score)}\n"}),
        verdict="" if score is None else Verdict.FAILED,
        score=score,
        max_score=None if score is None else 6,
    )
    moment = timezone.now() - timedelta(days=days_ago)
    Submission.objects.filter(pk=submission.pk).update(created=moment, queued_at=moment)
    return submission


def kept(*submissions: Submission) -> list[bool]:
    return [Submission.objects.get(pk=s.pk).files_kept for s in submissions]


def age_archives(hours: int = 2) -> None:
    """Pretend every stored zip was last stored `hours` ago (past the grace period)."""
    SubmissionArchive.objects.update(last_used=timezone.now() - timedelta(hours=hours))


def test_only_old_submissions_that_are_neither_latest_nor_best_lose_their_files(learner, exercise):
    superseded = submit(learner, exercise, days_ago=OLD + 3, score=1)
    best = submit(learner, exercise, days_ago=OLD + 2, score=5)
    also_superseded = submit(learner, exercise, days_ago=OLD + 1, score=2)
    young = submit(learner, exercise, days_ago=YOUNG, score=0)
    latest = submit(learner, exercise, days_ago=1, score=3)
    age_archives()

    report = services.submission_archives_prune(older_than=RETENTION)

    assert kept(superseded, best, also_superseded, young, latest) == [
        False, True, False, True, True
    ]  # fmt: skip
    assert report.files_dropped == 2
    assert report.archives_deleted == 2
    assert SubmissionArchive.objects.count() == 3
    dropped = Submission.objects.get(pk=superseded.pk)
    assert (dropped.score, dropped.result["score"], dropped.state) == (1, 1, "done")


def test_the_latest_and_best_are_each_learners_own_on_each_exercise(learner, exercise):
    other_learner, other_exercise = UserFactory(), ExerciseFactory()
    mine = submit(learner, exercise, days_ago=OLD, score=1)
    theirs = submit(other_learner, exercise, days_ago=OLD, score=0)
    elsewhere = submit(learner, other_exercise, days_ago=OLD, score=0)
    submit(learner, exercise, days_ago=OLD - 1, score=6)  # supersedes `mine` only

    services.submission_archives_prune(older_than=RETENTION)

    assert kept(mine, theirs, elsewhere) == [False, True, True]


def test_among_equal_best_scores_the_one_the_exercise_page_calls_best_is_kept(learner, exercise):
    earlier = submit(learner, exercise, days_ago=OLD + 2, score=6)
    later = submit(learner, exercise, days_ago=OLD + 1, score=6)
    submit(learner, exercise, days_ago=1, score=0)

    services.submission_archives_prune(older_than=RETENTION)

    assert kept(earlier, later) == [True, False]  # the earliest (best_per_learner)


def test_a_submission_still_being_graded_keeps_its_files(learner, exercise):
    waiting = submit(learner, exercise, days_ago=OLD + 1, score=None)
    submit(learner, exercise, days_ago=1, score=6)

    services.submission_archives_prune(older_than=RETENTION)

    assert kept(waiting) == [True]


def test_a_zip_shared_with_a_kept_submission_stays_stored(learner, exercise):
    old = submit(learner, exercise, days_ago=OLD, score=0, files="same")
    latest = submit(learner, exercise, days_ago=1, score=1, files="same")
    age_archives()

    report = services.submission_archives_prune(older_than=RETENTION)

    assert kept(old, latest) == [False, True]
    assert report.archives_deleted == 0
    assert bytes(Submission.objects.get(pk=latest.pk).archive) == bytes(latest.archive)


def test_an_unused_zip_is_deleted_only_after_the_grace_period(learner, exercise):
    SubmissionArchive.objects.store(b"PK\x05\x06" + bytes(18))  # stored, not yet referred to

    assert services.submission_archives_prune(older_than=None).archives_deleted == 0
    age_archives()
    report = services.submission_archives_prune(older_than=None)

    assert report.archives_deleted == 1
    assert report.bytes_freed == 22
    assert not SubmissionArchive.objects.exists()


def test_a_retention_of_zero_days_keeps_every_submissions_files(settings, learner, exercise):
    settings.ARCHIVE_RETENTION_DAYS = 0
    old = submit(learner, exercise, days_ago=1000, score=0)
    submit(learner, exercise, days_ago=1, score=6)

    tasks.prune_archives()

    assert kept(old) == [True]


def test_the_periodic_task_uses_the_retention_setting(settings, learner, exercise):
    settings.ARCHIVE_RETENTION_DAYS = 30
    old = submit(learner, exercise, days_ago=31, score=0)
    young = submit(learner, exercise, days_ago=29, score=0)
    submit(learner, exercise, days_ago=1, score=6)

    report = tasks.prune_archives()

    assert kept(old, young) == [False, True]
    assert report["files_dropped"] == 1


def test_the_task_is_on_the_beat_schedule(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "exercises.tasks.prune_archives" in tasks_scheduled


def test_the_command_prunes_and_says_what_it_did(learner, exercise, capsys):
    old = submit(learner, exercise, days_ago=8, score=0)
    submit(learner, exercise, days_ago=1, score=6)

    call_command("prune_archives", "--days", "7")

    assert kept(old) == [False]
    assert "Files no longer kept: 1 submissions" in capsys.readouterr().out


# Regrading --------------------------------------------------------------------------------


def test_a_regrade_leaves_a_submission_without_files_as_it_was(learner, exercise, caplog):
    gone = submit(learner, exercise, days_ago=OLD, score=2)
    Submission.objects.filter(pk=gone.pk).update(archive=None)
    still_there = submit(learner, exercise, days_ago=1, score=3)

    count = services.submission_regrade(
        submissions=Submission.objects.filter(pk__in=[gone.pk, still_there.pk])
    )

    assert count == 1
    gone.refresh_from_db()
    assert (gone.state, gone.score, gone.result["score"]) == ("done", 2, 2)
    assert Submission.objects.get(pk=still_there.pk).state == Submission.State.QUEUED
    assert list(Submission.objects.without_files()) == [gone]
    assert "no longer kept" in caplog.text


def test_a_regraded_submission_keeps_its_files_through_a_prune(learner, exercise):
    old = submit(learner, exercise, days_ago=OLD, score=0)
    submit(learner, exercise, days_ago=1, score=6)
    services.submission_regrade(submissions=[old])

    services.submission_archives_prune(older_than=RETENTION)

    assert kept(old) == [True]
