"""A grading host grades a job once and tells the site how it went, in as few messages as it may."""

from __future__ import annotations

import threading
import time

import pytest

from grading import host as grading_host
from grading.jobs import FINISHED_TASK, LOST_TASK, STARTED_TASK, GradingJob
from sandbox import engine
from sandbox.archive import pack_files


class FakeRedis:
    """The two claim commands a host sends, on a dict."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def set(self, key, value, *, nx=False, ex=None):
        if nx and key in self.keys:
            return None
        self.keys[key] = value
        return True

    def delete(self, key):
        self.keys.pop(key, None)


@pytest.fixture
def job() -> GradingJob:
    return GradingJob(
        job_id="job1",
        submission=7,
        framework="flask",
        frameworks=("flask",),
        tests={"test_home.py": "def test_home(): pass\n"},
        archive=pack_files({"app.py": "app = None\n"}),
        exercise="hello",
    )


@pytest.fixture
def grading(monkeypatch):
    """Fake the engine: a grading that reaches its phases and takes `testing` seconds to test."""
    pings: list[float] = []
    monkeypatch.setattr(engine, "ping", lambda **options: pings.append(options))
    timing = {"testing": 0.0, "fails": None}

    def grade(*, spec, archive, framework, on_phase, queued_at):
        on_phase("booting")
        on_phase("testing")
        time.sleep(timing["testing"])
        if timing["fails"] is not None:
            raise timing["fails"]
        return {"status": "passed", "message": ""}

    monkeypatch.setattr(grading_host.runner, "grade", grade)
    timing["pings"] = pings
    return timing


def run(job: GradingJob, redis=None) -> list[tuple[str, str]]:
    """Grade `job`; return the task and the phase, status or reason of each message sent.

    Waits past PHASE_REPORT_DELAY first, so that a report still due would be in the list.
    """
    sent: list[tuple[str, tuple]] = []
    lock = threading.Lock()

    def send(name: str, args: tuple) -> None:
        with lock:
            sent.append((name, args))

    try:
        grading_host.grade_job(job, host="grader-a", redis=redis or FakeRedis(), send=send)
    except (RuntimeError, engine.EngineUnavailable) as exc:
        sent.append(("raised", ("job1", 7, "grader-a", type(exc).__name__)))
    time.sleep(grading_host.PHASE_REPORT_DELAY + 0.2)
    assert all(args[:3] == ("job1", 7, "grader-a") for _, args in sent)
    return [(name, args[3]["status"] if name == FINISHED_TASK else args[3]) for name, args in sent]


def test_a_grading_whose_tests_end_soon_sends_its_start_and_its_result_only(job, grading):
    assert run(job) == [(STARTED_TASK, "booting"), (FINISHED_TASK, "passed")]


def test_tests_that_run_longer_are_reported_as_testing_while_they_run(job, grading):
    grading["testing"] = grading_host.PHASE_REPORT_DELAY + 0.3

    assert run(job) == [
        (STARTED_TASK, "booting"),
        (STARTED_TASK, "testing"),
        (FINISHED_TASK, "passed"),
    ]


def test_a_phase_report_still_due_is_dropped_when_the_grader_fails(job, grading):
    grading["fails"] = RuntimeError("the grader broke")

    assert run(job) == [
        (STARTED_TASK, "booting"),
        (LOST_TASK, "grader"),
        ("raised", "RuntimeError"),
    ]


def test_a_job_lost_to_the_engine_gives_its_claim_back(job, grading):
    grading["fails"] = engine.EngineUnavailable("gone")
    redis = FakeRedis()

    assert run(job, redis) == [
        (STARTED_TASK, "booting"),
        (LOST_TASK, "engine"),
        ("raised", "EngineUnavailable"),
    ]
    assert redis.keys == {}  # the host's retry may claim it again


def test_a_job_is_graded_once_per_claim(job, grading):
    redis = FakeRedis()

    assert run(job, redis) == [(STARTED_TASK, "booting"), (FINISHED_TASK, "passed")]
    assert run(job, redis) == []


def test_the_engine_check_before_a_job_may_lean_on_a_call_it_just_answered(job, grading):
    run(job)

    assert grading["pings"] == [{"unless_answered_within": grading_host.ENGINE_CHECK_SKIP_SECONDS}]
