"""deploy/images.py: the site's image builds offline and a container from it answers /readyz.

The first run builds the image (about a minute, with the runner's base image already there);
later runs reuse it while nothing that goes into it changes (it is tagged by a hash of its
inputs), so only the container start is paid again.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_lib

from deploy import images
from grading import hosts
from sandbox import engine

pytestmark = [pytest.mark.sandbox, pytest.mark.image_build]

READY_TIMEOUT = 90.0  # migrations on SQLite, then gunicorn's start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_image_leaves_out_local_state_secrets_and_tests(tmp_path):
    for rel in (
        "manage.py", "config/settings.py", "static/css/site.css", "content/c/lesson.md",
        ".env", "var/db.sqlite3", ".venv/bin/python", "tests/test_x.py", ".git/HEAD",
        "config/__pycache__/settings.cpython-311.pyc", "db.sqlite3", "frontend/src/x.js",
        "content/c/exercises/e/tests/test_hidden.py", "content/c/.env",
    ):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")

    files = {str(path) for path in images.project_files(tmp_path)}

    assert files == {
        "manage.py", "config/settings.py", "static/css/site.css", "content/c/lesson.md",
        "content/c/exercises/e/tests/test_hidden.py",  # an exercise's hidden tests are content
    }  # fmt: skip


def test_the_tag_follows_the_projects_files():
    files = images.project_files()
    assert Path("config/settings.py") in files
    assert Path("deploy/healthcheck.py") in files

    assert images.inputs_hash(files) == images.inputs_hash(files)
    assert images.inputs_hash(files) != images.inputs_hash(files[:-1])


@pytest.fixture(scope="module")
def site_image() -> str:
    started = time.monotonic()
    tag = images.build_site_image(progress=lambda line: None)
    print(f"site image {tag}: {time.monotonic() - started:.1f} s")
    return tag


@pytest.fixture
def broker(redis_server):
    client = redis_lib.Redis.from_url(redis_server.url)
    client.flushdb()
    yield redis_server.url, client
    client.flushdb()
    client.close()


@pytest.fixture
def site_container(site_image, broker, tmp_path):
    """Run the image's web server as compose does, on SQLite, with the test's Redis."""
    port = free_port()
    container = engine.client().containers.run(
        site_image,
        # The compose file runs migrate as a service of its own before web starts.
        command=["sh", "-c", "python manage.py migrate --noinput -v0 && exec gunicorn "
                 "config.wsgi --config python:deploy.gunicorn"],
        environment={
            "DEBUG": "false",
            "SECRET_KEY": "test-only-" + "k" * 40,
            "ALLOWED_HOSTS": "course.example.org",
            "DATABASE_URL": "sqlite:////tmp/db.sqlite3",
            "REDIS_URL": broker[0],
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
        },
        # The test's Redis listens on loopback only; the host's network reaches it.
        network_mode="host",
        labels={"webcourse.test": "deploy"},
        detach=True,
    )  # fmt: skip
    try:
        yield container, f"http://127.0.0.1:{port}"
    finally:
        container.remove(force=True)


def announce_grading_host(client) -> None:
    hosts.publish(
        client,
        hosts.HostStatus(host="grader-test", capacity=2, running=0, docker="ok", seen=time.time()),
    )


def healthcheck(container, path: str = "/readyz") -> tuple[int, str]:
    """Run compose.yaml's health check of the web service in the container."""
    result = container.exec_run(["python", "-m", "deploy.healthcheck", path])
    return result.exit_code, result.output.decode(errors="replace")


@pytest.mark.timeout(600)
def test_a_container_of_the_image_is_ready_with_a_database_a_broker_and_a_grading_host(
    site_container, broker
):
    container, url = site_container
    announce_grading_host(broker[1])
    deadline = time.monotonic() + READY_TIMEOUT
    code, output = healthcheck(container)
    while code != 0 and time.monotonic() < deadline:
        container.reload()
        assert container.status == "running", container.logs()[-3000:].decode()
        time.sleep(1)
        announce_grading_host(broker[1])
        code, output = healthcheck(container)
    assert code == 0, output + container.logs()[-3000:].decode()

    answer = httpx.get(f"{url}/readyz", timeout=10)

    assert answer.status_code == 200
    assert answer.json()["checks"] == {"database": "ok", "broker": "ok", "grading_hosts": "ok"}
    # The site itself answers the proxy: its host name, over HTTPS, static files from the image.
    page = httpx.get(f"{url}/", headers={"Host": "course.example.org"}, timeout=10)
    assert page.status_code == 301  # no X-Forwarded-Proto: https yet, so to https://
    assert page.headers["location"] == "https://course.example.org/"
    user = container.exec_run(["id", "-u"]).output.decode().strip()
    assert user == "10000"

    # Without a grading host the check fails, and so does compose's health check.
    hosts.withdraw(broker[1], "grader-test")
    code, output = healthcheck(container)
    assert code == 1
    assert json.loads(output.split(" ", 2)[2])["checks"]["grading_hosts"] == "failed"
