"""Grading results: the JSON stored on a submission, and a plain-text rendering of it.

A result is a plain dict, so it goes into a JSONField and through Celery as is::

    {"status": "passed" | "failed" | "error" | "timeout",
     "score": int, "max_score": int, "message": str,
     "tests": [{"name", "status": "passed" | "failed" | "error" | "skipped",
                "points", "max_points", "message", "output", "hidden", "hint", "cause",
                "exchanges", "more_exchanges"}],
     "log": str,
     "timings": {"queued", "started", "booted", "tested", "finished"}}

A test's "cause" is set when it could not run for the same reason as other tests ("POST
/notes answered 501"): pages show those tests under their cause (failure_groups). "hint" is
the author's one-line clue, kept only on a test that did not pass. learner_tests makes what a
learner may see of the tests, hidden ones included, from the harness's report or a stored
result alike.

A visible test's "exchanges" are the requests it sent to the app and the answers it got
(sandbox.exchanges: the first few and the last), "more_exchanges" how many others it sent;
a hidden test has none, and a result stored before tests carried them reads as having none.

Timings are ISO-8601 strings in UTC with milliseconds ("2025-03-01T10:00:00.123+00:00"),
or None for a step the run never reached (no "booted" when the app did not start).

Every string in a result made by make_result has gone through clean_text: the app controls
the log, the test messages that quote its answers and even test names, and a NUL or a lone
surrogate in any of them would make PostgreSQL refuse the whole result.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sandbox.exchanges import exchange_from_data
from sandbox.textsafety import CONTROL_PICTURES, readable_message

STATUSES = ("passed", "failed", "error", "timeout")
TEST_STATUSES = ("passed", "failed", "error", "skipped")
TIMING_KEYS = ("queued", "started", "booted", "tested", "finished")
RESULT_KEYS = ("status", "score", "max_score", "message", "tests", "log", "timings")
# What a result shows of the tests' requests, whatever a grader sent (see the harness's plugin).
MAX_EXCHANGES_PER_TEST = 5
MAX_EXCHANGES_BYTES = 64 * 1024  # as JSON, for all the tests of a result


@dataclass(frozen=True)
class TestOutcome:
    """How one test of the exercise went, as shown to the learner."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    status: str
    points: int
    max_points: int
    message: str = ""
    # What the app printed while this (visible) test ran: its traceback sits next to the failure.
    output: str = ""
    hidden: bool = False
    # The author's one-line clue, shown when the test does not pass.
    hint: str = ""
    # Why it could not run, when other tests could not run for the same reason.
    cause: str = ""
    # The requests this (visible) test sent to the app and the answers (sandbox.exchanges).
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    # How many other requests it sent, not shown.
    more_exchanges: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What learners see of the tests ------------------------------------------------------------

NOT_PASSED = ("failed", "error")
# How a result stored before tests carried "hidden" shows a hidden test: this name, no message.
_ANONYMOUS_NAME = re.compile(r"Hidden test \d+")


def learner_tests(tests: Iterable[Mapping[str, Any]]) -> list[TestOutcome]:
    """Return the tests as the learner may see them; the one place hidden tests are hidden.

    Takes tests shaped like a result's (a stored one, even from an older grader, or the
    runner's reading of the harness's report) and gives each test:
    a hidden test's name is "Hidden test N" and it has no message and no output; a cause is
    kept only where at least two tests that did not pass share it and one of them is visible
    (so a cause never names what only hidden tests do); a hint only on a test that did not
    pass, and not in a group; an HTML page quoted in a message is shown as its text.
    Applying it twice changes nothing.
    """
    tests = list(tests)
    hidden = [_is_hidden(test) for test in tests]
    shared = Counter(_cause(test) for test in tests if _cause(test))
    seen = {_cause(test) for test, secret in zip(tests, hidden, strict=True) if not secret}
    causes = {cause for cause, count in shared.items() if count >= 2 and cause in seen}
    outcomes = []
    hidden_count = 0
    exchanges_room = MAX_EXCHANGES_BYTES
    for test, secret in zip(tests, hidden, strict=True):
        status = str(test.get("status", "skipped"))
        name = str(test.get("name") or test.get("id") or "test")
        message, output = str(test.get("message", "")), str(test.get("output", ""))
        if secret:
            hidden_count += 1
            name, message, output = f"Hidden test {hidden_count}", "", ""
        exchanges, more = [], 0
        if not secret:
            exchanges, more, exchanges_room = _exchanges(test, exchanges_room)
        max_points = int(test.get("max_points", test.get("points", 1)))
        grouped = _cause(test) in causes
        outcomes.append(
            TestOutcome(
                name=name,
                status=status,
                points=int(test.get("points", 0)) if status == "passed" else 0,
                max_points=max_points,
                message=readable_message(message),
                output=output,
                hidden=secret,
                # In a group a test did not get to what its hint is about.
                hint=str(test.get("hint") or "") if status in NOT_PASSED and not grouped else "",
                cause=_cause(test) if grouped else "",
                exchanges=exchanges,
                more_exchanges=more,
            )
        )
    return outcomes


