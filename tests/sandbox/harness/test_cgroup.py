"""The harness's own cgroup: where it is made, its limits, joining it, removing it, sweeping."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from sandbox import engine, runner
from sandbox.harness import cgroup as cgroups
from sandbox.harness import forkserver
from sandbox.policy import DEFAULT_POLICY, MiB

# Where to look for the cgroups is this machine's question; the tests below need a real one.
real = pytest.mark.skipif(
    cgroups._layout() is None or os.geteuid() != 0,
    reason="needs root and cgroup v1 memory and pids hierarchies, or cgroup v2",
)


@pytest.fixture
def fresh_warning(monkeypatch):
    monkeypatch.setattr(cgroups, "_warned", False)


# Where the cgroups go -------------------------------------------------------------------------


def fake_machine(monkeypatch, tmp_path: Path, mountinfo: list[str], own: list[str]) -> None:
    (tmp_path / "mountinfo").write_text("\n".join(mountinfo) + "\n")
    (tmp_path / "cgroup").write_text("\n".join(own) + "\n")
    monkeypatch.setattr(cgroups, "MOUNTINFO", tmp_path / "mountinfo")
    monkeypatch.setattr(cgroups, "OWN_CGROUP", tmp_path / "cgroup")


def test_on_cgroup_v1_a_run_gets_a_memory_and_a_pids_cgroup_below_the_workers(
    monkeypatch, tmp_path
):
    fake_machine(
        monkeypatch,
        tmp_path,
        [
            r"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
            r"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
            # Seen from inside a container: the mount's root is the container's cgroup.
            r"39 31 0:36 /docker/abc /sys/fs/cgroup/pids\040x rw - cgroup cgroup rw,pids",
            r"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
        ],
        ["8:pids:/docker/abc", "4:memory:/worker.service", "0::/"],
    )
    assert cgroups._layout() == (
        1,
        (Path("/sys/fs/cgroup/memory/worker.service"), Path("/sys/fs/cgroup/pids x")),
    )


def test_on_cgroup_v2_a_run_gets_one_cgroup_with_every_limit(monkeypatch, tmp_path):
    mounted = tmp_path / "cg"
    worker = mounted / "worker.slice" / "worker"
    worker.mkdir(parents=True)
    (worker / "cgroup.controllers").write_text("cpu io memory pids\n")
    (worker / "cgroup.subtree_control").write_text("memory pids\n")  # a delegated subtree
    fake_machine(
        monkeypatch,
        tmp_path,
        [f"30 23 0:26 / {mounted} rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate"],
        ["0::/worker.slice/worker"],
    )
    # A plain folder is not cgroupfs: make the files the kernel would have made.
    monkeypatch.setattr(cgroups, "_write", lambda path, value: path.write_text(str(value)))

    group = cgroups.HarnessCgroup.create("r1")

    assert group is not None
    assert group.folders == (worker / "webcourse-harness-r1",)
    written = {p.name: p.read_text() for p in group.folders[0].iterdir()}
    assert written == {"memory.max": str(512 * MiB), "memory.swap.max": "0", "pids.max": "64"}


@pytest.mark.usefixtures("fresh_warning")
def test_without_a_cgroup_to_write_the_harness_runs_without_one_and_it_is_said_once(
    monkeypatch, tmp_path, caplog
):
    worker = tmp_path / "cg" / "worker"
    worker.mkdir(parents=True)
    (worker / "cgroup.controllers").write_text("cpu io\n")  # not handed down
    fake_machine(
        monkeypatch,
        tmp_path,
        [f"30 23 0:26 / {tmp_path / 'cg'} rw - cgroup2 cgroup2 rw"],
        ["0::/worker"],
    )
    with caplog.at_level(logging.DEBUG, logger="sandbox.harness.cgroup"):
        assert cgroups.HarnessCgroup.create("r1") is None
        assert cgroups.HarnessCgroup.create("r2") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "without a cgroup of its own" in warnings[0].getMessage()


@pytest.mark.usefixtures("fresh_warning")
def test_a_cgroup_that_cannot_be_made_leaves_nothing_behind(monkeypatch, tmp_path, caplog):
    memory, pids = tmp_path / "memory", tmp_path / "pids-missing"
    memory.mkdir()
    monkeypatch.setattr(cgroups, "_layout", lambda: (1, (memory, pids)))
    with caplog.at_level(logging.WARNING, logger="sandbox.harness.cgroup"):
        assert cgroups.HarnessCgroup.create("r1") is None
    assert list(memory.iterdir()) == []
    assert "could not be made" in caplog.text


# A real harness in its cgroup ------------------------------------------------------------------


@pytest.fixture
def run_dirs():
    base = Path(tempfile.mkdtemp(prefix="wc-"))  # short, for the socket path
    dirs = runner.RunDirs.create(base, runner.new_run_id())
    yield dirs
    dirs.remove()
    shutil.rmtree(base)


def refuse(**request):
    raise forkserver.ForkServerError("no fork server")


def wait_for_state(harness: runner.Harness, *states: str) -> dict:
    deadline = time.monotonic() + 60
    while (report := harness.report()) is None or report.get("state") not in states:
        assert time.monotonic() < deadline, harness.log_tail()
        time.sleep(0.02)
    return report


def cgroups_of(pid: int) -> dict[str, str]:
    found = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else ["unified"]:
            found[controller] = path
    return found


@real
@pytest.mark.parametrize("forked", [True, False], ids=["forked", "fresh interpreter"])
def test_a_harness_waits_for_go_in_its_own_limited_cgroup_which_goes_with_it(
    run_dirs, monkeypatch, forked
):
    if not forked:
        monkeypatch.setattr(forkserver, "spawn", refuse)
    run_dirs.write_tests({"test_app.py": "def test_a():\n    pass\n"})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    group = harness.cgroup
    try:
        assert group is not None
        wait_for_state(harness, "collected")  # collected: limits.apply() is long past
        name = f"webcourse-harness-{run_dirs.root.name}"
        joined = cgroups_of(harness.pid)
        if len(group.folders) == 2:  # cgroup v1
            memory, pids = group.folders
            assert joined["memory"].endswith(f"/{name}")
            assert joined["pids"] == f"/{name}" or joined["pids"].endswith(f"/{name}")
            assert int((memory / "memory.limit_in_bytes").read_text()) == 512 * MiB
            assert int((memory / "memory.memsw.limit_in_bytes").read_text()) == 512 * MiB
            assert (pids / "pids.max").read_text().strip() == "64"
        else:
            (folder,) = group.folders
            assert joined["unified"].endswith(f"/{name}")
            assert int((folder / "memory.max").read_text()) == 512 * MiB
            assert (folder / "memory.swap.max").read_text().strip() == "0"
            assert (folder / "pids.max").read_text().strip() == "64"
        assert group.processes() == {harness.pid}
        harness.go()
        assert harness.wait(60)
        assert [t["status"] for t in harness.report()["tests"]] == ["passed"]
    finally:
        harness.kill()
    assert not any(folder.exists() for folder in group.folders)
    assert harness.cgroup is None


ALLOCATE = """
def test_allocate():
    hog = b"x" * (300 * 1024 * 1024)  # within RLIMIT_AS (512 MiB), past the cgroup's 128 MiB
    assert len(hog) == 0
