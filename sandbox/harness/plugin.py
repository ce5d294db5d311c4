"""pytest plugin of the grading harness: fixtures, markers, and a JSON report of every test.

The report is rewritten (atomically) after collection and at the start and end of each test,
so whoever started the harness can read how far it got even if it had to kill it. With
--done-fd the plugin writes "done" to that file descriptor once the report is final.
As each test starts and ends, the plugin asks the app's container for a mark (a line in its
output, see sandbox/container/boot.py) through the control socket beside the app's socket, and
records the marks' tokens in the report: the runner uses them to tell which of the app's
output was printed during which test. With --go-fd the plugin collects, writes the report,
then waits for a line on that file descriptor (a copy of the harness's stdin, which pytest's
capturing takes over): "go" runs the tests, anything else (or end of input) stops without
running them. That lets the runner collect tests while the learner's app is still booting.

Each visible test's requests to the app and its answers go into the report too, as
"exchanges" (sandbox.exchanges; the first few and the last, "more_exchanges" counting the
ones left out), within a size budget per test and per report: a test that sends ten thousand
requests, or an app that answers each with megabytes, leaves a report of the same small size.
Hidden tests record none.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.harness.grader import (
    AppClient,
    CheckFailed,
    ExchangeLog,
    PreconditionFailed,
    record_exchanges,
)
from sandbox.harness.marks import Marks
from sandbox.textsafety import describe_character, hidden_character

VISIBILITIES = ("visible", "hidden")
MAX_MESSAGE_CHARS = 2000
MAX_HINT_CHARS = 120
CONTROL_SOCKET_NAME = "control.sock"  # beside the app's socket (boot.CONTROL_PATH)
# A failing test waits this long before its end mark, so that what the server prints just
# after answering (uvicorn logs a traceback after the 500 has gone out) lands before it.
SETTLE_AFTER_FAILURE = 0.02
# The recorded requests and answers, as JSON: per test, and for all the tests of a run.
EXCHANGES_PER_TEST_BYTES = 24 * 1024
EXCHANGES_PER_RUN_BYTES = 64 * 1024
# An exchange too large for what is left keeps this much of each body and fewer headers.
SLIM_BODY_CHARS = 1024
SLIM_HEADERS = 12
SLIM_HEADER_CHARS = 200


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("webcourse", "grading a learner's app")
    group.addoption("--app-socket", help="Unix socket the learner's app listens on")
    group.addoption("--request-timeout", type=float, default=5.0, help="seconds per request")
    group.addoption("--report", help="where to write the JSON report")
    group.addoption(
        "--go-fd", type=int, help="file descriptor to read 'go' from before running tests"
    )
    group.addoption(
        "--done-fd", type=int, help="file descriptor to write 'done' to once the report is final"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points a passing test earns (default 1)")
    config.addinivalue_line(
        "markers", 'visibility(kind): "visible" (default) or "hidden" (name and message hidden)'
    )
    config.addinivalue_line(
        "markers",
        f"hint(text): one line (at most {MAX_HINT_CHARS} characters) shown when the test "
        "does not pass",
    )
    if config.getoption("report"):
        config.pluginmanager.register(Recorder(config), "webcourse-recorder")


@pytest.fixture
def client(request: pytest.FixtureRequest):
    """An httpx client for the learner's app (base URL http://localhost)."""
    socket_path = request.config.getoption("app_socket")
    if not socket_path:
        raise pytest.UsageError("--app-socket is required to use the `client` fixture")
    with AppClient(
        socket_path=socket_path, timeout=request.config.getoption("request_timeout")
    ) as app_client:
        yield app_client


@pytest.fixture
def app_url() -> str:
    """The base URL the app is reached at (through its socket)."""
    return "http://localhost"


def display_name(item: pytest.Item) -> str:
    """Return the name learners see: the docstring's first line, else the test's name."""
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    first = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    if not first:
        return item.name
    callspec = getattr(item, "callspec", None)
    return f"{first} [{callspec.id}]" if callspec is not None else first


