"""Grading hosts announce themselves through the broker (Redis): who they are, what they can take.

Each host writes one key, ``webcourse:grading-host:<host id>``, holding a small JSON status, and
renews it every few seconds with an expiry, so a host that dies disappears on its own. The web
side reads the keys to tell whether anyone is grading (``/readyz``) and to show capacity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

KEY_PREFIX = "webcourse:grading-host:"
# A host renews its key every HEARTBEAT_SECONDS; a key not renewed for EXPIRE_SECONDS is gone.
HEARTBEAT_SECONDS = 5
EXPIRE_SECONDS = 30
# A host not heard from for this long is presumed dead: three heartbeats missed. The site then
# grades its running jobs elsewhere (exercises.services.submission_sweep).
LOST_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS
MAX_STATUS_BYTES = 4096  # a status is a few fields; refuse to read anything larger


@dataclass(frozen=True)
class HostStatus:
    """What a grading host says about itself."""

    host: str  # a stable id, e.g. the machine's name
    capacity: int  # gradings it runs at once
    running: int  # gradings running now
    docker: str  # "ok", or why its Docker engine does not answer
    seen: float  # when it said so (Unix time)

    @property
    def healthy(self) -> bool:
        return self.docker == "ok"

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.seen


def publish(redis, status: HostStatus) -> None:
    """Store a host's status in the broker, to expire unless it is renewed."""
    redis.set(KEY_PREFIX + status.host, json.dumps(asdict(status)), ex=EXPIRE_SECONDS)


def withdraw(redis, host: str) -> None:
    """Remove a host's status at a clean shutdown."""
    redis.delete(KEY_PREFIX + host)


def read_all(redis) -> list[HostStatus]:
    """Return the statuses of the hosts seen in the last EXPIRE_SECONDS, by host id."""
    keys = sorted(redis.scan_iter(match=KEY_PREFIX + "*", count=100))
    statuses = [_parse(raw) for raw in (redis.mget(keys) if keys else [])]
    return [s for s in statuses if s is not None]


def recent(statuses: Iterable[HostStatus], *, within: float, now: float | None = None) -> list:
    """Return the healthy hosts among `statuses` seen within `within` seconds."""
    return [s for s in statuses if s.healthy and s.age(now) <= within]


def _parse(raw: bytes | str | None) -> HostStatus | None:
    if raw is None or len(raw) > MAX_STATUS_BYTES:
        return None
    try:
        data = json.loads(raw)
        return HostStatus(
            host=str(data["host"])[:200],
            capacity=int(data["capacity"]),
            running=int(data["running"]),
            docker=str(data["docker"])[:500],
            seen=float(data["seen"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
