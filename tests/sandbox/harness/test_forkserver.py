"""The harness's fork server: one per process, replaced when it dies, gone with its owner."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sandbox import runner
from sandbox.harness import forkserver
from sandbox.policy import DEFAULT_POLICY

PASSING = "def test_a():\n    pass\n"


@pytest.fixture
def short_tmp():
    """A folder short enough for Unix socket paths below it (pytest's tmp_path is deep)."""
    folder = Path(tempfile.mkdtemp(prefix="wc-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_tests(base: Path, source: str) -> tuple[dict | None, int]:
    """Run one test file through a Harness; return its report and the harness's pid."""
    dirs = runner.RunDirs.create(base, runner.new_run_id())
    try:
        dirs.write_tests({"test_app.py": source})
        harness = runner.Harness(dirs, DEFAULT_POLICY)
        try:
            harness.go()
            assert harness.wait(60), harness.log_tail()
            return harness.report(), harness.pid
        finally:
            harness.kill()
    finally:
        dirs.remove()


def gone(pid: int, within: float = 30.0) -> bool:
    """Return whether process `pid` ends (or is a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def child_of(pid: int) -> str:
    """Return a test file whose one test passes when run by a child of process `pid`."""
    return f"import os\n\ndef test_parent():\n    assert os.getppid() == {pid}\n"


def test_harnesses_are_children_of_one_server_per_process(short_tmp):
    run_tests(short_tmp, PASSING)
    server = forkserver.current_server()
    assert server is not None and server.alive()
    report, _ = run_tests(short_tmp, child_of(server.process.pid))
    assert report["tests"][0]["status"] == "passed"
    assert forkserver.current_server() is server


def test_the_server_runs_with_the_harness_environment_and_its_own_home(short_tmp, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not for the tests")
    forkserver.stop_server()
    run_tests(short_tmp, PASSING)
    server = forkserver.current_server()
    with open(f"/proc/{server.process.pid}/environ", "rb") as environ:
        names = sorted(entry.split(b"=")[0].decode() for entry in environ.read().split(b"\0"))
    assert [name for name in names if name] == [
        "HOME", "LANG", "PATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",
    ]  # fmt: skip
    assert parent_of(server.process.pid) == os.getpid()


def test_a_dead_server_is_replaced_without_the_run_noticing(short_tmp, caplog):
    run_tests(short_tmp, PASSING)
    dead = forkserver.current_server()
    os.kill(dead.process.pid, signal.SIGKILL)
    dead.process.wait()
    report, _ = run_tests(short_tmp, PASSING)
    server = forkserver.current_server()
    assert report["state"] == "done"
    assert server is not dead and server.alive()
    assert not os.path.exists(dead.folder)
    assert "fresh interpreter" not in caplog.text  # no fallback: the new server ran it
    report, _ = run_tests(short_tmp, child_of(server.process.pid))
    assert report["tests"][0]["status"] == "passed"


def test_a_bad_request_gets_an_error_and_the_server_goes_on(short_tmp):
    run_tests(short_tmp, PASSING)
    server = forkserver.current_server()
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as connection:
        connection.connect(server.address)
        socket.send_fds(connection, [b"{}"], [0])
        reply = json.loads(connection.recv(forkserver.MAX_MESSAGE))
    assert reply == {"error": "ValueError: expected two file descriptors"}
    report, _ = run_tests(short_tmp, PASSING)
    assert report["state"] == "done"
    assert forkserver.current_server() is server


def test_a_server_is_not_shared_with_a_forked_child(short_tmp):
    run_tests(short_tmp, PASSING)
    parent_server = forkserver.current_server().process.pid
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(read_end)
            if forkserver.current_server() is None:
                run_tests(short_tmp, PASSING)
                mine = forkserver.current_server().process.pid
                report, _ = run_tests(short_tmp, child_of(mine))
                os.write(write_end, f"{mine} {report['tests'][0]['status']}".encode())
                forkserver.stop_server()
                code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        words = answer.read().split()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert int(words[0]) != parent_server
    assert words[1] == "passed"  # its harness was the child of its own server


def test_the_server_ends_when_the_process_that_started_it_dies(short_tmp):
    script = (
        "import os, sys\n"
        "from sandbox.harness import forkserver\n"
        "go, feed = os.pipe()\n"
        "wait, done = os.pipe()\n"
        "env = {'PATH': os.environ['PATH'], 'PYTHONPATH': sys.argv[1], 'HOME': sys.argv[2]}\n"
        "forkserver.spawn(argv=['--help'], cwd=sys.argv[2], log=os.devnull, environment=env,\n"
        "                 server_cwd=sys.argv[1], go=go, done=done)\n"
        "print(forkserver.current_server().process.pid, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    project = str(runner.PROJECT_DIR)
    died = subprocess.run(
        [sys.executable, "-c", script, project, str(short_tmp)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": project},
        timeout=60,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert gone(int(died.stdout))


def test_stopping_the_server_leaves_no_process_or_folder(short_tmp):
    run_tests(short_tmp, PASSING)
    server = forkserver.current_server()
    forkserver.stop_server()
    assert forkserver.current_server() is None
    assert server.process.returncode == 0
    assert not os.path.exists(server.folder)
    report, _ = run_tests(short_tmp, PASSING)  # and the next run starts a new one
    assert report["state"] == "done"
