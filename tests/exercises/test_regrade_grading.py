"""Regrading for real: a site worker and a grading host grade an exercise's submissions, the
tests change, and a regrade grades them again against the new version."""

from __future__ import annotations

import pytest

from exercises.models import GradingResult, Submission
from exercises.regrades import regrade_report, regrade_start
from exercises.services import submission_create
from tests.celery_fixtures import hello_archive, wait_until_graded
from tests.factories import CourseStaffFactory, UserFactory

LEARNERS = 10


def make_index_test_stricter(exercise) -> None:
    """Change the tests: the index page must now say "Hello, World!", which no solution does."""
    files = dict(exercise.files)
    (path,) = [p for p in files if p.startswith("tests/") and p.endswith(".py")]
    stricter = files[path].replace('contains="Hello, world!"', 'contains="Hello, World!"')
    assert stricter != files[path]
    exercise.files = {**files, path: stricter}
    exercise.save()


@pytest.mark.celery
@pytest.mark.sandbox
def test_a_regrade_after_a_test_change_grades_again_and_keeps_the_best(
    celery_worker_proc, hello_exercise
):
    exercise = hello_exercise
    instructor = CourseStaffFactory(course=exercise.course).user
    learners = [UserFactory() for _ in range(LEARNERS)]
    submitted = []
    for learner in learners:  # the solution first, then the starter: best and latest differ
        for kind in ("solution", "starter"):
            submitted.append(
                submission_create(
                    learner=learner,
                    exercise=exercise,
                    framework="flask",
                    archive=hello_archive(kind, "flask"),
                    bucket=None,
                )
            )
    ids = [s.pk for s in submitted]
    first = wait_until_graded(ids, timeout=600, workers=[celery_worker_proc])
    v1 = exercise.current_version()
    solutions, starters = first[0::2], first[1::2]
    assert {(s.score, s.max_score) for s in solutions} == {(6, 6)}
    starter_score = starters[0].score
    assert {s.score for s in starters} == {starter_score} and starter_score < 6

    make_index_test_stricter(exercise)
    v2 = exercise.current_version()
    assert v2.number == v1.number + 1

    # Without "allow lower scores": each learner's latest (starter) and best (solution).
    regrade = regrade_start(exercise=exercise, requested_by=instructor)
    assert regrade.items.count() == 20
    jobs_before = {s.pk: s.job_id for s in first}
    assert all(
        Submission.objects.get(pk=pk).job_id != job for pk, job in jobs_before.items()
    )  # new jobs
    regraded = wait_until_graded(ids, timeout=600, workers=[celery_worker_proc])

    report = regrade_report(regrade=regrade)
    assert report.finished and report.total == 20
    assert (report.up, report.down, report.same) == (0, 0, LEARNERS)
    for line in report.learners:
        assert (str(line.old_best), str(line.new_best)) == ("6/6", "6/6")
        solution_item, starter_item = line.items
        assert solution_item.kept
        assert (str(solution_item.old), str(solution_item.given)) == ("6/6", "5/6")
        # The starter passed the index test too: it loses that point, and keeps its score.
        assert starter_item.kept
        assert str(starter_item.given) == f"{starter_score - 1}/6"
    for solution, starter in zip(regraded[0::2], regraded[1::2], strict=True):
        # Kept results keep the version they were graded against.
        assert (solution.score, solution.verdict, solution.version) == (6, "passed", v1)
        assert (starter.score, starter.version) == (starter_score, v1)
        assert solution.regrade == starter.regrade == regrade
    history = GradingResult.objects.filter(submission__in=ids)
    assert history.filter(regrade=None, version=v1, counted=True).count() == 20  # first gradings
    assert history.filter(regrade=regrade, version=v2, counted=False).count() == 20
    assert history.filter(regrade=regrade, score=5).count() == LEARNERS

    # With "allow lower scores", for one learner: their best goes down to 5/6.
    learner = learners[0]
    lowering = regrade_start(
        exercise=exercise, requested_by=instructor, learner=learner, lower_best=True
    )
    theirs = [s.pk for s in regraded[:2]]
    solution, starter = wait_until_graded(theirs, timeout=300, workers=[celery_worker_proc])
    assert (solution.score, solution.max_score, solution.version) == (5, 6, v2)
    assert (starter.score, starter.version) == (starter_score - 1, v2)
    (line,) = regrade_report(regrade=lowering).learners
    assert (str(line.old_best), str(line.new_best), line.change) == ("6/6", "5/6", "down")
    assert list(solution.results.values_list("score", "counted")) == [
        (6, True),
        (5, False),
        (5, True),
    ]
