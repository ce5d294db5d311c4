"""Live apps and app runs on a grading host, with a real broker, real containers, real hosts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib

from config.celery import app as celery_app
from grading import live
from grading.interactive import (
    INTERACTIVE_QUEUE,
    LIVE_KEY,
    LIVE_REPLY,
    LIVE_REQUESTS,
    LIVE_TASK,
    RESULT_KEY,
    RESULT_TTL,
    RUN_TIMEOUT,
    LiveJob,
    LiveRequest,
    RunJob,
    new_id,
)
from sandbox import engine
from sandbox.policy import DEFAULT_POLICY
from sandbox.runner import CONTAINER_GRACE
from tests.celery_fixtures import GradingHost, _wait_until

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]

HELLO = """
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello/<name>")
def hello(name):
    print(f"greeting {name}")
    return jsonify(greeting=f"Hello, {name}!")
"""
BROKEN = "from flask import Flask\n\napp = Flask(__name__)\nraise ValueError('oops')\n"
HOST = "live-test-host"


@pytest.fixture
def broker(redis_server) -> redis_lib.Redis:
    client = redis_lib.Redis.from_url(redis_server.url)
    client.flushall()
    return client


def state(redis, session: str) -> dict[str, str]:
    return {
        k.decode(): v.decode() for k, v in redis.hgetall(LIVE_KEY.format(session=session)).items()
    }


def wait_state(redis, session: str, *states: str, timeout: float = 60) -> dict[str, str]:
    _wait_until(
        lambda: state(redis, session).get("state") in states,
        timeout=timeout,
        what=f"live session {session} to be {' or '.join(states)}",
    )
    return state(redis, session)


def ask(redis, session: str, request: LiveRequest, timeout: int = 20) -> dict:
    redis.rpush(LIVE_REQUESTS.format(session=session), json.dumps(request.to_message()))
    reply = redis.blpop(
        [LIVE_REPLY.format(session=session, request_id=request.request_id)], timeout
    )
    assert reply is not None, "no reply"
    return json.loads(reply[1])


def stop(redis, session: str) -> None:
    redis.rpush(LIVE_REQUESTS.format(session=session), json.dumps({"stop": True}))


def get(path: str, **fields) -> LiveRequest:
    return LiveRequest(path=path, request_id=new_id(), **fields)


@pytest.fixture
def serve(broker) -> Iterator[Callable[..., tuple[LiveJob, threading.Thread, list[str]]]]:
    """Serve live jobs in threads of this process, as a live app's process would."""
    threads: list[tuple[LiveJob, threading.Thread]] = []

    def start(files=None, *, lifetime: float = 60, **options):
        job = LiveJob(
            session=new_id(), files=files or {"app.py": HELLO}, framework="flask", lifetime=lifetime
        )
        ended: list[str] = []
        thread = threading.Thread(
            target=lambda: ended.append(
                live.serve_live_app(job, redis=broker, host=HOST, **options)
            ),
            daemon=True,
        )
        thread.start()
        threads.append((job, thread))
        return job, thread, ended

    yield start
    for job, thread in threads:
        stop(broker, job.session)
        thread.join(timeout=30)
        assert not thread.is_alive()


def run_containers(run_id: str) -> list[dict]:
    return engine.sandbox_containers(**{engine.RUN_LABEL: run_id})


# A live app, served in this process ----------------------------------------------------------


def test_a_live_app_answers_requests_until_asked_to_stop(broker, serve):
    job, thread, ended = serve()
    running = wait_state(broker, job.session, "running", "failed")
    assert running["state"] == "running", running
    assert time.time() + 55 < float(running["expires"]) <= time.time() + 61
    ada = ask(broker, job.session, get("/hello/ada"))
    missing = ask(broker, job.session, get("/nowhere"))
    assert ada["response"]["status"] == 200
    assert json.loads(ada["response"]["body"]["text"]) == {"greeting": "Hello, ada!"}
    assert ada["output"] == "greeting ada"
    assert missing["response"]["status"] == 404 and missing["output"] == ""
    reply_key = LIVE_REPLY.format(session=job.session, request_id="x")
    assert broker.keys(reply_key.replace(":x", ":*")) == []  # each reply was taken
    assert run_containers(running["run"])

    stop(broker, job.session)
    thread.join(timeout=20)
    assert ended == ["stopped"]
    assert state(broker, job.session)["state"] == "stopped"
    assert run_containers(running["run"]) == []
    assert 0 < broker.ttl(LIVE_KEY.format(session=job.session)) <= 60 + live.STATE_TTL


def test_a_request_the_host_cannot_send_is_answered_with_the_reason(broker, serve):
    job, _thread, _ended = serve()
    wait_state(broker, job.session, "running")
    request_id = new_id()
    broker.rpush(
        LIVE_REQUESTS.format(session=job.session),
        json.dumps({"method": "BREW", "path": "/pot", "request_id": request_id}),
    )
    reply = broker.blpop([LIVE_REPLY.format(session=job.session, request_id=request_id)], 20)
    answer = json.loads(reply[1])
    assert answer["response"] is None
    assert answer["error"].startswith("the method must be one of GET")
    assert ask(broker, job.session, get("/hello/bo"))["response"]["status"] == 200


