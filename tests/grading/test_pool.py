"""A grading host keeps a warm pool: its gradings run warm; it leaves no warm container behind."""

from __future__ import annotations

import json
import time

import pytest
import redis as redis_lib

from exercises import services
from grading import host as grading_host
from sandbox import engine, pool
from tests.celery_fixtures import _wait_until, hello_archive, wait_until_graded
from tests.grading.test_runs import script_job, send_run, wait_for_result

pytestmark = [pytest.mark.celery, pytest.mark.sandbox]


def warm_containers(host_id: str) -> list[dict]:
    return engine.sandbox_containers(**{engine.HOST_LABEL: host_id, pool.WARM_LABEL: "1"})


def wait_for_ready(host) -> None:
    """Wait until a host's pool lists a warm container as ready to be claimed."""
    ready = pool.folder_of(host.run_dir, host.host_id) / "ready"
    _wait_until(
        lambda: ready.is_dir() and any(ready.iterdir()), timeout=60, what="a warm container"
    )


def ready_and_running(host) -> list[str]:
    """Return the ids of a host's ready warm containers that Docker lists as running."""
    ready = pool.folder_of(host.run_dir, host.host_id) / "ready"
    listed = set()
    for path in ready.glob("*.json"):
        try:  # claimed or retired between the listing and the read
            listed.add(json.loads(path.read_text())["container_id"])
        except FileNotFoundError:
            continue
    running = {c["Id"] for c in warm_containers(host.host_id) if c["State"] == "running"}
    return sorted(listed & running)


def test_a_host_grades_warm_refills_and_removes_its_pool_at_shutdown_and_restart(
    start_celery_worker, start_grading_host, hello_exercise, learner
):
    start_celery_worker()
    host = start_grading_host(env={"SANDBOX_WARM_POOL_MAX": "2"})
    wait_for_ready(host)
    archive = hello_archive("solution", "flask")

    ids = [
        services.submission_create(
            learner=learner,
            exercise=hello_exercise,
            framework="flask",
            archive=archive,
            bucket=None,
        ).pk
        for _ in range(3)
    ]
    graded = wait_until_graded(ids, timeout=120, workers=[host])

    assert [s.verdict for s in graded] == ["passed"] * 3
    assert any(s.result["timings"].get("warm") for s in graded)
    # Refilled, to at most its maximum, from the main process. (The used containers may
    # still be listed for a moment, stopped, while they are removed: count the ready ones.)
    _wait_until(lambda: ready_and_running(host), timeout=60, what="the pool refilled")
    assert 1 <= len(ready_and_running(host)) <= 2

    # Killed, it leaves its pool; started again under the same id, it removes it first.
    host.kill()
    before = {c["Id"] for c in warm_containers(host.host_id)}
    assert before
    restarted = start_grading_host(
        host_id=host.host_id, run_dir=host.run_dir, env={"SANDBOX_WARM_POOL_MAX": "0"}
    )
    assert not before & {c["Id"] for c in warm_containers(host.host_id)}
    assert [p.name for p in host.run_dir.iterdir() if not p.name.startswith(".pool-")] == []

    # A clean stop of a host with a pool removes its warm containers.
    restarted.stop()
    pooled = start_grading_host(
        host_id=host.host_id, run_dir=host.run_dir, env={"SANDBOX_WARM_POOL_MAX": "1"}
    )
    _wait_until(lambda: warm_containers(host.host_id), timeout=60, what="a warm container")
    pooled.stop()
    deadline = time.monotonic() + 10
    while warm_containers(host.host_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert warm_containers(host.host_id) == []


def test_the_host_reads_its_pool_maximum_from_its_environment():
    settings = grading_host.HostSettings.from_environment({"SANDBOX_WARM_POOL_MAX": "3"})
    assert settings.warm_pool == 3
    assert grading_host.HostSettings.from_environment({"SANDBOX_WARM_POOL_MAX": "0"}).warm_pool == 0
    with pytest.raises(ValueError, match="SANDBOX_WARM_POOL_MAX"):
        grading_host.HostSettings.from_environment({"SANDBOX_WARM_POOL_MAX": "many"})


def test_a_host_runs_a_readers_script_in_a_warm_container(start_grading_host, celery_broker):
    broker = redis_lib.Redis.from_url(celery_broker.url)
    host = start_grading_host(concurrency=1, env={"SANDBOX_WARM_POOL_MAX": "1"})
    wait_for_ready(host)
    (waiting,) = warm_containers(host.host_id)

    job = script_job("import os\nprint('hi from', os.getcwd())\n")
    send_run(job.to_message())
    result = wait_for_result(broker, job.run_id)

    assert (result["status"], result["stdout"], result["exit_code"]) == (
        "ok",
        "hi from /scratch/run\n",
        0,
    )
    # That container ran it, and is removed after the result went out (nothing else removes
    # a warm container within its minute).
    _wait_until(
        lambda: waiting["Id"] not in {c["Id"] for c in warm_containers(host.host_id)},
        timeout=15,
        what="the used warm container to be removed",
    )
