"""/healthz and /readyz against real services: a private Redis, the test database, and a
subprocess whose database does not answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import redis as redis_lib
from django.conf import settings

from config import health
from grading import hosts
from grading.hosts import HostStatus
from tests.celery_fixtures import RedisServer

ALL_OK = {"database": "ok", "broker": "ok", "grading_hosts": "ok"}


@pytest.fixture
def private_redis(tmp_path, settings):
    """A Redis of this test's own, as the site's broker; the test may stop it."""
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    yield server
    server.stop()
    health._broker_client.cache_clear()


def announce(server: RedisServer, host: str = "grader-a", **changes) -> None:
    fields = {"capacity": 2, "running": 0, "docker": "ok", "seen": time.time(), **changes}
    hosts.publish(redis_lib.Redis.from_url(server.url), HostStatus(host=host, **fields))


def test_healthz_answers_without_touching_the_database(client):
    # No `db` fixture: pytest-django makes any database access here raise.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_probes_by_address_over_plain_http_are_neither_refused_nor_redirected(db, client, settings):
    settings.ALLOWED_HOSTS = ["course.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    # The checks are on: a page asked for by address is refused, by name redirected to HTTPS.
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    assert client.get("/", HTTP_HOST="course.example.org").status_code == 301
    # A probe gets its answer either way.
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code in (200, 503)


def test_readyz_is_ready_when_the_database_the_broker_and_a_grading_host_answer(
    db, client, private_redis
):
    announce(private_redis)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ALL_OK}
    assert response["Cache-Control"] == "no-store"


def test_readyz_is_unavailable_without_a_grading_host(db, client, private_redis):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {**ALL_OK, "grading_hosts": "failed"},
    }


@pytest.mark.parametrize(
    "changes",
    [{"docker": "Cannot connect to the Docker daemon"}, {"seen": time.time() - 60}],
    ids=["its Docker engine does not answer", "not renewed lately"],
)
def test_readyz_counts_only_healthy_hosts_seen_lately(db, client, private_redis, changes):
    announce(private_redis, **changes)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["grading_hosts"] == "failed"


def test_readyz_is_unavailable_when_the_broker_is_down_and_says_nothing_of_it(
    db, client, private_redis
):
    announce(private_redis)
    assert client.get("/readyz").status_code == 200
    private_redis.stop()

    started = time.monotonic()
    response = client.get("/readyz")

    assert time.monotonic() - started < 2 * health.REDIS_TIMEOUT + 1
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "failed", "grading_hosts": "failed"},
    }
    assert str(private_redis.port) not in response.content.decode()


READYZ_IN_A_FRESH_PROCESS = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/readyz", HTTP_HOST="10.0.0.7")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_readyz_is_unavailable_when_the_database_does_not_answer(private_redis, tmp_path):
    announce(private_redis)
    empty = tmp_path / "empty.env"
    empty.write_text("")
    # Nothing listens on port 1: the connection is refused at once.
    database_url = "postgres://course:secret-password@127.0.0.1:1/course"

    done = subprocess.run(
        [sys.executable, "-c", READYZ_IN_A_FRESH_PROCESS],
        cwd=settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": str(empty),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": private_redis.url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {
        "status": 503,
        "body": {"status": "unavailable", "checks": {**ALL_OK, "database": "failed"}},
    }
    assert "secret-password" not in done.stdout
