"""Health checks for load balancers and orchestrators: /healthz and /readyz.

``/healthz`` says the process is up and serving: it touches nothing else, so a database or
broker outage never gets healthy web processes restarted. ``/readyz`` says this process can do
its work: the database answers, the broker (Redis) answers, and at least one healthy grading
host has announced itself lately (grading.hosts). Both are public on purpose — a probe carries
no credentials — and say nothing secret: check names and "ok" or "failed", never an error
text, a host name or a URL.

A probe often reaches a web process by its address (``http://10.0.0.7:8000/readyz``), over
plain HTTP, with that address as its Host header. ProbeMiddleware comes first in MIDDLEWARE and
answers these paths before anything looks at the host name or the scheme, so neither
ALLOWED_HOSTS nor SECURE_SSL_REDIRECT turns a probe into a 400 or a redirect.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from functools import lru_cache

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

from grading import hosts

logger = logging.getLogger(__name__)

# A grading host renews its status every HEARTBEAT_SECONDS; one that missed three renewals in
# a row is not counted, though its key lives on until it expires.
HOST_SEEN_WITHIN = 3 * hosts.HEARTBEAT_SECONDS
# A probe must answer quickly even when Redis does not: each Redis call waits this long at most.
REDIS_TIMEOUT = 2.0

OK = "ok"
FAILED = "failed"


def healthz(request: HttpRequest) -> HttpResponse:
    """Say the process is up; touch nothing else."""
    return HttpResponse(b"ok\n", content_type="text/plain")


def readyz(request: HttpRequest) -> JsonResponse:
    """Check the database, the broker and the grading hosts; 200 if all answer, else 503."""
    checks = {"database": _check_database()}
    client = _broker_client(settings.REDIS_URL)
    checks["broker"] = _check(lambda: client.ping(), "broker")
    if checks["broker"] == OK:
        checks["grading_hosts"] = _check_grading_hosts(client)
    else:
        checks["grading_hosts"] = FAILED  # read through the broker: unknown, so not ready
    ready = all(value == OK for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


class ProbeMiddleware:
    """Answer the probe paths before host and scheme checks (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)


# Checks ----------------------------------------------------------------------------------


def _check(call: Callable[[], object], name: str) -> str:
    try:
        call()
    except Exception as exc:
        logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        return FAILED
    return OK


def _check_database() -> str:
    connection = connections["default"]

    def query() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    result = _check(query, "database")
    if result == FAILED:
        # Drop the broken connection, so the next request (or probe) connects afresh.
        with contextlib.suppress(DatabaseError):
            connection.close()
    return result


def _check_grading_hosts(client: redis.Redis) -> str:
    try:
        statuses = hosts.read_all(client)
    except redis.RedisError as exc:
        logger.warning("Readiness check grading_hosts failed: %s", exc)
        return FAILED
    if hosts.recent(statuses, within=HOST_SEEN_WITHIN, now=time.time()):
        return OK
    logger.warning(
        "Readiness check grading_hosts failed: no healthy grading host seen in the last %s s "
        "(%d announced)",
        HOST_SEEN_WITHIN,
        len(statuses),
    )
    return FAILED


@lru_cache(maxsize=4)
def _broker_client(url: str) -> redis.Redis:
    """Return a client (with its connection pool) for the broker at `url`, made once."""
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
