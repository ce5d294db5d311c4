"""A worker logging JSON says, on each line about a grading, which submission and job it is."""

from __future__ import annotations

import json

import pytest

from exercises import services
from tests.celery_fixtures import hello_archive, wait_until_graded


def json_lines(text: str) -> list[dict]:
    """Return the log lines that are JSON objects (the worker's start-up banner is not)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.celery
@pytest.mark.sandbox
def test_a_graded_submissions_log_lines_carry_its_id_and_job(
    start_celery_worker, hello_exercise, learner
):
    worker = start_celery_worker(env={"LOG_FORMAT": "json"})
    submission = services.submission_create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
        bucket=None,
    )

    (graded,) = wait_until_graded([submission.pk], workers=[worker])

    assert graded.verdict == "passed"
    lines = json_lines(worker.log())
    assert any(line["message"].endswith(" ready.") for line in lines)  # Celery's own, as JSON
    mine = [line for line in lines if line.get("submission_id") == submission.pk]
    messages = [line["message"] for line in mine]
    assert f"Submission {submission.pk}: grading started (claim 1)" in messages
    assert f"Submission {submission.pk} graded: passed" in messages
    job_ids = {line["job_id"] for line in mine}
    assert len(job_ids) == 1 and job_ids != {None}
    # Celery's own lines about the job name it, so they can be joined to the submission.
    (job_id,) = job_ids
    assert any(job_id in line["message"] and "succeeded" in line["message"] for line in lines)
    for line in mine:
        assert line["host"].startswith(worker.name + "@")
        assert {"time", "level", "logger", "message"} <= set(line)
    (done,) = [line for line in mine if line["message"].endswith("graded: passed")]
    assert (done["exercise"], done["level"], done["logger"]) == (
        hello_exercise.slug,
        "INFO",
        "exercises.services",
    )