def hint_problem(hint: object) -> str | None:
    """Return why a test's hint cannot be shown, or None if it can."""
    if not isinstance(hint, str) or not hint.strip():
        return f"@pytest.mark.hint needs a line of text, not {hint!r}"
    text = hint.strip()
    if "\n" in text:
        return "@pytest.mark.hint must be one line"
    if len(text) > MAX_HINT_CHARS:
        return f"@pytest.mark.hint must be at most {MAX_HINT_CHARS} characters, not {len(text)}"
    hidden = hidden_character(text)
    if hidden is not None:
        return f"@pytest.mark.hint contains {describe_character(hidden)}, which would not show"
    return None


def failure_message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """Return what went wrong in one test, in as few words as the exception allows."""
    exc = excinfo.value
    if isinstance(exc, CheckFailed):
        text = str(exc)
    elif isinstance(exc, AssertionError):
        text = excinfo.exconly().removeprefix("AssertionError").lstrip(": ").strip()
        text = text or "an assertion failed"
    elif isinstance(exc, pytest.skip.Exception):
        text = str(exc.msg) if hasattr(exc, "msg") else str(exc)
    else:
        text = excinfo.exconly()
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "…"
    return text


def _size(exchange: dict[str, Any]) -> int:
    return len(json.dumps(exchange))


def slim(exchange: dict[str, Any]) -> dict[str, Any]:
    """Return a smaller copy of an exchange: bodies cut to SLIM_BODY_CHARS, fewer headers."""
    slimmed = json.loads(json.dumps(exchange))
    for part in (slimmed["request"], slimmed["response"]):
        if part is None:
            continue
        part["headers"] = [
            [name[:SLIM_HEADER_CHARS], value[:SLIM_HEADER_CHARS]]
            for name, value in part["headers"][:SLIM_HEADERS]
        ]
        body = part["body"]
        if len(body["text"]) > SLIM_BODY_CHARS:
            body.update(text=body["text"][:SLIM_BODY_CHARS], truncated=True)
    slimmed["output"] = slimmed["output"][:SLIM_BODY_CHARS]
    return slimmed


def fit_exchanges(recorded: list[dict[str, Any]], room: int) -> tuple[list[dict[str, Any]], int]:
    """Return the exchanges that fit in `room` bytes of JSON, and how many did not.

    The last exchange is fitted first (a failing test's last request is the one that failed);
    one too large is slimmed, and left out only if even that does not fit.
    """
    kept: dict[int, dict[str, Any]] = {}
    for index in sorted(range(len(recorded)), key=lambda i: i != len(recorded) - 1):
        exchange = recorded[index]
        if _size(exchange) > room:
            exchange = slim(exchange)
        size = _size(exchange)
        if size <= room:
            kept[index] = exchange
            room -= size
    return [kept[i] for i in sorted(kept)], len(recorded) - len(kept)


