"""A learner's files started as a web app and kept running, to answer requests one by one.

A live app boots exactly as a grading does (sandbox.runner): the files are checked and copied
into a per-run folder, the container starts with every limit of the policy and ``--network
none``, boot.py binds the app's socket and its control socket in the run's socket folder, the
folder is sealed before any code of the learner's runs, and only marker lines carrying the
run's nonce count. There is no harness: `LiveApp.request()` sends one HTTP request over the
app's Unix socket and records the exchange (sandbox.exchanges), with what the app printed while
it handled that request, found between two marks asked for on the control socket, as the
harness asks for them around each test.

Everything is bounded: the time of an answer (`request_timeout`, for the whole answer), the
bytes read of it (MAX_RESPONSE_BYTES: what a page can show, and one byte more to know it was
cut), its head, the output kept per request, the requests one app answers (MAX_REQUESTS), and
the container's own life: boot.py ends it at its deadline (start-up time + lifetime + grace)
even when the process that should stop it was killed. `stop()` always removes the container
and the run folder.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from sandbox import config, engine, exchanges, images
from sandbox.archive import SubmissionRejected, pack_files, unpack_submission
from sandbox.container import boot
from sandbox.harness.grader import BASE_URL as APP_URL
from sandbox.harness.grader import AppClient, CheckFailed
from sandbox.harness.marks import MARK_TIMEOUT, Marks
from sandbox.policy import DEFAULT_POLICY, SandboxPolicy
from sandbox.runner import (
    BOOT_DIR,
    CONTAINER_GRACE,
    CONTROL_NAME,
    PYTHON,
    SEGMENT_LIMIT,
    SOCKET_MOUNT,
    SUBMISSION_MOUNT,
    GradingRun,
    OutputCapture,
    RunDirs,
    Segment,
    SharedDirWatch,
)

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0  # seconds for one whole answer
MAX_RESPONSE_BYTES = exchanges.MAX_BODY_CHARS * 4 + 1  # read of a body; the rest is dropped
MAX_REQUESTS = 500  # one live app answers at most this many (two marks each)
SETTLE_AFTER_ERROR = 0.02  # uvicorn prints a traceback just after a 500 has gone out
LIVE_LABEL = "webcourse.live"  # on a live app's container, beside the run label
# Headers the client sets itself from the request it sends.
HOP_BY_HOP = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
# Where boot.py looks for each framework's app (boot.find_module), the first one preferred.
APP_MODULES = {
    "flask": ("app.py", "app/__init__.py"),
    "wsgi": ("app.py", "app/__init__.py"),
    "asgi": ("app.py", "app/__init__.py"),
    "fastapi": ("main.py", "app/main.py"),
}


class LiveAppFailed(Exception):
    """The app could not be started; the message is meant for the learner."""

    def __init__(self, message: str, *, status: str = "error", log: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status  # "error", or "timeout" when it did not start in time
        self.log = log


class HttpRequest(Protocol):
    """What a request to send needs (grading.interactive.LiveRequest is one)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: str


def app_files(files: Mapping[str, str], framework: str, entry: str) -> dict[str, str]:
    """Return the files with `entry` where boot.py looks for the app of `framework`.

    A lesson's example may keep its app in another module (hello.py); a module of the expected
    name that imports everything from it lets boot.py find the app while tracebacks still name
    the author's file. Django apps start from manage.py, whatever the entry.
    """
    files = dict(files)
    expected = APP_MODULES.get(framework)
    if expected is None or entry in expected or any(name in files for name in expected):
        return files
    if not entry.endswith(".py") or entry not in files:
        return files
    module = entry[: -len(".py")].replace("/", ".")
    files[expected[0]] = f"from {module} import *  # noqa: F403\n"
    return files


