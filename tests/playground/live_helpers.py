"""What the live-app tests share: reading the broker, and a stand-in for a host's replies.

The stand-in plays the host's side of the protocol (grading.interactive) on the real Redis:
it sets the app's state and answers requests with an exchange made by sandbox.exchanges. It
lets the site's service be tested on its own; the end-to-end tests run a real grading host.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import redis

from grading.interactive import INTERACTIVE_QUEUE, LIVE_KEY, LIVE_REPLY, LIVE_REQUESTS, LIVE_TASK
from sandbox.exchanges import exchange

HELLO_FLASK = (
    Path(__file__).resolve().parents[2] / "content/python-web/exercises/hello/solution/flask"
)


def hello_files() -> dict[str, str]:
    return {"app.py": (HELLO_FLASK / "app.py").read_text()}


def sent_live_jobs(client: redis.Redis) -> list[dict[str, Any]]:
    """Return the live jobs waiting on the interactive queue (kombu's layout), oldest first."""
    jobs = []
    for raw in reversed(client.lrange(INTERACTIVE_QUEUE, 0, -1)):
        envelope = json.loads(raw)
        assert envelope["headers"]["task"] == LIVE_TASK
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        jobs.append(args[0])
    return jobs


def set_host_state(client: redis.Redis, session: str, state: str, **fields: Any) -> None:
    client.hset(LIVE_KEY.format(session=session), mapping={"state": state, **fields})


class StandInHost:
    """Answers the requests of one session on a thread, as a host would: 200 JSON each."""

    def __init__(self, client: redis.Redis, session: str, *, delay: float = 0.0) -> None:
        self.client = client
        self.session = session
        self.delay = delay
        self.seen: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StandInHost:
        set_host_state(self.client, self.session, "running", expires=repr(time.time() + 300))
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        key = LIVE_REQUESTS.format(session=self.session)
        while not self._stop.is_set():
            item = self.client.blpop([key], timeout=0.2)
            if item is None:
                continue
            message = json.loads(item[1])
            self.seen.append(message)
            if message.get("stop"):
                continue
            time.sleep(self.delay)
            name = message["path"].rsplit("/", 1)[-1]
            answer = exchange(
                method=message["method"],
                path=message["path"],
                request_headers=[tuple(pair) for pair in message["headers"]],
                request_body=message["body"].encode(),
                status=200,
                reason="OK",
                response_headers=[("Content-Type", "application/json")],
                response_body=json.dumps({"message": f"Hello, {name}!"}).encode(),
                output=f"GET {message['path']} handled\n",
                duration_ms=3.2,
            )
            reply = LIVE_REPLY.format(session=self.session, request_id=message["request_id"])
            self.client.rpush(reply, json.dumps(answer))
