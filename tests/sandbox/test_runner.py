"""The grading run's parts: output, run folders, the watchdog, the harness, outcomes, sweeping."""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox import engine, runner
from sandbox.exchanges import exchange, exchange_from_data
from sandbox.harness import cgroup as cgroups
from sandbox.harness import forkserver
from sandbox.policy import DEFAULT_POLICY, MiB
from sandbox.results import TestOutcome
from tests.sandbox.conftest import HELLO_DIR, SIMPLE_TESTS, flask_app, grade_files, leftovers

READY = b"\n@@webcourse:ready\n"


def capture(limit: int = 1000) -> tuple[runner.OutputCapture, queue.Queue]:
    events: queue.Queue = queue.Queue()
    return runner.OutputCapture(iter(()), limit, events), events


def drain(events: queue.Queue) -> list[str]:
    found = []
    while not events.empty():
        found.append(events.get_nowait()[0])
    return found


# Output capture ----------------------------------------------------------------------------


def test_short_output_is_kept_whole_without_markers_and_with_short_paths():
    output, events = capture()
    output.feed(b"starting\n")
    output.feed(READY)
    output.feed(b'  File "/scratch/app/app.py", line 3\n')
    assert output.text() == 'starting\n  File "app.py", line 3'
    assert drain(events) == ["ready"]


def test_long_output_keeps_head_and_tail_and_says_how_much_was_cut():
    output, _ = capture(limit=100)
    output.feed(b"H" * 60)
    for _ in range(10):
        output.feed(b"m" * 100)
    output.feed(b"T" * 50)
    text = output.text()
    assert text.startswith("H" * 50 + "\n\n[output truncated: 1010 bytes not shown]\n\n")
    assert text.endswith("m" * 0 + "T" * 50)
    assert output.total == 1110


def test_a_marker_split_across_chunks_is_found():
    output, events = capture()
    output.feed(b"booting\n@@webco")
    output.feed(b"urse:rea")
    output.feed(b"dy\nnext\n")
    assert drain(events) == ["ready"]
    assert output.text() == "booting\nnext"


def test_a_marker_in_the_cut_middle_is_still_found():
    output, events = capture(limit=100)
    output.feed(b"x" * 500)
    output.feed(b'\n@@webcourse:fail {"kind": "layout", "message": "app.py not found"}\n')
    output.feed(b"y" * 500)
    assert output.failure == {"kind": "layout", "message": "app.py not found"}
    assert drain(events) == []


def test_marker_text_in_the_middle_of_a_line_is_not_a_marker():
    output, events = capture()
    output.feed(b"print('@@webcourse:ready')\n")
    assert drain(events) == []
    assert "@@webcourse:ready" in output.text()


def test_the_end_of_the_stream_is_reported():
    events: queue.Queue = queue.Queue()
    output = runner.OutputCapture(iter([b"a\n", READY, b"b\n"]), 1000, events)
    output.start()
    output.join(timeout=5)
    assert drain(events) == ["ready", "ended"]
    assert output.ended.is_set()
    assert output.tail_lines(1) == "b"


# Run folders and the watchdog ----------------------------------------------------------------


