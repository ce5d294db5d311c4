"""Runs a hostile app cannot bend: the boot protocol, the socket folder, the app's output.

Each test grades a real app in a real container. The bounds asserted are the ones each case is
about: what the verdict says and whether it counts, what the learner can see, what is left on
the host, and the resident memory of the grading process tree.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from sandbox import engine, images, runner
from sandbox.archive import pack_files
from sandbox.policy import DEFAULT_POLICY, MiB
from sandbox.spec import ExerciseSpec
from tests.postgres import postgres_server  # noqa: F401 - a fixture
from tests.sandbox.conftest import (
    HELLO_DIR,
    SIMPLE_TESTS,
    flask_app,
    grade_bounded,
    hello_with,
    leftovers,
)

QUICK = DEFAULT_POLICY.with_overrides({"boot_timeout": 5, "wall_timeout": 20, "request_timeout": 2})
HOST_MEMORY_BOUND = 300 * MiB

pytestmark = pytest.mark.usefixtures("runner_image")

VISIBLE_AND_HIDDEN_TESTS = {
    "test_app.py": """
import pytest
from grader import expect


def test_index(client):
    \"\"\"GET / answers 200.\"\"\"
    expect(client.get("/"), status=200)


@pytest.mark.visibility("hidden")
def test_secret(client):
    \"\"\"GET /secret-hidden-path answers 200.\"\"\"
    expect(client.get("/secret-hidden-path"), status=200)


def test_index_again(client):
    \"\"\"GET / answers 200 again.\"\"\"
    expect(client.get("/"), status=200)
""",
}


def assert_clean(graded) -> None:
    assert leftovers(graded) == []


# The boot protocol -------------------------------------------------------------------------


def test_a_forged_fail_line_while_starting_is_only_output():
    app = (
        "import os\n"
        'print(\'\\n@@webcourse:fail {"kind": "layout", "message": "FORGED verdict"}\')\n'
        "os._exit(3)\n"
    )
    graded = grade_bounded({"app.py": app}, tests=SIMPLE_TESTS, policy=QUICK)
    message = graded.result["message"]
    assert graded.result["status"] == "error"
    assert message.startswith("Your app stopped while starting (exit code 3)")
    assert message != "FORGED verdict"
    assert_clean(graded)


def test_a_forged_fail_line_during_the_tests_counts_as_an_attempt():
    app = flask_app(
        top="import os",
        body=(
            "@app.get('/crash')\n"
            "def crash():\n"
            '    print(\'\\n@@webcourse:fail {"kind": "import", "message": "free"}\','
            " flush=True)\n"
            "    os._exit(3)\n"
        ),
    )
    tests = {
        "test_app.py": (
            "def test_index(client):\n    assert client.get('/').status_code == 200\n\n"
            "def test_crash(client):\n    client.get('/crash')\n"
        )
    }
    graded = grade_bounded({"app.py": app}, tests=tests, policy=QUICK)
    assert graded.result["status"] == "failed"  # not "error": it costs an attempt
    assert graded.result["score"] == 1
    assert "free" not in graded.result["message"]
    assert_clean(graded)


def test_the_runs_nonce_is_out_of_the_apps_reach():
    # Everything the app can find goes into its answer and its output: none of it is the nonce.
    probe = (
        "import os\n"
        "found = [repr(dict(os.environ))]\n"
        "for path in ('/proc/self/environ', '/proc/1/environ', '/proc/1/cmdline',"
        " '/proc/1/status', '/proc/1/maps'):\n"
        "    try:\n"
        "        found.append(open(path, 'rb').read().decode('latin-1'))\n"
        "    except OSError as exc:\n"
        "        found.append(f'{path}: {exc.strerror}')\n"
        "try:\n"
        "    with open('/proc/1/mem', 'rb') as mem:\n"
        "        found.append(mem.read(64).decode('latin-1'))\n"
        "except OSError as exc:\n"
        "    found.append(f'mem: {exc.strerror}')\n"
        "try:\n"
        "    found.append(repr(os.listdir('/proc/1/fd')))\n"
        "except OSError as exc:\n"
        "    found.append(f'fd: {exc.strerror}')\n"
        "print('\\n'.join(found), flush=True)\n"
    )
    app = flask_app(
        top=probe, body="@app.get('/found')\ndef show():\n    return '\\n'.join(found)\n"
    )
    tests = {
        "test_app.py": (
            "from grader import expect\n\n"
            "def test_found(client):\n"
            "    expect(client.get('/found'), status=201)\n"
        )
    }
    graded = grade_bounded({"app.py": app}, tests=tests, policy=QUICK)
    seen = json.dumps(graded.result)
    assert "mem: Permission denied" in seen
    assert "/proc/1/environ: Permission denied" in seen
    assert graded.run.nonce not in seen
    assert_clean(graded)


def test_an_app_flooding_the_control_socket_with_marks_shows_no_hidden_output():
    # Extra marks can only make the split of the output uncertain; then nothing is shown.
    app = flask_app(
        top=(
            "import socket\n"
            "control = socket.socket(socket.AF_UNIX)\n"
            "control.connect('/run/app/control.sock')\n"
            "for n in range(2000):\n"
            "    control.sendall(f'mark {n:x}\\n'.encode())\n"
            "    control.recv(3)\n"
        ),
        body=(
            "@app.get('/secret-hidden-path')\n"
            "def secret():\n"
            "    print('SEEN-IN-HIDDEN-TEST', flush=True)\n"
            "    return 'ok'\n"
        ),
    )
    graded = grade_bounded({"app.py": app}, tests=VISIBLE_AND_HIDDEN_TESTS, policy=QUICK)
    assert graded.result["status"] == "passed"
    assert "SEEN-IN-HIDDEN-TEST" not in json.dumps(graded.result)
    assert "not shown" in graded.result["log"]
    assert_clean(graded)


# The socket folder ---------------------------------------------------------------------------

TRY_THE_FOLDER = """
import os, threading, time

