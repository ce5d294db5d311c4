"""A grading host runs a reader's script and leaves the result in the broker (grading.runs).

Real Redis (the private server), real Docker; the last tests go through a real grading host
process, sent RUN_TASK by name on the interactive queue as the site sends it.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib

from config.celery import app as celery_app
from exercises.dispatch import job_send
from grading import logs, runs
from grading.interactive import (
    INTERACTIVE_QUEUE,
    RESULT_KEY,
    RESULT_TTL,
    RUN_TASK,
    RunJob,
    new_id,
)
from grading.jobs import FINISHED_TASK, RESULTS_QUEUE, GradingJob, new_job_id
from sandbox import engine
from tests.celery_fixtures import _wait_until, hello_archive

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

HOST = "runs-test-host"
BURST = 8


@pytest.fixture
def broker(redis_server) -> redis_lib.Redis:
    redis_server.flush()
    return redis_lib.Redis.from_url(redis_server.url)


def script_job(code: str, **files: str) -> RunJob:
    return RunJob(run_id=new_id(), kind="script", files={"main.py": code, **files})


def results(broker: redis_lib.Redis, run_id: str) -> list[dict]:
    return [json.loads(item) for item in broker.lrange(RESULT_KEY.format(run_id=run_id), 0, -1)]


@pytest.fixture
def named_logs(caplog):
    """Capture log records with the fields grading.logs binds, as a host's handlers get them."""
    context = logs.ContextFilter()
    caplog.handler.addFilter(context)
    caplog.set_level(logging.INFO)
    yield caplog
    caplog.handler.removeFilter(context)


def test_a_run_pushes_one_result_that_expires(broker, named_logs):
    job = script_job("import sys\nprint('hi')\nprint('oops', file=sys.stderr)\nsys.exit(2)\n")
    runs.run_job(job, redis=broker, host=HOST)
    [result] = results(broker, job.run_id)
    assert result["run_id"] == job.run_id
    assert result["status"] == "ok"
    assert result["stdout"] == "hi\n" and result["stderr"] == "oops\n"
    assert result["exit_code"] == 2
    assert 0 < result["duration_ms"] < 10_000
    assert 0 < broker.ttl(RESULT_KEY.format(run_id=job.run_id)) <= RESULT_TTL
    lines = [r for r in named_logs.records if r.name == "grading.runs"]
    assert lines and all(r.run_id == job.run_id and r.host == HOST for r in lines)
    assert any(job.run_id in r.getMessage() for r in lines)


def test_a_run_delivered_twice_is_run_and_answered_once(broker):
    job = script_job("print('once')")
    runs.run_job(job, redis=broker, host=HOST)
    runs.run_job(job, redis=broker, host="another-host")
    assert [r["stdout"] for r in results(broker, job.run_id)] == ["once\n"]


def test_a_timeout_is_said_in_the_result(broker):
    job = script_job("while True:\n    pass\n")
    began = time.monotonic()
    runs.run_job(job, redis=broker, host=HOST)
    assert time.monotonic() - began < 5 + 3
    [result] = results(broker, job.run_id)
    assert result["status"] == "timeout"
    assert result["exit_code"] is None
    assert "stopped after 5 seconds" in result["message"]


def test_an_unavailable_engine_gives_a_plain_error(broker, monkeypatch, named_logs):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine.client.cache_clear()
    try:
        job = script_job("print('never')")
        runs.run_job(job, redis=broker, host=HOST)
    finally:
        monkeypatch.undo()
        engine.client.cache_clear()
    [result] = results(broker, job.run_id)
    assert result["status"] == "error"
    assert result["message"] == "The sandbox is busy or down; try again in a minute."
    assert result["stdout"] == "" and result["exit_code"] is None
    warning = next(r for r in named_logs.records if r.levelno == logging.WARNING)
    assert warning.run_id == job.run_id and job.run_id in warning.getMessage()


def test_a_failure_of_the_host_gives_an_error_and_a_log_line(broker, monkeypatch, named_logs):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs.snippets, "run_script", broken)
    job = script_job("print('never')")
    runs.run_job(job, redis=broker, host=HOST)
    [result] = results(broker, job.run_id)
    assert result["status"] == "error"
    assert result["message"] == runs.FAILED
    [error] = [r for r in named_logs.records if r.levelno == logging.ERROR]
    assert error.run_id == job.run_id and error.exc_info and "disk full" in named_logs.text


def test_files_the_engine_refuses_give_the_reason(broker):
    job = RunJob(run_id=new_id(), kind="script", files={"main.txt": "x"}, entry="main.txt")
    runs.run_job(job, redis=broker, host=HOST)
    [result] = results(broker, job.run_id)
    assert result["status"] == "error"
    assert "'main.txt' is not one of the Python files" in result["message"]


