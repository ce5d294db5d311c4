"""The harness process's own limits: memory, CPU, file size, and the user it runs as."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import tomllib
import traceback
from pathlib import Path

import pytest
from django.conf import settings

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


# As nobody, for real ----------------------------------------------------------------------------
#
# Where the suite's own Python is one nobody cannot read (say, below /root), the harness stays
# root and the tests above never see it as nobody. This one grades with a Python nobody can
# read: a venv of Debian's, holding what the engine needs (cached in /tmp, keyed by the pins).

SYSTEM_PYTHON = Path("/usr/bin/python3.11")
ENGINE_PACKAGES = {"docker", "httpx", "pytest"}  # what sandbox/ imports (test_engine_imports)

# A test graded along with hello's own: it passes only in a harness that became nobody and
# cannot list its run folder (other runs' folder names) or the folder of all runs.
AS_NOBODY = '''
import os
from pathlib import Path

import pytest


@pytest.mark.points(0)
def test_as_nobody():
    """The harness runs as nobody."""
    assert (os.getuid(), os.geteuid(), os.getgid(), os.getgroups()) == (65534, 65534, 65534, [])
    run_folder = Path.cwd().parent
    for folder in (run_folder, run_folder.parent):
        with pytest.raises(PermissionError):
            os.listdir(folder)
'''

GRADE = """
import json, sys
from pathlib import Path

from sandbox import runner
from sandbox.archive import pack_directory
from sandbox.harness import limits
from sandbox.spec import ExerciseSpec

hello = Path(sys.argv[1])
spec = ExerciseSpec.from_dir(hello)
result = runner.grade(
    spec=spec, archive=pack_directory(hello / "solution" / "flask"), framework="flask"
)
print(json.dumps({"user": limits.harness_user(), "result": result}))
"""


def engine_requirements() -> list[str]:
    """Return the project's pins of the packages the grading engine imports."""
    from packaging.requirements import Requirement

    with (runner.PROJECT_DIR / "pyproject.toml").open("rb") as file:
        pins = tomllib.load(file)["project"]["dependencies"]
    return sorted(pin for pin in pins if Requirement(pin).name in ENGINE_PACKAGES)


def usable(venv: Path) -> bool:
    """Return whether `venv` is a finished venv that only this user could have changed."""
    try:
        info = venv.lstat()
    except FileNotFoundError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & 0o022
        and (venv / "bin" / "python").exists()
    )


@pytest.fixture(scope="session")
def python_nobody_can_read() -> Path:
    """Return the Python of a venv of Debian's /usr/bin/python3.11 with the engine's packages."""
    if (
        not SYSTEM_PYTHON.exists()
        or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import ensurepip, venv"], capture_output=True, check=False
        ).returncode
    ):
        pytest.fail(
            f"This test grades with Debian's {SYSTEM_PYTHON} and its venv module: "
            "apt-get install -y python3.11-venv (scripts/test installs it)."
        )
    requirements = engine_requirements()
    key = hashlib.sha256("\n".join([str(SYSTEM_PYTHON), *requirements]).encode()).hexdigest()
    venv = Path(tempfile.gettempdir()) / f"webcourse-nobody-venv-{key[:12]}"
    if usable(venv):
        return venv / "bin" / "python"
    # Built next to it and renamed when complete, so that a build cut short is never used.
    partial = venv.with_name(f"{venv.name}.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    umask = os.umask(0o022)  # readable by nobody, whatever this process's umask
    try:
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", partial], check=True, capture_output=True)
        subprocess.run(
            [partial / "bin" / "python", "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", *requirements],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(f"could not make a venv of {SYSTEM_PYTHON}: {exc.stderr.decode()[-2000:]}")
    finally:
        os.umask(umask)
    try:
        partial.rename(venv)
    except OSError:  # another session made it first
        shutil.rmtree(partial, ignore_errors=True)
    assert usable(venv), f"{venv} is not this user's own venv: remove it"
    return venv / "bin" / "python"


@as_root
@pytest.mark.sandbox
def test_a_grading_by_root_runs_the_harness_as_nobody(python_nobody_can_read, runner_image):
    hello = Path(settings.COURSE_CONTENT_DIR) / "python-web" / "exercises" / "hello"
    base = Path(tempfile.mkdtemp(prefix="wc-"))  # 0700: the runner lets nobody pass, no more
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(runner.PROJECT_DIR),
        "SANDBOX_RUN_DIR": str(base),
        "SANDBOX_IMAGE": runner_image,
        **{name: os.environ[name] for name in ("DOCKER_HOST",) if name in os.environ},
    }
    with_probe = Path(tempfile.mkdtemp(prefix="wc-hello-")) / "hello"
    try:
        shutil.copytree(hello, with_probe)
        (with_probe / "tests" / "test_as_nobody.py").write_text(AS_NOBODY)
        done = subprocess.run(
            [python_nobody_can_read, "-c", GRADE, with_probe],
            env=environment, cwd=base, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert list(base.iterdir()) == []  # nothing left behind
    finally:
        shutil.rmtree(with_probe.parent, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
    graded = json.loads(done.stdout.splitlines()[-1])
    assert graded["user"] == list(limits.HARNESS_USER), done.stderr[-3000:]
    result = graded["result"]
    tests = {test["name"]: test["status"] for test in result["tests"]}
    assert tests.get("The harness runs as nobody.") == "passed", result
    assert (result["status"], result["score"], result["max_score"]) == ("passed", 6, 6), result
