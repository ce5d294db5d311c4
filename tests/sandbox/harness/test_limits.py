"""The harness process's own limits: memory, CPU, file size, and the user it runs as."""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import signal
import tempfile
import traceback
from pathlib import Path

import pytest

from sandbox import runner
from sandbox.harness import forkserver, limits
from sandbox.policy import DEFAULT_POLICY, MiB

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")


def in_child(action, harness_limits: limits.HarnessLimits) -> tuple[object, int]:
    """Run `action()` in a forked child under `harness_limits`; return (its result, wait status).

    The result is what `action` returned (made JSON), or the text of what it raised.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            limits.apply(harness_limits)
            result = action()
        except BaseException as exc:
            result = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), status


def test_the_limits_are_set_and_cannot_be_lifted():
    def read_and_try_to_lift():
        found = {
            name: resource.getrlimit(getattr(resource, name))
            for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")
        }
        try:
            resource.setrlimit(resource.RLIMIT_AS, (2**40, 2**40))
            found["lifted"] = True
        except (ValueError, OSError):
            found["lifted"] = False
        return found

    user = limits.HARNESS_USER if os.geteuid() == 0 else None  # root may lift any limit
    chosen = limits.HarnessLimits(cpu_seconds=30, address_space=300 * MiB, file_size=MiB, user=user)
    found, status = in_child(read_and_try_to_lift, chosen)
    assert os.waitstatus_to_exitcode(status) == 0
    assert found == {
        "RLIMIT_AS": [300 * MiB, 300 * MiB],
        "RLIMIT_CPU": [30, 30 + limits.CPU_MARGIN],
        "RLIMIT_FSIZE": [MiB, MiB],
        "RLIMIT_CORE": [0, 0],
        "lifted": False,
    }


def test_the_limits_go_to_the_harness_on_its_command_line():
    chosen = limits.HarnessLimits(
        cpu_seconds=65, user=(65534, 65534), cgroup=("/cg/memory/h-1", "/cg/pids/h-1")
    )
    parser = argparse.ArgumentParser()
    limits.add_arguments(parser)
    assert limits.HarnessLimits.from_args(parser.parse_args(chosen.as_args())) == chosen


def test_memory_past_the_address_space_is_a_memory_error():
    def allocate():
        hog = bytearray(400 * MiB)
        return len(hog)

    chosen = limits.HarnessLimits(cpu_seconds=30, address_space=300 * MiB)
    result, status = in_child(allocate, chosen)
    assert result == "MemoryError: "
    assert os.waitstatus_to_exitcode(status) == 0


def test_spinning_past_the_cpu_time_is_killed():
    def spin():
        while True:
            pass

    _, status = in_child(spin, limits.HarnessLimits(cpu_seconds=1))
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)


def test_writing_past_the_file_size_is_stopped(tmp_path):
    def write():
        with open(tmp_path / "big", "wb") as file:
            file.write(bytes(2 * MiB))

    # Python ignores SIGXFSZ: the write fails instead of killing the process.
    result, status = in_child(write, limits.HarnessLimits(cpu_seconds=30, file_size=MiB))
    assert result == "OSError: [Errno 27] File too large"
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "big").stat().st_size == MiB


@as_root
def test_a_harness_started_by_root_becomes_nobody_for_good():
    secret = Path(tempfile.mkdtemp(prefix="wc-"))  # root's, 0700
    (secret / "key").write_text("root only")

    def who():
        try:
            (secret / "key").read_text()
            read = True
        except PermissionError:
            read = False
        status = Path("/proc/self/status").read_text()
        no_new_privs = [line.split()[1] for line in status.splitlines() if "NoNewPrivs" in line]
        return [os.getuid(), os.getgid(), os.getgroups(), read, no_new_privs]

    chosen = limits.HarnessLimits(cpu_seconds=30, user=limits.HARNESS_USER)
    try:
        found, status = in_child(who, chosen)
    finally:
        shutil.rmtree(secret)
    assert found == [65534, 65534, [], False, ["1"]]
    assert os.waitstatus_to_exitcode(status) == 0


# Reaching the run folder ------------------------------------------------------------------------


def test_a_run_folder_of_ours_is_made_passable_without_being_listable():
    folder = Path(tempfile.mkdtemp(prefix="wc-"))
    try:
        limits.make_reachable(folder, limits.HARNESS_USER)
        assert folder.stat().st_mode & 0o777 == 0o701
    finally:
        folder.rmdir()


@as_root
def test_a_folder_above_that_keeps_the_harness_out_is_named():
    above = Path(tempfile.mkdtemp(prefix="wc-"))
    (above / "runs").mkdir()
    try:
        os.chown(above, 1234, 1234)  # not ours to change
        with pytest.raises(RuntimeError, match=rf"cannot enter {above} .*chmod o\+x"):
            limits.make_reachable(above / "runs", limits.HARNESS_USER)
    finally:
        shutil.rmtree(above)


@as_root
def test_the_harness_stays_root_when_nobody_could_not_read_python(monkeypatch, caplog):
    hidden = Path(tempfile.mkdtemp(prefix="wc-"))  # 0700, root's
    python = dict.fromkeys(("stdlib", "platstdlib", "purelib", "platlib"), "/usr/lib")
    monkeypatch.setattr(limits.sysconfig, "get_paths", lambda: python)
    monkeypatch.setattr(limits, "PROJECT_DIR", hidden)
    limits._can_run_python.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="sandbox.harness.limits"):
            assert limits.harness_user() is None
        assert f"cannot read {hidden} (in {hidden})" in caplog.text
        hidden.chmod(0o755)
        limits._can_run_python.cache_clear()
        assert limits.harness_user() == limits.HARNESS_USER
    finally:
        limits._can_run_python.cache_clear()
        hidden.rmdir()


# The runner's harness ---------------------------------------------------------------------------

LIMITS_SEEN = """
import os
import resource