def test_a_live_app_stops_at_the_end_of_its_lifetime(broker, serve):
    job, thread, ended = serve(lifetime=2)
    running = wait_state(broker, job.session, "running")
    started = time.monotonic()
    thread.join(timeout=20)
    assert ended == ["stopped"]
    assert time.monotonic() - started < 2 + live.POLL_SECONDS + 5
    assert run_containers(running["run"]) == []


def test_an_app_that_ends_by_itself_ends_its_session_with_the_reason(broker, serve):
    ending = HELLO + (
        "\n\n@app.get('/end')\ndef end():\n    import os, signal\n"
        "    os.kill(1, signal.SIGALRM)  # boot.py's deadline, come early\n    return 'bye'\n"
    )
    job, thread, ended = serve({"app.py": ending})
    running = wait_state(broker, job.session, "running")
    ask(broker, job.session, get("/end"))
    thread.join(timeout=20)
    assert ended == ["failed"]
    assert state(broker, job.session)["message"] == "Your app's time was up, so it was stopped."
    assert run_containers(running["run"]) == []


def test_an_app_that_does_not_start_leaves_a_failed_state_with_the_reason(broker, serve):
    job, thread, ended = serve({"app.py": BROKEN})
    early = get("/hello/ada")  # sent while the app starts: answered with the reason
    broker.rpush(LIVE_REQUESTS.format(session=job.session), json.dumps(early.to_message()))
    thread.join(timeout=60)
    failed = state(broker, job.session)
    reply = broker.blpop([LIVE_REPLY.format(session=job.session, request_id=early.request_id)], 5)
    assert json.loads(reply[1])["error"] == failed["message"]
    assert broker.exists(LIVE_REQUESTS.format(session=job.session)) == 0
    assert ended == ["failed"]
    assert failed["state"] == "failed"
    assert failed["message"].startswith("Your app stopped while starting.")
    assert "ValueError: oops" in failed["message"]


def test_when_every_slot_is_taken_the_session_fails_at_once(broker, serve):
    held = [live.take_slot(HOST, 2), live.take_slot(HOST, 2)]
    assert all(held) and live.take_slot(HOST, 2) is None
    try:
        job, thread, ended = serve(slots=2)
        thread.join(timeout=10)
        assert ended == ["failed"]
        assert state(broker, job.session) == {
            "state": "failed",
            "message": "All live app slots are in use; try again in a few minutes.",
        }
        assert live.take_slot("another-host", 2) is not None  # slots are per host
    finally:
        for holder in held:
            holder.close()
    freed = live.take_slot(HOST, 2)
    assert freed is not None
    freed.close()


def test_a_slot_is_freed_when_its_process_is_killed():
    code = (
        "import sys, time\nfrom grading import live\n"
        f"held = live.take_slot({HOST!r}, 1)\nprint(held is not None, flush=True)\ntime.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=os.getcwd(), env=os.environ
    )
    try:
        assert holder.stdout.readline() == b"True\n"
        assert live.take_slot(HOST, 1) is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    slot = live.take_slot(HOST, 1)
    assert slot is not None
    slot.close()


def test_the_number_of_slots_comes_from_the_environment():
    assert live.slots_per_host({}) == 8
    assert live.slots_per_host({"LIVE_APPS_PER_HOST": "2"}) == 2
    with pytest.raises(ValueError, match="LIVE_APPS_PER_HOST"):
        live.slots_per_host({"LIVE_APPS_PER_HOST": "many"})


# App runs ------------------------------------------------------------------------------------


def test_an_app_run_sends_its_requests_in_order_and_pushes_one_result(broker):
    job = RunJob(
        run_id=new_id(),
        kind="app",
        files={"greet.py": HELLO},
        entry="greet.py",
        framework="flask",
        requests=(LiveRequest(path="/hello/ada"), LiveRequest(path="/hello/bo")),
    )
    returned = live.run_app_job(job, redis=broker, host=HOST)
    key = RESULT_KEY.format(run_id=job.run_id)
    assert broker.llen(key) == 1
    assert 0 < broker.ttl(key) <= RESULT_TTL
    result = json.loads(broker.lpop(key))
    assert result == returned
    assert result["status"] == "ok" and result["message"] == ""
    assert [e["request"]["path"] for e in result["exchanges"]] == ["/hello/ada", "/hello/bo"]
    assert [e["output"] for e in result["exchanges"]] == ["greeting ada", "greeting bo"]
    assert json.loads(result["exchanges"][1]["response"]["body"]["text"]) == {
        "greeting": "Hello, bo!"
    }
    assert result["duration_ms"] > 0