@pytest.fixture
def short_tmp():
    """A folder short enough for Unix socket paths below it (pytest's tmp_path is deep)."""
    folder = Path(tempfile.mkdtemp(prefix="wc-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def run_dirs(short_tmp):
    dirs = runner.RunDirs.create(short_tmp, runner.new_run_id())
    yield dirs
    dirs.remove()


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_run_folders_let_the_container_read_the_files_and_write_only_the_socket(run_dirs):
    assert mode(run_dirs.submission) == 0o755
    assert mode(run_dirs.sockets) == 0o777
    assert mode(run_dirs.root) == 0o711
    run_dirs.seal_sockets()
    assert mode(run_dirs.sockets) == 0o755


def test_only_a_real_socket_counts_as_the_apps_socket(run_dirs):
    assert not run_dirs.socket_is_real()
    run_dirs.socket.symlink_to("/var/run/docker.sock")
    assert not run_dirs.socket_is_real()
    run_dirs.socket.unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(run_dirs.socket))
        assert run_dirs.socket_is_real()


def test_test_files_are_written_below_the_tests_folder_only(run_dirs):
    run_dirs.write_tests({"test_a.py": "x = 1", "helpers/data.json": "{}"})
    assert (run_dirs.tests / "helpers" / "data.json").read_text() == "{}"
    with pytest.raises(ValueError, match="unsafe"):
        run_dirs.write_tests({"../escape.py": "x"})


def test_test_files_are_readable_by_all_whatever_the_umask(run_dirs):
    old_umask = os.umask(0o077)
    try:
        run_dirs.write_tests({"test_a.py": "x = 1", "helpers/deep/data.json": "{}"})
    finally:
        os.umask(old_umask)
    assert mode(run_dirs.tests / "test_a.py") == 0o644
    assert mode(run_dirs.tests / "helpers") == 0o755
    assert mode(run_dirs.tests / "helpers" / "deep") == 0o755
    assert mode(run_dirs.tests / "helpers" / "deep" / "data.json") == 0o644


def test_removing_run_folders_copes_with_locked_subfolders(short_tmp):
    dirs = runner.RunDirs.create(short_tmp, "locked")
    locked = dirs.sockets / "deep" / "deeper"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    locked.chmod(0o000)
    dirs.sockets.chmod(0o555)
    dirs.remove()
    assert not dirs.root.exists()


def test_a_too_long_run_folder_path_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="too long a path"):
        runner.RunDirs.create(tmp_path / ("x" * 80), runner.new_run_id())


def bound_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return server


def test_the_socket_folder_may_hold_the_two_sockets_and_nothing_else(short_tmp):
    with bound_socket(short_tmp / "app.sock"), bound_socket(short_tmp / "control.sock"):
        assert runner.socket_folder_problem(short_tmp) is None
        (short_tmp / "notes.txt").write_bytes(b"")
        assert "'notes.txt'" in runner.socket_folder_problem(short_tmp)


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: (folder / "app.sock").write_bytes(b"x"),  # a file posing as the socket
        lambda folder: (folder / "app.sock").symlink_to("/var/run/docker.sock"),
        lambda folder: os.mkfifo(folder / "control.sock"),
        lambda folder: (folder / "sub").mkdir(),
    ],
    ids=["file", "symlink", "fifo", "folder"],
)
def test_anything_but_a_socket_is_a_problem(short_tmp, make):
    make(short_tmp)
    assert runner.socket_folder_problem(short_tmp) is not None


def test_a_folder_that_cannot_be_read_is_a_problem(short_tmp):
    assert "could not be read" in runner.socket_folder_problem(short_tmp / "gone")


def test_the_watchdog_trips_once_and_says_why(short_tmp):
    tripped = []
    watch = runner.SharedDirWatch(short_tmp, lambda: tripped.append(True))
    with bound_socket(short_tmp / "app.sock"):
        assert watch.check() is False
        (short_tmp / "fill").write_bytes(b"x")
        assert watch.check() is True
        assert watch.check() is True
    assert tripped == [True]
    assert "'fill'" in watch.problem


def test_the_socket_folder_is_a_small_tmpfs_where_the_worker_may_mount(run_dirs):
    if os.geteuid() != 0:
        assert run_dirs.mount_sockets_tmpfs(64 * 1024) is False
        return
    assert run_dirs.mount_sockets_tmpfs(64 * 1024) is True
    assert os.path.ismount(run_dirs.sockets)
    options = next(
        line.split()[3]
        for line in Path("/proc/self/mounts").read_text().splitlines()
        if line.split()[1] == str(run_dirs.sockets)
    )
    assert {"nosuid", "nodev", "noexec", "size=64k", "nr_inodes=8"} <= set(options.split(","))
    with pytest.raises(OSError):  # 64 KiB is all it holds
        (run_dirs.sockets / "fill").write_bytes(b"x" * 200_000)
    run_dirs.remove()
    assert not run_dirs.root.exists()