def attempts():
    tries = {
        "file": lambda: open('/run/app/fill', 'wb').write(b'x' * 1024 * 1024),
        "folder": lambda: os.mkdir('/run/app/private', 0o700),
        "fifo": lambda: os.mkfifo('/run/app/pipe'),
        "symlink": lambda: os.symlink('/etc/passwd', '/run/app/link'),
        "replace": lambda: os.rename('/run/app/app.sock', '/run/app/old.sock'),
        "remove": lambda: os.unlink('/run/app/control.sock'),
    }
    found = []
    for name, attempt in tries.items():
        try:
            attempt()
            found.append(f'{name}: done')
        except OSError as exc:
            found.append(f'{name}: {exc.strerror}')
    return found

print('at import:', attempts(), flush=True)

def keep_trying():  # on and on, through the tests and after them
    while True:
        attempts()
        time.sleep(0.01)

threading.Thread(target=keep_trying, daemon=True).start()
"""


def test_the_app_can_add_nothing_to_the_socket_folder_at_any_time():
    app = flask_app(
        top=TRY_THE_FOLDER, body="@app.get('/try')\ndef show():\n    return attempts()\n"
    )
    tests = {
        "test_app.py": (
            "import time\n\n"
            "def test_try(client):\n"
            "    raise AssertionError(' | '.join(client.get('/try').json()))\n\n"
            "def test_wait(client):\n"
            "    time.sleep(0.5)\n"
            "    assert client.get('/').text == 'ok'\n"
        )
    }
    graded = grade_bounded({"app.py": app}, tests=tests, policy=QUICK)
    attempts = graded.tests["test_try"]["message"]
    for name in ("file", "folder", "fifo", "symlink", "replace", "remove"):
        assert f"{name}: Permission denied" in attempts
    assert "done" not in attempts
    assert graded.tests["test_wait"]["status"] == "passed"
    assert_clean(graded)


def test_an_entry_in_the_socket_folder_after_the_tests_voids_the_run(monkeypatch):
    # The folder is sealed, so only the host can put something there: the last look after the
    # tests must still catch it, and the verdict then counts and scores nothing.
    from sandbox import runner

    original = runner.Harness.wait

    def wait_then_plant(self, timeout):
        done = original(self, timeout)
        (self.dirs.sockets / "late").write_bytes(b"x")
        return done

    monkeypatch.setattr(runner.Harness, "wait", wait_then_plant)
    graded = grade_bounded({"app.py": flask_app()}, tests=SIMPLE_TESTS, policy=QUICK)
    result = graded.result
    assert (result["status"], result["score"]) == ("failed", 0)
    assert "'late'" in result["message"]
    assert [t["status"] for t in result["tests"]] == ["skipped"]
    assert_clean(graded)


def test_clear_folder_removes_what_the_containers_user_locked_away(tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="wc-clear-"))
    try:
        folder.chmod(0o777)
        engine.run_once(
            images.runner_image_tag(),
            [
                "/opt/venv/bin/python", "-c",
                "import os; os.mkdir('/f/locked', 0o700); open('/f/locked/data', 'w').write('x');"
                " os.chmod('/f/locked', 0o500)",
            ],
            user=DEFAULT_POLICY.user,
            volumes={str(folder): {"bind": "/f", "mode": "rw"}},
        )  # fmt: skip
        assert (folder / "locked").stat().st_uid == int(DEFAULT_POLICY.user.split(":")[0])
        engine.clear_folder(folder, image=images.runner_image_tag(), user=DEFAULT_POLICY.user)
        assert list(folder.iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# A worker that is not root --------------------------------------------------------------------

NON_ROOT_SCRIPT = """
import json, os, sys
import django
django.setup()
from sandbox.runner import run_submission
from sandbox.policy import DEFAULT_POLICY
policy = DEFAULT_POLICY.with_overrides({"boot_timeout": 5, "wall_timeout": 20})
archive = open(sys.argv[1], "rb").read()
tests = json.loads(open(sys.argv[2]).read())
result = run_submission(archive=archive, tests=tests, framework="flask", policy=policy)
print(json.dumps(result))
"""


def _open_path_for(path: Path, changed: list[tuple[Path, int]]) -> None:
    """Let other users reach `path` (and read it), remembering each mode changed."""
    for folder in [*reversed(path.parents), path]:
        mode = folder.stat().st_mode
        wanted = mode | stat.S_IXOTH | (stat.S_IROTH if folder == path else 0)
        if wanted != mode:
            changed.append((folder, stat.S_IMODE(mode)))
            folder.chmod(stat.S_IMODE(wanted))


@pytest.fixture
def non_root_worker():
    """Return a way to run a command as a non-root member of the docker group."""
    if os.geteuid() != 0:  # this is such a worker already
        yield []
        return
    name = "webcourse-grader"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )
    docker_group = grp.getgrgid(os.stat("/var/run/docker.sock").st_gid).gr_name
    subprocess.run(["usermod", "-a", "-G", docker_group, name], check=True)
    # The interpreter may live under /root (pyenv): let the worker reach it while the test runs.
    changed: list[tuple[Path, int]] = []
    try:
        for path in (Path(os.path.realpath(sys.executable)), Path(sys.base_prefix) / "lib"):
            _open_path_for(path, changed)
        yield ["runuser", "-u", name, "--"]
    finally:
        for folder, mode in reversed(changed):
            folder.chmod(mode)


def test_a_worker_that_is_not_root_grades_and_cleans_up(non_root_worker):
    folder = Path(tempfile.mkdtemp(prefix="wcnr-"))
    try:
        app = flask_app(
            top=(
                "import os\n"
                "try:\n"
                "    os.mkdir('/run/app/private', 0o700)\n"
                "    print('made a private folder')\n"
                "except OSError as exc:\n"
                "    print('no private folder:', exc.strerror)\n"
            )
        )
        (folder / "app.zip").write_bytes(pack_files({"app.py": app}))
        (folder / "tests.json").write_text(json.dumps(SIMPLE_TESTS))
        (folder / "grade.py").write_text(NON_ROOT_SCRIPT)
        (folder / "runs").mkdir()
        if non_root_worker:
            user = non_root_worker[2]
            for path in [folder, *folder.iterdir()]:
                shutil.chown(path, user=user)
        environment = {
            "PATH": os.environ["PATH"],
            "HOME": str(folder),
            "PYTHONPATH": str(settings.BASE_DIR),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ENV_FILE": os.devnull,
            "VAR_DIR": str(folder / "var"),
            "SANDBOX_RUN_DIR": str(folder / "runs"),
        }
        done = subprocess.run(
            [*non_root_worker, sys.executable, str(folder / "grade.py"),
             str(folder / "app.zip"), str(folder / "tests.json")],
            env=environment, capture_output=True, text=True, timeout=120, check=False,
            cwd=folder,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout.splitlines()[-1])
        assert result["status"] == "passed", result
        assert "no private folder: Permission denied" in result["log"]
        assert list((folder / "runs").iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# What the learner sees of the app's output ------------------------------------------------------


BROKEN_HELLO = {
    "flask": ('return {"message": f"Hello, {name}!"}', "return {'n': 1 / 0}"),
    "fastapi": ('return {"message": f"Hello, {name}!"}', "return {'n': 1 / 0}"),
    "django": ('return JsonResponse({"message": f"Hello, {name}!"})', "return 1 / 0"),
}


@pytest.mark.parametrize("framework", ["flask", "fastapi", "django"])
def test_a_traceback_raised_during_a_visible_test_sits_next_to_its_failure(framework):
    spec = ExerciseSpec.from_dir(HELLO_DIR)
    files = hello_with(framework, BROKEN_HELLO[framework])
    result = runner.grade(spec=spec, archive=pack_files(files), framework=framework)
    test = next(t for t in result["tests"] if t["name"].startswith("GET /hello/ada"))
    assert test["status"] == "failed"
    assert "ZeroDivisionError: division by zero" in test["output"]
    assert "ZeroDivisionError" not in result["log"]
    for other in result["tests"]:
        if other is not test:
            assert "ZeroDivisionError" not in other["output"]
