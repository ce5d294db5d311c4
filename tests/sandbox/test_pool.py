"""The warm pool: warm containers grade as cold ones do, once each, within the pool's bounds."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import stat
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from sandbox import engine, pool, runner, snippets
from sandbox.archive import pack_files
from sandbox.container import boot
from sandbox.policy import DEFAULT_POLICY, MiB
from tests.sandbox.conftest import HELLO_DIR, SIMPLE_TESTS, flask_app, grade_files, leftovers

pytestmark = [pytest.mark.sandbox, pytest.mark.usefixtures("runner_image")]


@pytest.fixture
def warm_host(settings):
    """Give this test a host id and run folder of its own, and remove what it leaves there.

    Other test sessions may share the Docker engine (and the machine's name as host id): a
    host id of its own keeps their sweeps away from this test's pool, and this one's from theirs.
    """
    run_dir = tempfile.mkdtemp(prefix="wp-", dir="/tmp")  # short: socket paths
    settings.SANDBOX_RUN_DIR = run_dir
    settings.GRADING_HOST_ID = f"pool-test-{uuid.uuid4().hex[:8]}"
    yield settings.GRADING_HOST_ID
    runner.sweep_orphans(0, cgroup_age=3600)
    assert engine.sandbox_containers(**{engine.HOST_LABEL: settings.GRADING_HOST_ID}) == []
    left = [p for p in Path(run_dir).rglob("*") if not p.is_dir() and p.parent.name != "demand"]
    assert left == []  # no entry, no run
    shutil.rmtree(run_dir)


def summary(result):
    return (
        result["status"],
        result["score"],
        result["message"],
        [(t["name"], t["status"], t["message"]) for t in result["tests"]],
    )


def grade_hello(hello_spec, files, policy=None):
    return runner.run_submission(
        archive=pack_files(files),
        tests=hello_spec.tests,
        framework="flask",
        policy=policy or hello_spec.policy,
    )


# Verdicts ------------------------------------------------------------------------------------

BROKEN = {"app.py": "from flask import Flask\nraise RuntimeError('broken on purpose')\n"}
ENDLESS = {"app.py": "import time\nwhile True:\n    time.sleep(0.1)\n"}
# A module of the learner's own with the name of one Flask imports: a cold start imports it
# in the real one's place (and fails); a warm server, which imported the real one ahead, must too.
SHADOWING = {"jinja2.py": "raise ImportError('this jinja2 is a file of mine')\n"}


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("solution", "passed"),
        ("starter", "failed"),
        ("broken", "error"),
        ("endless", "timeout"),
        ("shadowing", "error"),
    ],
)
def test_a_warm_grading_gives_the_cold_verdict(warm_host, hello_spec, case, status):
    files = {
        "solution": lambda: hello_spec.solution("flask"),
        "starter": lambda: hello_spec.starter("flask"),
        "broken": lambda: BROKEN,
        "endless": lambda: ENDLESS,
        "shadowing": lambda: {**hello_spec.solution("flask"), **SHADOWING},
    }[case]()
    policy = dataclasses.replace(hello_spec.policy, boot_timeout=3.0)

    cold = grade_hello(hello_spec, files, policy)
    entry = pool.start_warm(policy=policy)
    warm = grade_hello(hello_spec, files, policy)

    assert "warm" not in cold["timings"]
    assert warm["timings"]["warm"] is True
    assert warm["status"] == status
    assert summary(warm) == summary(cold)
    assert warm["log"] == cold["log"]
    # Used once, then gone with its folder; the pool is empty again.
    assert engine.container_state(entry.container_id).exit_code is None  # removed
    assert not os.path.exists(entry.root)
    assert pool.ready_entries() == [] and pool.claimed_entries() == []


def test_a_file_with_the_name_of_a_module_the_framework_needs_is_named_warm_or_cold(
    warm_host, hello_spec
):
    # The classic: a file named after the framework itself.
    files = {**hello_spec.solution("flask"), "flask.py": "print('my own flask')\n"}
    cold = grade_hello(hello_spec, files)
    pool.start_warm(framework="flask")
    warm = grade_hello(hello_spec, files)
    shadowing = grade_hello(hello_spec, {**hello_spec.solution("flask"), **SHADOWING})

    assert warm["timings"]["warm"] is True
    for result in (cold, warm):
        assert result["status"] == "error"
        assert result["message"].endswith(
            "Your flask.py has the name of an installed module that is needed to run your app: "
            "importing flask found your file instead. Rename it, and the imports that use it."
        )
    assert summary(warm) == summary(cold)
    # One that breaks the import shows where, in the learner's own file.
    assert "Your jinja2.py has the name of an installed module" in shadowing["message"]
    assert 'File "jinja2.py", line 1' in shadowing["message"]
    assert "ImportError: this jinja2 is a file of mine" in shadowing["message"]


@pytest.mark.parametrize("framework", ["django", "fastapi"])
def test_a_warm_app_of_each_framework_is_graded_like_a_cold_one(warm_host, hello_spec, framework):
    files = hello_spec.solution(framework)

    def grade():
        return runner.run_submission(
            archive=pack_files(files), tests=hello_spec.tests, framework=framework
        )

    cold = grade()
    pool.start_warm(framework="flask")  # expects another framework: imports it after "go"
    pool.start_warm(framework=framework)
    warm = grade()
    (left,) = pool.ready_entries()

    assert warm["timings"]["warm"] is True
    assert warm["status"] == "passed"
    assert summary(warm) == summary(cold)
    assert left.framework == "flask"  # the one that had imported the framework was taken
    again = grade()
    assert again["timings"]["warm"] is True
    assert summary(again) == summary(cold)


def test_the_keeper_warms_the_framework_the_runs_ask_for(warm_host):
    keeper = pool.PoolKeeper(maximum=1, running=lambda: 0)
    keeper.step()
    assert pool.ready_entries()[0].framework == pool.DEFAULT_FRAMEWORK
    for framework in ("fastapi", "fastapi", "django"):
        pool.note_demand(framework)
    assert keeper.expected() == "fastapi"
    taken = pool.claim(policy=DEFAULT_POLICY, image=pool.ready_entries()[0].image)
    pool.discard(taken)
    pool.release(taken)
    keeper.step()
    assert pool.ready_entries()[0].framework == "fastapi"
    keeper.stop()


def test_a_run_of_another_policy_starts_cold_and_leaves_the_pool_alone(warm_host, hello_spec):
    entry = pool.start_warm()
    policy = dataclasses.replace(DEFAULT_POLICY, memory_bytes=128 * MiB)

    result = grade_hello(hello_spec, hello_spec.solution("flask"), policy)

    assert result["status"] == "passed"
    assert "warm" not in result["timings"]
    assert pool.ready_entries() == [entry]


# Isolation -------------------------------------------------------------------------------------

TRY_SOCKET_FOLDER = """
import os
try:
    open("/run/app/planted", "w").close()
    print("socket folder: CREATED")
except OSError as exc:
    print("socket folder: refused", type(exc).__name__)
"""


def test_the_socket_folder_is_sealed_before_any_learner_code_runs(warm_host):
    entry = pool.start_warm()
    sockets = runner.RunDirs(Path(entry.root)).sockets
    # Sealed before the server started importing anything, long before any learner's file.
    assert stat.S_IMODE(os.stat(sockets).st_mode) == 0o755
    assert sorted(os.listdir(sockets)) == ["app.sock", "control.sock"]

    graded = grade_files({"app.py": flask_app(top=TRY_SOCKET_FOLDER)}, tests=SIMPLE_TESTS)

    assert graded.result["timings"]["warm"] is True
    assert graded.result["status"] == "passed", graded.result
    assert "socket folder: refused PermissionError" in graded.result["log"]
    assert "CREATED" not in graded.result["log"]
    assert leftovers(graded) == []


def test_a_claimed_container_is_never_handed_out_twice(warm_host):
    pool.start_warm()
    claims: list = []
    barrier = threading.Barrier(4)

    image = pool.ready_entries()[0].image

    def take():
        barrier.wait()
        claims.append(pool.claim(policy=DEFAULT_POLICY, image=image))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    won = [c for c in claims if c is not None]
    assert len(won) == 1
    assert pool.claim(policy=DEFAULT_POLICY, image=image) is None
    entry = won[0]
    control = os.path.join(entry.root, "sockets", "control.sock")
    command = {"mode": "app", "framework": "flask", "deadline": 30}
    # boot.py takes "go" once: a second one is not answered, whoever sends it.
    assert say(control, "go " + json.dumps(command)) == b"ok\n"
    assert say(control, "go " + json.dumps(command)) == b""
    pool.discard(entry)
    pool.release(entry)


def say(path: str, line: str) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(2)
        connection.connect(path)
        connection.sendall(line.encode() + b"\n")
        try:
            return connection.recv(16)
        except TimeoutError:
            return b""


LEAVE_TRACES = """
import os
for folder in ("/tmp", "/scratch/app", "/scratch"):
    try:
        open(os.path.join(folder, "left-by-the-first-run"), "w").close()
    except OSError:
        pass
"""
LIST_FILES = """
@app.get("/files")
def files():
    import os
    found = []
    for folder in ("/tmp", "/scratch", "/scratch/app", "/submission"):
        found += [f"{folder}/{name}" for name in os.listdir(folder)]
    return jsonify(found)
"""
NO_TRACES_TESTS = {
    "test_app.py": """
from grader import expect


def test_no_file_of_another_run(client):
    \"\"\"GET /files lists nothing another run left.\"\"\"
    response = client.get("/files")
    expect(response, status=200)
    assert not [f for f in response.json() if "left-by-the-first-run" in f], response.json()
    assert "/submission/app.py" in response.json()
""",
}


def test_files_of_a_previous_run_never_appear(warm_host):
    pool.start_warm()
    pool.start_warm()

    first = grade_files({"app.py": flask_app(LIST_FILES, top=LEAVE_TRACES)}, tests=SIMPLE_TESTS)
    second = grade_files({"app.py": flask_app(LIST_FILES)}, tests=NO_TRACES_TESTS)

    assert first.result["timings"]["warm"] is True and second.result["timings"]["warm"] is True
    assert first.run.run_id != second.run.run_id
    assert second.result["status"] == "passed", second.result


# The pool's size and life ----------------------------------------------------------------------


def test_the_target_follows_the_peak_of_the_last_minute_within_bounds():
    running = [0]
    keeper = pool.PoolKeeper(maximum=3, running=lambda: running[0], window=60)
    assert keeper.target(now=0) == pool.MIN_SIZE
    running[0] = 1
    keeper.observe(now=1)
    assert keeper.target(now=1) == 2
    running[0] = 5
    keeper.observe(now=2)
    running[0] = 0
    keeper.observe(now=3)
    assert keeper.target(now=30) == 3  # the peak, bounded by the maximum
    assert keeper.target(now=63) == pool.MIN_SIZE  # the peak left the window
    assert pool.PoolKeeper(maximum=0, running=lambda: 9).target() == 0


def test_the_maximum_comes_from_the_environment():
    assert pool.max_size({"SANDBOX_WARM_POOL_MAX": "0"}) == 0
    assert pool.max_size({"SANDBOX_WARM_POOL_MAX": "3"}) == 3
    assert pool.max_size({}) == max(1, min(os.cpu_count() or 1, 4))
    with pytest.raises(ValueError, match="SANDBOX_WARM_POOL_MAX must be a whole number"):
        pool.max_size({"SANDBOX_WARM_POOL_MAX": "-1"})


def test_the_keeper_fills_the_pool_to_its_target_and_refills_after_a_claim(warm_host):
    running = [0]
    keeper = pool.PoolKeeper(maximum=2, running=lambda: running[0])

    assert keeper.step() is True  # idle: the minimum, one
    assert keeper.step() is False
    assert len(pool.ready_entries()) == 1

    running[0] = 4
    keeper.observe()
    assert keeper.step() is True
    assert keeper.step() is False  # bounded by the maximum, not the demand
    assert len(pool.ready_entries()) == 2

    taken = pool.claim(policy=DEFAULT_POLICY, image=pool.ready_entries()[0].image)
    assert keeper.step() is True
    assert len(pool.ready_entries()) == 2
    assert keeper.started == 3
    pool.discard(taken)
    pool.release(taken)

    keeper.stop()
    assert pool.ready_entries() == []
    assert engine.sandbox_containers(**{engine.HOST_LABEL: warm_host}) == []


def test_the_keeper_thread_fills_the_pool_by_itself(warm_host):
    keeper = pool.PoolKeeper(maximum=1, running=lambda: 0)
    keeper.start()
    try:
        deadline = time.monotonic() + 30
        while not pool.ready_entries() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pool.ready_entries()) == 1
    finally:
        keeper.stop()
    assert pool.ready_entries() == []


def test_a_container_that_waited_too_long_is_retired_and_replaced(warm_host):
    keeper = pool.PoolKeeper(maximum=1, running=lambda: 0, max_age=1.0)
    keeper.step()
    (old,) = pool.ready_entries()
    time.sleep(1.2)

    assert keeper.step() is True
    (new,) = pool.ready_entries()
    assert new.run_id != old.run_id
    assert keeper.retired == 1
    assert not engine.container_state(old.container_id).running
    assert not os.path.exists(old.root)
    keeper.stop()


def test_claim_leaves_a_container_past_its_age_to_the_keeper(warm_host, monkeypatch):
    entry = pool.start_warm()
    monkeypatch.setattr(pool, "MAX_AGE", 0.0)
    assert pool.claim(policy=DEFAULT_POLICY, image=entry.image) is None
    assert pool.ready_entries() == [entry]


def test_a_warm_container_ends_by_itself_when_no_host_retires_it(warm_host, monkeypatch):
    monkeypatch.setattr(pool, "CLAIM_MARGIN", 3.0)
    entry = pool.start_warm(max_age=1.0)  # it ends 4 s after its start
    deadline = time.monotonic() + 20
    while engine.container_state(entry.container_id).running and time.monotonic() < deadline:
        time.sleep(0.2)
    state = engine.container_state(entry.container_id)
    assert not state.running
    assert state.exit_code == 124  # boot.EXIT_DEADLINE


# Sweeping --------------------------------------------------------------------------------------


def test_the_sweep_leaves_ready_containers_alone_and_a_starting_host_removes_them(warm_host):
    first = pool.start_warm()
    second = pool.start_warm()
    time.sleep(0.6)
    claimed = pool.claim(policy=DEFAULT_POLICY, image=first.image)
    assert claimed == first  # the oldest first

    # Both are older than that, but one waits and the other's run has just begun.
    assert sweep(0.5) == 0
    for entry in (first, second):
        assert engine.container_state(entry.container_id).running
        assert os.path.exists(entry.root)

    # The host died and starts again: whatever its pool held is an orphan now.
    assert sweep(0) == 2
    assert pool.ready_entries() == [] and pool.claimed_entries() == []
    assert not os.path.exists(first.root) and not os.path.exists(second.root)


def sweep(max_age: float) -> int:
    return runner.sweep_orphans(max_age, cgroup_age=3600)


def test_the_sweep_removes_a_claimed_container_whose_run_is_long_over(warm_host):
    entry = pool.start_warm()
    pool.claim(policy=DEFAULT_POLICY, image=entry.image)
    time.sleep(0.6)

    assert sweep(0.5) == 1
    assert not engine.container_state(entry.container_id).running
    assert not os.path.exists(entry.root)
    assert pool.claimed_entries() == []  # its entry is forgotten too


# The cold path ---------------------------------------------------------------------------------


def test_with_the_pool_off_runs_start_cold_and_the_floor_probe_works(warm_host, hello_spec):
    keeper = pool.PoolKeeper(maximum=0, running=lambda: 0)
    keeper.start()
    assert keeper.step() is False
    assert pool.ready_entries() == []

    result = grade_hello(hello_spec, hello_spec.solution("flask"))
    seconds = runner.floor_probe(HELLO_DIR / "solution" / "flask", "flask")

    assert result["status"] == "passed"
    assert "warm" not in result["timings"]
    assert 0 < seconds < hello_spec.policy.boot_timeout
    keeper.stop()


# Scripts ---------------------------------------------------------------------------------------

SCRIPT_FILES = {
    "main.py": (
        "import os, sys\n"
        "from helper import greeting\n"
        "print(greeting(), sorted(os.listdir('.')))\n"
        "open('made-here.txt', 'w').write('x')\n"
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(3)\n"
    ),
    "helper.py": "def greeting():\n    return 'hello'\n",
}


def test_a_script_runs_in_a_warm_container_as_in_a_cold_one(warm_host):
    cold = snippets.run_script(SCRIPT_FILES, "main.py")
    entry = pool.start_warm()
    warm = snippets.run_script(SCRIPT_FILES, "main.py", launch=pool.launch_script)

    assert warm.stdout == cold.stdout == "hello ['helper.py', 'main.py']\n"
    assert warm.stderr == cold.stderr == "to stderr\n"
    assert warm.exit_code == cold.exit_code == 3
    assert not warm.timed_out
    assert not engine.container_state(entry.container_id).running  # used once, removed
    assert pool.ready_entries() == [] and pool.claimed_entries() == []
    # What the first run left in its scratch folder is not in the next one's.
    pool.start_warm()
    again = snippets.run_script(SCRIPT_FILES, "main.py", launch=pool.launch_script)
    assert again.stdout == "hello ['helper.py', 'main.py']\n"


def test_a_warm_script_stops_at_its_time_limit(warm_host):
    pool.start_warm()
    policy = dataclasses.replace(snippets.SCRIPT_POLICY, wall_timeout=1.0)
    started = time.monotonic()
    ran = snippets.run_script(
        {"main.py": "import time\nprint('start')\ntime.sleep(30)\n"},
        "main.py",
        policy=policy,
        launch=pool.launch_script,
    )
    assert ran.timed_out
    assert ran.stdout == "start\n"
    assert time.monotonic() - started < 1.0 + snippets.HOST_GRACE + 2


def test_a_script_without_a_warm_container_runs_cold(warm_host):
    ran = snippets.run_script({"main.py": "print(6 * 7)\n"}, "main.py", launch=pool.launch_script)
    assert (ran.stdout, ran.exit_code) == ("42\n", 0)


def test_boot_refuses_a_script_command_it_cannot_run_safely():
    assert boot.parse_command('{"mode": "script", "entry": "main.py", "time_limit": 5}')
    assert boot.parse_command('{"mode": "script", "entry": "lib/my-main.py", "time_limit": 5}')
    for bad in (
        '{"mode": "script", "entry": "../main.py", "time_limit": 5}',
        '{"mode": "script", "entry": "/etc/main.py", "time_limit": 5}',
        '{"mode": "script", "entry": "main.txt", "time_limit": 5}',
        '{"mode": "script", "entry": "-m.py", "time_limit": 5}',
        '{"mode": "script", "entry": "lib/-c.py", "time_limit": 5}',
        '{"mode": "script", "entry": "main.py"}',
        '{"mode": "script", "entry": "main.py", "time_limit": true}',
        '{"mode": "app", "framework": "rails"}',
        '{"mode": "shell"}',
        "go",
    ):
        assert boot.parse_command(bad) is None, bad
