"""Interactive runs: the messages between the site and the grading hosts, as plain data.

Two kinds of work travel on INTERACTIVE_QUEUE (grading hosts consume it beside the grading
queue), each sent by task name so that neither side imports the other:

- RUN_TASK, a **run** (`RunJob`): a lesson's code block, with the other files of its example,
  run once. ``kind="script"`` runs ``python ENTRY`` and keeps stdout, stderr and the exit
  status; ``kind="app"`` starts the files as a web app of `framework` under its real server,
  sends `requests` to it one by one and keeps each exchange (sandbox.exchanges).
  The host pushes exactly one JSON result (`run_result`) onto the list RESULT_KEY, which
  expires after RESULT_TTL; the site waits for it there (no database row: a run is not kept).

- LIVE_TASK, a **live app** (`LiveJob`): a learner's files started as an app and kept for
  `lifetime` seconds. The host writes the session's state into the hash LIVE_KEY ("booting",
  "running", "stopped", "failed" with a message, "expires" as epoch seconds) and serves the
  requests the site pushes onto LIVE_REQUESTS (each a JSON `LiveRequest`), answering each on
  LIVE_REPLY. The site asks the app to stop by pushing {"stop": true} onto LIVE_REQUESTS.
  Learner containers are never reachable from the network: the host talks to the app over
  its Unix socket, and only the broker carries requests.

Everything here is bounded: what a browser may ask for and what a host sends back.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.spec import FRAMEWORKS

INTERACTIVE_QUEUE = "interactive"
RUN_TASK = "grading.run"
LIVE_TASK = "grading.live"

RESULT_KEY = "webcourse:run:{run_id}:result"
RESULT_TTL = 300  # seconds a result waits for its reader
LIVE_KEY = "webcourse:live:{session}"
LIVE_REQUESTS = "webcourse:live:{session}:requests"
LIVE_REPLY = "webcourse:live:{session}:reply:{request_id}"

KINDS = ("script", "app")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

MAX_FILES = 20
MAX_FILES_BYTES = 256 * 1024  # all files of a run, paths included
MAX_REQUESTS = 10  # sent to an app run
MAX_REQUEST_BODY = 64 * 1024
MAX_REQUEST_HEADERS = 20
MAX_HEADER_VALUE_CHARS = 1000
MAX_PATH_CHARS = 2000
RUN_TIMEOUT = 10.0  # seconds a run may take in all, from container start to its end
LIVE_LIFETIME = 300.0  # seconds a live app is kept, at most

# \Z, not $ (which also matches before a final line break), here and below.
_SAFE_PATH = re.compile(r"(?!/)(?!.*(?:^|/)\.\.(?:/|\Z))[A-Za-z0-9_./-]{1,200}\Z")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}\Z")


class MessageRejected(ValueError):
    """A message is not a run, a live job or a request this side accepts."""


def new_id() -> str:
    return uuid.uuid4().hex


def _files(data: Any) -> dict[str, str]:
    if not isinstance(data, dict) or not 0 < len(data) <= MAX_FILES:
        raise MessageRejected(f"a run needs between 1 and {MAX_FILES} files")
    size = 0
    for path, text in data.items():
        if not isinstance(path, str) or not _SAFE_PATH.match(path) or not isinstance(text, str):
            raise MessageRejected(f"bad file path {str(path)[:60]!r}")
        size += len(path.encode()) + len(text.encode())
    if size > MAX_FILES_BYTES:
        raise MessageRejected(f"the files come to more than {MAX_FILES_BYTES // 1024} KiB")
    return dict(data)


def _id(data: Any, name: str) -> str:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, str) or not 0 < len(value) <= 64 or not value.isalnum():
        raise MessageRejected(f"bad {name}")
    return value


@dataclass(frozen=True)
class LiveRequest:
    """One HTTP request a reader asks an app for (console, or an example of a lesson)."""

    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    request_id: str = ""  # set for console requests: names the reply

    def to_message(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
            "request_id": self.request_id,
        }

    @classmethod
    def from_message(cls, data: Any) -> LiveRequest:
        """Read a request; raise MessageRejected with a reason a reader understands."""
        if not isinstance(data, dict):
            raise MessageRejected("a request must be a JSON object")
        method = str(data.get("method") or "GET").upper()
        if method not in METHODS:
            raise MessageRejected(f"the method must be one of {', '.join(METHODS)}")
        path = data.get("path") or "/"
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_PATH_CHARS:
            raise MessageRejected(
                f"the path must start with / and be at most {MAX_PATH_CHARS} characters"
            )
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in path):
            raise MessageRejected(
                "the path may not contain spaces or control characters (encode them as %20 …)"
            )
        raw_headers = data.get("headers") or []
        if not isinstance(raw_headers, list) or len(raw_headers) > MAX_REQUEST_HEADERS:
            raise MessageRejected(f"at most {MAX_REQUEST_HEADERS} headers")
        headers = []
        for pair in raw_headers:
            if not (
                isinstance(pair, list | tuple)
                and len(pair) == 2
                and all(isinstance(p, str) for p in pair)
            ):
                raise MessageRejected("each header is a name and a value")
            name, value = pair
            if not _HEADER_NAME.match(name):
                raise MessageRejected(f"{name[:40]!r} is not a header name")
            if len(value) > MAX_HEADER_VALUE_CHARS or any(c in value for c in "\r\n\x00"):
                raise MessageRejected(f"the value of {name} is too long or holds a line break")
            headers.append((name, value))
        body = data.get("body") or ""
        if not isinstance(body, str) or len(body.encode()) > MAX_REQUEST_BODY:
            raise MessageRejected(
                f"the body must be text of at most {MAX_REQUEST_BODY // 1024} KiB"
            )
        request_id = data.get("request_id") or ""
        if request_id and (
            not isinstance(request_id, str) or len(request_id) > 64 or not request_id.isalnum()
        ):
            raise MessageRejected("bad request_id")
        return cls(
            method=method, path=path, headers=tuple(headers), body=body, request_id=request_id
        )


@dataclass(frozen=True)
class RunJob:
    run_id: str
    kind: str  # "script" or "app"
    files: dict[str, str]  # path → text
    entry: str = "main.py"  # the script (kind "script") or the app's module (kind "app")
    framework: str = ""  # kind "app": one of sandbox.spec.FRAMEWORKS
    requests: tuple[LiveRequest, ...] = ()  # kind "app"
    queued_at: str | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "files": dict(self.files),
            "entry": self.entry,
            "framework": self.framework,
            "requests": [r.to_message() for r in self.requests],
            "queued_at": self.queued_at,
        }

    @classmethod
    def from_message(cls, data: Any) -> RunJob:
        if not isinstance(data, dict):
            raise MessageRejected("a run must be a JSON object")
        run_id = _id(data, "run_id")
        kind = data.get("kind")
        if kind not in KINDS:
            raise MessageRejected("bad kind")
        files = _files(data.get("files"))
        entry = data.get("entry") or "main.py"
        if entry not in files:
            raise MessageRejected(f"the entry {str(entry)[:60]!r} is not one of the files")
        framework = data.get("framework") or ""
        if kind == "app" and framework not in FRAMEWORKS:
            raise MessageRejected("bad framework")
        raw = data.get("requests") or []
        if not isinstance(raw, list) or len(raw) > MAX_REQUESTS:
            raise MessageRejected(f"at most {MAX_REQUESTS} requests")
        queued_at = data.get("queued_at")
        return cls(
            run_id=run_id,
            kind=kind,
            files=files,
            entry=entry,
            framework=framework,
            requests=tuple(LiveRequest.from_message(r) for r in raw),
            queued_at=queued_at if isinstance(queued_at, str) else None,
        )


@dataclass(frozen=True)
class LiveJob:
    session: str  # names the keys above; the site keeps which learner it belongs to
    files: dict[str, str]
    framework: str
    lifetime: float = LIVE_LIFETIME
    queued_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "files": dict(self.files),
            "framework": self.framework,
            "lifetime": self.lifetime,
            "queued_at": self.queued_at,
        }

    @classmethod
    def from_message(cls, data: Any) -> LiveJob:
        if not isinstance(data, dict):
            raise MessageRejected("a live job must be a JSON object")
        session = _id(data, "session")
        files = _files(data.get("files"))
        framework = data.get("framework")
        if framework not in FRAMEWORKS:
            raise MessageRejected("bad framework")
        lifetime = data.get("lifetime", LIVE_LIFETIME)
        if (
            not isinstance(lifetime, int | float)
            or isinstance(lifetime, bool)
            or not 1 <= lifetime <= LIVE_LIFETIME
        ):
            raise MessageRejected(f"a lifetime is between 1 and {LIVE_LIFETIME:g} seconds")
        queued_at = data.get("queued_at")
        return cls(
            session=session,
            files=files,
            framework=framework,
            lifetime=float(lifetime),
            queued_at=queued_at if isinstance(queued_at, str) else None,
        )


def run_result(
    run_id: str,
    *,
    status: str,
    message: str = "",
    stdout: str = "",
    stderr: str = "",
    exit_code: int | None = None,
    exchanges: list[dict[str, Any]] | None = None,
    duration_ms: float | None = None,
) -> str:
    """Return the JSON a host pushes onto RESULT_KEY for a run.

    `status`: "ok" (it ran; see exit_code), "error" (it could not run: `message` says why, in
    words for the reader), "timeout" (stopped at its time limit).
    """
    return json.dumps(
        {
            "run_id": run_id,
            "status": status,
            "message": message,
            "stdout": stdout,
            "stderr": stderr,
            "exit_code": exit_code,
            "exchanges": exchanges or [],
            "duration_ms": duration_ms,
        }
    )
