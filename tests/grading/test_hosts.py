from __future__ import annotations

import time

import pytest
import redis as redis_lib

from grading import hosts
from grading.hosts import HostStatus


@pytest.fixture
def redis(celery_broker):
    client = redis_lib.Redis.from_url(celery_broker.url)
    client.flushdb()
    yield client
    client.close()


def status(host: str, *, docker: str = "ok", seen: float | None = None) -> HostStatus:
    return HostStatus(
        host=host, capacity=2, running=1, docker=docker, seen=time.time() if seen is None else seen
    )


def test_a_published_status_is_read_back_and_expires(redis):
    hosts.publish(redis, status("grader-a"))
    hosts.publish(redis, status("grader-b", docker="the engine does not answer"))

    found = hosts.read_all(redis)

    assert [s.host for s in found] == ["grader-a", "grader-b"]
    assert [s.healthy for s in found] == [True, False]
    assert 0 < redis.ttl(hosts.KEY_PREFIX + "grader-a") <= hosts.EXPIRE_SECONDS


def test_only_healthy_hosts_seen_lately_count_as_recent():
    now = time.time()
    statuses = [
        status("fresh", seen=now - 1),
        status("stale", seen=now - 100),
        status("broken", docker="no engine", seen=now),
    ]

    assert [s.host for s in hosts.recent(statuses, within=10, now=now)] == ["fresh"]


def test_a_withdrawn_host_is_gone_and_junk_in_its_place_is_ignored(redis):
    hosts.publish(redis, status("grader-a"))
    hosts.withdraw(redis, "grader-a")
    redis.set(hosts.KEY_PREFIX + "junk", b"not json")
    redis.set(hosts.KEY_PREFIX + "huge", b"x" * (hosts.MAX_STATUS_BYTES + 1))
    redis.set(hosts.KEY_PREFIX + "partial", b'{"host": "p"}')

    assert hosts.read_all(redis) == []