def _exchanges(test: Mapping[str, Any], room: int) -> tuple[list[dict[str, Any]], int, int]:
    """Return a visible test's exchanges read back within bounds, how many more it sent, and
    the room left in the result's budget."""
    data = test.get("exchanges")
    more = test.get("more_exchanges")
    more = more if isinstance(more, int) and not isinstance(more, bool) and more > 0 else 0
    if not isinstance(data, list):
        return [], more, room
    kept = []
    for item in data[: MAX_EXCHANGES_PER_TEST * 2]:
        exchange = exchange_from_data(item)
        if exchange is None:
            continue
        size = len(json.dumps(exchange))
        if len(kept) == MAX_EXCHANGES_PER_TEST or size > room:
            more += 1
            continue
        kept.append(exchange)
        room -= size
    return kept, more + max(len(data) - MAX_EXCHANGES_PER_TEST * 2, 0), room


def _is_hidden(test: Mapping[str, Any]) -> bool:
    if test.get("hidden"):
        return True
    name, message = str(test.get("name", "")), test.get("message")
    return "hidden" not in test and not message and bool(_ANONYMOUS_NAME.fullmatch(name))


def _cause(test: Mapping[str, Any]) -> str:
    return str(test.get("cause") or "") if test.get("status") in NOT_PASSED else ""