def test_limits():
    names = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")
    seen = [resource.getrlimit(getattr(resource, name)) for name in names]
    seen.append(os.getuid())
    assert seen == EXPECTED
"""


def refuse(**request):
    raise forkserver.ForkServerError("no fork server")


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "fresh interpreter"])
def test_the_runner_starts_each_harness_under_its_limits(monkeypatch, forked):
    if not forked:
        monkeypatch.setattr(forkserver, "spawn", refuse)
    cpu = int(DEFAULT_POLICY.wall_timeout) + limits.CPU_MARGIN
    user = limits.harness_user()
    expected = [
        (limits.ADDRESS_SPACE, limits.ADDRESS_SPACE),
        (cpu, cpu + limits.CPU_MARGIN),
        (limits.FILE_SIZE, limits.FILE_SIZE),
        (0, 0),
        os.getuid() if user is None else user[0],
    ]
    base = Path(tempfile.mkdtemp(prefix="wc-"))
    dirs = runner.RunDirs.create(base, runner.new_run_id())
    try:
        dirs.write_tests({"test_limits.py": LIMITS_SEEN.replace("EXPECTED", repr(expected))})
        harness = runner.Harness(dirs, DEFAULT_POLICY)
        try:
            harness.go()
            assert harness.wait(60), harness.log_tail()
            report = harness.report()
        finally:
            harness.kill()
        assert report is not None, harness.log_tail()
        assert [t["status"] for t in report["tests"]] == ["passed"], harness.log_tail()
    finally:
        dirs.remove()
        shutil.rmtree(base)


TMP_PATH_SEEN = """
def test_tmp_path(tmp_path):
    (tmp_path / "kept").write_text("what a test keeps")
    assert str(tmp_path).startswith(HARNESS_FOLDER)
"""


def test_the_tests_tmp_path_is_in_the_harness_folder():
    base = Path(tempfile.mkdtemp(prefix="wc-"))
    dirs = runner.RunDirs.create(base, runner.new_run_id())
    try:
        folder = dirs.root / runner.Harness.FOLDER
        dirs.write_tests(
            {"test_tmp.py": TMP_PATH_SEEN.replace("HARNESS_FOLDER", repr(f"{folder}/"))}
        )
        harness = runner.Harness(dirs, DEFAULT_POLICY)
        try:
            harness.go()
            assert harness.wait(60), harness.log_tail()
            report = harness.report()
        finally:
            harness.kill()
        assert report is not None, harness.log_tail()
        assert [t["status"] for t in report["tests"]] == ["passed"], report["tests"]
    finally:
        dirs.remove()
        shutil.rmtree(base)


def test_a_link_in_place_of_the_report_is_not_followed():
    base = Path(tempfile.mkdtemp(prefix="wc-"))
    dirs = runner.RunDirs.create(base, runner.new_run_id())
    try:
        dirs.write_tests({"test_a.py": "def test_a():\n    pass\n"})
        harness = runner.Harness(dirs, DEFAULT_POLICY)
        harness.kill()
        elsewhere = base / "elsewhere.json"
        elsewhere.write_text('{"state": "done", "tests": []}')
        harness.report_path.unlink(missing_ok=True)
        harness.report_path.symlink_to(elsewhere)
        assert harness.report() is None
        harness.report_path.unlink()
        os.mkfifo(harness.report_path)
        assert harness.report() is None  # and does not hang
    finally:
        dirs.remove()
        shutil.rmtree(base)
