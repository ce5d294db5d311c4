"""Regrades: what they send, the rule on lower scores, the result history and the report.

Grading hosts are stood in for by applying their reports through the services; the test
of regrading with real grading is in test_regrade_grading.py.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from exercises import services
from exercises.models import GradingResult, Regrade, Submission
from exercises.ratelimit import submission_allowance
from exercises.regrades import regrade_plan, regrade_report, regrade_start
from tests.factories import ExerciseFactory, StaffFactory, UserFactory, make_submission

pytestmark = pytest.mark.django_db


def result(score: int, max_score: int = 6) -> dict:
    status = "passed" if score == max_score else "failed"
    return {"status": status, "score": score, "max_score": max_score, "tests": [], "log": ""}


def grade(submission: Submission, score: int, max_score: int = 6) -> None:
    """Apply a grading of the submission's current job, as a grading host's reports would."""
    submission.refresh_from_db()
    services.submission_grading_started(
        job_id=submission.job_id, submission_id=submission.pk, host="grader-a", phase="booting"
    )
    assert services.submission_grading_finished(
        job_id=submission.job_id,
        submission_id=submission.pk,
        host="grader-a",
        result=result(score, max_score),
    )


@pytest.fixture
def exercise():
    return ExerciseFactory(frameworks=["flask"], files={"tests/test_app.py": "# v1\n"})


@pytest.fixture
def start(django_capture_on_commit_callbacks, sent_gradings):
    """Start a regrade and send its jobs (caught in sent_gradings)."""

    def run(**options) -> Regrade:
        options.setdefault("requested_by", StaffFactory())
        with django_capture_on_commit_callbacks(execute=True):
            return regrade_start(**options)

    return run


def graded(learner, exercise, score: int, minutes: int) -> Submission:
    submission = make_submission(learner, exercise, minutes=minutes)
    Submission.objects.filter(pk=submission.pk).update(job_id=f"first-{submission.pk}")
    grade(submission, score)
    submission.refresh_from_db()
    return submission


def test_the_first_grading_is_kept_in_the_history(exercise):
    submission = graded(UserFactory(), exercise, 4, minutes=0)
    (entry,) = GradingResult.objects.filter(submission=submission)
    assert (entry.score, entry.max_score, entry.verdict, entry.counted) == (4, 6, "failed", True)
    assert entry.regrade is None
    assert (submission.score, submission.state) == (4, "done")


def test_a_regrade_sends_new_jobs_for_the_current_version(exercise, start, sent_gradings):
    learner = UserFactory()
    first = graded(learner, exercise, 4, minutes=0)
    old_job = first.job_id
    exercise.files = {"tests/test_app.py": "# v2\n"}
    exercise.save()

    regrade = start(exercise=exercise, submission=first)

    first.refresh_from_db()
    assert first.job_id != old_job
    assert first.version.number == 2 == regrade.version.number
    assert (first.state, first.regrade, first.score) == ("queued", regrade, 4)  # kept meanwhile
    assert [args for args, _ in sent_gradings] == [(first.pk,)]
    assert sent_gradings[0][1]["job"].job_id == first.job_id
    assert sent_gradings[0][1]["job"].tests == {"test_app.py": "# v2\n"}


def test_a_regrade_charges_nothing_and_does_not_hold_the_learner_up(exercise, start):
    learner = UserFactory()
    graded(learner, exercise, 4, minutes=0)
    cache.clear()
    before = submission_allowance(learner=learner, exercise=exercise)

    start(exercise=exercise, learner=learner)

    after = submission_allowance(learner=learner, exercise=exercise)
    assert after.allowed and after.active is None
    assert after.tokens == before.tokens


def test_the_whole_exercise_takes_each_learners_latest_and_best(exercise, start):
    ada, bob = UserFactory(), UserFactory()
    ada_best = graded(ada, exercise, 5, minutes=-30)
    graded(ada, exercise, 2, minutes=-20)  # neither latest nor best
    ada_latest = graded(ada, exercise, 3, minutes=-10)
    bob_only = graded(bob, exercise, 1, minutes=-5)

    plan = regrade_plan(exercise=exercise)
    assert set(plan.submissions) == {ada_best, ada_latest, bob_only}
    assert plan.learner_count == 2
    assert regrade_plan(exercise=exercise, every=True).submissions.count() == 4
    assert regrade_plan(exercise=exercise, learner=ada).submissions.count() == 3


def test_submissions_without_their_files_are_skipped_and_counted(exercise, start, sent_gradings):
    learner = UserFactory()
    kept = graded(learner, exercise, 4, minutes=-10)
    gone = graded(learner, exercise, 5, minutes=0)
    Submission.objects.filter(pk=gone.pk).update(archive=None)

    regrade = start(exercise=exercise, learner=learner)

    assert regrade.skipped == 1
    assert [item.submission for item in regrade.items.all()] == [kept]
    assert [args for args, _ in sent_gradings] == [(kept.pk,)]
    gone.refresh_from_db()
    assert (gone.state, gone.score) == ("done", 5)


def test_without_the_tick_a_lower_result_keeps_the_previous_one(exercise, start):
    learner = UserFactory()
    submission = graded(learner, exercise, 5, minutes=0)
    v1 = submission.version
    exercise.files = {"tests/test_app.py": "# v2\n"}
    exercise.save()

    regrade = start(exercise=exercise, submission=submission)
    grade(submission, 4)

    submission.refresh_from_db()
    assert (submission.state, submission.score, submission.max_score) == ("done", 5, 6)
    assert submission.version == v1  # the kept result's version
    history = list(submission.results.values_list("score", "counted", "regrade"))
    assert history == [(5, True, None), (4, False, regrade.pk)]
    assert submission.results.last().version.number == 2
    report = regrade_report(regrade=regrade)
    (line,) = report.learners
    (item,) = line.items
    assert item.kept and str(item.old) == "5/6" and str(item.given) == "4/6"
    assert (str(line.old_best), str(line.new_best), line.change) == ("5/6", "5/6", "same")
    assert report.finished and (report.up, report.down, report.same) == (0, 0, 1)


def test_with_the_tick_a_lower_result_replaces_the_previous_one(exercise, start):
    learner = UserFactory()
    submission = graded(learner, exercise, 5, minutes=0)
    exercise.files = {"tests/test_app.py": "# v2\n"}
    exercise.save()

    regrade = start(exercise=exercise, submission=submission, lower_best=True)
    grade(submission, 4)

    submission.refresh_from_db()
    assert (submission.score, submission.version.number) == (4, 2)
    assert list(submission.results.values_list("score", "counted")) == [(5, True), (4, True)]
    (line,) = regrade_report(regrade=regrade).learners
    assert (str(line.old_best), str(line.new_best), line.change) == ("5/6", "4/6", "down")


def test_a_higher_result_always_counts_and_the_report_follows_progress(exercise, start):
    ada, bob = UserFactory(), UserFactory()
    ada_sub = graded(ada, exercise, 2, minutes=-5)
    bob_sub = graded(bob, exercise, 6, minutes=0)

    regrade = start(exercise=exercise)
    report = regrade_report(regrade=regrade)
    assert (report.done, report.total, report.finished) == (0, 2, False)

    grade(ada_sub, 3)
    report = regrade_report(regrade=regrade)
    assert (report.done, report.total, report.percent) == (1, 2, 50)

    grade(bob_sub, 6)
    report = regrade_report(regrade=regrade)
    assert report.finished
    assert (report.up, report.down, report.same) == (1, 0, 1)
    ada_sub.refresh_from_db()
    assert ada_sub.score == 3


def test_a_submission_waiting_in_one_regrade_is_not_sent_again_by_another(
    exercise, start, sent_gradings
):
    submission = graded(UserFactory(), exercise, 2, minutes=0)
    first = start(exercise=exercise, submission=submission)
    second = start(exercise=exercise)
    grade(submission, 3)

    assert second.items.count() == 0
    assert len(sent_gradings) == 1
    (item,) = regrade_report(regrade=first).learners[0].items
    assert str(item.given) == "3/6" and not item.pending