# Outcomes ------------------------------------------------------------------------------------


def test_outcomes_hide_hidden_tests_and_account_for_unfinished_ones():
    report = {
        "tests": [
            {
                "id": "a",
                "name": "A",
                "hidden": False,
                "points": 2,
                "status": "passed",
                "message": "",
            },
            {
                "id": "b",
                "name": "B",
                "hidden": True,
                "points": 1,
                "status": "failed",
                "message": "secret",
            },
            {
                "id": "c",
                "name": "C",
                "hidden": False,
                "points": 1,
                "status": "running",
                "message": "",
            },
            {
                "id": "d",
                "name": "D",
                "hidden": True,
                "points": 3,
                "status": "pending",
                "message": "",
            },
        ]
    }
    assert runner.outcomes(report, unfinished="too slow", not_run="not run") == [
        TestOutcome("A", "passed", 2, 2, ""),
        TestOutcome("Hidden test 1", "failed", 0, 1, "", hidden=True),
        TestOutcome("C", "error", 0, 1, "too slow"),
        TestOutcome("Hidden test 2", "skipped", 0, 3, "", hidden=True),
    ]


def test_outcomes_keep_a_shared_cause_and_the_hint_of_a_failed_test():
    cause = "POST /notes answered 501"
    report = {
        "tests": [
            {"id": "a", "name": "A", "hidden": False, "points": 2, "status": "failed",
             "message": "Could not create a note.", "cause": cause, "hint": ""},
            {"id": "b", "name": "B", "hidden": True, "points": 1, "status": "failed",
             "message": "secret", "cause": cause, "hint": "ids keep growing"},
            {"id": "c", "name": "C", "hidden": True, "points": 1, "status": "failed",
             "message": "secret", "cause": "", "hint": "names with accents"},
            {"id": "d", "name": "D", "hidden": False, "points": 1, "status": "running",
             "message": "", "cause": cause, "hint": "a slow answer"},
        ]
    }  # fmt: skip
    assert runner.outcomes(report, unfinished="too slow") == [
        TestOutcome("A", "failed", 0, 2, "Could not create a note.", cause=cause),
        TestOutcome("Hidden test 1", "failed", 0, 1, "", hidden=True, cause=cause),
        TestOutcome("Hidden test 2", "failed", 0, 1, "", hidden=True, hint="names with accents"),
        TestOutcome("D", "error", 0, 1, "too slow", hint="a slow answer"),
    ]


def test_outcomes_carry_a_visible_test_s_exchanges_and_never_a_hidden_one_s():
    sent = exchange(method="GET", path="/hello/ada", status=404, reason="NOT FOUND")
    secret = exchange(method="GET", path="/admin-secret", status=200)
    report = {
        "tests": [
            {"id": "a", "name": "A", "hidden": False, "points": 2, "status": "failed",
             "message": "expected 200", "exchanges": [sent], "more_exchanges": 4},
            {"id": "b", "name": "B", "hidden": True, "points": 1, "status": "failed",
             "message": "secret", "exchanges": [secret], "more_exchanges": 9},
            {"id": "c", "name": "C", "hidden": False, "points": 1, "status": "passed"},
        ]
    }  # fmt: skip
    visible, hidden, older = runner.outcomes(report)
    assert (visible.exchanges, visible.more_exchanges) == ([exchange_from_data(sent)], 4)
    assert (hidden.exchanges, hidden.more_exchanges) == ([], 0)
    assert (older.exchanges, older.more_exchanges) == ([], 0)


def test_outcomes_of_no_report_are_empty():
    assert runner.outcomes(None) == []


# The harness process -------------------------------------------------------------------------


def run_harness(short_tmp: Path, tests: dict[str, str]) -> dict:
    """Run the tests through a Harness (no app needed); return its report."""
    dirs = runner.RunDirs.create(short_tmp, runner.new_run_id())
    dirs.write_tests(tests)
    harness = runner.Harness(dirs, DEFAULT_POLICY)
    try:
        harness.go()
        assert harness.wait(60), harness.log_tail()
        report = harness.report()
    finally:
        harness.kill()
    assert report is not None, harness.log_tail()
    return report


