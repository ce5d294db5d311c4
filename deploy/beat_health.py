"""Exit 0 if celery beat (its pid in PIDFILE) is running and the broker answers, else 1.

    python -m deploy.beat_health /tmp/celerybeat.pid

Beat has no endpoint of its own to ask; a beat that is alive but cannot reach Redis sends
nothing, so both are checked.
"""

from __future__ import annotations

import os
import sys

import redis


def main(argv: list[str]) -> int:
    pidfile = argv[1] if len(argv) > 1 else "/tmp/celerybeat.pid"  # noqa: S108 (a tmpfs)
    try:
        with open(pidfile) as file:
            os.kill(int(file.read().strip()), 0)
    except (OSError, ValueError) as exc:
        print(f"beat is not running: {exc}", file=sys.stderr)
        return 1
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5).ping()
    except (KeyError, redis.RedisError) as exc:
        print(f"the broker does not answer: {exc!r}", file=sys.stderr)
        return 1
    print("beat is running and the broker answers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