class _Run(GradingRun):
    """A grading run's boot, without its harness: start the container, wait until it serves.

    The waiting and its verdicts are GradingRun's, so a live app that does not start says so
    in the same words as a grading would.
    """

    def boot(self, files: Mapping[str, str], lifetime: float) -> dict[str, Any] | None:
        """Start the app; return None once it answers, else the result that ends the run."""
        engine.client()  # EngineUnavailable now, before anything is created
        image = self.image or images.runner_image_tag()
        # The app may take its start-up time, then lives for `lifetime`.
        self.deadline = time.monotonic() + self.policy.boot_timeout + lifetime
        self.dirs = RunDirs.create(config.current().run_dir, self.run_id)
        self.dirs.mount_sockets_tmpfs(self.policy.shared_dir_bytes)
        try:
            self.archive = pack_files(files, policy=self.policy)
            unpack_submission(self.archive, self.dirs.submission, policy=self.policy)
        except SubmissionRejected as exc:
            return self._not_run("error", str(exc))
        dirs = self.dirs
        self.container = engine.start_app_container(
            image=image,
            policy=self.policy,
            command=[PYTHON, f"{BOOT_DIR}/boot.py", self.framework],
            mounts=[
                engine.Mount(dirs.boot, BOOT_DIR),
                engine.Mount(dirs.submission, SUBMISSION_MOUNT),
                engine.Mount(dirs.sockets, SOCKET_MOUNT, read_only=False),
            ],
            labels={
                engine.RUN_LABEL: self.run_id,
                engine.CREATED_LABEL: f"{time.time():.3f}",
                LIVE_LABEL: f"{lifetime:g}",
            },
            environment={
                boot.NONCE_VARIABLE: self.nonce,
                boot.DEADLINE_VARIABLE: f"{self.deadline - time.monotonic() + CONTAINER_GRACE:.1f}",
            },
            name=f"webcourse-live-{self.run_id}",
        )
        self.capture = OutputCapture(
            self.container.output,
            self.policy.log_limit_bytes,
            self.events,
            self.nonce,
            max_segments=2 * MAX_REQUESTS + 2,
        )
        self.capture.start()
        self.watch = SharedDirWatch(dirs.sockets, self._kill_container)
        self.watch.start()
        return self._wait_for_boot()