def statuses(report: dict) -> dict[str, str]:
    return {test["id"].rpartition("::")[2]: test["status"] for test in report["tests"]}


PROCESS_TESTS = """
import os
import sys

from grader import expect


def test_a_clean_environment():
    names = sorted(set(os.environ) - {"PYTEST_CURRENT_TEST", "PYTEST_VERSION"})  # pytest's own
    assert names == [
        "HOME", "LANG", "PATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",
    ]


def test_its_own_session():
    assert os.getsid(0) == os.getpid()


def test_the_run_folder_is_the_working_folder_and_home():
    assert os.getcwd() == os.environ["HOME"]
    assert os.getcwd() in sys.path  # as with ``python -m``


def test_no_bytecode_is_written():
    assert sys.dont_write_bytecode


def test_forked_from_the_fork_server():
    assert os.getppid() != WORKER_PID


def test_its_output_goes_to_the_log():
    print("said by a test")
    assert 1 == 2
"""


def process_tests() -> dict[str, str]:
    return {"test_process.py": PROCESS_TESTS.replace("WORKER_PID", str(os.getpid()))}


def test_the_harness_is_forked_with_a_clean_environment_in_its_own_session(short_tmp, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not for the tests")
    report = run_harness(short_tmp, process_tests())
    assert report["state"] == "done"
    assert statuses(report) == {
        "test_a_clean_environment": "passed",
        "test_its_own_session": "passed",
        "test_the_run_folder_is_the_working_folder_and_home": "passed",
        "test_no_bytecode_is_written": "passed",
        "test_forked_from_the_fork_server": "passed",
        "test_its_output_goes_to_the_log": "failed",
    }


def test_the_harness_log_holds_what_the_tests_print(run_dirs):
    failing = "def test_a():\n    print('said by a test')\n    assert 0\n"
    run_dirs.write_tests({"test_app.py": failing})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    try:
        harness.go()
        assert harness.wait(60)
        # pytest prints its summary after the report is final: give it time to.
        deadline = time.monotonic() + 60
        while "said by a test" not in harness.log_tail() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "said by a test" in harness.log_tail()
    finally:
        harness.kill()


def test_a_test_module_of_one_run_does_not_leak_into_the_next(short_tmp):
    first = run_harness(short_tmp, {"test_app.py": "def test_first():\n    pass\n"})
    second = run_harness(short_tmp, {"test_app.py": "def test_second():\n    assert 0\n"})
    assert statuses(first) == {"test_first": "passed"}
    assert statuses(second) == {"test_second": "failed"}


def test_harnesses_started_from_several_threads_each_run_their_own_tests(short_tmp):
    def run(n: int) -> dict[str, str]:
        test = f"def test_{n}():\n    assert {n} % 2 == 0\n"
        return statuses(run_harness(short_tmp, {"test_app.py": test}))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(8)))
    assert results == [{f"test_{n}": "failed" if n % 2 else "passed"} for n in range(8)]


def refuse(**request):
    raise forkserver.ForkServerError("no fork server")


def test_without_a_fork_server_the_harness_runs_in_a_fresh_interpreter(short_tmp, monkeypatch):
    monkeypatch.setattr(forkserver, "spawn", refuse)
    report = run_harness(short_tmp, process_tests())
    assert statuses(report) == {
        "test_a_clean_environment": "passed",
        "test_its_own_session": "passed",
        "test_the_run_folder_is_the_working_folder_and_home": "passed",
        "test_no_bytecode_is_written": "passed",
        "test_forked_from_the_fork_server": "failed",
        "test_its_output_goes_to_the_log": "failed",
    }


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "fresh interpreter"])
def test_a_killed_harness_and_all_it_started_are_gone(run_dirs, monkeypatch, forked):
    if not forked:
        monkeypatch.setattr(forkserver, "spawn", refuse)
    pid_file = run_dirs.root / runner.Harness.FOLDER / "child.pid"  # where the harness may write
    run_dirs.write_tests(
        {
            "test_app.py": (
                "import subprocess, sys\n\n"
                "def test_a():\n"
                "    sleep = 'import time; time.sleep(600)'\n"
                "    child = subprocess.Popen([sys.executable, '-c', sleep])\n"
                f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
                "    child.wait()\n"
            )
        }
    )
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    harness.go()
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, harness.log_tail()
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert harness.wait(0.1) is False
    harness.kill()
    assert harness.wait(0) is True
    for pid in (harness.pid, grandchild):
        assert not running(pid)
    harness.kill()  # again: nothing left to do