def test_an_app_run_that_does_not_start_is_an_error_with_the_reason(broker):
    job = RunJob(
        run_id=new_id(), kind="app", files={"app.py": BROKEN}, entry="app.py", framework="flask"
    )
    result = live.run_app_job(job, redis=broker, host=HOST)
    assert result["status"] == "error"
    assert "ValueError: oops" in result["message"]
    assert result["exchanges"] == []
    assert json.loads(broker.lpop(RESULT_KEY.format(run_id=job.run_id))) == result


def test_an_app_run_stops_at_its_time_limit(broker):
    slow = HELLO + "\n\n@app.get('/slow')\ndef slow():\n    import time\n    time.sleep(30)\n"
    job = RunJob(
        run_id=new_id(),
        kind="app",
        files={"app.py": slow},
        entry="app.py",
        framework="flask",
        requests=(LiveRequest(path="/slow"), LiveRequest(path="/hello/ada")),
    )
    started = time.monotonic()
    result = live.run_app_job(job, redis=broker, host=HOST)
    assert time.monotonic() - started < RUN_TIMEOUT + 5
    assert result["status"] == "timeout"
    assert result["message"] == f"The run was stopped at its time limit ({RUN_TIMEOUT:g} s)."
    (only,) = result["exchanges"]
    assert only["response"] is None and "no answer within" in only["error"]


# Through a real grading host -----------------------------------------------------------------


@pytest.fixture
def interactive_host(monkeypatch, start_grading_host) -> Callable[..., GradingHost]:
    """Start grading hosts that also consume the interactive queue."""
    monkeypatch.setattr(GradingHost, "queues", "grading,interactive")
    return start_grading_host


def send_live(job: LiveJob) -> None:
    celery_app.send_task(LIVE_TASK, args=(job.to_message(),), queue=INTERACTIVE_QUEUE)


def test_live_apps_hold_no_grading_slot_and_are_bounded_per_host(celery_broker, interactive_host):
    redis = redis_lib.Redis.from_url(celery_broker.url)
    host = interactive_host(concurrency=1, env={"LIVE_APPS_PER_HOST": "1"})
    first, second = (
        LiveJob(session=new_id(), files={"app.py": HELLO}, framework="flask", lifetime=60)
        for _ in range(2)
    )
    send_live(first)
    wait_state(redis, first.session, "running", "failed")
    assert state(redis, first.session)["host"] == host.host_id
    # The one pool process took the next task while the first app runs: it holds no slot.
    send_live(second)
    full = wait_state(redis, second.session, "failed", timeout=30)
    assert full["message"] == "All live app slots are in use; try again in a few minutes."
    assert ask(redis, first.session, get("/hello/ada"))["output"] == "greeting ada"
    # Sent again (a redelivery), a session is not started twice.
    send_live(first)
    celery_app.send_task(LIVE_TASK, args=({"session": "../etc"},), queue=INTERACTIVE_QUEUE)
    _wait_until(
        lambda: "Refused a live job" in host.log(), timeout=20, what="the bad job to be refused"
    )
    assert "already taken" in host.log()
    stop(redis, first.session)
    stopped = wait_state(redis, first.session, "stopped", timeout=30)
    assert run_containers(stopped["run"]) == []


def test_a_live_app_is_gone_after_its_time_even_when_its_host_is_killed(
    celery_broker, interactive_host
):
    redis = redis_lib.Redis.from_url(celery_broker.url)
    host = interactive_host()
    lifetime = 3
    job = LiveJob(session=new_id(), files={"app.py": HELLO}, framework="flask", lifetime=lifetime)
    send_live(job)
    running = wait_state(redis, job.session, "running", timeout=60)
    assert ask(redis, job.session, get("/hello/ada"))["response"]["status"] == 200
    (container,) = run_containers(running["run"])
    folder = host.run_dir / running["run"]
    assert folder.is_dir()

    host.kill()  # the worker, its pool and the live app's process: the whole group
    killed_at = time.monotonic()
    limit = DEFAULT_POLICY.boot_timeout + lifetime + CONTAINER_GRACE
    _wait_until(
        lambda: not engine.container_state(container["Id"]).running,
        timeout=limit + 10,
        what="the live app's container to end by itself",
    )
    assert time.monotonic() - killed_at <= limit + 5
    assert engine.container_state(container["Id"]).exit_code == 124  # boot.py's deadline
    assert state(redis, job.session)["state"] == "running"  # nobody was left to say otherwise
    assert folder.is_dir()

    interactive_host(run_dir=host.run_dir, host_id=host.host_id)
    assert run_containers(running["run"]) == []
    assert not folder.exists()


def test_the_host_routes_live_apps_to_the_interactive_queue_and_takes_them_at_once():
    from grading import worker

    assert worker.app.amqp.router.route({}, LIVE_TASK)["queue"].name == INTERACTIVE_QUEUE
    assert worker.app.tasks[LIVE_TASK].acks_late is False