class LiveApp:
    """A learner's app, started as grading starts one, answering requests until stopped.

    `start()` raises LiveAppFailed with a message for the learner when the app cannot start;
    `request()` returns one exchange (sandbox.exchanges); `stop()` removes everything and may
    be called at any time, more than once. Requests are answered one at a time.
    """

    def __init__(
        self,
        *,
        files: Mapping[str, str],
        framework: str,
        lifetime: float,
        policy: SandboxPolicy = DEFAULT_POLICY,
        request_timeout: float = REQUEST_TIMEOUT,
        image: str | None = None,
    ) -> None:
        self.files = dict(files)
        self.lifetime = lifetime
        self.request_timeout = request_timeout
        self.answered = 0
        self.expires_at: float | None = None  # epoch seconds, once it runs
        self._run = _Run(
            archive=b"",
            tests={},
            framework=framework,
            policy=policy,
            on_phase=None,
            queued_at=None,
            image=image,
        )
        self._client: AppClient | None = None
        self._marks: Marks | None = None  # made once the run's folders exist
        self._kept_from = 1  # segments before this one are freed (0 holds the start-up output)
        self._stopped = False

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def run_folder(self):
        return self._run.dirs.root if self._run.dirs is not None else None

    @property
    def container_id(self) -> str | None:
        return self._run.container.id if self._run.container is not None else None

    def start(self) -> None:
        """Boot the app; raise LiveAppFailed (after cleaning up) if it does not start."""
        try:
            failed = self._run.boot(self.files, self.lifetime)
        except BaseException:
            self.stop()
            raise
        if failed is not None:
            self.stop()
            raise LiveAppFailed(
                failed["message"], status=failed["status"], log=failed.get("log", "")
            )
        self.expires_at = time.time() + self.lifetime
        self._client = AppClient(
            socket_path=str(self._run.dirs.socket),
            timeout=self.request_timeout,
            max_body_bytes=8 * MAX_RESPONSE_BYTES,  # never reached: reading stops sooner
        )

    def ended(self) -> bool:
        """Return whether the container has ended (the app crashed, or its time was up)."""
        capture = self._run.capture
        return capture is not None and capture.ended.is_set()

    def end_message(self) -> str:
        """Say why the app ended by itself, in words for the learner."""
        if self._run.watch is not None and self._run.watch.tripped:
            return self._run._socket_folder_message()
        state = engine.container_state(self._run.container.id)
        if state.exit_code == boot.EXIT_DEADLINE:
            return "Your app's time was up, so it was stopped."
        if state.oom_killed or state.exit_code == 137:
            memory = self._run.policy.memory_bytes // (1024 * 1024)
            return f"Your app ran out of memory ({memory} MiB) and was stopped."
        if state.exit_code is None:  # removed by someone else: a host sweeping its orphans
            return "Your app was stopped."
        tail = self._run.capture.tail_lines(15)
        message = f"Your app stopped (exit code {state.exit_code})"
        return message + (f":\n{tail}" if tail else ".")

    def log(self) -> str:
        """Return what the app printed while it started."""
        capture = self._run.capture
        return capture.text([0]) if capture is not None else ""

    # Requests --------------------------------------------------------------------------------

    def request(self, request: HttpRequest, *, timeout: float | None = None) -> dict[str, Any]:
        """Send one request to the app; return the exchange, with the output printed meanwhile.

        `timeout` (default: the app's request_timeout) bounds the whole answer.
        """
        if self._client is None or self._stopped:
            return self._no_answer(request, "The app is not running.")
        if self.answered >= MAX_REQUESTS:
            return self._no_answer(
                request, f"This app has answered its {MAX_REQUESTS} requests; start it again."
            )
        self.answered += 1
        headers = [(n, v) for n, v in request.headers if n.lower() not in HOP_BY_HOP]
        sent = request.body.encode()
        first = self._mark()
        started = time.perf_counter()
        status, reason, response_headers, data, error = None, "", [], b"", ""
        try:
            status, reason, response_headers, data = self._send(
                request.method, request.path, headers, sent, timeout or self.request_timeout
            )
        except (CheckFailed, httpx.HTTPError, OSError) as exc:  # too slow, too big, no app
            error = str(exc) or type(exc).__name__
        except (httpx.InvalidURL, ValueError) as exc:
            error = f"The request could not be sent: {exc}"
        duration = (time.perf_counter() - started) * 1000
        if status is None or status >= 500:
            time.sleep(SETTLE_AFTER_ERROR)
        last = self._mark()
        result = exchanges.exchange(
            method=request.method,
            path=request.path,
            request_headers=headers,
            request_body=sent,
            status=status,
            reason=reason,
            response_headers=response_headers,
            response_body=data,
            output=self._output_between(first, last),
            error=error,
            duration_ms=duration,
        )
        if result["response"] is not None:
            _report_real_size(result["response"]["body"], response_headers, len(data))
        return result

    def _send(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, timeout: float
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        request = self._client.build_request(
            method, _url(path), headers=headers, content=body or None, timeout=timeout
        )
        with contextlib.closing(self._client.send(request, stream=True)) as response:
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) >= MAX_RESPONSE_BYTES:
                    del data[MAX_RESPONSE_BYTES:]
                    break  # closing the response drops the connection and the rest
            return (
                response.status_code,
                response.reason_phrase,
                list(response.headers.multi_items()),
                bytes(data),
            )

    def _no_answer(self, request: HttpRequest, error: str) -> dict[str, Any]:
        return exchanges.exchange(
            method=request.method,
            path=request.path,
            request_headers=request.headers,
            request_body=request.body.encode(),
            error=error,
        )

    def _mark(self) -> str | None:
        """Ask boot.py for a mark in the app's output; return its token (None: no mark)."""
        if self._marks is None:
            self._marks = Marks(self._run.dirs.sockets / CONTROL_NAME)
        return self._marks.mark()

    def _output_between(self, first: str | None, last: str | None) -> str:
        """Return the output between two marks (once the second has arrived), and forget it."""
        capture = self._run.capture
        if first is None or last is None:
            return ""
        deadline = time.monotonic() + MARK_TIMEOUT
        while last not in capture.marks and time.monotonic() < deadline:
            if capture.ended.is_set():
                break
            time.sleep(0.002)
        start, end = capture.marks.get(first), capture.marks.get(last)
        if start is None or end is None:
            return ""
        text = capture.text(range(start, end))
        # Shown once: free what this request's output, and the output before it, held.
        for index in range(max(self._kept_from, 1), end):
            capture.segments[index] = Segment(SEGMENT_LIMIT)
        self._kept_from = end
        return text

    # Stopping --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Remove the container and the run folder (whatever happened); again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        if self._marks is not None:
            self._marks.close()
        try:
            self._run._clean_up()
        except Exception:  # the container ends at its deadline; the sweep removes the rest
            logger.exception("Cleaning up live app %s failed", self.run_id)

    def __enter__(self) -> LiveApp:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def _url(path: str) -> httpx.URL:
    """Return the URL of a path as the reader wrote it: the target sent, byte for byte.

    Only what HTTP cannot carry changes: characters beyond ASCII are percent-encoded, and a
    fragment (#...) stays with the reader, as a browser keeps it.
    """
    target = quote(path.partition("#")[0], safe=_PRINTABLE_ASCII) or "/"
    return httpx.URL(APP_URL).copy_with(raw_path=target.encode("ascii"))


def _report_real_size(body: dict[str, Any], headers: Iterable[tuple[str, str]], read: int) -> None:
    """Where the body was cut, say its whole size as the app declared it (if it did)."""
    if read < MAX_RESPONSE_BYTES:
        return
    body["truncated"] = True
    declared = next((v for n, v in headers if n.lower() == "content-length"), "")
    if declared.isdigit() and int(declared) > read:
        body["bytes"] = int(declared)
