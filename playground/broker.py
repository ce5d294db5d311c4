"""The site's client on the broker, where grading hosts leave the results of interactive runs."""

from __future__ import annotations

import redis as redis_lib
from celery import current_app

# Seconds a call waits for the broker: an action the reader asked for may wait a little; a read
# a page makes on its way (is a live app running?) gives up sooner, and the page goes on without.
TIMEOUT = 5.0
QUICK_TIMEOUT = 0.5

_clients: dict[tuple[str, bool], redis_lib.Redis] = {}


def broker(*, quick: bool = False) -> redis_lib.Redis:
    """Return a Redis client on the Celery broker (one per broker address and process)."""
    url = current_app.conf.broker_url
    key = (url, quick)
    if key not in _clients:
        timeout = QUICK_TIMEOUT if quick else TIMEOUT
        _clients[key] = redis_lib.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
    return _clients[key]