def test_a_run_that_waited_longer_than_its_reader_is_not_run(broker, monkeypatch):
    ran = []
    monkeypatch.setattr(runs.snippets, "run_script", lambda *a, **k: ran.append(a))
    queued = (datetime.now(UTC) - timedelta(seconds=RESULT_TTL + 60)).isoformat()
    job = RunJob(run_id=new_id(), kind="script", files={"main.py": "print(1)"}, queued_at=queued)
    runs.run_job(job, redis=broker, host=HOST)
    [result] = results(broker, job.run_id)
    assert result["status"] == "error" and result["message"] == runs.TOO_LATE
    assert ran == []


def test_a_run_lost_with_its_process_gets_an_error_unless_it_was_answered(broker):
    answered = script_job("print('fine')")
    runs.run_job(answered, redis=broker, host=HOST)
    runs.report_lost(broker, answered.run_id)
    assert [r["status"] for r in results(broker, answered.run_id)] == ["ok"]

    lost = script_job("print('lost')")
    runs.report_lost(broker, lost.run_id)
    [result] = results(broker, lost.run_id)
    assert result["status"] == "error" and result["message"] == runs.LOST
    assert 0 < broker.ttl(RESULT_KEY.format(run_id=lost.run_id)) <= RESULT_TTL


# Through a real grading host ------------------------------------------------------------------


def send_run(message: dict) -> None:
    celery_app.send_task(RUN_TASK, args=(message,), queue=INTERACTIVE_QUEUE)


def wait_for_result(broker: redis_lib.Redis, run_id: str, timeout: float = 60) -> dict:
    popped = broker.blpop([RESULT_KEY.format(run_id=run_id)], timeout=timeout)
    assert popped is not None, f"no result for run {run_id} within {timeout:g} s"
    return json.loads(popped[1])


@pytest.mark.celery
def test_a_grading_host_runs_a_script_sent_by_name_on_the_interactive_queue(
    start_grading_host, celery_broker
):
    broker = redis_lib.Redis.from_url(celery_broker.url)
    host = start_grading_host(concurrency=1)
    send_run({"run_id": "bad!", "kind": "script", "files": {"main.py": "print(1)"}})
    job = script_job(
        "import models\nprint(models.greet('reader'))\n",
        **{"models.py": "def greet(name):\n    return f'hello, {name}'\n"},
    )
    send_run(job.to_message())
    result = wait_for_result(broker, job.run_id)
    assert result["status"] == "ok"
    assert result["stdout"] == "hello, reader\n"
    assert result["exit_code"] == 0
    assert broker.llen(RESULT_KEY.format(run_id=job.run_id)) == 0  # one result, taken
    _wait_until(
        lambda: f"Run {job.run_id}: ok" in host.log(), timeout=10, what="the run's log line"
    )
    assert "Refused a run that cannot be run: bad run_id" in host.log()
    # The result goes out first; the container is removed right after.
    _wait_until(
        lambda: engine.sandbox_containers(**{engine.HOST_LABEL: host.host_id}) == [],
        timeout=10,
        what="the run's container to be removed",
    )


def finished_gradings(broker: redis_lib.Redis) -> int:
    """Return how many gradings a host has reported finished (messages waiting for the site)."""
    messages = [json.loads(m) for m in broker.lrange(RESULTS_QUEUE, 0, -1)]
    return sum(1 for m in messages if m["headers"]["task"] == FINISHED_TASK)


@pytest.mark.celery
def test_a_run_does_not_wait_behind_a_burst_of_gradings(
    start_grading_host, celery_broker, hello_spec
):
    celery_broker.flush()
    broker = redis_lib.Redis.from_url(celery_broker.url)
    start_grading_host(concurrency=1)
    archive = hello_archive("solution", "flask")
    for number in range(BURST):
        job_send(
            GradingJob(
                job_id=new_job_id(),
                submission=number + 1,
                exercise=hello_spec.slug,
                framework="flask",
                frameworks=tuple(hello_spec.frameworks),
                tests=hello_spec.tests,
                archive=archive,
            )
        )
    job = script_job("print('my turn')")
    send_run(job.to_message())
    result = wait_for_result(broker, job.run_id, timeout=120)
    assert result["stdout"] == "my turn\n"
    # The worker takes from its queues in turn: the run waited for the grading under way, and
    # at most one more, not for the burst.
    assert finished_gradings(broker) <= 2
    _wait_until(lambda: finished_gradings(broker) == BURST, timeout=BURST * 20, what="the burst")