def test_a_harness_killed_at_once_ends(run_dirs):
    run_dirs.write_tests({"test_app.py": "def test_a():\n    pass\n"})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    harness.kill()
    assert not running(harness.pid)
    assert harness.wait(1) is True


def running(pid: int, within: float = 30.0) -> bool:
    """Return whether process `pid` still runs (not a zombie) after up to `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] in "ZX":
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


# Against the real engine ---------------------------------------------------------------------


@pytest.mark.sandbox
def test_broken_exercise_tests_are_reported_as_the_exercises_fault(runner_image, caplog):
    tests = {"test_app.py": "def test_x(client):\n    assert client.get('/'\n"}
    graded = grade_files({"app.py": flask_app()}, tests=tests)
    assert graded.result["status"] == "error"
    assert "problem with the exercise, not your code" in graded.result["message"]
    assert "test_app.py" not in graded.result["message"]  # hidden tests stay hidden
    assert "could not be loaded" in caplog.text
    assert leftovers(graded) == []


@pytest.mark.sandbox
def test_an_unknown_marker_in_the_tests_is_an_exercise_error(runner_image):
    tests = {
        "test_app.py": "import pytest\n\n@pytest.mark.pionts(2)\ndef test_x(client):\n    pass\n"
    }
    graded = grade_files({"app.py": flask_app()}, tests=tests)
    assert graded.result["status"] == "error"
    assert "problem with the exercise" in graded.result["message"]


@pytest.mark.sandbox
def test_the_harness_output_stays_out_of_the_result(runner_image):
    tests = {
        "test_app.py": (
            "def test_x(client):\n"
            "    print('from the test')\n"
            "    assert client.get('/').text == 'ok'\n"
        )
    }
    graded = grade_files({"app.py": flask_app()}, tests=tests)
    assert graded.result["status"] == "passed"
    assert "from the test" not in json.dumps(graded.result)


@pytest.mark.sandbox
def test_sweep_removes_orphan_containers_and_run_folders(runner_image, settings, tmp_path):
    settings.SANDBOX_RUN_DIR = tmp_path
    old_dir = tmp_path / "old-run"
    old_dir.mkdir()
    (old_dir / "sockets").mkdir()
    os.utime(old_dir, (time.time() - 7200, time.time() - 7200))
    fresh_dir = tmp_path / "fresh-run"
    fresh_dir.mkdir()
    run_id = uuid.uuid4().hex
    orphan = engine.start_app_container(
        image=runner_image,
        policy=DEFAULT_POLICY,
        command=["sleep", "60"],
        mounts=[],
        labels={engine.RUN_LABEL: run_id, engine.CREATED_LABEL: f"{time.time() - 7200:.3f}"},
        environment={},
        name=f"webcourse-run-{run_id}",
    )
    try:
        assert runner.sweep_orphans(max_age=3600) >= 1
        assert engine.sandbox_containers(**{engine.RUN_LABEL: run_id}) == []
        assert not old_dir.exists()
        assert fresh_dir.exists()
    finally:
        engine.remove(orphan.id)


@pytest.fixture
def short_run_dir(settings, short_tmp):
    settings.SANDBOX_RUN_DIR = short_tmp
    return short_tmp


@pytest.mark.sandbox
@pytest.mark.parametrize("framework", ["flask", "django", "fastapi", "wsgi", "asgi"])
def test_the_floor_probe_times_a_bare_hardened_app_and_cleans_up(
    runner_image, short_run_dir, framework
):
    seconds = runner.floor_probe(HELLO_DIR / "solution" / framework, framework)
    assert seconds > 0
    assert list(short_run_dir.iterdir()) == []
    floors = [
        c for c in engine.sandbox_containers() if c["Names"][0].startswith("/webcourse-floor-")
    ]
    assert floors == []


@pytest.mark.sandbox
def test_a_grading_removes_its_container_and_folders(runner_image):
    graded = grade_files({"app.py": flask_app()}, tests=SIMPLE_TESTS)
    assert graded.result["status"] == "passed"
    assert leftovers(graded) == []


# A harness stopped by its limits -----------------------------------------------------------

STOPPED_HARNESS_TESTS = """
import os
import signal