def failure_groups(tests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the tests in the order to show them: a group per shared cause, then the rest.

    Each entry is a group ({"cause", "message", "exchanges", "tests", "max_points"}: the
    message and the requests of its first visible test say the whole story once) or {"test": a
    test} for a test in none. A group stands where its first test did, and its tests keep
    their order.
    """
    entries: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for test in tests:
        cause = str(test.get("cause") or "")
        if not cause:
            entries.append({"test": test})
            continue
        if cause not in groups:
            groups[cause] = {
                "cause": cause,
                "message": "",
                "exchanges": None,
                "tests": [],
                "max_points": 0,
            }
            entries.append(groups[cause])
        group = groups[cause]
        group["tests"].append(test)
        group["max_points"] += int(test.get("max_points", 0))
        if not group["message"] and not test.get("hidden"):
            group["message"] = str(test.get("message", ""))
        if group["exchanges"] is None and not test.get("hidden"):
            group["exchanges"] = list(test.get("exchanges") or [])
    for group in groups.values():
        group["exchanges"] = group["exchanges"] or []
    return entries


# ANSI escape sequences: CSI (colours, cursor moves: ESC [ ... final byte), OSC ended on its
# line (titles, links: ESC ] ... BEL or ESC \), and the short forms (ESC 7, ESC ( B, ESC c).
# They are instructions to a terminal, not text, so they are dropped.
_ANSI_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~])"
)
# C0 controls but line feed and tab, DEL, C1 controls, lone surrogates (never valid text).
_UNSAFE_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _replace_unsafe(match: re.Match[str]) -> str:
    return CONTROL_PICTURES.get(match.group(), "\ufffd")


def clean_text(text: str) -> str:
    """Return text that any database stores and any page shows as it reads.

    ANSI escape sequences are dropped; carriage returns end lines; other C0 controls and DEL
    become their control pictures (NUL is "␀", a stray ESC "␛"); C1 controls and lone
    surrogates become U+FFFD. Line feeds and tabs stay.
    """
    if "\x1b" in text:
        text = _ANSI_SEQUENCE.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_CHARACTER.sub(_replace_unsafe, text)


def _cleaned(value: Any) -> Any:
    """Return a result's value with clean_text applied to every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_cleaned(key): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(item) for item in value]
    return value


def timestamp(moment: datetime | None = None) -> str:
    """Return a moment (default: now) as an ISO-8601 UTC string with milliseconds."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def empty_timings(queued_at: datetime | None = None) -> dict[str, str | None]:
    timings: dict[str, str | None] = dict.fromkeys(TIMING_KEYS)
    if queued_at is not None:
        timings["queued"] = timestamp(queued_at)
    return timings


def make_result(
    *,
    status: str,
    message: str,
    tests: Iterable[TestOutcome] = (),
    log: str = "",
    timings: dict[str, str | None] | None = None,
    score: int | None = None,
) -> dict[str, Any]:
    """Build a result dict; the score is the points of the passed tests unless given.

    Every string in it is cleaned (see clean_text), so the result can always be stored.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    tests = list(tests)
    return _cleaned(
        {
            "status": status,
            "score": sum(t.points for t in tests) if score is None else score,
            "max_score": sum(t.max_points for t in tests),
            "message": message,
            "tests": [t.as_dict() for t in tests],
            "log": log,
            "timings": {**empty_timings(), **(timings or {})},
        }
    )


def in_order(result: dict[str, Any]) -> dict[str, Any]:
    """Return a stored result with its keys in the order make_result writes them.

    PostgreSQL's jsonb keeps keys sorted its own way, so a result read back from it is put
    in order again before it is shown to a person or a program; keys this version does not
    know come last.
    """
    if not isinstance(result, dict):
        return result
    test_keys = [f.name for f in fields(TestOutcome)]
    ordered = _ordered(result, RESULT_KEYS)
    if isinstance(ordered.get("tests"), list):
        ordered["tests"] = [
            _ordered(test, test_keys) if isinstance(test, dict) else test
            for test in ordered["tests"]
        ]
    if isinstance(ordered.get("timings"), dict):
        ordered["timings"] = _ordered(ordered["timings"], TIMING_KEYS)
    return ordered


def _ordered(mapping: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    known = {key: mapping[key] for key in keys if key in mapping}
    return known | {key: value for key, value in mapping.items() if key not in known}


def passed_summary(tests: list[TestOutcome]) -> str:
    """Return "All 4 tests passed." or "3 of 4 tests passed." for a finished run."""
    passed = sum(t.status == "passed" for t in tests)
    noun = "test" if len(tests) == 1 else "tests"
    if passed == len(tests):
        return f"All {len(tests)} {noun} passed." if len(tests) > 1 else "The test passed."
    return f"{passed} of {len(tests)} {noun} passed."


SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}


def _test_lines(test: Mapping[str, Any], *, log_lines: int) -> list[str]:
    symbol = SYMBOLS.get(test["status"], "?")
    lines = [
        f"{symbol} {test['name']}  ({test['points']}/{test['max_points']})"
        + ("" if test["status"] in ("passed", "failed") else f"  [{test['status']}]")
    ]
    if test["message"]:
        lines.extend("    " + line for line in test["message"].splitlines())
    if test.get("hint"):
        lines.append(f"    Hint: {test['hint']}")
    last = test["exchanges"][-1] if test.get("exchanges") else None
    if last is not None and test["status"] in NOT_PASSED and not test.get("hidden"):
        request, response = last["request"], last["response"]
        answer = (
            f"{response['status']} {response['reason']}".rstrip()
            if response is not None
            else f"no answer ({last['error'] or 'none'})"
        )
        line = f"Last request: {request['method']} {request['path']} → {answer}"
        lines.append("    " + clean_text(line).replace("\n", " "))
    output = test.get("output", "").rstrip()
    if output and test["status"] != "passed":
        tail = output.splitlines()[-log_lines:]
        lines.append(f"    App output during this test (last {len(tail)} lines):")
        lines.extend("      " + line for line in tail)
    return lines


def render_text(result: dict[str, Any], *, log_lines: int = 20) -> str:
    """Return a result as readable text: verdict, score, each test, the end of the log."""
    lines = [f"{result['status'].upper()}  {result['score']}/{result['max_score']} points"]
    if result["message"]:
        lines += ["", result["message"]]
    if result["tests"]:
        lines.append("")
        for entry in failure_groups(t.as_dict() for t in learner_tests(result["tests"])):
            if "test" in entry:
                lines.extend(_test_lines(entry["test"], log_lines=log_lines))
                continue
            count = len(entry["tests"])
            lines.append(f"{SYMBOLS['failed']} {count} tests could not run: {entry['cause']}")
            lines.extend("    " + line for line in entry["message"].splitlines())
            for test in entry["tests"]:
                lines.append(f"    - {test['name']}  ({test['points']}/{test['max_points']})")
    log = result["log"].rstrip()
    if log:
        tail = log.splitlines()[-log_lines:]
        lines += ["", f"App output (last {len(tail)} lines):"]
        lines.extend("  " + line for line in tail)
    return "\n".join(lines)
