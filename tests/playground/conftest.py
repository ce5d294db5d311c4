from __future__ import annotations

import socket

import pytest
import redis

from tests.celery_fixtures import _use_broker


@pytest.fixture
def live_redis(celery_broker) -> redis.Redis:
    """Return a client on the real broker the site uses, emptied for the test."""
    celery_broker.flush()
    return redis.Redis.from_url(celery_broker.url)


@pytest.fixture
def broker_down(celery_broker):
    """Point the site at a broker address where nothing listens, for the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _use_broker(f"redis://127.0.0.1:{port}/0")
    yield
    _use_broker(celery_broker.url)