import pytest
from grader import expect


def test_first(client):
    \"\"\"GET / answers 200.\"\"\"
    expect(client.get("/"), status=200)


@pytest.mark.visibility(VISIBILITY)
def test_second(client):
    \"\"\"GET / answers ok.\"\"\"
    answer = client.get("/")
    STOP
    expect(answer, status=200)


def test_third(client):
    \"\"\"GET / answers again.\"\"\"
    expect(client.get("/"), status=200)
"""
HOG = 'hog = b"x" * (300 * 1024 * 1024)  # within RLIMIT_AS, past the cgroup'
KILL = "os.kill(os.getpid(), signal.SIGKILL)"


def grade_until_the_harness_stops(stop: str, visibility: str = "visible"):
    """Grade a plain app with tests whose second one stops the harness; note its cgroup."""
    seen = {}
    tests = STOPPED_HARNESS_TESTS.replace("STOP", stop).replace("VISIBILITY", repr(visibility))

    def watch(run, phase):
        if phase == "testing":
            seen["cgroup"] = run.harness.cgroup

    graded = grade_files({"app.py": flask_app()}, tests={"test_app.py": tests}, watch=watch)
    assert leftovers(graded) == []
    group = seen["cgroup"]
    assert group is None or not any(folder.exists() for folder in group.folders)
    return graded


@pytest.mark.sandbox
def test_a_harness_killed_by_its_memory_limit_ends_in_a_failed_run_that_says_so(
    runner_image, monkeypatch
):
    if cgroups._layout() is None or os.geteuid() != 0:
        pytest.skip("no cgroup for the harness on this machine")
    monkeypatch.setattr(cgroups, "MEMORY", 128 * MiB)  # below RLIMIT_AS, so the cgroup acts
    graded = grade_until_the_harness_stops(HOG)
    assert graded.result["status"] == "failed"
    assert graded.result["message"] == (
        "1 of 3 tests passed. The grader stopped while running the test “GET / answers ok.”: "
        "your app's answers made it use more than its memory limit (128 MiB), so the run "
        "ended there. Look for answers that are very large, deeply nested or endless."
    )
    assert [(t["name"], t["status"], t["message"]) for t in graded.result["tests"]] == [
        ("GET / answers 200.", "passed", ""),
        ("GET / answers ok.", "error", "did not finish: the grader stopped during this test"),
        ("GET / answers again.", "skipped", "not run"),
    ]
    assert graded.result["score"] == 1


@pytest.mark.sandbox
def test_a_harness_killed_during_a_hidden_test_says_no_more_than_a_normal_result(runner_image):
    graded = grade_until_the_harness_stops(KILL, visibility="hidden")
    assert graded.result["status"] == "failed"
    message = graded.result["message"]
    assert message.startswith(
        "1 of 3 tests passed. The grader stopped while running a hidden test, most likely "
        "because your app's answers made it use more than its limits (512 MiB of memory, "
    )
    assert "GET / answers ok." not in json.dumps(graded.result)
    assert [(t["name"], t["status"], t["message"]) for t in graded.result["tests"]] == [
        ("GET / answers 200.", "passed", ""),
        ("Hidden test 1", "error", ""),
        ("GET / answers again.", "skipped", "not run"),
    ]
