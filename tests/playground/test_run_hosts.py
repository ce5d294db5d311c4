"""playground.runs with a real grading host: a run started for a reader comes back to them.

The site sends through the private Redis; a real grading host (a Celery worker of grading/,
with Docker) runs the block and leaves its result there."""

from __future__ import annotations

import time

import pytest

from playground.runs import RunResult, run_result, run_start
from tests.playground.conftest import APP, EXAMPLE, SCRIPT

pytestmark = [pytest.mark.sandbox, pytest.mark.celery, pytest.mark.django_db]


def wait_for(user, run_id: str, timeout: float = 60) -> RunResult:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = run_result(user=user, run_id=run_id)
        if result is not None:
            return result
        time.sleep(0.3)
    raise AssertionError(f"no result for run {run_id} after {timeout:g} s")


def start(user, lesson, block, **kwargs) -> str:
    return run_start(user=user, ip="10.0.0.1", lesson=lesson.id, block=block, **kwargs)


def test_scripts_apps_and_timeouts_come_back_to_their_reader(
    broker, learner, run_lesson, start_grading_host
):
    start_grading_host(concurrency=2)
    script = start(learner, run_lesson, SCRIPT)
    example = start(learner, run_lesson, EXAMPLE)
    failing = start(learner, run_lesson, SCRIPT, code="import sys\nsys.exit('no luck')\n")
    looping = start(learner, run_lesson, SCRIPT, code="while True:\n    pass\n")
    app = start(learner, run_lesson, APP)

    result = wait_for(learner, script)
    assert (result.status, result.exit_code, result.stdout) == ("ok", 0, "hello from the lesson\n")

    result = wait_for(learner, example)
    assert (result.exit_code, result.stdout) == (0, "Ada, Grace\n")  # names.py was beside it

    result = wait_for(learner, failing)
    assert (result.status, result.exit_code) == ("ok", 1)
    assert "no luck" in result.stderr

    result = wait_for(learner, looping)
    assert result.status == "timeout"
    assert result.timed_out

    result = wait_for(learner, app)
    assert result.status == "ok"
    hello, notes = result.exchanges
    assert (hello["request"]["path"], hello["response"]["status"]) == ("/hello/ada", 200)
    assert hello["response"]["body"]["text"] == "Hello, ada!"
    assert (notes["request"]["method"], notes["response"]["status"]) == ("POST", 201)
    assert notes["response"]["body"]["kind"] == "json"
    assert '"title": "Hi"' in notes["response"]["body"]["text"]