"""


@real
def test_a_harness_past_its_cgroups_memory_is_killed_and_the_cgroup_says_so(run_dirs, monkeypatch):
    monkeypatch.setattr(cgroups, "MEMORY", 128 * MiB)
    run_dirs.write_tests({"test_app.py": ALLOCATE})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    group = harness.cgroup
    try:
        harness.go()
        assert harness.wait(60)
        report = wait_for_state(harness, "running", "done")
        assert report["state"] == "running"  # it never said "done": it was killed
        assert report["tests"][0]["status"] == "running"
        assert harness.limit_reached() == "memory"
        assert group.memory == 128 * MiB
    finally:
        harness.kill()
    assert not any(folder.exists() for folder in group.folders)


CHILDREN = """
import subprocess
import sys

HOLD = "import time; hog = b'x' * (100 * 1024 * 1024); time.sleep(3)"


def test_children():
    # Each child is within RLIMIT_AS; three of them are past the cgroup's 192 MiB.
    children = [subprocess.Popen([sys.executable, "-c", HOLD]) for _ in range(3)]
    codes = [child.wait(60) for child in children]
    assert -9 in codes, codes
"""


@real
def test_the_memory_limit_holds_for_the_harness_and_all_it_starts_together(run_dirs, monkeypatch):
    monkeypatch.setattr(cgroups, "MEMORY", 192 * MiB)
    run_dirs.write_tests({"test_app.py": CHILDREN})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    try:
        harness.go()
        assert harness.wait(60)
        report = harness.report()
        assert [t["status"] for t in report["tests"]] == ["passed"], harness.log_tail()
        assert harness.limit_reached() == "memory"
    finally:
        harness.kill()


THREADS = """
import os
import signal
import time


def test_processes():
    # Processes, not threads: what stops threads first depends on the C library's arenas
    # under the address-space limit; a fork is refused by the pids limit alone.
    children = []
    try:
        for _ in range(200):
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except BlockingIOError:
        pass
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert len(children) < 64
"""


@real
def test_a_harness_cannot_start_more_than_its_processes_and_threads(run_dirs):
    run_dirs.write_tests({"test_app.py": THREADS})
    harness = runner.Harness(run_dirs, DEFAULT_POLICY)
    try:
        harness.go()
        assert harness.wait(60)
        report = harness.report()
        assert [t["status"] for t in report["tests"]] == ["passed"], harness.log_tail()
        assert harness.limit_reached() == "processes"
    finally:
        harness.kill()


# Sweeping -----------------------------------------------------------------------------------


@real
def test_the_sweep_kills_what_is_left_in_an_orphaned_cgroup_and_removes_it(
    settings, monkeypatch, tmp_path
):
    settings.SANDBOX_RUN_DIR = tmp_path
    monkeypatch.setattr(engine, "remove_stale_containers", lambda **kwargs: 0)
    orphan = cgroups.HarnessCgroup.create(f"sweep-{uuid.uuid4().hex[:8]}")
    fresh = cgroups.HarnessCgroup.create(f"sweep-{uuid.uuid4().hex[:8]}")
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        # As if a crashed worker's harness had gone on: the process is in the cgroup.
        for folder in orphan.folders:
            (folder / "cgroup.procs").write_text(str(left.pid))
        two_hours_ago = time.time() - 7200
        for folder in orphan.folders:
            os.utime(folder, (two_hours_ago, two_hours_ago))

        runner.sweep_orphans(max_age=3600)

        assert left.wait(10) == -9
        assert not any(folder.exists() for folder in orphan.folders)
        assert all(folder.exists() for folder in fresh.folders)
    finally:
        left.kill()
        left.wait()
        orphan.remove()
        fresh.remove()
