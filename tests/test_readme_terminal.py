"""README's "Submitting from a terminal" commands, run as written against a live site.

The commands are read from README.md, so the test fails as soon as the documentation drifts
from what the site does. The site runs for real: gunicorn on a free port, a private Redis, a
Celery worker grading in Docker, all sharing the test database. The only thing the test fills
in is what the README tells the learner to set: COURSE_URL and COURSE_TOKEN.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.tokens import token_create
from exercises.models import Submission
from tests.celery_fixtures import HELLO_DIR, shared_database_url, wait_until_graded
from tests.factories import UserFactory

README = Path(settings.BASE_DIR) / "README.md"
SECTION = "## Submitting from a terminal"
GUNICORN = Path(sys.executable).with_name("gunicorn")
SERVER_START_TIMEOUT = 30.0
# wait=1 answers within the exercise's wall timeout plus a margin; this only stops a hang.
COMMAND_TIMEOUT = 240


def readme_section() -> str:
    """Return the text of the README section, up to the next second-level heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)  # ValueError names the missing section
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def exported_names(block: str) -> list[str]:
    return re.findall(r"^export ([A-Z_]+)=\S+$", block, flags=re.MULTILINE)


# The live site ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@pytest.fixture
def site_url(transactional_db, celery_broker, tmp_path: Path) -> Iterator[str]:
    """Serve the site with gunicorn, as scripts/up does, on the test database; return its URL."""
    database_url = shared_database_url(connection.settings_dict)
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "DATABASE_URL": database_url,
        "REDIS_URL": celery_broker.url,
        "DEBUG": "true",
    }
    command = [
        str(GUNICORN), "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "4", "--access-logfile", "-", "--error-logfile", "-",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def learner_folder(tmp_path: Path) -> Path:
    """Return a folder holding my-hello-app/, the hello exercise's Flask solution."""
    folder = tmp_path / "work"
    shutil.copytree(
        HELLO_DIR / "solution" / "flask",
        folder / "my-hello-app",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return folder


def run_documented(block: str, *, cwd: Path, env: dict[str, str]) -> dict:
    """Run a README block with bash, as a learner would paste it; return its JSON output."""
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed (apt-get install -y curl)")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


# The test --------------------------------------------------------------------------------


def test_the_readme_tells_the_learner_to_set_only_the_site_and_the_token():
    setup, *commands = fenced_blocks(readme_section(), "bash")

    assert exported_names(setup) == ["COURSE_URL", "COURSE_TOKEN"]
    assert len(setup.strip().splitlines()) == 2  # nothing else hides in the set-up block
    assert commands, "the section shows no command to run"
    for command in commands:
        assert "$COURSE_URL/api/" in command
        assert '"Authorization: Bearer $COURSE_TOKEN"' in command
        assert not exported_names(command)


@pytest.mark.sandbox
@pytest.mark.celery
def test_the_documented_commands_submit_and_print_the_graded_result(
    runner_image, site_url, celery_worker_proc, hello_exercise, learner_folder
):
    learner = UserFactory()
    _, secret = token_create(user=learner, name="laptop")
    section = readme_section()
    _, submit_and_wait, submit_form = fenced_blocks(section, "bash")
    (example,) = fenced_blocks(section, "json")
    env = {"COURSE_URL": site_url, "COURSE_TOKEN": secret}

    graded = run_documented(submit_and_wait, cwd=learner_folder, env=env)

    assert graded["state"] == "done", graded
    result = graded["result"]
    assert result["status"] == "passed", result["message"]
    assert result["score"] == result["max_score"] > 0
    assert graded["url"] == f"{site_url}/submissions/{graded['id']}/"
    assert graded["status_url"] == f"{site_url}/api/submissions/{graded['id']}/"
    submission = Submission.objects.get(pk=graded["id"])
    assert (submission.learner, submission.exercise) == (learner, hello_exercise)
    assert submission.framework == "flask"
    assert submission.verdict == "passed"
    # The README's example answer shows the same fields, in the same order.
    assert re.findall(r'^  "(\w+)":', example, flags=re.MULTILINE) == list(graded)
    assert re.findall(r'^    "(\w+)":', example, flags=re.MULTILINE) == list(result)

    queued = run_documented(submit_form, cwd=learner_folder, env=env)

    assert queued["id"] != graded["id"]
    assert queued["result"] is None
    assert queued["state"] in ("queued", "running")
    (second,) = wait_until_graded([queued["id"]], workers=[celery_worker_proc])
    assert second.verdict == "passed"
    assert second.attempt == 2
