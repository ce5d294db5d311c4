"""The site's client on the broker, where grading hosts leave the results of interactive runs."""

from __future__ import annotations

import redis as redis_lib
from celery import current_app

_clients: dict[str, redis_lib.Redis] = {}


def broker() -> redis_lib.Redis:
    """Return a Redis client on the Celery broker (one per broker address and process)."""
    url = current_app.conf.broker_url
    if url not in _clients:
        _clients[url] = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _clients[url]
