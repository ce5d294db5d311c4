"""Workers logging JSON say, on each line about a grading, which submission and job it is."""

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
    start_celery_worker, start_grading_host, hello_exercise, learner
):
    site = start_celery_worker(env={"LOG_FORMAT": "json"})
    host = start_grading_host(env={"LOG_FORMAT": "json"})
    submission = services.submission_create(
        learner=learner,
        exercise=hello_exercise,
        framework="flask",
        archive=hello_archive("solution", "flask"),
        bucket=None,
    )

    (graded,) = wait_until_graded([submission.pk], workers=[site, host])

    assert graded.verdict == "passed"
    job_id = graded.job_id
    # The grading host: its lines about the job name the submission, the job and the host.
    host_lines = json_lines(host.log())
    assert any(line["message"].endswith(" ready.") for line in host_lines)  # Celery's own
    on_host = [line for line in host_lines if line.get("submission_id") == submission.pk]
    assert on_host, host.log_tail()
    for line in on_host:
        assert (line["job_id"], line["host"], line["exercise"]) == (
            job_id,
            host.host_id,
            hello_exercise.slug,
        )
        assert {"time", "level", "logger", "message"} <= set(line)
    assert any(line["message"].endswith(": passed") for line in on_host)
    # The site's worker: applying the host's reports, with the same ids.
    on_site = [
        line for line in json_lines(site.log()) if line.get("submission_id") == submission.pk
    ]
    applied = [line for line in on_site if "applied" in line["message"]]
    assert len(applied) == 1, site.log_tail()
    assert (applied[0]["job_id"], applied[0]["host"], applied[0]["logger"]) == (
        job_id,
        host.host_id,
        "exercises.services",
    )