class Recorder:
    """Collects per-test outcomes and keeps the JSON report up to date."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.path = Path(config.getoption("report"))
        self.state = "collecting"
        self.collect_errors: list[str] = []
        self.tests: dict[str, dict[str, Any]] = {}
        self.exchange_log: ExchangeLog | None = None
        self.exchanges_room = EXCHANGES_PER_RUN_BYTES
        app_socket = config.getoption("app_socket")
        self.marks = Marks(Path(app_socket).with_name(CONTROL_SOCKET_NAME) if app_socket else None)

    # Report ------------------------------------------------------------------------------

    def write(self) -> None:
        data = {
            "state": self.state,
            "collect_errors": self.collect_errors,
            "tests": list(self.tests.values()),
        }
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, self.path)

    # Collection --------------------------------------------------------------------------

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(f"{report.nodeid or 'collection'}: {report.longreprtext}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            points_marker = item.get_closest_marker("points")
            points = points_marker.args[0] if points_marker and points_marker.args else 1
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                self.collect_errors.append(
                    f"{item.nodeid}: @pytest.mark.points needs a whole number ≥ 0, not {points!r}"
                )
                continue
            hint_marker = item.get_closest_marker("hint")
            hint = ""
            if hint_marker is not None:
                hint = hint_marker.args[0] if hint_marker.args else None
                problem = hint_problem(hint)
                if problem is not None:
                    self.collect_errors.append(f"{item.nodeid}: {problem}")
                    continue
                hint = hint.strip()
            visibility_marker = item.get_closest_marker("visibility")
            visibility = (
                visibility_marker.args[0]
                if visibility_marker and visibility_marker.args
                else "visible"
            )
            if visibility not in VISIBILITIES:
                self.collect_errors.append(
                    f"{item.nodeid}: @pytest.mark.visibility must be "
                    f'"visible" or "hidden", not {visibility!r}'
                )
                continue
            self.tests[item.nodeid] = {
                "id": item.nodeid,
                "name": display_name(item),
                "hidden": visibility == "hidden",
                "points": points,
                "hint": hint,
                "status": "pending",
                "message": "",
                "cause": "",
            }

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if self.collect_errors:
            self.state = "collect-error"
            self.write()
            return True
        self.state = "collected"
        self.write()
        go_fd = self.config.getoption("go_fd")
        if go_fd is not None:
            with os.fdopen(go_fd, "r", encoding="ascii", errors="replace") as commands:
                answer = commands.readline().strip()
            if answer != "go":
                self.state = "stopped"
                self.write()
                return True
        self.state = "running"
        self.write()
        return None

    # Running -----------------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if nodeid in self.tests:
            self.tests[nodeid]["marks"] = {"start": self.marks.mark()}
            self.tests[nodeid]["status"] = "running"
            self.write()
            if not self.tests[nodeid]["hidden"]:
                self.exchange_log = ExchangeLog()
                record_exchanges(self.exchange_log)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report = outcome.get_result()
        if call.excinfo is not None and (report.failed or report.skipped):
            report.webcourse_message = failure_message(call.excinfo)
            if isinstance(call.excinfo.value, PreconditionFailed):
                report.webcourse_cause = call.excinfo.value.cause

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        message = getattr(report, "webcourse_message", "")
        cause = getattr(report, "webcourse_cause", "")
        if report.when == "setup":
            if report.failed:
                test.update(status="error", message=message, cause=cause)
            elif report.skipped:
                test.update(status="skipped", message=message)
        elif report.when == "call":
            if report.passed:
                test.update(status="passed", message="")
            elif report.failed:
                test.update(status="failed", message=message, cause=cause)
            else:
                test.update(status="skipped", message=message)
        elif report.when == "teardown" and report.failed and test["status"] == "passed":
            test.update(status="error", message=message)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        test = self.tests.get(nodeid)
        record_exchanges(None)
        log, self.exchange_log = self.exchange_log, None
        if test is not None:
            if log is not None and not test["hidden"]:
                self.keep_exchanges(test, log)
            if test["status"] != "passed" and not self.marks.broken:
                time.sleep(SETTLE_AFTER_FAILURE)
            test.setdefault("marks", {})["end"] = self.marks.mark()
            self.write()

    def keep_exchanges(self, test: dict[str, Any], log: ExchangeLog) -> None:
        """Put a visible test's requests and answers in its report, within the budgets."""
        recorded = [recording.exchange() for recording in log.kept()]
        room = min(EXCHANGES_PER_TEST_BYTES, self.exchanges_room)
        kept, dropped = fit_exchanges(recorded, room)
        self.exchanges_room -= sum(_size(exchange) for exchange in kept)
        test["exchanges"] = kept
        test["more_exchanges"] = log.omitted + dropped

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.state == "running":
            self.state = "done"
            self.write()
        done_fd = self.config.getoption("done_fd")
        if done_fd is not None:
            # The report is final: whoever waits may go on while this process shuts down.
            with contextlib.suppress(OSError):
                os.write(done_fd, b"done\n")
                os.close(done_fd)
